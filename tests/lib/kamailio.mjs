// Kamailio for the browser tests: started with the project config
// (tests/sip/kamailio.cfg) on free loopback ports, in its own process group
// (it forks workers that would keep the ports), stopped with its group; and
// asked about its state with kamcmd through the ctl module's socket.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', 'sip', 'kamailio.cfg');
/** How long a wait may last before it fails with the log (a bound, not a timing assertion). */
const PATIENCE_MS = 30000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

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

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
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

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: PATIENCE_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

export class Kamailio {
  /**
   * Write the config on free ports; `start()` runs it. With `rtpengine` (an
   * rtpengine's ng port, tests/lib/rtpengine.mjs), calls between the
   * WebSocket side and the UDP side (sipp) have their media bridged by it.
   */
  static async prepare({ rtpengine = null } = {}) {
    const k = new Kamailio();
    k.dir = mkdtempSync(join(tmpdir(), 'tabphone-kamailio-'));
    k.ws = await freeTcpPort();
    k.udp = await freeUdpPort();
    k.sipp = await freeUdpPort();
    const cfg = readFileSync(CONFIG, 'utf8')
      .replaceAll('__WS_PORT__', String(k.ws))
      .replaceAll('__UDP_PORT__', String(k.udp))
      .replaceAll('__SIPP_PORT__', String(k.sipp))
      .replaceAll('__RTPENGINE_PORT__', String(rtpengine ?? 0));
    k.cfg = join(k.dir, 'kamailio.cfg');
    writeFileSync(k.cfg, cfg);
    k.defines = rtpengine ? ['-A', 'WITH_RTPENGINE'] : [];
    k.child = null;
    return k;
  }

  /** Prepare and start (options as for `prepare`). */
  static async start(options) {
    const k = await Kamailio.prepare(options);
    await k.run();
    return k;
  }

  /** The WebSocket URL of the SIP server. */
  get url() {
    return `ws://127.0.0.1:${this.ws}`;
  }

  /** The SIP domain of the test accounts (alice, bob, carol: password `<name>-secret`). */
  get domain() {
    return '127.0.0.1';
  }

  /** The log so far (for failure messages). */
  log() {
    try { return readFileSync(join(this.dir, 'kamailio.log'), 'utf8'); } catch { return ''; }
  }

  /** Start it (again, on the same ports) and wait until it listens. */
  async run() {
    const log = openSync(join(this.dir, 'kamailio.log'), 'a');
    this.child = spawn('kamailio', ['-DD', '-E', ...this.defines, '-f', this.cfg, '-Y', this.dir], {
      detached: true, // its own process group
      stdio: ['ignore', 'ignore', log],
    });
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.exited = exited;
    const end = Date.now() + PATIENCE_MS;
    while (!(await listening(this.ws))) {
      if (Date.now() > end || this.child.exitCode !== null) {
        throw new Error(`kamailio did not listen on ${this.ws}; log:\n${this.log()}`);
      }
      await sleep(10);
    }
  }

  /**
   * Stop with `signal` ('SIGTERM', or 'SIGKILL' for a crash) and wait until
   * every process of its group is gone; a group that ignores SIGTERM for 5 s
   * is killed.
   */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const pgid = child.pid;
    try { process.kill(-pgid, signal); } catch { /* already gone */ }
    const start = Date.now();
    let killed = signal === 'SIGKILL';
    while (child.exitCode === null && child.signalCode === null || groupAlive(pgid)) {
      if (!killed && Date.now() - start > 5000) {
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
        killed = true;
      }
      if (Date.now() - start > PATIENCE_MS) throw new Error(`kamailio group ${pgid} survived SIGKILL`);
      await sleep(10);
    }
  }

  /** Stop, stay down `downMs`, start again on the same ports. */
  async restart(downMs = 0, signal = 'SIGTERM') {
    await this.stop(signal);
    await sleep(downMs);
    await this.run();
  }

  /** Stop and remove the temporary directory (kept, and named, when `keep`). */
  async close({ keep = false } = {}) {
    await this.stop();
    if (keep) console.error(`kamailio files kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  /** Run a kamcmd RPC command against this instance: `{ code, stdout, stderr }`. */
  kamcmd(...args) {
    return run('kamcmd', ['-s', `unix:${join(this.dir, 'kamailio_ctl')}`, ...args]);
  }

  /**
   * How many contacts the registrar holds for `aor` (the user name: the
   * config keeps no domain in AORs), asked of Kamailio itself (`ul.lookup`).
   */
  async contacts(aor) {
    const { code, stdout, stderr } = await this.kamcmd('ul.lookup', 'location', aor);
    const text = `${stdout}${stderr}`;
    if (/AOR (not found|has no contacts)/.test(text)) return 0;
    if (code !== 0 || !/AoR:/.test(text)) throw new Error(`kamcmd ul.lookup ${aor} failed (${code}): ${text}`);
    return (text.match(/^\s*Contact: \{/gm) || []).length;
  }
}
