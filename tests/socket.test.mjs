// Browser tests of tab-client's SIP WebSocket (tab-client/src/sip_socket.rs)
// against Kamailio started on loopback with the project config; the test
// writes the SIP itself (digest auth computed here). Also checks the test
// helper that asks Kamailio how many contacts an AOR has.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BASE, launch } from './lib/browser.mjs';
import { Kamailio } from './lib/kamailio.mjs';

let browser;
let kamailio;
before(async () => {
  kamailio = await Kamailio.start();
  browser = await launch();
});
after(async (t) => {
  await browser?.close();
  await kamailio?.close();
});

const md5 = (s) => createHash('md5').update(s).digest('hex');
const token = () => randomBytes(6).toString('hex');

async function page() {
  const context = await browser.newContext();
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await p.goto(`${BASE}/media/index.html`);
  await p.waitForFunction(() => window.mediaReady);
  return p;
}

/** Open a probe in `p` (as `window.probe`) and wait for its `open` event. */
async function open(p, url) {
  await p.evaluate((u) => { window.probe = new window.media.SocketProbe(u); }, url);
  await p.waitForFunction(() => window.probe.events().some((e) => e.type === 'open'));
  return p.evaluate(() => window.probe.events().find((e) => e.type === 'open'));
}

/** Send `text` and wait for the next message event after those seen so far. */
async function request(p, text) {
  const seen = await p.evaluate(() => window.probe.events().filter((e) => e.type === 'message').length);
  await p.evaluate((t) => window.probe.send(t), text);
  await p.waitForFunction((n) => window.probe.events().filter((e) => e.type === 'message').length > n, seen);
  return p.evaluate((n) => window.probe.events().filter((e) => e.type === 'message')[n], seen);
}

function register({ callId, tag, cseq, authorization }) {
  const domain = kamailio.domain;
  return [
    `REGISTER sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/WS ${token()}.invalid;branch=z9hG4bK${token()}`,
    'Max-Forwards: 70',
    `From: "Zoë" <sip:alice@${domain}>;tag=${tag}`,
    `To: <sip:alice@${domain}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:alice@${token()}.invalid;transport=ws>;expires=60`,
    ...(authorization ? [`Authorization: ${authorization}`] : []),
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

/** The Authorization for a 401's challenge (RFC 7616 with MD5, qop=auth). */
function authorize(challenge, user, password, uri) {
  const param = (name) => challenge.match(new RegExp(`${name}="?([^",\\r\\n]+)"?`))?.[1];
  const [realm, nonce] = [param('realm'), param('nonce')];
  const cnonce = token();
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`REGISTER:${uri}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", `
    + `algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

async function until(check, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SIP over WebSocket', () => {
  test('REGISTER with digest auth: frames arrive as UTF-8 bytes; Kamailio holds one contact, none once dropped', async () => {
    const p = await page();
    const opened = await open(p, kamailio.url);
    assert.equal(opened.protocol, 'sip');
    assert.equal(await kamailio.contacts('alice'), 0, 'no contact before');
    const [callId, tag] = [token(), token()];
    const challenge = await request(p, register({ callId, tag, cseq: 1 }));
    assert.match(challenge.text, /^SIP\/2\.0 401 /);
    assert.ok(challenge.text.includes('From: "Zoë" <sip:alice@'), 'a non-ASCII display name comes back intact');
    assert.equal(challenge.bytes, Buffer.byteLength(challenge.text, 'utf8'), 'the frame as UTF-8 bytes');
    const header = challenge.text.match(/^WWW-Authenticate: (.*)$/mi)?.[1];
    const authorization = authorize(header, 'alice', 'alice-secret', `sip:${kamailio.domain}`);
    const ok = await request(p, register({ callId, tag, cseq: 2, authorization }));
    assert.match(ok.text, /^SIP\/2\.0 200 /, ok.text);
    assert.equal(await kamailio.contacts('alice'), 1, 'one contact, asked of Kamailio');
    // Dropping the socket closes the connection; Kamailio drops the contact
    // of a lost WebSocket (handle_lost_tcp) within its 2 s timer.
    await p.evaluate(() => window.probe.discard());
    await until(async () => (await kamailio.contacts('alice')) === 0, 'the contact to go');
    assert.deepEqual((await p.evaluate(() => window.probe.events())).filter((e) => e.type === 'closed'), [],
      'no event after the socket is dropped');
    await p.context().close();
  });

  test('garbage from us: Kamailio drops the connection, the socket reports it', async () => {
    const p = await page();
    await open(p, kamailio.url);
    await p.evaluate(() => window.probe.send('this is not SIP\r\n\r\n'));
    await p.waitForFunction(() => window.probe.events().some((e) => e.type === 'closed'));
    const closed = await p.evaluate(() => window.probe.events().find((e) => e.type === 'closed'));
    assert.equal(await p.evaluate(() => window.probe.isOpen), false);
    assert.ok(closed.code >= 1000, JSON.stringify(closed));
    await p.context().close();
  });

  test('close() is reported; a refused URL and a send before open get coded errors', async () => {
    const p = await page();
    await open(p, kamailio.url);
    await p.evaluate(() => window.probe.close());
    await p.waitForFunction(() => window.probe.events().some((e) => e.type === 'closed'));
    const closed = await p.evaluate(() => window.probe.events().find((e) => e.type === 'closed'));
    assert.equal(closed.code, 1000, JSON.stringify(closed));
    const errors = await p.evaluate((url) => {
      const codeOf = (f) => { try { f(); return null; } catch (e) { return e.code; } };
      const early = new window.media.SocketProbe(url);
      const notOpen = codeOf(() => early.send('OPTIONS'));
      early.discard();
      return { badUrl: codeOf(() => new window.media.SocketProbe('ftp://127.0.0.1/')), notOpen };
    }, kamailio.url);
    assert.deepEqual(errors, { badUrl: 'bad_url', notOpen: 'not_open' });
    await p.context().close();
  });

  test('a server that is not listening: the socket reports it closed (1006)', async () => {
    const p = await page();
    await kamailio.stop();
    try {
      await p.evaluate((u) => { window.probe = new window.media.SocketProbe(u); }, kamailio.url);
      await p.waitForFunction(() => window.probe.events().some((e) => e.type === 'closed'));
      const types = await p.evaluate(() => window.probe.events().map((e) => `${e.type}${e.code ? ` ${e.code}` : ''}`));
      assert.deepEqual(types, ['error', 'closed 1006']);
    } finally {
      await kamailio.run();
      await p.context().close();
    }
  });
});
