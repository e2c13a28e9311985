// The peers and the meter the handover tests (tests/handover.test.mjs) stand on, proved on
// their own: JsSIP (a SIP user agent this project did not write, tests/pages/jssip) as bob in
// Chromium, calling and called by tabphone's alice, audio both ways by getStats; and the audio
// gap meter (tests/lib/gap.mjs) at bob, a tabphone page and the JsSIP page, measuring the
// silence of a hold (the same SSRC resuming); the measured gap must agree with the test's own
// clock. What a handover does to bob (a fresh RTCPeerConnection at alice) is in
// tests/fresh-pc.test.mjs, run by hand.
// Timings are printed, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hearEachOther } from './lib/audio.mjs';
import { pageNow, startGapMeter, stopGapMeter, waitGap } from './lib/gap.mjs';
import { jssip, jssipCall, jssipUser } from './lib/jssip.mjs';
import {
  callIn, closeAll, must, registered, sleep, startServers, stopServers, user,
  waitEvent,
} from './lib/phone.mjs';

let browser;
let kamailio;
before(async () => ({ browser, kamailio } = await startServers()));
after(() => stopServers(browser, kamailio));

/**
 * At `bob` (a page with the gap meter running): hold with `hold()`, stay held `heldMs`, unhold
 * with `unhold()`; the meter's gap, checked against the page times around the two actions.
 */
async function holdGap(bob, hold, unhold, heldMs = 1000) {
  const holdStart = await pageNow(bob);
  await hold();
  const holdEnd = await pageNow(bob);
  await sleep(heldMs);
  const unholdStart = await pageNow(bob);
  await unhold();
  const unholdEnd = await pageNow(bob);
  const gap = await waitGap(bob, holdEnd, 'the audio back at bob after unhold');
  // Sound bounds: nothing comes while held, and the stream resumes only once unhold began.
  assert.ok(gap.oldLast < unholdStart, `no packet while held: ${JSON.stringify(gap)}`);
  assert.ok(gap.newFirst >= unholdStart, `resumed after unhold began: ${JSON.stringify(gap)}`);
  assert.ok(gap.sameSsrc && !gap.newPc, `a hold keeps the stream: ${JSON.stringify(gap)}`);
  console.log(`# gap at bob across a ${heldMs} ms hold: ${gap.gapMs.toFixed(1)} ms (by the test's clock: unhold() began ${(unholdStart - holdEnd).toFixed(0)} ms after hold() returned, and returned ${(unholdEnd - holdStart).toFixed(0)} ms after hold() began); last old packet ${(gap.oldLast - holdStart).toFixed(1)} ms after hold() began, first new one ${(gap.newFirst - unholdStart).toFixed(1)} ms after unhold() began; meter: ${gap.samples} samples, longest interval ${gap.maxIntervalMs.toFixed(1)} ms`);
  return gap;
}

describe('JsSIP as bob', () => {
  test('tabphone alice calls JsSIP bob (auto-answer): audio both ways; the gap meter at JsSIP across its hold', async () => {
    const alice = await user('alice');
    const [a] = alice.pages;
    await registered(a);
    const bob = await jssipUser(browser, kamailio, 'bob', { answer: 'auto' });
    try {
      const { call } = await must(a, 'call', 'bob');
      await callIn(a, call, 'established');
      const atBob = await jssipCall(bob.page, null, 'established');
      assert.equal(atBob.direction, 'incoming');
      const audio = await hearEachOther([a, bob.page]);
      assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);
      console.log(`# alice -> JsSIP bob: received in the check at alice, at bob: ${JSON.stringify(audio.deltas)}`);

      await startGapMeter(bob.page);
      await sleep(300);
      await holdGap(bob.page, () => jssip(bob.page, 'hold'), () => jssip(bob.page, 'unhold'));
      assert.equal((await callIn(a, call, 'established')).held.remote, false, 'alice sees the unhold');
      const again = await hearEachOther([a, bob.page]);
      assert.ok(again.ok, `audio both ways after unhold: ${JSON.stringify(again.deltas)}`);
      await stopGapMeter(bob.page);

      await must(a, 'hangup', call);
      await jssipCall(bob.page, atBob.id, 'ended');
    } finally {
      await closeAll(alice, bob);
    }
  });

  test('JsSIP bob calls tabphone alice, alice answers: audio both ways; JsSIP hangs up', async () => {
    const alice = await user('alice');
    const [a] = alice.pages;
    await registered(a);
    const bob = await jssipUser(browser, kamailio, 'bob');
    try {
      const id = await jssip(bob.page, 'call', 'alice');
      const ring = await waitEvent(a, 'incoming');
      assert.equal(ring.peer.uri, `sip:bob@${kamailio.domain}`);
      await must(a, 'answer', ring.call);
      await jssipCall(bob.page, id, 'established');
      await callIn(a, ring.call, 'established');
      const audio = await hearEachOther([a, bob.page]);
      assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);
      console.log(`# JsSIP bob -> alice: received in the check at alice, at bob: ${JSON.stringify(audio.deltas)}`);
      await jssip(bob.page, 'hangup', id);
      assert.equal((await waitEvent(a, 'callEnded', (d) => d.call === ring.call)).cause, 'remote');
    } finally {
      await closeAll(alice, bob);
    }
  });
});

describe('the gap meter at a tabphone bob', () => {
  test('alice calls bob; bob holds 1 s and unholds: the gap fits the hold', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const [a] = alice.pages;
    const [b] = bob.pages;
    await registered(a);
    await registered(b);
    try {
      const { call } = await must(a, 'call', 'bob');
      const ring = await waitEvent(b, 'incoming');
      await must(b, 'answer', ring.call);
      await callIn(a, call, 'established');
      const audio = await hearEachOther([a, b]);
      assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);
      await startGapMeter(b);
      await sleep(300);
      await holdGap(b, () => must(b, 'hold', ring.call), () => must(b, 'unhold', ring.call));
      await stopGapMeter(b);
      await must(a, 'hangup', call);
      await waitEvent(b, 'callEnded', (d) => d.call === ring.call);
    } finally {
      await closeAll(alice, bob);
    }
  });
});
