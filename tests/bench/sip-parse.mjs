// SIP parse throughput in one Node process: tabphone's SIP core compiled to
// wasm (the same code the tab client ships) against the parsers of SIP.js
// 0.21.2 and JsSIP 3.13.8 from npm, on the messages in tests/bench/sip/.
// Prints messages/s (median of 7 runs of at least 200 ms, and the slowest run)
// and the ratio to the faster JavaScript parser. No assertion on the figures.
//
// Every parser starts from the same JavaScript string, as a WebSocket text
// frame delivers it. tabphone's main column encodes it to UTF-8 with
// TextEncoder and hands the bytes to wasm (what the browser glue does); the
// next column passes the string through wasm-bindgen's &str conversion, whose
// per-character JavaScript copy costs more than the parse itself.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.SIP_WASM_PKG;
if (!pkg) throw new Error('SIP_WASM_PKG: directory of the wasm-bindgen (nodejs) build of tabphone-sip-bench');
const tabphone = require(join(pkg, 'tabphone_sip_bench.js'));
const { Parser: SipJsParser } = await import('sip.js/lib/core/messages/parser.js');
const JsSipParser = require('jssip/lib/Parser');
// Quiet loggers: a parser that logs would be timed logging.
const quiet = { log() {}, debug() {}, warn() {}, error() {} };
require('jssip').debug.disable();

function rate(fn) {
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += fn() ? 1 : 0;
  let n = 500;
  for (;;) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += fn() ? 1 : 0;
    if (Number(process.hrtime.bigint() - t) / 1e6 > 200) break;
    n *= 2;
  }
  const rates = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += fn() ? 1 : 0;
    rates.push(n / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  rates.sort((a, b) => a - b);
  if (sink < 0) console.log(sink);
  return { median: rates[3], slowest: rates[0] };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US').padStart(10);
console.log(`Node ${process.version}: parse, messages/s, median of 7 runs (slowest run)`);
console.log(
  '  message             tabphone (bytes)    tabphone (&str)     SIP.js 0.21.2       JsSIP 3.13.8        tabphone (bytes) / faster JS',
);
const encoder = new TextEncoder();
const cell = (r) => `${fmt(r.median)} (${fmt(r.slowest).trim()})`.padEnd(20);
for (const name of ['register.sip', '401.sip', 'invite-webrtc.sip', '200-ok.sip']) {
  const text = readFileSync(join(here, 'sip', name), 'utf8');
  if (!tabphone.parse(text) || !tabphone.parse_bytes(encoder.encode(text))) throw new Error(`tabphone refuses ${name}`);
  if (!SipJsParser.parseMessage(text, quiet)) throw new Error(`SIP.js refuses ${name}`);
  if (!JsSipParser.parseMessage(text, null)) throw new Error(`JsSIP refuses ${name}`);
  const b = rate(() => tabphone.parse_bytes(encoder.encode(text)));
  const t = rate(() => tabphone.parse(text));
  const s = rate(() => SipJsParser.parseMessage(text, quiet));
  const j = rate(() => JsSipParser.parseMessage(text, null));
  const best = Math.max(s.median, j.median);
  console.log(`  ${name.padEnd(18)}${cell(b)}${cell(t)}${cell(s)}${cell(j)}${(b.median / best).toFixed(1)}x`);
}
const invite = readFileSync(join(here, 'sip', 'invite-webrtc.sip'), 'utf8');
const inside = rate(() => tabphone.parse_many(invite, 100));
const boundary = rate(() => tabphone.length(invite));
console.log(`  INVITE string handed to wasm and nothing else (&str): ${fmt(boundary.median).trim()}/s`);
console.log(`  INVITE parsed 100 at a time inside wasm (no JS boundary per message): ${fmt(inside.median * 100).trim()}/s`);
const ser = rate(() => tabphone.parse_serialize(invite));
console.log(`  INVITE parse + serialize in wasm: ${fmt(ser.median).trim()}/s`);
