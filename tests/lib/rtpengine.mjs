// rtpengine for the browser tests: Debian's `rtpengine-daemon` in userspace
// (no kernel module: --table=-1), on loopback, controlled by Kamailio's
// rtpengine module over its ng port (../shared/notes/webrtc.md). It bridges a
// browser's ICE + DTLS-SRTP to a plain RTP/AVP peer. Started in its own
// process group, stopped with it; ready once it answers an ng `ping`.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long a wait may last before it fails with the log (a bound, not a timing assertion). */
const PATIENCE_MS = 30000;
/** The media ports it may use (it skips ports already taken). */
const PORT_MIN = 23000;
const PORT_MAX = 23999;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** One ng `ping` (bencoded, after a cookie); true when `pong` comes back within `ms`. */
function ping(port, ms = 200) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (ok) => { clearTimeout(timer); socket.close(); resolve(ok); };
    const timer = setTimeout(() => done(false), ms);
    socket.on('message', (m) => done(m.toString() === 'tp1 d6:result4:ponge'));
    socket.on('error', () => done(false));
    socket.send('tp1 d7:command4:pinge', port, '127.0.0.1');
  });
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Rtpengine {
  /**
   * Start rtpengine with its RTP on `address` (a local address the browser's
   * ICE checks can reach, and the plain peer's) and its ng port on a free
   * loopback port; wait until it answers.
   */
  static async start({ address = '127.0.0.1' } = {}) {
    const r = new Rtpengine();
    r.dir = mkdtempSync(join(tmpdir(), 'tabphone-rtpengine-'));
    r.ng = await freeUdpPort();
    r.address = address;
    const log = openSync(join(r.dir, 'rtpengine.log'), 'a');
    r.child = spawn('rtpengine', [
      '--config-file=none', '--table=-1', `--interface=${address}`, `--listen-ng=127.0.0.1:${r.ng}`,
      '--foreground', '--log-stderr', `--port-min=${PORT_MIN}`, `--port-max=${PORT_MAX}`,
    ], { detached: true, stdio: ['ignore', log, log] });
    const end = Date.now() + PATIENCE_MS;
    while (!(await ping(r.ng))) {
      if (Date.now() > end || r.child.exitCode !== null) {
        await r.stop();
        throw new Error(`rtpengine did not answer on ng port ${r.ng}; log:\n${r.log()}`);
      }
      await sleep(20);
    }
    return r;
  }

  /** The log so far (for failure messages). */
  log() {
    try { return readFileSync(join(this.dir, 'rtpengine.log'), 'utf8'); } catch { return ''; }
  }

  /** Stop its process group (SIGTERM, then SIGKILL after 5 s) and wait until it is gone. */
  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const pgid = child.pid;
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
    const start = Date.now();
    let killed = false;
    while ((child.exitCode === null && child.signalCode === null) || groupAlive(pgid)) {
      if (!killed && Date.now() - start > 5000) {
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
        killed = true;
      }
      if (Date.now() - start > PATIENCE_MS) throw new Error(`rtpengine group ${pgid} survived SIGKILL`);
      await sleep(10);
    }
  }

  /** Stop and remove the temporary directory (kept, and named, when `keep`). */
  async close({ keep = false } = {}) {
    await this.stop();
    if (keep) console.error(`rtpengine files kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
