// Benchmark baseline: the reference real/dummy SharedWorker relay (first port
// is real, actions are forwarded to it, syncs are cached and broadcast, the
// oldest dummy is promoted on `close`), plus a `result` hop so that round
// trips can be timed. Like the reference, it knows nothing of crashes.
const ports = [];
let real = null;
let cache = null;

self.onconnect = (e) => {
  const port = e.ports[0];
  ports.push(port);
  port.onmessage = (m) => handle(port, m.data);
  port.start();
};

function handle(port, msg) {
  switch (msg.type) {
    case 'ready':
      if (!real) { real = port; port.postMessage({ type: 'role', role: 'real' }); return; }
      port.postMessage({ type: 'role', role: 'dummy' });
      if (cache) port.postMessage(cache);
      return;
    case 'sync':
      cache = msg;
      for (const p of ports) if (p !== real) p.postMessage(msg);
      return;
    case 'action':
      if (real) real.postMessage({ ...msg, from: ports.indexOf(port) });
      return;
    case 'result':
      if (ports[msg.from]) ports[msg.from].postMessage(msg);
      return;
    case 'close': {
      ports.splice(ports.indexOf(port), 1);
      if (port !== real) return;
      real = ports[0] || null;
      for (const p of ports) p.postMessage({ type: 'sync', jsonStr: '[]' });
      if (real) real.postMessage({ type: 'role', role: 'real' });
    }
  }
}
