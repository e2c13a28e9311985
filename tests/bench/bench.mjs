// `cargo xtask bench`: tabphone against a JS SharedWorker relay of the reference
// pattern, measured in the same Chromium run, printed side by side.
// Latencies are in-page (performance.timeOrigin + performance.now(), 0.1 ms
// resolution); promotion times compare the node-side start with the page-side
// role event on the same wall clock.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  BASE, closeWithoutHandlers, crash, launch, oneReal, roleOf, setFrozen, workerUrl,
} from '../lib/browser.mjs';

const ACTIONS = Number(process.env.BENCH_ACTIONS || 1000);
const PUBLISHES = Number(process.env.BENCH_PUBLISHES || 100);
const PROMOTIONS = Number(process.env.BENCH_PROMOTIONS || 10);
const FANOUT = (process.env.BENCH_FANOUT || '1,10,50').split(',').map(Number);
// The frozen case runs with a short ping timeout; everything else with the defaults.
// BENCH_ONLY=roundtrip,fanout,promotion runs a subset.
const ONLY = (process.env.BENCH_ONLY || 'roundtrip,fanout,promotion').split(',');
const FROZEN_PING = { pingInterval: 250, pingTimeout: 1000 };

const browser = await launch();
const now = () => performance.timeOrigin + performance.now();

const systems = {
  tabphone: {
    url: (extra = {}) => `${BASE}/bench/tabphone.html?worker=${encodeURIComponent(`.${workerUrl(extra)}`)}`,
  },
  baseline: { url: () => `${BASE}/bench/baseline.html` },
};

async function open(context, system, extra) {
  const page = await context.newPage();
  await page.goto(systems[system].url(extra));
  await page.waitForFunction(() => window.tabphone && ['real', 'dummy'].includes(window.tabphone.role));
  return page;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

async function actionRoundTrip(system) {
  const context = await browser.newContext();
  const tabs = [await open(context, system, {}), await open(context, system, {})];
  const real = await oneReal(tabs);
  const dummy = tabs.find((p) => p !== real);
  const samples = await dummy.evaluate(async (n) => {
    const out = [];
    for (let i = 0; i < n + 100; i += 1) {
      const t = performance.now();
      await window.tabphone.dispatch('echo', i);
      if (i >= 100) out.push(performance.now() - t); // the first 100 warm up
    }
    return out;
  }, ACTIONS);
  await context.close();
  return stats(samples);
}

async function fanout(system, dummies) {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i <= dummies; i += 1) pages.push(await open(context, system, {}));
  const real = await oneReal(pages);
  const sent = await real.evaluate(async (n) => {
    const at = [];
    for (let seq = 0; seq < n; seq += 1) {
      await new Promise((r) => setTimeout(r, 20));
      at.push(performance.timeOrigin + performance.now());
      window.tabphone.publish({ bench: seq });
    }
    return at;
  }, PUBLISHES);
  await new Promise((r) => setTimeout(r, 500));
  // For each publish: when its last dummy had it.
  const last = new Array(PUBLISHES).fill(0);
  for (const page of pages.filter((p) => p !== real)) {
    const got = await page.evaluate(() => window.tabphoneEvents
      .filter((e) => e.type === 'state' && e.state && typeof e.state.bench === 'number')
      .map((e) => [e.state.bench, e.at]));
    for (const [seq, at] of got) last[seq] = Math.max(last[seq], at);
  }
  await context.close();
  const missing = last.filter((t) => t === 0).length;
  if (missing) throw new Error(`${system}: ${missing} publishes never reached every dummy`);
  return stats(last.map((t, seq) => t - sent[seq]));
}

// How the real goes away. `host` says whether the real is the tab that created
// the SharedWorker: crashing that tab kills the worker too (a worker restart).
const causes = {
  graceful: { host: false, end: async (context, page) => { await page.close(); } },
  'no handlers': { host: false, end: async (context, page) => { await closeWithoutHandlers(page); } },
  'crash, real does not host the worker': { host: false, end: async (context, page) => { await crash(context, page); } },
  'crash, real hosts the worker': { host: true, end: async (context, page) => { await crash(context, page); } },
  frozen: { host: false, end: async (context, page) => { await setFrozen(context, page, true); } },
};

/** Three tabs; the real hosts the worker or not, as the cause says. */
async function promotionSetup(system, cause, extra) {
  const context = await browser.newContext();
  const host = await open(context, system, extra);
  const tabs = [await open(context, system, extra), await open(context, system, extra)];
  if (causes[cause].host) {
    // The first tab created the worker (it runs in that tab's renderer) and is real.
    if (await oneReal([host, ...tabs]) !== host) throw new Error(`${system}: the worker's host is not real`);
    return { context, target: host, watchers: tabs };
  }
  // Move the real off the host: open a host, two more tabs, close the host.
  await oneReal([host, ...tabs]);
  await host.close();
  const target = await oneReal(tabs);
  return { context, target, watchers: tabs.filter((p) => p !== target) };
}

/** Times from the real's end to a dummy's `role: real` event (null: none in 5 s). */
async function promotion(system, cause) {
  const times = [];
  const extra = cause === 'frozen' ? FROZEN_PING : {};
  for (let i = 0; i < PROMOTIONS; i += 1) {
    const { context, target, watchers } = await promotionSetup(system, cause, extra);
    const start = now();
    await causes[cause].end(context, target);
    let at = null;
    const end = Date.now() + 5000;
    while (at === null && Date.now() < end) {
      for (const p of watchers) {
        const t = await p.evaluate((s) => window.tabphoneEvents.find((e) => e.type === 'role' && e.role === 'real'
          && e.at > s)?.at ?? null, start).catch(() => null);
        if (t !== null) at = at === null ? t : Math.min(at, t);
      }
      if (at === null) await new Promise((r) => setTimeout(r, 20));
    }
    if (cause === 'frozen' && !target.isClosed()) await setFrozen(context, target, false).catch(() => {});
    await context.close();
    times.push(at === null ? null : at - start);
  }
  const got = times.filter((t) => t !== null).sort((a, b) => a - b);
  if (got.length < times.length) return { p50: null, p95: null };
  return { p50: got[Math.floor(got.length / 2)], p95: got[Math.min(got.length - 1, Math.floor(0.95 * got.length))] };
}

function size(dir, files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const data = readFileSync(join(dir, f));
    raw += data.length;
    gz += gzipSync(data, { level: 9 }).length;
  }
  return { raw, gz };
}

const ms = (v) => (v === null || v === undefined ? 'never' : `${v.toFixed(2)} ms`);
const ratio = (a, b) => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}x`);
const rows = [];
const row = (what, t, b) => rows.push([what, ms(t), ms(b), ratio(t, b)]);

if (ONLY.includes('roundtrip')) {
  console.error('bench: action round trips');
  const rt = { tabphone: await actionRoundTrip('tabphone'), baseline: await actionRoundTrip('baseline') };
  row(`action round trip p50 (n=${rt.tabphone.n})`, rt.tabphone.p50, rt.baseline.p50);
  row(`action round trip p99 (n=${rt.tabphone.n})`, rt.tabphone.p99, rt.baseline.p99);
}

for (const n of ONLY.includes('fanout') ? FANOUT : []) {
  console.error(`bench: fan-out to ${n}`);
  const t = await fanout('tabphone', n);
  const b = await fanout('baseline', n);
  row(`sync fan-out to ${n} dummies p50 (last dummy, n=${t.n})`, t.p50, b.p50);
  row(`sync fan-out to ${n} dummies p99 (last dummy, n=${t.n})`, t.p99, b.p99);
}

for (const cause of ONLY.includes('promotion') ? Object.keys(causes) : []) {
  console.error(`bench: promotion after ${cause}`);
  const t = await promotion('tabphone', cause);
  const b = await promotion('baseline', cause);
  row(`promotion after ${cause}, median of ${PROMOTIONS}`, t.p50, b.p50);
  row(`promotion after ${cause}, p95 of ${PROMOTIONS}`, t.p95, b.p95);
}
const version = browser.version();
await browser.close();

const pkg = process.env.PKG_DIR;
// The worker runs the tab's own wasm module (one file for both): a tab loads
// the module, its JS glue (the build bundles the snippets in; any left apart
// count too) and the worker's loader, once.
const js = readdirSync(pkg, { recursive: true }).filter((f) => f.endsWith('.js'));
const wasm = size(pkg, ['tabphone_tab_bg.wasm']);
const tab = size(pkg, ['tabphone_tab_bg.wasm', ...js]);
const base = size(join(process.cwd(), 'pages/bench'), ['baseline-worker.js']);

const widths = [70, 14, 14, 8];
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' ').trimEnd();
console.log(`tabphone benchmark, Chromium ${version}, one run; the frozen case uses ping interval ${FROZEN_PING.pingInterval} ms and timeout ${FROZEN_PING.pingTimeout} ms`);
console.log(line(['measure', 'tabphone', 'baseline', 'ratio']));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log('');
console.log(`wasm (the tab's and the worker's): ${wasm.raw} B raw, ${wasm.gz} B gzip`);
console.log(`everything a tab loads (wasm, JS glue, snippets, worker loader): ${tab.raw} B raw, ${tab.gz} B gzip (baseline worker JS: ${base.raw} B raw, ${base.gz} B gzip)`);
