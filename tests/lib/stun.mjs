// A minimal STUN server (RFC 5389 Binding) for the browser tests: it answers
// every Binding request with a chosen mapped address, so that Chromium
// surfaces a server-reflexive candidate on a machine with no NAT (a mapped
// address equal to a host address would be pruned as redundant).
import { createSocket } from 'node:dgram';

const COOKIE = 0x2112a442;

/**
 * Start on a free UDP port of 127.0.0.1 (bound there, so that replies come
 * from the address Chromium asked: it ignores others); `{ port, url, requests, close() }`.
 */
export function startStun({ mapped = '203.0.113.7' } = {}) {
  const socket = createSocket('udp4');
  const server = { requests: 0 };
  socket.on('message', (msg, from) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== COOKIE) return;
    server.requests += 1;
    const reply = Buffer.alloc(32);
    reply.writeUInt16BE(0x0101, 0); // Binding success
    reply.writeUInt16BE(12, 2); // one attribute
    msg.copy(reply, 4, 4, 20); // cookie and transaction id
    reply.writeUInt16BE(0x0020, 20); // XOR-MAPPED-ADDRESS
    reply.writeUInt16BE(8, 22);
    reply.writeUInt16BE(0x0001, 24); // IPv4
    reply.writeUInt16BE(from.port ^ (COOKIE >>> 16), 26);
    const ip = mapped.split('.').reduce((n, b) => (n * 256) + Number(b), 0);
    reply.writeUInt32BE((ip ^ COOKIE) >>> 0, 28);
    socket.send(reply, from.port, from.address);
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      server.port = socket.address().port;
      server.url = `stun:127.0.0.1:${server.port}`;
      server.close = () => new Promise((r) => socket.close(r));
      resolve(server);
    });
  });
}
