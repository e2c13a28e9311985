// JsSIP as a peer in the browser tests: a user is a BrowserContext with one tab of
// tests/pages/jssip (JsSIP 3.13 from npm, bundled by the xtask), registered at the test
// Kamailio; its calls are read from `window.jssipPhone.state()`. Every RTCPeerConnection of the
// page is recorded (tests/lib/audio.mjs), so `inboundAudio`, `hearEachOther` and the gap meter
// (tests/lib/gap.mjs) read it like a tabphone page. The page's options are in its header.
import assert from 'node:assert/strict';
import { BASE } from './browser.mjs';
import { recordPeerConnections } from './audio.mjs';
import { until } from './phone.mjs';

/**
 * Open JsSIP as `name` in a new context of `browser`, signed in at `kamailio`, and wait until
 * registered. `query`: page options (answer: 'auto', sessionTimers, debug). `{ context, page }`.
 */
export async function jssipUser(browser, kamailio, name, query = {}) {
  const context = await browser.newContext();
  await recordPeerConnections(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name} (JsSIP) page error] ${e.message}`));
  const q = new URLSearchParams({ user: name, server: kamailio.url, domain: kamailio.domain, ...query });
  await page.goto(`${BASE}/jssip/index.html?${q}`);
  await page.waitForFunction(() => window.jssipReady);
  await until(async () => (await jssipState(page)).registration === 'registered', `JsSIP ${name} registered`);
  return { name, context, page };
}

export const jssipState = (page) => page.evaluate(() => window.jssipPhone.state());

/** Run `jssipPhone[method](...args)` in `page` and fail the test with its error. */
export async function jssip(page, method, ...args) {
  const r = await page.evaluate(async ([m, a]) => {
    try {
      return { ok: await window.jssipPhone[m](...a) };
    } catch (e) {
      return { error: String(e) };
    }
  }, [method, args]);
  assert.ok(!r.error, `JsSIP ${method}(${JSON.stringify(args)}): ${r.error}`);
  return r.ok;
}

/** The JsSIP call `id` (or the latest, when null) once its state is `state`. */
export function jssipCall(page, id, state) {
  return until(async () => {
    const { calls } = await jssipState(page);
    const call = id ? calls.find((c) => c.id === id) : calls.at(-1);
    return call?.state === state ? call : null;
  }, `JsSIP call ${id ?? '(latest)'} ${state}`);
}
