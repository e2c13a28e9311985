// tabphone SharedWorker loader (module worker).
//
// The `connect` listener is registered synchronously, before the wasm module
// is fetched: a connect event that fires while wasm loads would otherwise be
// lost (and that tab would never join). Ports are buffered until the hub runs.
//
// Options come from the script URL's query: pingInterval, pingTimeout,
// actionTimeout, lockPoll (ms), maxQueued, maxMessageBytes, debug (1 logs
// every input and output to the worker's console). The app is the one in the
// worker's name (`tabphone:<app>`, as the tab client names it).
// The hub ships in the tab's wasm module (tabphone-tab re-exports it): the
// worker loads the module every tab has already loaded.
import init, { Hub } from './tabphone_tab.js';

const buffered = [];
let hub = null;

self.addEventListener('connect', (event) => {
  for (const port of event.ports) {
    if (hub) hub.connect(port); else buffered.push(port);
  }
});

const options = {};
for (const [key, value] of new URL(self.location.href).searchParams) {
  const n = Number(value);
  if (Number.isFinite(n)) options[key] = n;
}

init().then(async () => {
  const ready = new Hub(options);
  // Hold the worker's life lock before any tab learns its name: a tab's wait
  // on it that reached the lock manager first would be granted at once and
  // read as this worker's death. Held until the worker dies.
  await new Promise((held) => {
    navigator.locks.request(ready.lifeLock, () => { held(); return new Promise(() => {}); });
  });
  hub = ready;
  for (const port of buffered.splice(0)) hub.connect(port);
}).catch((e) => {
  // Without wasm there is no hub: tell every waiting tab instead of leaving it
  // hanging, with the protocol's `failed` message (see tabphone-coord's protocol).
  const text = JSON.stringify({ t: 'failed', message: `worker failed to start: ${e}` });
  for (const port of buffered.splice(0)) port.postMessage(text);
  self.addEventListener('connect', (event) => event.ports.forEach((p) => p.postMessage(text)));
});
