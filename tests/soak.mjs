// A churn soak (`cargo xtask soak [SECONDS]`, not part of `cargo xtask test`):
// one browser profile, 3 to 12 tabs of the demo, for SOAK_SECONDS (default
// 300) of random opens, graceful closes, closes without handlers, crashes
// (aimed at the real and at the worker's host) and freezes of up to 15 s, with
// an action dispatched every 300 ms from a random live tab. It checks that:
// - every action is answered exactly once (a result or a coded error);
// - never two reals: no two unfrozen tabs are real at once (a thawed tab that
//   was replaced while frozen demotes itself on its first task; that window
//   is measured and printed apart);
// - every event settles within the ping timeout plus 1 s: after each
//   operation, exactly one unfrozen tab is real (or no live tab is unfrozen).
// It prints its figures and exits 1 on a violation. SOAK_SEED replays a run.
import {
  closeWithoutHandlers, crash, launch, openTab, setFrozen, workerUrl,
} from './lib/browser.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 300);
const SEED = Number(process.env.SOAK_SEED || Date.now() % 1e9);
const PING = { pingInterval: 1000, pingTimeout: 3000, actionTimeout: 10000 };
const SETTLE_BOUND = PING.pingTimeout + 1000;
const [MIN_TABS, MAX_TABS] = [3, 12];
const WORKER = workerUrl(PING);

// A small seeded generator (mulberry32): the run replays with SOAK_SEED.
let rngState = SEED >>> 0;
function random() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const between = (a, b) => a + random() * (b - a);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launch();
const context = await browser.newContext();

/** Every tab ever opened: its page, life, role as last reported, frozen windows. */
const tabs = [];
const byPage = new Map();
const actions = new Map(); // n -> { tab, at, answers: [] }
const settles = []; // { kind, ms, interrupted }
const violations = [];
const creations = []; // { tab, nth, at }: each SharedWorker a tab created
const crashes = []; // { kind, at }

// Stream each page's role events and action answers to node.
await context.exposeBinding('soakReport', ({ page }, event) => onReport(byPage.get(page), event));
await context.addInitScript(() => {
  let events = [];
  Object.defineProperty(window, 'tabphoneEvents', {
    get: () => events,
    set: (list) => {
      events = list;
      const push = list.push.bind(list);
      list.push = (e) => {
        if (e.type === 'role') window.soakReport({ type: 'role', role: e.role, epoch: e.epoch, at: e.at });
        return push(e);
      };
    },
  });
  // Each SharedWorker the tab creates (the first creator of a worker hosts it).
  const Native = window.SharedWorker;
  let created = 0;
  window.SharedWorker = function SharedWorker(...args) {
    created += 1;
    window.soakReport({ type: 'worker', nth: created, at: performance.timeOrigin + performance.now() });
    return new Native(...args);
  };
  window.SharedWorker.prototype = Native.prototype;
  window.soakAct = (n) => {
    const at = () => performance.timeOrigin + performance.now();
    window.tabphone.dispatch('echo', n).then(
      () => window.soakReport({ type: 'answer', n, ok: true, at: at() }),
      (e) => window.soakReport({ type: 'answer', n, ok: false, code: e && e.code, at: at() }),
    );
  };
});

function onReport(tab, event) {
  if (!tab) return;
  if (event.type === 'answer') {
    actions.get(event.n)?.answers.push(event);
    return;
  }
  if (event.type === 'worker') {
    creations.push({ tab, nth: event.nth, at: event.at });
    return;
  }
  tab.roles.push(event);
  tab.role = event.role;
  checkSettled(event.at);
}

/**
 * The tab hosting the worker: the first to create it. A tab creating its
 * second worker means the first died: the restart's first creator hosts the
 * new one. A host that closed gracefully leaves the worker without one.
 */
function host() {
  const again = creations.filter((c) => c.nth > 1).sort((a, b) => a.at - b.at);
  const burst = again.length ? again.reduce((a, c) => (c.at > a.at + 1000 ? c : a)) : null;
  const from = burst ? burst.at - 50 : 0;
  const first = creations.filter((c) => c.at >= from).sort((a, b) => a.at - b.at)[0];
  return first && first.tab.alive && !first.tab.closed ? first.tab : null;
}
/** When tabs created a worker again (bursts of second or later creations): a
 * worker restart, or a thawed tab catching up with one. */
function restartTimes() {
  const out = [];
  for (const c of creations.filter((x) => x.nth > 1).sort((a, b) => a.at - b.at)) {
    if (!out.length || c.at > out[out.length - 1] + 1000) out.push(c.at);
  }
  return out;
}

const alive = () => tabs.filter((t) => t.alive);
const active = () => alive().filter((t) => !t.frozen);
const realTab = () => alive().find((t) => t.role === 'real' && !t.frozen) || alive().find((t) => t.role === 'real');

async function open() {
  const tab = { n: tabs.length, alive: true, frozen: false, role: 'connecting', roles: [], frozenAt: [], page: null };
  tabs.push(tab);
  const page = await context.newPage();
  tab.page = page;
  byPage.set(page, tab);
  const q = `?worker=${encodeURIComponent(WORKER)}`;
  await page.goto(`${process.env.BASE_URL || 'http://127.0.0.1:8080'}/index.html${q}`);
  return tab;
}

// ---- settling ----

let pending = null; // { kind, at }

function settled() {
  const live = active();
  return live.length === 0 || live.filter((t) => t.role === 'real').length === 1;
}

function checkSettled(at) {
  if (pending && settled()) {
    settles.push({ ...pending, ms: Math.max(0, at - pending.at) });
    pending = null;
  }
}

/** An operation starts (its effect on `tabs` already recorded): clock its settling. */
function begin(kind, crashed = null) {
  const at = now();
  if (pending) {
    // Not settled yet: the new operation takes the clock over.
    settles.push({ ...pending, ms: at - pending.at, interrupted: true });
  }
  pending = { kind, at, interrupted: false, crashed };
  checkSettled(at);
}

// ---- operations ----

async function opCrash() {
  const targets = active();
  const roll = random();
  const real = realTab();
  const hostTab = host();
  let tab = pick(targets);
  let kind = 'crash of a dummy';
  if (roll < 0.4 && real && !real.frozen) tab = real;
  else if (roll < 0.7 && hostTab && !hostTab.frozen) tab = hostTab;
  if (tab === real) kind = tab === hostTab ? 'crash of the real, guessed host' : 'crash of the real';
  else if (tab === hostTab) kind = 'crash of a dummy, guessed host';
  tab.alive = false;
  tab.diedAt = now();
  const record = { kind, at: tab.diedAt, real: tab === real };
  crashes.push(record);
  begin(kind, record);
  await crash(context, tab.page);
  checkSettled(now());
}

async function opClose(handlers) {
  // The worker outlives a host that closes (it keeps the process): mostly
  // spare the host, so that crashes keep reaching it.
  const hostTab = host();
  const spare = random() < 0.9 ? hostTab : null;
  const targets = active().filter((t) => t !== spare);
  if (!targets.length) return;
  const real = realTab();
  const tab = random() < 0.5 && real && !real.frozen && real !== spare ? real : pick(targets);
  const wasReal = tab.role === 'real';
  tab.alive = false;
  tab.diedAt = now();
  // A graceful close leaves the worker running, with no host to crash with.
  tab.closed = true;
  begin(`${handlers ? 'close' : 'close without handlers'} of ${wasReal ? 'the real' : 'a dummy'}`);
  if (handlers) await tab.page.close();
  else await closeWithoutHandlers(tab.page);
  checkSettled(now());
}

async function opFreeze() {
  const real = realTab();
  const tab = random() < 0.5 && real && !real.frozen ? real : pick(active());
  const ms = between(500, 15000);
  tab.frozen = true;
  tab.frozenAt.push({ from: now(), to: null });
  begin(`freeze of ${tab.role === 'real' ? 'the real' : 'a dummy'}`);
  await setFrozen(context, tab.page, true);
  checkSettled(now());
  tab.thawAt = now() + ms;
}

async function thawDue() {
  for (const tab of alive().filter((t) => t.frozen && t.thawAt <= now())) {
    await setFrozen(context, tab.page, false);
    tab.frozen = false;
    tab.frozenAt[tab.frozenAt.length - 1].to = now();
    checkSettled(now());
  }
}

async function opOpen() {
  begin('open');
  await open();
  checkSettled(now());
}

async function operate() {
  const n = alive().length;
  const canAct = active().length > 0;
  const choices = [];
  if (n < MAX_TABS) choices.push(...Array(n < MIN_TABS ? 20 : 3).fill(opOpen));
  if (n > MIN_TABS && canAct) {
    choices.push(...Array(2).fill(() => opClose(true)));
    choices.push(...Array(2).fill(() => opClose(false)));
    choices.push(...Array(3).fill(opCrash));
  }
  if (canAct && alive().filter((t) => t.frozen).length < n - 1) choices.push(...Array(2).fill(opFreeze));
  if (choices.length) await pick(choices)();
}

let nextAction = 1;
async function act() {
  const tab = pick(active().filter((t) => t.role === 'real' || t.role === 'dummy'));
  if (!tab) return;
  const n = nextAction;
  nextAction += 1;
  actions.set(n, { tab, at: now(), answers: [] });
  await Promise.race([tab.page.evaluate((k) => window.soakAct(k), n).catch(() => {}), sleep(2000)]);
}

// ---- the run ----

console.error(`soak: ${SECONDS} s, seed ${SEED}, worker ${WORKER}`);
for (let i = 0; i < MIN_TABS; i += 1) await open();
await sleep(1000);
const start = now();
const end = start + SECONDS * 1000;
let nextOp = now() + between(500, 5000);
let nextAct = now();
while (now() < end) {
  await thawDue();
  if (now() >= nextAct) {
    nextAct += 300;
    await act();
  }
  if (now() >= nextOp) {
    await operate();
    nextOp = now() + between(500, 5000);
  }
  await sleep(Math.max(0, Math.min(nextAct, nextOp) - now()));
}

// Thaw everything, let every answer come back.
for (const tab of alive().filter((t) => t.frozen)) tab.thawAt = 0;
await thawDue();
const waitUntil = now() + PING.actionTimeout + PING.pingTimeout + 2000;
const outstanding = () => [...actions.values()].filter((a) => a.tab.alive && a.answers.length === 0);
while (now() < waitUntil && (outstanding().length || !settled())) await sleep(100);
checkSettled(now());

// ---- figures ----

const finished = now();
for (const [n, a] of actions) {
  if (a.answers.length > 1) violations.push(`action ${n} answered ${a.answers.length} times`);
  if (a.tab.alive && a.answers.length === 0) violations.push(`action ${n} from tab ${a.tab.n} never answered`);
}
if (pending) violations.push(`the last ${pending.kind} never settled`);

/** Active-real intervals of a tab (its real periods minus its frozen windows). */
function realIntervals(tab) {
  const out = [];
  let from = null;
  for (const e of tab.roles) {
    if (e.role === 'real' && from === null) from = e.at;
    if (e.role !== 'real' && from !== null) { out.push([from, e.at]); from = null; }
  }
  if (from !== null) out.push([from, tab.alive ? finished : tab.diedAt]);
  return out.flatMap(([a, b]) => {
    let parts = [[a, b]];
    for (const w of tab.frozenAt) {
      const [fa, fb] = [w.from, w.to ?? finished];
      parts = parts.flatMap(([x, y]) => [[x, Math.min(y, fa)], [Math.max(x, fb), y]]).filter(([x, y]) => y > x);
    }
    return parts;
  });
}
const thawTransients = [];
for (let i = 0; i < tabs.length; i += 1) {
  for (let j = i + 1; j < tabs.length; j += 1) {
    for (const [a, b] of realIntervals(tabs[i])) {
      for (const [c, d] of realIntervals(tabs[j])) {
        const [from, to] = [Math.max(a, c), Math.min(b, d)];
        if (to <= from) continue;
        // A thawed tab that was replaced while frozen stops on its first task.
        const thawed = [tabs[i], tabs[j]].some((t) => t.frozenAt.some((w) => w.to && Math.abs(w.to - from) < 50));
        if (thawed) thawTransients.push(to - from);
        else violations.push(`tabs ${i} and ${j} both real for ${(to - from).toFixed(1)} ms`);
      }
    }
  }
}
for (const s of settles.filter((x) => !x.interrupted && x.ms > SETTLE_BOUND)) {
  violations.push(`${s.kind} settled after ${s.ms.toFixed(0)} ms (bound ${SETTLE_BOUND} ms)`);
}

const q = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);
const answers = [...actions.values()].flatMap((a) => a.answers);
const codes = {};
for (const a of answers) codes[a.ok ? 'ok' : a.code] = (codes[a.ok ? 'ok' : a.code] || 0) + 1;
const latencies = [...actions.values()].filter((a) => a.answers.length).map((a) => a.answers[0].at - a.at)
  .sort((x, y) => x - y);
const restarts = restartTimes();
// Crashes by what happened: the worker died with the tab if the tabs created a new one within 1 s.
for (const c of crashes) {
  c.killed = restarts.some((t) => t > c.at && t < c.at + 1000);
  c.outcome = `crash of ${c.real ? 'the real' : 'a dummy'}, ${c.killed ? 'the worker died with it' : 'the worker lived'}`;
}
for (const x of settles.filter((y) => y.crashed)) x.kind = x.crashed.outcome;
console.log(`soak: ${((finished - start) / 1000).toFixed(0)} s, seed ${SEED}, ${tabs.length} tabs opened, `
  + `${crashes.filter((c) => c.killed).length} worker restarts (crashes of its host), ping timeout ${PING.pingTimeout} ms`);
console.log(`actions: ${actions.size} dispatched, ${answers.length} answers (${JSON.stringify(codes)}), `
  + `${[...actions.values()].filter((a) => !a.tab.alive && !a.answers.length).length} from tabs that died first; `
  + `answer time p50 ${q(latencies, 0.5).toFixed(1)} ms, p95 ${q(latencies, 0.95).toFixed(1)} ms, `
  + `max ${latencies.length ? latencies[latencies.length - 1].toFixed(0) : 'n/a'} ms`);
console.log(`thawed tabs replaced while frozen, real until their first task: ${thawTransients.length}, `
  + `max ${thawTransients.length ? Math.max(...thawTransients).toFixed(1) : 0} ms`);
console.log(`settling after each operation (bound ${SETTLE_BOUND} ms; interrupted: the next operation came first):`);
const kinds = [...new Set(settles.map((s) => s.kind))].sort();
for (const kind of kinds) {
  const all = settles.filter((s) => s.kind === kind);
  const xs = all.filter((s) => !s.interrupted).map((s) => s.ms).sort((a, b) => a - b);
  console.log(`  ${kind.padEnd(46)} n=${String(all.length).padEnd(4)} interrupted=${String(all.length - xs.length).padEnd(3)} `
    + `p50 ${q(xs, 0.5).toFixed(0).padStart(5)} ms  p95 ${q(xs, 0.95).toFixed(0).padStart(5)} ms  `
    + `max ${(xs.length ? xs[xs.length - 1] : NaN).toFixed(0).padStart(5)} ms`);
}
console.log('crash targets (the host guessed as the first tab to create the current worker):');
for (const kind of [...new Set(crashes.map((c) => c.kind))].sort()) {
  const list = crashes.filter((c) => c.kind === kind);
  console.log(`  ${kind.padEnd(46)} n=${String(list.length).padEnd(4)} the worker died with it: ${list.filter((c) => c.killed).length}`);
}
console.log(violations.length ? `VIOLATIONS (${violations.length}):\n  ${violations.join('\n  ')}` : 'no violations');
await browser.close();
process.exit(violations.length ? 1 : 0);
