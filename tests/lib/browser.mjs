// Shared helpers for the browser tests and the benchmark: Debian's Chromium
// through playwright-core, pages of the demo, roles read from the DOM.
import { chromium } from 'playwright-core';

export const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';

export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
}

/** A worker URL with options (ms), as the demo's `worker` query parameter. */
export function workerUrl(options = {}, extra = '') {
  const q = new URLSearchParams({ ...options }).toString();
  return `./pkg/worker.js${q || extra ? '?' : ''}${q}${q && extra ? '&' : ''}${extra}`;
}

/**
 * The worker most tests use: a 10 s ping timeout, so that a renderer starved of
 * CPU on a loaded machine is not taken for frozen in tests about something
 * else. Liveness tests pass their own (see FAST in tabs.test.mjs).
 */
export const RELAXED = workerUrl({ pingTimeout: 10000 });

/** Open the demo in a new tab of `context` and wait until it has a role. */
export async function openTab(context, { worker = RELAXED } = {}) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  const q = worker ? `?worker=${encodeURIComponent(worker)}` : '';
  await page.goto(`${BASE}/index.html${q}`);
  await page.waitForFunction(() => window.tabphone && ['real', 'dummy'].includes(window.tabphone.role));
  return page;
}

export const roleOf = (page) => page.evaluate(() => window.tabphone.role);
export const epochOf = (page) => page.evaluate(() => window.tabphone.epoch);
export const tabIdOf = (page) => page.evaluate(() => window.tabphone.tabId);

/** Wait until exactly one of `pages` is real; return it. Polls; no timing assertion. */
export async function oneReal(pages, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last = [];
  while (Date.now() < end) {
    last = await Promise.all(pages.map((p) => roleOf(p).catch(() => 'gone')));
    const reals = pages.filter((_, i) => last[i] === 'real');
    if (reals.length === 1 && last.every((r) => r === 'real' || r === 'dummy')) return reals[0];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no single real among ${pages.length} tabs: ${last.join(',')}`);
}

/** Dispatch from `page`; resolves to {ok} or {error}. */
export function dispatch(page, name, args) {
  return page.evaluate(async ([n, a]) => {
    try { return { ok: await window.tabphone.dispatch(n, a) }; } catch (e) { return { error: e }; }
  }, [name, args]);
}

export async function cdp(context, page) {
  return context.newCDPSession(page);
}

/** Crash a tab's renderer (CDP Page.crash never answers). */
export async function crash(context, page) {
  const session = await cdp(context, page);
  session.send('Page.crash').catch(() => {});
  await page.waitForEvent('crash', { timeout: 10000 }).catch(() => {});
}

/**
 * Freeze or thaw a tab. Sends CDP `Page.setWebLifecycleState`, and also pauses
 * the page in the debugger: this headless Chromium reports every page visible
 * and applies the lifecycle freeze only to hidden pages, so on its own it
 * leaves the page running. A debugger-paused page is what a frozen one is to
 * tabphone: alive, holding its Web Locks, running no task until resumed.
 */
const frozenSessions = new WeakMap();
export async function setFrozen(context, page, frozen) {
  let session = frozenSessions.get(page);
  if (!session) {
    session = await cdp(context, page);
    await session.send('Debugger.enable');
    frozenSessions.set(page, session);
  }
  if (frozen) {
    await session.send('Page.setWebLifecycleState', { state: 'frozen' });
    await session.send('Debugger.pause');
  } else {
    // A pause that never landed (no script ran meanwhile) is cancelled by disabling.
    await session.send('Debugger.resume').catch(() => {});
    await session.send('Debugger.disable');
    frozenSessions.delete(page);
    await session.send('Page.setWebLifecycleState', { state: 'active' });
  }
}

/**
 * Close without handlers: as if the page's `pagehide` handlers never ran (or
 * could not reach the worker), so the worker learns of it only by the tab lock.
 * Every MessagePort send from the page is disabled, then the page closes.
 */
export async function closeWithoutHandlers(page) {
  await page.evaluate(() => { MessagePort.prototype.postMessage = () => {}; });
  await page.close();
}

/** Every frame `page` sends on its WebSockets from now on (CDP), as an array that grows. */
export async function recordFramesSent(page) {
  const frames = [];
  const session = await page.context().newCDPSession(page);
  session.on('Network.webSocketFrameSent', (e) => frames.push(e.response.payloadData));
  await session.send('Network.enable');
  return frames;
}
