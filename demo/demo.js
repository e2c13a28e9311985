// tabphone's demo: a softphone page. Every tab of it runs a TabPhone; the tabs
// of one browser profile share one real SIP phone (see README.md).
//
// Modes: before sign-in the tab joins the app `tabphone-demo` (or `?app=`)
// with no SIP account, where the real tab keeps a shared counter (lobby.js:
// the tab-coordination tests and benchmark drive it); once signed in, it joins
// `<app>:<user>@<domain>` with the `sip` options and is a phone. Signing in or
// out in one tab does the same in every tab of the page (localStorage).
//
// Query parameters: `account=<name>` signs in with a demo account of
// config.json; `server=<ws url>` the default server (else config.json's, served
// by `cargo xtask demo`); `worker=<url>` the worker script; `app=<name>`.
//
// Test hooks: `window.tabphone` is the current TabPhone, `window.tabphoneEvents`
// the role and state events with times (absolute ms). `data-testid` hooks:
//   role (text: connecting|real|dummy), role-badge, epoch, tabs, tab-id,
//   real-starts (times this tab became real), state (the shared state, JSON),
//   last-result (the last action's result or error), log, trace-toggle,
//   log-clear, toast (the last error);
//   account (signed-in account), signout,
//   connection (data-state: none|starting|connecting|connected|recovering|
//     disconnected), registration (data-state: none|starting|unregistered|
//     registered|failed), notice (+ notice-action), audio-blocked (+ enable-sound);
//   signin (the form), signin-accounts with account-<name> and account-other
//     (aria-checked), signin-server, signin-user, signin-domain, signin-password,
//     signin-name, signin-ice, signin-remember, signin-error, signin-submit;
//   dialer, dial-input, dial-call, dial-clear, dialpad with key-0..key-9,
//     key-*, key-#, dtmf-via (rtp|info), dtmf-target (which call gets the
//     tones), dtmf-sent (the tones sent to it);
//   incoming-list with one incoming per ringing call (data-call-id) holding
//     answer and decline;
//   calls with one call per live call (data-call-id, data-state, data-direction,
//     data-held, data-held-remote, data-muted) holding call-state, call-timer,
//     call-flags and the buttons mute and hold (data-action: the action a click
//     sends, mute|unmute and hold|unhold; aria-pressed), keypad, transfer,
//     hangup, and the transfer-panel: transfer-to + transfer-blind,
//     transfer-with + transfer-attended; no-calls;
//   recent with one ended per ended call (data-call-id, data-cause), call-back.
//   Lobby only (not signed in): lobby-actions with #increment, #echo, #note,
//   #publish; welcome.
import init, { TabPhone } from './pkg/tabphone_tab.js';
import { CallsView, endedText, peerName } from './calls.js';
import { Dialpad } from './dialpad.js';
import { startLobby } from './lobby.js';
import { Log } from './log.js';
import { Ringer } from './ring.js';
import {
  SIGNED_IN, SignInForm, accountKey, credentials, demoSettings, forgetSignIn, loadSettings, rememberSignIn,
  signedInAs, sipOptions,
} from './signin.js';
import { audioText, connectionStatus, registrationStatus, roleHint } from './status.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const params = new URLSearchParams(location.search);
const workerUrl = params.get('worker') || './pkg/worker.js';
const lobbyApp = params.get('app') || 'tabphone-demo';
const now = () => performance.timeOrigin + performance.now();

window.tabphoneEvents = [];
const log = new Log($('log'), $('trace-toggle'), $('log-clear'));
let phone = null; // window.tabphone
let mode = 'lobby'; // or 'phone'
let account = null; // the credentials while signed in
let state = null; // the latest shared state while signed in
let realStarts = 0;
const busy = new Set(); // keys of actions in flight, their buttons disabled
const ringer = new Ringer();

/** The page config: config.json (from `cargo xtask demo`) and the query. */
async function loadConfig() {
  let file = {};
  try {
    const res = await fetch('./config.json', { cache: 'no-store' });
    if (res.ok) file = await res.json();
  } catch { /* no config: the user types a server */ }
  return {
    server: params.get('server') || file.server || '',
    domain: params.get('domain') || file.domain || location.hostname,
    accounts: Array.isArray(file.accounts) ? file.accounts : [],
  };
}

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}

/** Run an action; `key` (optional) disables its buttons meanwhile. Errors go to the log and a toast. */
async function act(label, key, fn) {
  if (key && busy.has(key)) return undefined;
  if (key) { busy.add(key); render(); }
  const t0 = performance.now();
  try {
    const r = await fn();
    const ms = (performance.now() - t0).toFixed(1);
    const shown = r && typeof r === 'object' && !Object.keys(r).length ? '' : ` ${JSON.stringify(r)}`;
    $('last-result').textContent = `${label}:${shown || ' ok'} in ${ms} ms`;
    log.call(`${label}: done${shown} (${ms} ms)`);
    return r;
  } catch (e) {
    const text = `${label} failed: ${e?.code ?? 'error'}: ${e?.message ?? e}`;
    $('last-result').textContent = text;
    log.error(text);
    toast(text);
    return undefined;
  } finally {
    if (key) { busy.delete(key); render(); }
  }
}

const config = await loadConfig();
await init();

const calls = new CallsView(
  { banners: $('incoming-list'), list: $('calls'), empty: $('no-calls'), recent: $('recent'), recentCard: $('recent-card') },
  {
    act, phone: () => phone, busy: (key) => busy.has(key),
    dtmfTarget: () => dialpad.target?.id ?? null,
    setDtmfTarget: (id) => { dialpad.choose(id); render(); },
    redial: (uri) => dialpad.fill(uri),
  },
);
const dialpad = new Dialpad($('dialer'), { act, phone: () => phone, changed: () => render() });
const form = new SignInForm($('signin'), config, (c) => signIn(c));

function renderRole() {
  const role = phone?.role ?? 'connecting';
  $('role').textContent = role;
  $('role').className = role;
  $('role-badge').textContent = role;
  $('role-badge').className = `badge ${role}`;
  $('epoch').textContent = String(phone?.epoch ?? 0);
  $('real-starts').textContent = String(realStarts);
  $('role-hint').textContent = roleHint(mode, role);
  $('take-over').hidden = !(mode === 'phone' && role === 'dummy');
}

// A dummy asks to become the real: the calls (and the sound) move here. The
// click is also the user gesture the browser wants before it plays audio.
$('take-over').addEventListener('click', () => act('Bring the phone here', 'takeOver', () => phone.takeOver()));

function renderStatus() {
  const signedIn = mode === 'phone';
  const c = signedIn ? connectionStatus(state) : { state: 'none', text: 'not signed in', title: '' };
  const r = signedIn ? registrationStatus(state) : { state: 'none', text: '—', title: '' };
  for (const [id, s] of [['connection', c], ['registration', r]]) {
    $(id).dataset.state = s.state;
    $(id).textContent = s.text;
    $(id).title = s.title;
  }
  $('registration').hidden = !signedIn;
  const notice = $('notice');
  const problem = signedIn && (r.problem || c.problem);
  notice.hidden = !problem;
  if (problem) {
    notice.querySelector('.banner-text').textContent = problem;
    $('notice-action').hidden = !r.problem;
    $('notice-action').textContent = 'Change account';
  }
}

function renderAudio() {
  const banner = $('audio-blocked');
  const blocked = mode === 'phone' && Boolean(state?.audioBlocked);
  banner.hidden = !blocked;
  if (!blocked) return;
  banner.querySelector('.banner-text').textContent = audioText(phone.role);
  $('enable-sound').hidden = phone.role !== 'real';
  $('sound-here').hidden = phone.role !== 'dummy';
}

// A dummy's click is the gesture the browser wants: the call moves here, and plays.
$('sound-here').addEventListener('click', () => act('Play the call here', 'takeOver', () => phone.takeOver()));

/** The tab title, and the ringtone (real tab only). */
function renderRinging() {
  const live = state?.calls || [];
  const ringing = live.find((c) => c.direction === 'incoming' && c.state === 'ringing' && !c.replaces);
  const talking = live.find((c) => c.state === 'established');
  ringer.set(Boolean(ringing) && phone?.role === 'real');
  document.title = ringing ? `☎ ${peerName(ringing.peer)} is calling` : talking
    ? `In call with ${peerName(talking.peer)} · tabphone` : account ? `${account.user} · tabphone` : 'tabphone';
}

/** Bring the whole page up to date. */
function render() {
  renderRole();
  renderStatus();
  if (mode !== 'phone') return;
  dialpad.update(state?.calls || [], busy.has('dial'));
  calls.render(state);
  renderAudio();
  renderRinging();
}

/** Listeners every TabPhone gets, signed in or not. */
function wire(p) {
  p.on('role', ({ role, epoch }) => {
    if (p !== phone) return;
    window.tabphoneEvents.push({ type: 'role', role, epoch, at: now() });
    if (role === 'real') realStarts += 1;
    log.info(`this tab is ${role} (epoch ${epoch})`);
    render();
  });
  p.on('state', (s) => {
    if (p !== phone) return;
    window.tabphoneEvents.push({ type: 'state', state: s, at: now() });
    $('state').textContent = JSON.stringify(s, null, 1);
    if (mode === 'phone') {
      state = s;
      for (const line of calls.changes(s)) log.call(line);
      render();
    }
  });
  p.on('tabs', (n) => { if (p === phone) $('tabs').textContent = String(n); });
  p.on('error', (e) => { if (p === phone) log.error(`error ${e?.code}: ${e?.message}`); });
}

/** Listeners of the phone events (signed in). */
function wirePhone(p) {
  const mine = (f) => (e) => { if (p === phone) f(e); };
  p.on('incoming', mine(({ peer }) => log.call(`incoming call from ${peerName(peer)} <${peer?.uri}>`)));
  p.on('callEnded', mine((e) => {
    // Also the calls a real took away (handed over): they have no `ended` entry in a state.
    calls.ended({ id: e.call, cause: e.cause, status: e.status, at: Date.now() });
    const who = calls.peers.get(e.call);
    log.call(`call ${who ? `with ${peerName(who.peer)}` : ''} over: ${endedText(e)}`);
    render();
  }));
  p.on('connection', mine((e) => log.info(`connection: ${connectionStatus({ connection: e.connection ?? e }).text}`)));
  p.on('registration', mine((e) => {
    log.info(`registration: ${registrationStatus({ registration: e.registration ?? e }).text}`);
  }));
  p.on('audioBlocked', mine(({ blocked }) => log.info(blocked ? 'the browser blocked the call sound' : 'sound on')));
  p.on('trace', mine((line) => log.trace(typeof line === 'string' ? line : line?.line ?? JSON.stringify(line))));
  // Real tab only:
  const named = (id) => peerName(calls.peers.get(id)?.peer);
  p.on('dtmf', mine(({ call, tone }) => log.call(`${named(call)} sent tone ${tone} (SIP INFO)`)));
  p.on('message', mine(({ from, body }) => log.call(`message from ${from}: ${body}`)));
  p.on('transferRequested', mine(({ call, to }) => log.call(`${named(call)} transfers this call to ${to}`)));
  p.on('transferProgress', mine(({ call, status }) => log.call(`transfer of ${named(call)}: the target answered ${status}`)));
}

function show(signedIn) {
  $('signin').hidden = signedIn;
  $('welcome').hidden = signedIn;
  $('lobby-actions').hidden = signedIn;
  for (const id of ['dialer', 'calls-card', 'account', 'signout']) $(id).hidden = !signedIn;
  if (!signedIn) $('recent-card').hidden = true;
}

function enterLobby() {
  phone = TabPhone.connect(workerUrl, { app: lobbyApp });
  window.tabphone = phone;
  $('tab-id').textContent = phone.tabId;
  wire(phone);
  startLobby(phone, { act });
  show(false);
  log.info(`tab ${phone.tabId} started, not signed in (worker ${workerUrl})`);
  render();
}

/** Join the phone of account `c` (credentials), leaving the lobby. */
function enterPhone(c) {
  let next;
  try {
    next = TabPhone.connect(workerUrl, { app: `${lobbyApp}:${accountKey(c)}`, sip: sipOptions(config, c) });
  } catch (e) {
    form.show(c, `Cannot start the phone: ${e?.message ?? e}`);
    return;
  }
  const old = phone;
  mode = 'phone';
  account = c;
  phone = next;
  window.tabphone = phone;
  realStarts = 0;
  old?.close();
  $('tab-id').textContent = phone.tabId;
  $('account').textContent = `${c.displayName || c.user} <${accountKey(c)}>`;
  wire(phone);
  wirePhone(phone);
  show(true);
  state = phone.state();
  log.info(`signed in as ${accountKey(c)} on ${sipOptions(config, c).servers.join(' ')}`);
  render();
}

function signIn(c) {
  rememberSignIn(c);
  enterPhone(c);
}

function signOut() {
  forgetSignIn();
  location.reload(); // leaving unregisters when this is the last tab; the other tabs follow
}

// The other tabs of the page sign in and out with this one.
window.addEventListener('storage', (e) => {
  if (e.key !== SIGNED_IN && e.key !== null) return;
  const who = signedInAs();
  if (mode === 'phone') {
    if (who !== accountKey(account)) location.reload();
    return;
  }
  if (!who) return;
  const c = credentials(config, loadSettings());
  if (c && accountKey(c) === who) enterPhone(c);
  else form.show(loadSettings(), `This browser signed in as ${who} in another tab: enter the password to join.`);
});

$('signout').addEventListener('click', signOut);
$('notice-action').addEventListener('click', signOut);
$('enable-sound').addEventListener('click', () => log.info('sound: retrying playback after this click'));
setInterval(() => {
  if (mode !== 'phone') return;
  calls.tick();
  if (state?.connection?.state === 'recovering') renderStatus();
}, 1000);

// Start: `?account=` signs in with a demo account; a browser signed in (in
// another tab, or before a reload) signs this tab in too when the password is
// known; otherwise the sign-in form.
const named = params.get('account');
if (named) {
  params.delete('account');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
}
const settings = loadSettings();
const fromUrl = named ? credentials(config, demoSettings(config, named)) : null;
const remembered = signedInAs() ? credentials(config, settings) : null;
if (fromUrl) {
  rememberSignIn(fromUrl);
  enterPhone(fromUrl);
} else if (remembered && accountKey(remembered) === signedInAs()) {
  enterPhone(remembered);
} else {
  enterLobby();
  const fallback = settings || demoSettings(config, config.accounts[0]?.user);
  form.show(fallback, named ? `There is no demo account ${named} on this server.`
    : signedInAs() ? `This browser is signed in as ${signedInAs()}: enter the password to join.` : '');
}
