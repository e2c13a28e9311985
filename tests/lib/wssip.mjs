// A tiny SIP registrar over WebSocket (subprotocol `sip`) on loopback, on
// Node's own `http` upgrade handling (RFC 6455 framing, text frames only),
// for tests that need a server Kamailio will not be: one that sends garbage.
// It answers REGISTER (Contact echoed with its expires), OPTIONS and MESSAGE
// with 200 and other requests with 501, records every frame it gets, and
// sends any frame a test asks for to every connected client.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const COMPACT = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact' };

/** One WebSocket frame from the server (unmasked, FIN set): text, or `opcode`. */
function frame(payload, opcode = 1) {
  const data = Buffer.from(payload);
  let head;
  if (data.length < 126) head = Buffer.from([0x80 | opcode, data.length]);
  else if (data.length < 65536) {
    head = Buffer.alloc(4);
    head.writeUInt16BE(data.length, 2);
    head[1] = 126;
  } else {
    head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(data.length), 2);
    head[1] = 127;
  }
  head[0] = 0x80 | opcode;
  return Buffer.concat([head, data]);
}

/** Complete client frames at the start of `buf`: `{frames: [{opcode, payload}], rest}`. */
function readFrames(buf) {
  const frames = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = buf[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) break;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) break;
      len = Number(buf.readBigUInt64BE(2));
      at = 10;
    }
    const masked = (buf[1] & 0x80) !== 0;
    const end = at + (masked ? 4 : 0) + len;
    if (buf.length < end) break;
    const payload = Buffer.from(buf.subarray(end - len, end));
    if (masked) for (let i = 0; i < len; i += 1) payload[i] ^= buf[at + (i % 4)];
    frames.push({ opcode: buf[0] & 0x0f, payload });
    buf = buf.subarray(end);
  }
  return { frames, rest: buf };
}

/** The header lines of a SIP message named `name` (compact forms too), as they came. */
function headerLines(lines, name) {
  return lines.filter((l) => {
    const n = l.slice(0, l.indexOf(':')).trim().toLowerCase();
    return n === name || COMPACT[n] === name;
  });
}

/** The response `status` to the SIP request `text`, with `extra` header lines. */
function respond(text, status, reason, extra = []) {
  const lines = text.split('\r\n\r\n')[0].split('\r\n').slice(1);
  const copy = (name) => headerLines(lines, name);
  const to = copy('to').map((l) => (/;\s*tag=/i.test(l) ? l : `${l};tag=wssip${Date.now() % 100000}`));
  return [`SIP/2.0 ${status} ${reason}`, ...copy('via'), ...copy('from'), ...to, ...copy('call-id'),
    ...copy('cseq'), ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

export class WsSipServer {
  /** Start on a free loopback port; `expires` is what REGISTER is granted. */
  static async start({ expires = 60 } = {}) {
    const s = new WsSipServer(expires);
    await new Promise((ok) => s.http.listen(0, '127.0.0.1', ok));
    s.url = `ws://127.0.0.1:${s.http.address().port}`;
    return s;
  }

  constructor(expires) {
    this.expires = expires;
    this.received = [];
    this.sockets = new Set();
    this.http = createServer((_, res) => res.writeHead(426).end());
    this.http.on('upgrade', (req, socket) => this.upgrade(req, socket));
  }

  upgrade(req, socket) {
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('sip')) return socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
    socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${accept}`, 'Sec-WebSocket-Protocol: sip', '', ''].join('\r\n'));
    this.sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      const { frames, rest } = readFrames(Buffer.concat([buf, chunk]));
      buf = rest;
      for (const f of frames) this.onFrame(socket, f);
    });
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
  }

  onFrame(socket, { opcode, payload }) {
    if (opcode === 8) return socket.end(frame(payload.subarray(0, 2), 8));
    if (opcode === 9) return socket.write(frame(payload, 10));
    if (opcode !== 1 && opcode !== 2) return undefined;
    const text = payload.toString('utf8');
    this.received.push(text);
    // A keepalive ping (RFC 5626 4.4.1) gets its pong.
    if (text === '\r\n\r\n') return socket.write(frame('\r\n'));
    if (text.startsWith('SIP/2.0') || !text.trim()) return undefined;
    const method = text.slice(0, text.indexOf(' '));
    const lines = text.split('\r\n\r\n')[0].split('\r\n');
    let answer;
    if (method === 'REGISTER') {
      const contacts = headerLines(lines, 'contact').map((l) => `Contact: ${l.slice(l.indexOf(':') + 1).trim()};expires=${this.expires}`);
      const asked = headerLines(lines, 'expires')[0];
      const expires = asked && /:\s*0\s*$/.test(asked) ? 0 : this.expires;
      answer = respond(text, 200, 'OK', expires ? [...contacts, `Expires: ${expires}`] : []);
    } else if (method === 'OPTIONS' || method === 'MESSAGE') answer = respond(text, 200, 'OK');
    else if (method !== 'ACK') answer = respond(text, 501, 'Not Implemented');
    if (answer) socket.write(frame(answer));
    return undefined;
  }

  /** Send each of `payloads` as one text frame to every client. */
  send(...payloads) {
    for (const s of this.sockets) for (const p of payloads) s.write(frame(p));
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((ok) => this.http.close(ok));
  }
}
