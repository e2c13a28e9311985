// sipp for the browser tests: one scenario from tests/sip/ on a loopback UDP
// port, in its own process group, its messages traced to a file; the test
// waits for its exit code. With `echo`, its media port echoes every RTP
// packet back to its sender (`-rtp_echo`), and the SDP the scenarios answer
// with points there ([media_ip]:[media_port]).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '..', 'sip');
/** How long a wait may last before it fails (a bound, not a timing assertion). */
const PATIENCE_MS = 30000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether UDP `port` on 127.0.0.1 is free (false once sipp has bound it). */
function udpFree(port) {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.on('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A free UDP port `p` whose `p + 2` is free too (sipp's echo binds both). */
async function freeEchoPort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.on('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const p = socket.address().port;
        socket.close(() => resolve(p));
      });
    });
    if (port < 65533 && await udpFree(port + 2)) return port;
  }
}

export class Sipp {
  /**
   * Run `scenario` (a file in tests/sip/) on 127.0.0.1:`port` for one call,
   * with sipp's further `args` (a UAC's `-s`, `-d` and target); resolves once
   * sipp has bound its ports.
   */
  static async start(scenario, port, { echo = false, args = [] } = {}) {
    const s = new Sipp();
    s.dir = mkdtempSync(join(tmpdir(), 'tabphone-sipp-'));
    s.mediaPort = echo ? await freeEchoPort() : null;
    const media = echo ? ['-rtp_echo', '-mi', '127.0.0.1', '-mp', String(s.mediaPort)] : [];
    s.child = spawn('sipp', [
      '-sf', join(SCENARIOS, scenario), '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin',
      '-trace_msg', '-trace_err', ...media, ...args,
    ], { cwd: s.dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    s.stderr = '';
    s.child.stderr.on('data', (d) => { s.stderr += d; });
    s.exited = new Promise((resolve) => s.child.once('exit', (code, signal) => resolve(code ?? signal)));
    const end = Date.now() + PATIENCE_MS;
    const bound = async () => !(await udpFree(port)) && (!echo || !(await udpFree(s.mediaPort)));
    while (!(await bound())) {
      if (Date.now() > end || s.child.exitCode !== null) {
        throw new Error(`sipp did not bind 127.0.0.1:${port}: ${s.stderr}${s.errors()}`);
      }
      await sleep(10);
    }
    return s;
  }

  /** Its message trace so far (every SIP message it sent and received). */
  messages() {
    return this.traceFile('_messages.log');
  }

  /** Its error trace so far. */
  errors() {
    return this.traceFile('_errors.log');
  }

  traceFile(suffix) {
    try {
      const file = readdirSync(this.dir).find((f) => f.endsWith(suffix));
      return file ? readFileSync(join(this.dir, file), 'utf8') : '';
    } catch {
      return '';
    }
  }

  /** Its exit code (0: the scenario ran to its end), waiting at most PATIENCE_MS. */
  async exitCode() {
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('still running'), PATIENCE_MS); });
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return code;
  }

  /** Kill its group if it still runs, and remove its files (kept, and named, when `keep`). */
  async close({ keep = false } = {}) {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* gone */ }
      await this.exited;
    }
    if (keep) console.error(`sipp files kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
