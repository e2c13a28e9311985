// What a handover does to bob, tried before the handover exists: JsSIP's alice
// (tests/pages/jssip) closes her call's RTCPeerConnection and re-INVITEs from a fresh one (new
// SSRC, ICE ufrag, DTLS fingerprint; `freshPc` in tests/pages/jssip/phone.js), bob being a
// tabphone page or JsSIP. Bob's peer connection is renegotiated; the gap meter
// (tests/lib/gap.mjs) measures the gap across the new SSRC. Timings are printed, never asserted.
//
// Not in `cargo xtask test`: Chromium as bob is slow and not reliable here. Its ICE keeps the
// dead candidate pair ~3.4-3.9 s, and its DTLS ClientHello goes out on a 50 ms doubling
// backoff, so audio comes back after ~5-6.7 s, and in about 1 run in 4 (2 of 8 here) not
// within 60 s. Run it by hand (the server as the xtask's, see xtask/src/main.rs):
//   BASE_URL=http://127.0.0.1:<port> node --test fresh-pc.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hearEachOther } from './lib/audio.mjs';
import { pageNow, startGapMeter, stopGapMeter, waitGap } from './lib/gap.mjs';
import { jssip, jssipCall, jssipUser } from './lib/jssip.mjs';
import { closeAll, must, registered, sleep, startServers, stopServers, user, waitEvent } from './lib/phone.mjs';

let browser;
let kamailio;
before(async () => ({ browser, kamailio } = await startServers()));
after(() => stopServers(browser, kamailio));

/** Bob's transports, for a failure message: DTLS and ICE states, selected pair changes. */
const transports = (b) => b.evaluate(async () => {
  const out = [];
  for (const pc of window.__tabphonePcs.filter((p) => p.connectionState !== 'closed')) {
    (await pc.getStats()).forEach((s) => s.type === 'transport'
      && out.push(`${s.dtlsState}/${s.iceState}/${s.selectedCandidatePairChanges}`));
  }
  return out.join(', ');
});

/**
 * Alice (JsSIP) in a call with `b` (bob's page, the meter running): alice's call moves to a
 * fresh RTCPeerConnection (see freshPc in tests/pages/jssip/phone.js); the gap at bob.
 */
async function freshPcGap(a, b) {
  const since = await pageNow(b);
  await jssip(a, 'freshPc');
  const answered = await pageNow(b);
  // Chromium as bob takes seconds here (its ICE keeps the dead pair ~3.4 s, then DTLS waits for
  // its next ClientHello retransmission, 50 ms doubling): a wider bound than the usual 20 s.
  const gap = await waitGap(b, since, 'the audio from the fresh peer connection at bob', 60000)
    .catch(async (e) => { throw new Error(`${e.message}\nbob's transports (dtls/ice/pair changes): ${await transports(b)}`); });
  assert.ok(!gap.sameSsrc, `a new SSRC: ${JSON.stringify(gap)}`);
  assert.ok(gap.newFirst > since, JSON.stringify(gap));
  const ssrcs = await b.evaluate(async () => {
    const pcs = window.__tabphonePcs.filter((pc) => pc.connectionState !== 'closed');
    const out = [];
    for (const pc of pcs) (await pc.getStats()).forEach((s) => s.type === 'inbound-rtp' && out.push(s.ssrc));
    return out;
  });
  console.log(`# fresh peer connection at alice: gap at bob ${gap.gapMs.toFixed(1)} ms (SSRC ${gap.oldSsrcs.join(',')} -> ${gap.newSsrc}; inbound-rtp stats now: ${ssrcs.join(',')}); re-INVITE answered ${(answered - since).toFixed(0)} ms after it began (test clock); first new packet ${(gap.newFirst - since).toFixed(1)} ms after; meter: ${gap.samples} samples, longest interval ${gap.maxIntervalMs.toFixed(1)} ms`);
  return gap;
}

describe('the gap meter across a fresh peer connection at alice (what a handover does to bob)', () => {
  for (const kind of ['tabphone', 'JsSIP']) {
    test(`JsSIP alice calls ${kind} bob, then re-INVITEs from a fresh RTCPeerConnection: bob renegotiates, audio both ways again, the gap is measured`, async () => {
      const alice = await jssipUser(browser, kamailio, 'alice');
      const bob = kind === 'JsSIP' ? await jssipUser(browser, kamailio, 'bob', { answer: 'auto' }) : await user('bob');
      const b = bob.page ?? bob.pages[0];
      try {
        if (kind === 'tabphone') await registered(b);
        const id = await jssip(alice.page, 'call', 'bob');
        if (kind === 'tabphone') await must(b, 'answer', (await waitEvent(b, 'incoming')).call);
        await jssipCall(alice.page, id, 'established');
        let audio = await hearEachOther([alice.page, b]);
        assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);
        await startGapMeter(b);
        await sleep(300);
        await freshPcGap(alice.page, b);
        audio = await hearEachOther([alice.page, b]);
        assert.ok(audio.ok, `audio both ways from the fresh peer connection: ${JSON.stringify(audio.deltas)}`);
        await stopGapMeter(b);
        await jssip(alice.page, 'hangup', id);
        await jssipCall(alice.page, id, 'ended');
      } finally {
        await closeAll(alice, bob);
      }
    });
  }
});
