// The demo: one TabPhone per tab. The real tab's action handler keeps a
// counter in the shared state; every tab can ask it to act.
import init, { TabPhone } from './pkg/tabphone_tab.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`) || document.getElementById(id);
const params = new URLSearchParams(location.search);
const workerUrl = params.get('worker') || './pkg/worker.js';

function log(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}\n`;
  $('log').textContent = line + $('log').textContent.slice(0, 20000);
}

await init();
const phone = TabPhone.connect(workerUrl, { app: params.get('app') || 'tabphone-demo' });
window.tabphone = phone;
// Timestamps for tests and benchmarks (absolute ms, comparable across tabs).
window.tabphoneEvents = [];
const now = () => performance.timeOrigin + performance.now();
let realStarts = 0;
let state = { counter: 0, note: '' };
// The last state a real published: a new real carries the counter on.
let lastSeen = null;

$('tab-id').textContent = phone.tabId;

phone.on('role', ({ role, epoch }) => {
  window.tabphoneEvents.push({ type: 'role', role, epoch, at: now() });
  $('role').textContent = role;
  $('role').className = role;
  $('epoch').textContent = String(epoch);
  if (role === 'real') {
    realStarts += 1;
    $('real-starts').textContent = String(realStarts);
    // A new real starts empty; the demo carries the counter on and shares it.
    if (lastSeen && typeof lastSeen === 'object') state = { counter: 0, note: '', ...lastSeen };
    phone.publish(state);
  }
  log(`role ${role}, epoch ${epoch}`);
});
phone.on('state', (s) => {
  window.tabphoneEvents.push({ type: 'state', state: s, at: now() });
  if (s !== null) lastSeen = s;
  $('state').textContent = JSON.stringify(s, null, 1);
});
phone.on('tabs', (n) => { $('tabs').textContent = String(n); });
phone.on('error', (e) => log(`error ${e.code}: ${e.message}`));

phone.setActionHandler(async (name, args) => {
  switch (name) {
    case 'increment':
      state = { ...state, counter: state.counter + 1 };
      phone.publish(state);
      return { counter: state.counter, by: phone.tabId };
    case 'echo':
      return { echo: args, by: phone.tabId };
    case 'note':
      state = { ...state, note: String(args) };
      phone.publish(state);
      return { ok: true };
    case 'slow':
      await new Promise((r) => setTimeout(r, Number(args) || 100));
      return { by: phone.tabId };
    case 'fail':
      throw new Error(`failed on purpose: ${args}`);
    default:
      throw new Error(`unknown action ${name}`);
  }
});

async function act(name, args) {
  const t0 = performance.now();
  try {
    const r = await phone.dispatch(name, args);
    const ms = (performance.now() - t0).toFixed(2);
    $('last-result').textContent = `${JSON.stringify(r)} in ${ms} ms`;
    log(`${name} -> ${JSON.stringify(r)} (${ms} ms)`);
  } catch (e) {
    $('last-result').textContent = `error ${e.code}: ${e.message}`;
    log(`${name} failed: ${e.code} ${e.message}`);
  }
}

$('increment').addEventListener('click', () => act('increment'));
$('echo').addEventListener('click', () => act('echo', { at: Date.now() }));
$('publish').addEventListener('click', () => act('note', $('note').value));
log(`tab ${phone.tabId} started, worker ${workerUrl}`);
