// `cargo xtask bench phone`: tabphone's browser phone beside SIP.js 0.21 (npm, default
// options, bundled by the xtask), in the same Chromium, against the same Kamailio, calling
// the same callee (bob: a tabphone page that answers every call). Printed as tables; nothing
// is asserted about time. A run fails only when something does not work (a call without
// audio both ways, a registration or a handover that never happens).
//
// Clocks: every figure of a page is on that page's clock (performance.timeOrigin +
// performance.now(), 0.1 ms). "On the wire" is the page's WebSocket.send() of the frame,
// recorded by an init script in both systems' pages (frames received: the socket's first
// `message` listener). Handover figures compare this process's clock (same origin: the
// wall clock) at the moment it closes or crashes the old real with the new real's page clock.
//
// "Established" is each library's own: tabphone's call state turns established at the 2xx
// (its media applies the answer right after), SIP.js's Established comes once it has applied
// the answer; the rows "answer applied" and "media connected" (the caller's peer connection
// `connected`: ICE and DTLS done) compare the same moment in both.
//
// Knobs: BENCH_CALLS, BENCH_REGISTRATIONS, BENCH_HANDOVERS (counts), BENCH_ONLY (a subset),
// BENCH_DEBUG=1 (every sample on stderr).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { basename, dirname, join } from 'node:path';
import { BASE, crash } from '../lib/browser.mjs';
import { Kamailio } from '../lib/kamailio.mjs';
import { hearEachOther, launchWithMedia, recordPeerConnections } from '../lib/audio.mjs';

const CALLS = Number(process.env.BENCH_CALLS || 20);
const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS || 20);
const HANDOVERS = Number(process.env.BENCH_HANDOVERS || 10);
// BENCH_ONLY=register,calls,handover runs a subset.
const ONLY = (process.env.BENCH_ONLY || 'register,calls,handover').split(',');
/** The least time between the starts of two calls of one system. */
const CALL_SPACING_MS = 2000;
/** A bound on each wait, so that a broken run ends with a message (not a timing assertion). */
const PATIENCE_MS = 20000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

const kamailio = await Kamailio.start();
const browser = await launchWithMedia();

/** The two systems: their page, and the account each calls from. */
const systems = {
  tabphone: { page: 'bench/phone-tabphone.html', caller: 'alice' },
  'SIP.js': { page: 'bench/phone-sipjs.html', caller: 'carol' },
};
const SYSTEMS = Object.keys(systems);

/** Record every SIP frame a page's WebSockets send and receive, in `window.__sipFrames`. */
function recordSipFrames(context) {
  return context.addInitScript(() => {
    const at = () => performance.timeOrigin + performance.now();
    const frames = [];
    window.__sipFrames = frames;
    const decoder = new TextDecoder();
    const text = (d) => (typeof d === 'string' ? d : d instanceof ArrayBuffer || ArrayBuffer.isView(d) ? decoder.decode(d) : '');
    const record = (dir, data) => {
      const t = at();
      const msg = text(data);
      const end = msg.indexOf('\r\n');
      const cseq = (msg.match(/^CSeq:[ \t]*([^\r\n]*)/mi)?.[1] ?? '').trim();
      frames.push({ dir, at: t, first: end < 0 ? msg : msg.slice(0, end), cseq });
    };
    const Native = window.WebSocket;
    const send = Native.prototype.send;
    Native.prototype.send = function sendRecorded(data) {
      record('out', data);
      return send.call(this, data);
    };
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        frames.push({ dir: 'new', at: at(), first: String(args[0]), cseq: '' });
        this.addEventListener('open', () => frames.push({ dir: 'open', at: at(), first: '', cseq: '' }));
        this.addEventListener('message', (e) => record('in', e.data));
      }
    };
    // When this tab starts to close, for the tabs that stay (they share localStorage).
    window.addEventListener('pagehide', () => localStorage.setItem('bench:pagehide', String(at())));
  });
}

/**
 * When each peer connection of a page had its remote description set and became
 * connected (ICE and DTLS done: audio can flow), on `pc.__bench`.
 */
function recordPeerTimes(context) {
  return context.addInitScript(() => {
    const at = () => performance.timeOrigin + performance.now();
    const Base = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Base {
      constructor(...args) {
        super(...args);
        const times = { created: at(), remote: null, connected: null };
        this.__bench = times;
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected' && times.connected === null) times.connected = at();
        });
      }

      async setRemoteDescription(...args) {
        const r = await super.setRemoteDescription(...args);
        if (this.__bench.remote === null) this.__bench.remote = at();
        return r;
      }
    };
  });
}

/** A new browser profile with the recorders. */
async function profile() {
  const context = await browser.newContext();
  await recordPeerConnections(context);
  await recordPeerTimes(context);
  await recordSipFrames(context);
  return context;
}

/** Open `system`'s bench page as `user` in `context`. */
async function open(context, system, user, extra = {}) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${system} ${user} page error] ${e.message}`));
  const q = new URLSearchParams({ user, server: kamailio.url, domain: kamailio.domain, ...extra });
  await page.goto(`${BASE}/${systems[system].page}?${q}`);
  await page.waitForFunction(() => window.benchReady === true);
  return page;
}

/** Poll `check` until it returns a truthy value. */
async function until(check, what, timeoutMs = PATIENCE_MS) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nkamailio log tail:\n${kamailio.log().slice(-2000)}`);
    await sleep(10);
  }
}

const eventsOf = (page, name) => page.evaluate((n) => window.benchEvents.filter((e) => e.name === n), name);
const framesOf = (page) => page.evaluate(() => window.__sipFrames);
const isRegistered = (e) => e.detail?.state === 'registered';

/** Nearest-rank percentiles (p95 of 20 samples is the 19th smallest). */
function stats(samples) {
  const s = samples.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  const at = (q) => (s.length ? s[Math.max(0, Math.ceil(q * s.length) - 1)] : null);
  return { p50: at(0.5), p95: at(0.95), n: s.length };
}

// ---------------------------------------------------------------------------------------
// Registration: a fresh profile and page per try; first REGISTER sent to registered.

async function registerOnce(system) {
  const context = await profile();
  const page = await open(context, system, systems[system].caller);
  const done = await until(async () => (await eventsOf(page, 'registration')).find(isRegistered), `${system} registered`);
  const frames = await framesOf(page);
  const after = (t, dir, start) => frames.find((f) => f.at >= t && f.dir === dir && f.first.startsWith(start));
  const first = after(0, 'out', 'REGISTER ');
  const challenge = after(first.at, 'in', 'SIP/2.0 401');
  const again = challenge && after(challenge.at, 'out', 'REGISTER ');
  const ok = again && after(again.at, 'in', 'SIP/2.0 200');
  if (!ok) throw new Error(`${system}: not REGISTER, 401, REGISTER, 200: ${JSON.stringify(frames)}`);
  const origin = await page.evaluate(() => performance.timeOrigin);
  await context.close();
  return {
    wire: done.at - first.at,
    page: done.at - origin,
    challenge: challenge.at - first.at,
    answer: again.at - challenge.at,
    ok: ok.at - again.at,
    event: done.at - ok.at,
  };
}

// ---------------------------------------------------------------------------------------
// Calls: one long-lived caller page per system, bob's page answering; audio checked both ways.

async function callOnce(system, caller, callee) {
  await caller.evaluate(() => { window.__sipFrames.length = 0; });
  const r = await caller.evaluate((to) => window.bench.call(to), 'bob');
  const frames = await caller.evaluate(() => window.__sipFrames.splice(0));
  const invite = frames.find((f) => f.dir === 'out' && f.first.startsWith('INVITE sip:bob@') && f.at >= r.t0);
  const ok = frames.find((f) => f.dir === 'in' && f.first.startsWith('SIP/2.0 200') && / INVITE$/.test(f.cseq));
  if (!invite || !ok) throw new Error(`${system}: no INVITE or no 200 in the recorded frames: ${JSON.stringify(frames)}`);
  const audio = await hearEachOther([caller, callee], { timeoutMs: 8000 });
  const pc = await caller.evaluate((t0) => window.__tabphonePcs.map((p) => p.__bench).find((b) => b.remote >= t0), r.t0);
  const ended = (await eventsOf(callee, 'callEnded')).length;
  await caller.evaluate(() => window.bench.hangup());
  await until(async () => (await eventsOf(callee, 'callEnded')).length > ended, `bob's end of the ${system} call`);
  return {
    dial: r.established - r.t0,
    wire: r.established - invite.at,
    toInvite: invite.at - r.t0,
    inviteTo200: ok.at - invite.at,
    after200: r.established - ok.at,
    answerApplied: pc ? pc.remote - r.t0 : null,
    connected: pc?.connected ? pc.connected - r.t0 : null,
    prepared: Boolean(pc && pc.created < r.t0),
    audio,
  };
}

async function calls() {
  const bob = await open(await profile(), 'tabphone', 'bob', { answer: '1', app: 'callee' });
  const callers = {};
  for (const system of SYSTEMS) {
    callers[system] = await open(await profile(), system, systems[system].caller);
  }
  for (const page of [bob, ...Object.values(callers)]) {
    await until(async () => (await eventsOf(page, 'registration')).some(isRegistered), 'registration before the calls');
  }
  // Both systems' first call comes after the same settling time (tabphone prepares its
  // first call once registered; SIP.js prepares nothing).
  await sleep(1500);
  const results = Object.fromEntries(SYSTEMS.map((s) => [s, []]));
  const started = Object.fromEntries(SYSTEMS.map((s) => [s, 0]));
  for (let i = 0; i < CALLS; i += 1) {
    // Alternate which system goes first, so neither always follows the other.
    const order = i % 2 ? [...SYSTEMS].reverse() : SYSTEMS;
    for (const system of order) {
      // A user's calls are further apart than this; tabphone prepares the next call 1 s
      // after one starts.
      await sleep(Math.max(300, started[system] + CALL_SPACING_MS - Date.now()));
      started[system] = Date.now();
      console.error(`bench: call ${i + 1}/${CALLS}, ${system}`);
      results[system].push(await callOnce(system, callers[system], bob));
    }
  }
  const errors = await bob.evaluate(() => window.benchEvents.filter((e) => e.name === 'answerFailed' || e.name === 'error'));
  if (errors.length) console.error(`bob's page reported: ${JSON.stringify(errors)}`);
  return results;
}

// ---------------------------------------------------------------------------------------
// Handover (tabphone only): the old real leaves; when does a new real have registered?

const HANDOVER_APP = 'phone-bench-handover';

/** The tab whose role event says real and whose registration is done; waits for one. */
async function registeredReal(pages) {
  return until(async () => {
    for (const p of pages) {
      const role = await p.evaluate(() => window.tabphone.role).catch(() => null);
      if (role !== 'real') continue;
      const s = await p.evaluate(() => window.tabphone.state()).catch(() => null);
      if (s?.registration?.state === 'registered') return p;
    }
    return null;
  }, 'a registered real');
}

/**
 * End `old` (`close` or `crash`) and measure, on the survivors `pages`, when one became
 * real, opened its SIP WebSocket, sent its first REGISTER and was registered. Times are
 * from the old tab's `pagehide` for a close (the browser began to close it), from this
 * process's Page.crash for a crash; `harness` is the registration from this process's
 * close() or crash().
 */
async function handover(context, old, pages, how) {
  await pages[0].evaluate(() => localStorage.removeItem('bench:pagehide'));
  const gone = now();
  if (how === 'close') await old.close();
  else await crash(context, old);
  return until(async () => {
    for (const p of pages) {
      const frames = (await framesOf(p)).filter((f) => f.at > gone);
      const sent = frames.find((f) => f.dir === 'out' && f.first.startsWith('REGISTER '));
      if (!sent) continue;
      const reg = (await eventsOf(p, 'registration')).find((e) => e.at > sent.at && isRegistered(e));
      if (!reg) continue;
      const role = (await eventsOf(p, 'role')).find((e) => e.at > gone && e.detail.role === 'real');
      const hide = how === 'close' ? Number(await p.evaluate(() => localStorage.getItem('bench:pagehide'))) : 0;
      const start = hide || gone;
      const since = (e) => (e ? e.at - start : null);
      return {
        role: since(role),
        socket: since(frames.find((f) => f.dir === 'new')),
        open: since(frames.find((f) => f.dir === 'open')),
        register: since(sent),
        registered: since(reg),
        harness: reg.at - gone,
      };
    }
    return null;
  }, `a new real registered after the ${how}`);
}

/** Tabs of alice in a new profile; the first one hosts the worker (and is the real). */
async function aliceTabs(n) {
  const context = await profile();
  const pages = [];
  for (let i = 0; i < n; i += 1) pages.push(await open(context, 'tabphone', 'alice', { app: HANDOVER_APP }));
  const real = await registeredReal(pages);
  if (real !== pages[0]) throw new Error('the first tab is not the real one');
  return { context, pages };
}

async function handovers() {
  const cases = {
    'graceful close, the real hosts the worker': [],
    'graceful close, the real does not host the worker': [],
    'crash, the real does not host the worker': [],
    'crash, the real is the first tab (worker host)': [],
  };
  const [closeHost, closeOther, crashOther, crashHost] = Object.values(cases);
  for (let i = 0; i < HANDOVERS; i += 1) {
    console.error(`bench: handovers ${i + 1}/${HANDOVERS}`);
    // The host closes, then the next real closes.
    let { context, pages } = await aliceTabs(3);
    closeHost.push(await handover(context, pages[0], pages.slice(1), 'close'));
    let live = pages.slice(1);
    let real = await registeredReal(live);
    closeOther.push(await handover(context, real, live.filter((p) => p !== real), 'close'));
    await context.close();
    // The host closes (not measured), then the next real crashes.
    ({ context, pages } = await aliceTabs(3));
    await pages[0].close();
    live = pages.slice(1);
    real = await registeredReal(live);
    crashOther.push(await handover(context, real, live.filter((p) => p !== real), 'crash'));
    await context.close();
    // The first tab, real and the worker's host, crashes.
    ({ context, pages } = await aliceTabs(2));
    crashHost.push(await handover(context, pages[0], pages.slice(1), 'crash'));
    await context.close();
  }
  if (process.env.BENCH_DEBUG) console.error(JSON.stringify(cases, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v)));
  return cases;
}

// ---------------------------------------------------------------------------------------
// Sizes: what a tab loads.

// `served`: the precompressed `.gz` files `cargo xtask build` writes (zopfli)
// and the server sends to browsers, when there are any.
function size(dir, files) {
  let raw = 0;
  let gz = 0;
  let served = 0;
  for (const f of files) {
    const data = readFileSync(join(dir, f));
    raw += data.length;
    gz += gzipSync(data, { level: 9 }).length;
    const pre = join(dir, `${f}.gz`);
    served += existsSync(pre) ? statSync(pre).size : NaN;
  }
  return { raw, gz, served };
}

function sizes() {
  const pkg = process.env.PKG_DIR;
  // The glue (the build bundles its snippets in; any left apart count too).
  const js = readdirSync(pkg, { recursive: true }).filter((f) => f.endsWith('.js') && f !== 'worker.js');
  const tabWasm = size(pkg, ['tabphone_tab_bg.wasm']);
  const tabJs = size(pkg, js);
  // The worker runs the tab's module (one wasm for both): only its loader is its own.
  const worker = size(pkg, ['worker.js']);
  const bundle = process.env.SIPJS_BUNDLE;
  const sipjs = size(dirname(bundle), [basename(bundle)]);
  return { tabWasm, tabJs, worker, sipjs };
}

// ---------------------------------------------------------------------------------------
// The run and the tables.

const fmt = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
const ratioOf = (a, b) => (a === null || b === null || !b ? null : a / b);
const fmtRatio = (r) => (r === null ? 'n/a' : `${r.toFixed(2)}x`);
const widths = [56, 11, 11, 7, 22];
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' ').trimEnd();
const rows = [];
const row = (what, t, s, target) => {
  const r = ratioOf(t, s);
  const verdict = target === undefined ? '' : `<= ${target.toFixed(1)}x: ${r !== null && r <= target ? 'met' : 'MISSED'}`;
  rows.push([what, fmt(t), fmt(s), fmtRatio(r), verdict]);
};

const sampled = {};
if (ONLY.includes('register')) {
  const reg = Object.fromEntries(SYSTEMS.map((s) => [s, []]));
  for (let i = 0; i < REGISTRATIONS; i += 1) {
    for (const system of i % 2 ? [...SYSTEMS].reverse() : SYSTEMS) {
      console.error(`bench: registration ${i + 1}/${REGISTRATIONS}, ${system}`);
      reg[system].push(await registerOnce(system));
    }
  }
  const wire = Object.fromEntries(SYSTEMS.map((s) => [s, stats(reg[s].map((r) => r.wire))]));
  const page = Object.fromEntries(SYSTEMS.map((s) => [s, stats(reg[s].map((r) => r.page))]));
  row(`registration, first REGISTER to registered p50`, wire.tabphone.p50, wire['SIP.js'].p50, 1.0);
  row(`registration, first REGISTER to registered p95`, wire.tabphone.p95, wire['SIP.js'].p95);
  const part = (k) => SYSTEMS.map((s) => stats(reg[s].map((r) => r[k])).p50);
  row('  where it goes: REGISTER sent to 401 received p50', ...part('challenge'));
  row('  401 received to REGISTER with credentials sent p50', ...part('answer'));
  row('  that REGISTER sent to 200 OK received p50', ...part('ok'));
  row('  200 OK received to registered (app told) p50', ...part('event'));
  row('  page opened to registered p50 (not a target)', page.tabphone.p50, page['SIP.js'].p50);
  sampled.registrations = wire.tabphone.n;
}

let audioLine = '';
let failedAudio = 0;
if (ONLY.includes('calls')) {
  const results = await calls();
  const st = (s, k) => stats(results[s].map((r) => r[k]));
  const pair = (k) => [st('tabphone', k), st('SIP.js', k)];
  let [t, s] = pair('dial');
  row('call() to established at the caller p50', t.p50, s.p50, 0.7);
  row('call() to established at the caller p95', t.p95, s.p95);
  [t, s] = pair('wire');
  row('INVITE on the wire to established p50', t.p50, s.p50, 1.0);
  row('INVITE on the wire to established p95', t.p95, s.p95);
  [t, s] = pair('toInvite');
  row('  where it goes: call() to INVITE sent p50', t.p50, s.p50);
  row('  call() to INVITE sent p95', t.p95, s.p95);
  [t, s] = pair('inviteTo200');
  row('  INVITE sent to 200 OK received (407 incl.) p50', t.p50, s.p50);
  [t, s] = pair('after200');
  row('  200 OK received to established p50', t.p50, s.p50);
  [t, s] = pair('answerApplied');
  row('  call() to the answer applied (setRemoteDescription) p50', t.p50, s.p50);
  [t, s] = pair('connected');
  row('  call() to media connected (ICE+DTLS) p50', t.p50, s.p50);
  sampled.calls = t.n;
  if (process.env.BENCH_DEBUG) {
    for (const sys of SYSTEMS) console.error(sys, JSON.stringify(results[sys].map(({ audio, ...r }) => r), (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v)));
  }
  const ok = (sys) => results[sys].filter((r) => r.audio.ok).length;
  failedAudio = SYSTEMS.reduce((n, sys) => n + results[sys].length - ok(sys), 0);
  audioLine = `two-way audio (getStats: inbound packets and energy grew at caller and bob): `
    + SYSTEMS.map((sys) => `${sys} ${ok(sys)}/${results[sys].length}`).join(', ');
  const prepared = results.tabphone.filter((r) => r.prepared).length;
  audioLine += `\ntabphone calls that took a peer connection prepared before call(): ${prepared}/${results.tabphone.length}`;
  for (const sys of SYSTEMS) {
    for (const [i, r] of results[sys].entries()) {
      if (!r.audio.ok) console.error(`${sys} call ${i + 1}: no audio both ways: ${JSON.stringify(r.audio.deltas)}`);
    }
  }
}

let handoverRows = [];
if (ONLY.includes('handover')) {
  const cases = await handovers();
  handoverRows = Object.entries(cases).map(([what, samples]) => {
    const m = (k) => stats(samples.map((x) => x[k])).p50;
    const target = what.startsWith('graceful') ? 100 : 250;
    const reg = m('registered');
    const verdict = `< ${target} ms: ${reg !== null && reg < target ? 'met' : 'MISSED'}`;
    return [what, fmt(m('role')), fmt(m('socket')), fmt(m('open')), fmt(m('register')), fmt(reg), fmt(m('harness')), verdict];
  });
}

const version = browser.version();
await browser.close();
await kamailio.close();

const z = sizes();
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
console.log(`phone benchmark, Chromium ${version}, Kamailio on loopback, one run: tabphone beside SIP.js 0.21.2`);
console.log(`(default options; callers alice (tabphone) and carol (SIP.js) call bob, a tabphone page answering at once;`);
console.log(` ${sampled.registrations ?? 0} registrations and ${sampled.calls ?? 0} calls per system, interleaved, a system's calls`);
console.log(` starting ${CALL_SPACING_MS / 1000} s apart or more; p95 is the nearest rank)`);
if (rows.length) {
  console.log(line(['measure', 'tabphone', 'SIP.js', 'ratio', 'target']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}
if (audioLine) {
  console.log('("established": tabphone\'s at the 2xx, its answer applied after; SIP.js\'s after applying the answer)');
  console.log(audioLine);
}
if (handoverRows.length) {
  console.log('');
  console.log(`new real registered after the old real leaves, median of ${HANDOVERS} (tabphone; SIP.js has no such thing:`);
  console.log(' each tab of a SIP.js app is its own phone, and a closed tab\'s calls and registration just end)');
  console.log(' from the old tab\'s pagehide (close) or the harness\'s Page.crash (crash); "harness" is from');
  console.log(' the harness\'s close() or crash() call to registered, Playwright\'s latency included');
  const hw = [50, 10, 14, 12, 14, 11, 10, 16];
  const hl = (cells) => cells.map((c, i) => String(c).padEnd(hw[i])).join(' ').trimEnd();
  console.log(hl(['case', 'role real', 'socket created', 'socket open', 'REGISTER sent', 'registered', 'harness', 'target']));
  console.log(hl(hw.map((w) => '-'.repeat(w))));
  for (const r of handoverRows) console.log(hl(r));
}
console.log('');
console.log('what a tab loads, gzip -9 (raw) [as served: the precompressed .gz files, zopfli]:');
const both = (s) => `${kb(s.gz)} (${kb(s.raw)}) [${kb(s.served)}]`;
console.log(`  tabphone tab: wasm ${both(z.tabWasm)} + JS glue ${both(z.tabJs)}`);
console.log(`  tabphone worker loader (the worker runs the tab's module; fetched by the tab that starts it): ${both(z.worker)}`);
const total = (k) => z.tabWasm[k] + z.tabJs[k] + z.worker[k];
console.log(`  tabphone total, first tab: ${kb(total('gz'))} gzip -9, ${kb(total('served'))} as served (target: at most 110 KB)`);
console.log(`  SIP.js 0.21.2 bundle (esbuild, minified): ${both(z.sipjs)}`);
if (failedAudio) {
  console.error(`bench: ${failedAudio} calls without audio both ways`);
  process.exitCode = 1;
}
