// Helpers for the phone's end-to-end tests (tests/phone.test.mjs,
// tests/plain-rtp.test.mjs): a user is a BrowserContext (one browser profile)
// with tabs of the phone test page (tests/pages/phone) signed in at the test
// Kamailio; actions are run in a page, and events and states read from it.
// Waits poll with a bound (never a timing assertion) and fail with the tail of
// Kamailio's log. A test file names its browser and Kamailio once with `useServers`.
import assert from 'node:assert/strict';
import { BASE } from './browser.mjs';
import { launchWithMedia, recordPeerConnections } from './audio.mjs';
import { Kamailio } from './kamailio.mjs';

const servers = { browser: null, kamailio: null };

/** The browser that `user` opens contexts in, and the Kamailio its pages sign in at. */
export function useServers(browser, kamailio) {
  servers.browser = browser;
  servers.kamailio = kamailio;
}

/**
 * A test file's servers: Kamailio on loopback (`options` as `Kamailio.start`) and Chromium with
 * fake media, named for `user`. In the file: `before(async () => ({ browser, kamailio } = await
 * startServers()));` and `after(() => stopServers(browser, kamailio));`.
 */
export async function startServers(options = {}) {
  const kamailio = await Kamailio.start(options);
  const browser = await launchWithMedia();
  useServers(browser, kamailio);
  return { browser, kamailio };
}

export async function stopServers(browser, kamailio) {
  await browser?.close();
  await kamailio?.close();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PATIENCE_MS = 20000;

/** Poll `check` (async) until it returns a truthy value; a bound, not a timing assertion. */
export async function until(check, what, timeoutMs = PATIENCE_MS) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nkamailio log tail:\n${servers.kamailio?.log().slice(-3000)}`);
    await sleep(50);
  }
}

/** A user: a BrowserContext (one browser profile) with `tabs` tabs of the phone page. */
export async function user(name, tabs = 1, { query = {}, init } = {}) {
  const context = await servers.browser.newContext();
  await recordPeerConnections(context);
  if (init) await init(context);
  const pages = [];
  for (let i = 0; i < tabs; i += 1) pages.push(await openTab(context, name, query));
  return { name, context, pages };
}

export async function openTab(context, name, query = {}) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name} page error] ${e.message}`));
  const { kamailio } = servers;
  const q = new URLSearchParams({ user: name, server: kamailio.url, domain: kamailio.domain, ...query });
  await page.goto(`${BASE}/phone/index.html?${q}`);
  await page.waitForFunction(() => window.phoneReady && ['real', 'dummy'].includes(window.tabphone.role));
  return page;
}

export const stateOf = (page) => page.evaluate(() => window.tabphone.state());
export const eventsOf = (page, name) => page.evaluate((n) => window.phoneEvents.filter((e) => e.name === n), name);

/** Wait until the page's state says registered; returns that state. */
export function registered(page) {
  return until(async () => {
    const s = await stateOf(page).catch(() => null);
    return s?.registration?.state === 'registered' ? s : null;
  }, 'registration');
}

/** Run `tabphone[method](...args)` in `page`: `{ ok }` or `{ error }`. */
export function act(page, method, ...args) {
  return page.evaluate(async ([m, a]) => {
    try {
      return { ok: await window.tabphone[m](...a) };
    } catch (e) {
      return { error: e };
    }
  }, [method, args]);
}

/** Like `act`, and fail the test with the error. */
export async function must(page, method, ...args) {
  const r = await act(page, method, ...args);
  assert.ok(!r.error, `${method}(${JSON.stringify(args)}): ${JSON.stringify(r.error)}`);
  return r.ok;
}

/** Wait for an event `name` in `page` whose detail passes `pred` (a function source run in the page). */
export function waitEvent(page, name, pred = () => true) {
  return until(async () => {
    const events = await eventsOf(page, name);
    return events.map((e) => e.detail).find(pred);
  }, `event ${name} in a tab`);
}

/** How many `name` events the page has seen: for `waitEvent(..., since)`. */
export const seen = async (page, name) => (await eventsOf(page, name)).length;

/** Wait for the first event `name` in `page` after the first `since` ones. */
export function nextEvent(page, name, since) {
  return until(async () => (await eventsOf(page, name))[since]?.detail, `a new event ${name}`);
}

/** The call `id` in the page's state, when it is in `state`. */
export function callIn(page, id, state) {
  return until(async () => {
    const s = await stateOf(page);
    const c = s?.calls?.find((x) => x.id === id);
    return c && c.state === state ? c : null;
  }, `call ${id} ${state}`);
}

export const closeAll = async (...users) => { for (const u of users) await u.context.close(); };

/** The call's peer connection in `page` (the open one with a remote description); run in the page. */
export const callPc = () => window.__tabphonePcs.find((pc) => pc.connectionState !== 'closed' && pc.remoteDescription);
