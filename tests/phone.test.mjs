// End-to-end browser tests of the phone: TabPhone with the SIP phone
// (tab-client/src/phone) in Debian Chromium with fake media devices, one
// BrowserContext per user (alice in several tabs: one real, the others
// dummies), Kamailio on loopback, audio checked with getStats numbers at both
// ends (tests/lib/audio.mjs). Timings are printed, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crash, oneReal, recordFramesSent } from './lib/browser.mjs';
import { WsSipServer } from './lib/wssip.mjs';
import { hearEachOther, receivedOver } from './lib/audio.mjs';
import {
  act, callIn, callPc, closeAll, eventsOf, must, nextEvent, registered, seen, sleep, startServers,
  stateOf, stopServers, until, user, waitEvent,
} from './lib/phone.mjs';

let browser;
let kamailio;
before(async () => ({ browser, kamailio } = await startServers()));
after(() => stopServers(browser, kamailio));

/**
 * Record what the pages of `context` send to and receive from the worker
 * (MessagePort traffic), in `window.__portTraffic`.
 */
async function recordWorkerTraffic(context) {
  await context.addInitScript(() => {
    window.__portTraffic = [];
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (data, ...rest) {
      window.__portTraffic.push(`out ${typeof data === 'string' ? data : JSON.stringify(data)}`);
      return post.call(this, data, ...rest);
    };
    const desc = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
    Object.defineProperty(MessagePort.prototype, 'onmessage', {
      configurable: true,
      get() { return desc.get.call(this); },
      set(f) {
        const wrapped = f && ((e) => {
          window.__portTraffic.push(`in ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}`);
          return f(e);
        });
        desc.set.call(this, wrapped);
      },
    });
  });
}

/** Alice in `n` tabs and bob in one, all registered: `{alice, bob, real, dummies}`. */
async function aliceAndBob(n, options = {}) {
  const alice = await user('alice', n, options.alice);
  const bob = await user('bob', 1, options.bob);
  for (const p of [...alice.pages, ...bob.pages]) await registered(p);
  const real = await oneReal(alice.pages);
  return { alice, bob, real, dummies: alice.pages.filter((p) => p !== real), b: bob.pages[0] };
}

const unregisters = (frames) => frames.filter((f) => f.startsWith('REGISTER ') && /expires=0\b|^Expires: 0\r?$/mi.test(f));

describe('registration', () => {
  test('alice in 3 tabs, bob in 1: one contact for alice; credentials never reach the worker or the state', async () => {
    const t0 = Date.now();
    const alice = await user('alice', 3, { init: recordWorkerTraffic });
    const bob = await user('bob');
    for (const p of [...alice.pages, ...bob.pages]) await registered(p);
    console.log(`# 3 alice tabs and bob registered ${Date.now() - t0} ms after the first page opened`);
    const real = await oneReal(alice.pages);
    const regs = await eventsOf(real, 'registration');
    const conns = await eventsOf(real, 'connection');
    const connecting = conns.find((e) => e.detail.state === 'connecting');
    const done = regs.find((e) => e.detail.state === 'registered');
    console.log(`# alice's real: connecting to registered in ${(done.at - connecting.at).toFixed(1)} ms`);
    assert.equal(await kamailio.contacts('alice'), 1, 'one binding for three tabs');
    assert.equal(await kamailio.contacts('bob'), 1);
    // Every tab has the same state, and the same instance id.
    const states = await Promise.all(alice.pages.map(stateOf));
    for (const s of states) assert.deepEqual(s.registration, states[0].registration);
    const ids = await Promise.all(alice.pages.map((p) => p.evaluate(() => window.tabphone.instanceId)));
    assert.match(ids[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
    const stored = await alice.pages[2].evaluate(() => localStorage.getItem('tabphone:instance:phone-test'));
    assert.equal(stored, ids[0]);
    const lookup = await kamailio.kamcmd('ul.lookup', 'location', 'alice');
    assert.ok(lookup.stdout.includes(ids[0]), `the contact carries the instance id:\n${lookup.stdout}`);
    // A call, so that actions and states with calls cross the worker too.
    const { call } = await must(alice.pages[1], 'call', 'bob');
    const incoming = await waitEvent(bob.pages[0], 'incoming');
    await must(bob.pages[0], 'answer', incoming.call);
    await callIn(alice.pages[2], call, 'established');
    await must(alice.pages[2], 'hangup', call);
    for (const p of alice.pages) {
      const traffic = await p.evaluate(() => window.__portTraffic);
      assert.ok(traffic.some((t) => t.includes('"registration":{"state":"registered"')), 'states cross the worker');
      const leaks = traffic.filter((t) => t.includes('alice-secret') || /response="|Authorization/i.test(t));
      assert.deepEqual(leaks, [], 'no credential in the worker traffic');
      const state = JSON.stringify(await stateOf(p));
      assert.ok(!state.includes('alice-secret'), state);
    }
    await closeAll(alice, bob);
  });
});

describe('calls', () => {
  test('a dummy of alice calls bob: audio both ways; hold, mute, DTMF (INFO and RFC 4733), hang up from a dummy', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(3, { alice: { query: { trace: '1' } } });
    const [d1, d2] = dummies;
    const t0 = Date.now();
    const { call } = await must(d1, 'call', 'bob');
    const incoming = await waitEvent(b, 'incoming');
    assert.equal(incoming.peer.uri, `sip:alice@${kamailio.domain}`);
    const tRing = Date.now();
    await must(b, 'answer', incoming.call);
    for (const p of alice.pages) await callIn(p, call, 'established');
    console.log(`# call from a dummy: ringing at bob after ${tRing - t0} ms, established in every alice tab after ${Date.now() - t0} ms (page round trips included)`);
    let audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);

    // Hold from another dummy: alice (holding) stops receiving, bob hears silence.
    await must(d2, 'hold', call);
    for (const p of alice.pages) assert.equal((await callIn(p, call, 'established')).held.local, true);
    await sleep(500);
    const [atAlice, atBob] = await Promise.all([receivedOver(real, 1500), receivedOver(b, 1500)]);
    assert.ok(atAlice.packets <= 2, `alice receives nothing while holding: ${JSON.stringify(atAlice)}`);
    assert.ok(atBob.energy < 0.01, `bob hears nothing while held: ${JSON.stringify(atBob)}`);
    await must(d1, 'unhold', call);
    audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio again after unhold: ${JSON.stringify(audio.deltas)}`);

    // Mute: packets still flow to bob, with no sound.
    await must(d2, 'mute', call);
    assert.equal((await callIn(d1, call, 'established')).muted, true);
    await sleep(300);
    const muted = await receivedOver(b, 1500);
    assert.ok(muted.packets > 20 && muted.energy < 0.01, `bob gets silence: ${JSON.stringify(muted)}`);
    await must(d2, 'unmute', call);
    audio = await hearEachOther([b]);
    assert.ok(audio.ok, `bob hears alice again: ${JSON.stringify(audio.deltas)}`);

    // DTMF by SIP INFO: bob's phone reports the digits.
    await must(d1, 'dtmf', call, '12#', { via: 'info' });
    const tones = await until(async () => {
      const got = (await eventsOf(b, 'dtmf')).map((e) => e.detail.tone).join('');
      return got.length >= 3 ? got : null;
    }, 'three INFO tones at bob');
    assert.equal(tones, '12#');

    // DTMF in the media (RFC 4733): alice's sender plays each tone; the offer carried telephone-event.
    await real.evaluate((pick) => {
      window.__tones = [];
      const pc = new Function(`return (${pick})()`)();
      pc.getSenders()[0].dtmf.addEventListener('tonechange', (e) => window.__tones.push(e.tone));
    }, callPc.toString());
    await must(d2, 'dtmf', call, '7*', { via: 'rtp' });
    const played = await real.evaluate(() => window.__tones);
    assert.deepEqual(played.filter((t) => t), ['7', '*'], 'each tone played before the result');
    const traces = (await eventsOf(real, 'trace')).map((e) => e.detail);
    const invite = traces.find((t) => t.includes('INVITE sip:bob@'));
    assert.ok(invite && /a=rtpmap:\d+ telephone-event\//.test(invite), 'the offer carries telephone-event');
    assert.deepEqual(await eventsOf(d1, 'trace'), [], 'traces stay in the real tab');

    await must(d1, 'hangup', call);
    for (const p of alice.pages) {
      const ended = await waitEvent(p, 'callEnded', (d) => d.call === call);
      assert.equal(ended.cause, 'local');
    }
    const atBobEnd = await waitEvent(b, 'callEnded');
    assert.equal(atBobEnd.cause, 'remote');
    await closeAll(alice, bob);
  });

  test('bob calls alice: it rings in every tab, a dummy answers, audio with the real; a dummy declines', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(3);
    const t0 = Date.now();
    const { call: bobCall } = await must(b, 'call', 'alice');
    const rings = [];
    for (const p of alice.pages) rings.push(await waitEvent(p, 'incoming'));
    console.log(`# bob's call rings in all 3 alice tabs after ${Date.now() - t0} ms`);
    const id = rings[0].call;
    assert.deepEqual(rings.map((r) => r.call), [id, id, id], 'the same call in every tab');
    assert.equal(rings[0].peer.uri, `sip:bob@${kamailio.domain}`);
    await must(dummies[1], 'answer', id);
    await callIn(b, bobCall, 'established');
    console.log(`# answered from a dummy: established at bob ${Date.now() - t0} ms after bob's call()`);
    const audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio between bob and alice's real: ${JSON.stringify(audio.deltas)}`);
    await must(b, 'hangup', bobCall);
    for (const p of alice.pages) assert.equal((await waitEvent(p, 'callEnded', (d) => d.call === id)).cause, 'remote');

    for (const [status, expect] of [[486, 486], [undefined, 603]]) {
      const before = await seen(dummies[0], 'incoming');
      const { call: again } = await must(b, 'call', 'alice');
      const ring = await nextEvent(dummies[0], 'incoming', before);
      await must(dummies[0], 'decline', ring.call, ...(status ? [status] : []));
      const ended = await waitEvent(b, 'callEnded', (d) => d.call === again);
      assert.deepEqual([ended.cause, ended.status], ['failed', expect], `bob's call declined with ${expect}`);
      const mine = await waitEvent(real, 'callEnded', (d) => d.call === ring.call);
      assert.deepEqual([mine.cause, mine.status], ['declined', expect]);
    }
    await closeAll(alice, bob);
  });
});

describe('handover', () => {
  test("alice's real closes, then crashes while idle: a new real registers the same binding, and answers bob with audio", async () => {
    const { alice, bob, b } = await aliceAndBob(3);
    const instance = await alice.pages[0].evaluate(() => window.tabphone.instanceId);
    const contact = async () => {
      const { stdout } = await kamailio.kamcmd('ul.lookup', 'location', 'alice');
      return { count: await kamailio.contacts('alice'), sameInstance: stdout.includes(instance) };
    };
    assert.deepEqual(await contact(), { count: 1, sameInstance: true });
    let live = alice.pages;
    for (const how of ['close', 'crash']) {
      const old = await oneReal(live);
      live = live.filter((p) => p !== old);
      const frames = how === 'close' ? await recordFramesSent(old) : [];
      // A refresh, to see that its frames are recorded.
      if (how === 'close') await must(old, 'register');
      const gone = Date.now();
      if (how === 'close') await old.close();
      else await crash(alice.context, old);
      const next = await oneReal(live);
      await until(async () => {
        const s = await stateOf(next).catch(() => null);
        return s?.registration?.state === 'registered' && (await eventsOf(next, 'role')).some((e) => e.detail.role === 'real');
      }, 'the new real registered');
      const reg = (await eventsOf(next, 'registration')).filter((e) => e.at >= gone && e.detail.state === 'registered');
      console.log(`# after the real's ${how}: the new real's registration event ${(reg[0].at - gone).toFixed(0)} ms after the test ${how === 'close' ? 'closed' : 'crashed'} it`);
      if (how === 'close') {
        assert.ok(frames.some((f) => f.startsWith('REGISTER ')), 'frames of the old real were recorded');
        assert.deepEqual(unregisters(frames), [], 'a real handing over does not unregister');
      }
      assert.equal(await next.evaluate(() => window.tabphone.instanceId), instance);
      await until(async () => (await contact()).count === 1, 'one contact');
      assert.deepEqual(await contact(), { count: 1, sameInstance: true }, `after the ${how}`);
      const before = await seen(next, 'incoming');
      const { call } = await must(b, 'call', 'alice');
      const ring = await nextEvent(next, 'incoming', before);
      await must(next, 'answer', ring.call);
      await callIn(b, call, 'established');
      const audio = await hearEachOther([next, b]);
      assert.ok(audio.ok, `audio with the new real after the ${how}: ${JSON.stringify(audio.deltas)}`);
      await must(b, 'hangup', call);
      await waitEvent(next, 'callEnded', (d) => d.call === ring.call);
    }
    // The last tab leaves (the app closes the phone; the page stays open long
    // enough to answer the registrar's challenge): it unregisters.
    const frames = await recordFramesSent(live[0]);
    assert.equal(await live[0].evaluate(() => window.tabphone.tabs), 1);
    await live[0].evaluate(() => window.tabphone.close());
    await until(async () => unregisters(frames).some((f) => /^Authorization: Digest/m.test(f)), 'the last tab\'s un-REGISTER');
    await until(async () => (await kamailio.contacts('alice')) === 0, 'no contact left');
    await closeAll(alice, bob);
  });
});

/**
 * In `page`: every 10 ms, per inbound audio SSRC of its open peer connections,
 * when its packet count first and last grew (ms, `performance.timeOrigin` based).
 */
const sampleInbound = (page) => page.evaluate(() => {
  window.__ssrcs = {};
  window.__sampling = setInterval(async () => {
    const t = performance.timeOrigin + performance.now();
    for (const pc of window.__tabphonePcs.filter((x) => x.connectionState !== 'closed')) {
      (await pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
        const e = (window.__ssrcs[s.ssrc] ||= { first: null, last: null, n: 0 });
        if (s.packetsReceived > e.n) Object.assign(e, { n: s.packetsReceived, last: t, first: e.first ?? t });
      });
    }
  }, 10);
});
/** The `a=setup` values of `page`'s call peer connection: `{ local, remote }`. */
const setupsOf = (page) => page.evaluate((pick) => {
  const pc = new Function(`return (${pick})()`)();
  const setup = (d) => d?.sdp.match(/a=setup:(\w+)/)?.[1];
  return { local: setup(pc?.localDescription), remote: setup(pc?.remoteDescription) };
}, callPc.toString());

describe('a call across a handover', () => {
  test("alice's real closes during her call to bob: bob stays the DTLS server, hears the new real, hold and unhold work", async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(2);
    const [d] = dummies;
    const { call } = await must(d, 'call', 'bob');
    await must(b, 'answer', (await waitEvent(b, 'incoming')).call);
    await callIn(d, call, 'established');
    assert.ok((await hearEachOther([real, b])).ok, 'audio before');
    // The INVITE claimed active: bob answered passive, alice's peer connection is the DTLS client.
    assert.deepEqual(await setupsOf(b), { local: 'passive', remote: 'active' });
    assert.deepEqual(await setupsOf(real), { local: 'actpass', remote: 'passive' });
    assert.equal((await callIn(d, call, 'established')).dtls, 'active');

    await sampleInbound(b);
    await sleep(300);
    const old = Object.keys(await b.evaluate(() => window.__ssrcs));
    await real.close({ runBeforeUnload: true });
    assert.equal(await oneReal([d]), d);
    await until(async () => {
      const c = (await stateOf(d))?.calls?.find((x) => x.id === call);
      return c?.state === 'established' && !c.resuming;
    }, 'the call resumed in the new real');
    const heard = await hearEachOther([d, b]);
    assert.ok(heard.ok, `audio with the new real: ${JSON.stringify(heard.deltas)}`);
    const ssrcs = await b.evaluate(() => { clearInterval(window.__sampling); return window.__ssrcs; });
    const fresh = Object.entries(ssrcs).filter(([k]) => !old.includes(k)).map(([, v]) => v.first);
    assert.ok(fresh.length, 'bob receives a new stream');
    const gap = Math.min(...fresh) - Math.max(...old.map((k) => ssrcs[k].last));
    console.log(`# audio gap at bob across the graceful close: ${gap.toFixed(0)} ms (10 ms sampling)`);
    // The resume offer claimed active again: bob is still the DTLS server.
    assert.deepEqual(await setupsOf(b), { local: 'passive', remote: 'active' });
    assert.equal((await callIn(d, call, 'established')).dtls, 'active');

    await must(d, 'hold', call);
    assert.equal((await callIn(d, call, 'established')).held.local, true);
    await must(d, 'unhold', call);
    const again = await hearEachOther([d, b]);
    assert.ok(again.ok, `audio after unhold: ${JSON.stringify(again.deltas)}`);
    assert.deepEqual(await setupsOf(b), { local: 'passive', remote: 'active' }, 'bob stays the server');
    await must(d, 'hangup', call);
    assert.equal((await waitEvent(b, 'callEnded')).cause, 'remote');
    await closeAll(alice, bob);
  });
});

/** The INVITEs `page`'s real phone sent (from its trace): the first to `to`, then those in its dialog. */
async function invitesSent(page, to) {
  const traces = (await eventsOf(page, 'trace')).map((e) => e.detail);
  const invites = traces.filter((t) => t.startsWith('SIP sent to') && /\nINVITE sip:/.test(t));
  const first = invites.find((t) => t.includes(`\nINVITE sip:${to}@`));
  const callId = (t) => t.match(/^Call-ID: (.*)$/m)?.[1];
  return first ? invites.filter((t) => callId(t) === callId(first)) : [];
}
const ufrag = (invite) => invite.match(/a=ice-ufrag:(\S+)/)?.[1];

describe('recovery and transfer', () => {
  test('offline for 5 s during a call, then online: reconnect, re-register, ICE-restart re-INVITE, audio again', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(2, { alice: { query: { trace: '1' } } });
    const { call } = await must(dummies[0], 'call', 'bob');
    const ring = await waitEvent(b, 'incoming');
    await must(b, 'answer', ring.call);
    await callIn(real, call, 'established');
    let audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio before: ${JSON.stringify(audio.deltas)}`);
    const grantedBefore = (await stateOf(real)).registration.at;
    const [first] = await invitesSent(real, 'bob');
    await alice.context.setOffline(true);
    for (const p of alice.pages) await until(async () => (await stateOf(p))?.online === false, 'offline in every tab');
    await sleep(5000);
    const online = Date.now();
    await alice.context.setOffline(false);
    const s = await until(async () => {
      const st = await stateOf(dummies[0]);
      return st?.registration?.state === 'registered' && st.registration.at > grantedBefore && st.online ? st : null;
    }, 're-registered');
    assert.equal(s.connection.state, 'connected');
    const reinvite = await until(async () => (await invitesSent(real, 'bob')).slice(1).find((t) => ufrag(t) !== ufrag(first)),
      'a re-INVITE with new ICE credentials');
    assert.ok(ufrag(first) && ufrag(reinvite), 'both INVITEs carry ICE credentials');
    console.log(`# back online: re-registered and ICE-restart re-INVITE sent within ${Date.now() - online} ms (test polling included)`);
    assert.equal((await callIn(b, ring.call, 'established')).id, ring.call, 'the call survived');
    audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio after: ${JSON.stringify(audio.deltas)}`);
    assert.equal(await kamailio.contacts('alice'), 1);
    await must(b, 'hangup', ring.call);
    await closeAll(alice, bob);
  });

  test('Kamailio restarts during a call: both phones reconnect and re-register; the call and its audio go on', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(2, { alice: { query: { trace: '1' } } });
    const { call } = await must(dummies[0], 'call', 'bob');
    const ring = await waitEvent(b, 'incoming');
    await must(b, 'answer', ring.call);
    await callIn(real, call, 'established');
    const before = await Promise.all([real, b].map(async (p) => (await stateOf(p)).registration.at));
    const restarted = Date.now();
    await kamailio.restart(1000);
    for (const [i, p] of [real, b].entries()) {
      await until(async () => {
        const st = await stateOf(p);
        return st?.registration?.state === 'registered' && st.registration.at > before[i];
      }, 're-registered after the restart');
    }
    console.log(`# Kamailio down 1 s: both phones re-registered ${Date.now() - restarted} ms after the restart began`);
    // Each side re-INVITEs with new ICE credentials once registered again;
    // which of the two crossing re-INVITEs Kamailio can route depends on
    // which refreshed its peer's target first: their outcomes are printed.
    const [first] = await invitesSent(real, 'bob');
    const reinvite = await until(async () => (await invitesSent(real, 'bob')).find((t) => ufrag(t) !== ufrag(first)),
      'alice\'s ICE-restart re-INVITE');
    const cseq = reinvite.match(/^CSeq: (\d+) INVITE/m)[1];
    await sleep(1000);
    const answers = (await eventsOf(real, 'trace')).map((e) => e.detail)
      .filter((t) => t.startsWith('SIP received') && t.includes(`\nCSeq: ${cseq} INVITE`)).map((t) => t.split('\n')[1]);
    console.log(`# alice's ICE-restart re-INVITE (CSeq ${cseq}) got: ${answers.join(' | ') || 'nothing yet'}`);
    assert.equal((await callIn(b, ring.call, 'established')).id, ring.call, 'the call survived at bob');
    const audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `audio after: ${JSON.stringify(audio.deltas)}`);
    await must(b, 'hangup', ring.call);
    await closeAll(alice, bob);
  });

  test('blind transfer of bob to carol from an alice dummy: bob and carol talk, alice\'s call ends', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(2);
    const carol = await user('carol');
    const c = carol.pages[0];
    await registered(c);
    const { call } = await must(dummies[0], 'call', 'bob');
    const ring = await waitEvent(b, 'incoming');
    await must(b, 'answer', ring.call);
    await callIn(real, call, 'established');
    await must(dummies[0], 'transfer', call, 'carol');
    const requested = await waitEvent(b, 'transferRequested');
    assert.equal(requested.to, `sip:carol@${kamailio.domain}`);
    const atCarol = await waitEvent(c, 'incoming');
    assert.equal(atCarol.peer.uri, `sip:bob@${kamailio.domain}`);
    await must(c, 'answer', atCarol.call);
    for (const p of alice.pages) assert.equal((await waitEvent(p, 'callEnded', (d) => d.call === call)).cause, 'transferred');
    await callIn(b, requested.newCall, 'established');
    const audio = await hearEachOther([b, c]);
    assert.ok(audio.ok, `bob and carol hear each other: ${JSON.stringify(audio.deltas)}`);
    await must(c, 'hangup', atCarol.call);
    await closeAll(alice, bob, carol);
  });

  test('attended transfer of bob to carol from an alice dummy: bob replaces alice at carol, bob and carol talk, both alice calls end', async () => {
    const { alice, bob, real, dummies, b } = await aliceAndBob(2);
    const carol = await user('carol');
    const c = carol.pages[0];
    await registered(c);
    const { call: bobCall } = await must(dummies[0], 'call', 'bob');
    const atBob = await waitEvent(b, 'incoming');
    await must(b, 'answer', atBob.call);
    await callIn(real, bobCall, 'established');
    const { call: carolCall } = await must(dummies[0], 'call', 'carol');
    const atCarol = await waitEvent(c, 'incoming');
    await must(c, 'answer', atCarol.call);
    await callIn(real, carolCall, 'established');
    const t0 = Date.now();
    await must(dummies[0], 'attendedTransfer', bobCall, carolCall);
    // Bob is asked to call carol with Replaces; carol's phone takes bob's
    // call at once in place of alice's.
    const requested = await waitEvent(b, 'transferRequested');
    assert.equal(requested.to.split('?')[0], `sip:carol@${kamailio.domain}`);
    const replacing = await waitEvent(c, 'incoming', (d) => d.call !== atCarol.call);
    assert.equal(replacing.replaces, atCarol.call, 'the new call at carol replaces alice\'s');
    assert.equal(replacing.peer.uri, `sip:bob@${kamailio.domain}`);
    await callIn(b, requested.newCall, 'established');
    await callIn(c, replacing.call, 'established');
    console.log(`# attended transfer: bob and carol established ${Date.now() - t0} ms after attendedTransfer() returned`);
    for (const p of alice.pages) {
      const ended = await until(async () => {
        const s = await stateOf(p);
        const e = [bobCall, carolCall].map((id) => s.ended.find((x) => x.id === id));
        return e.every(Boolean) && s.calls.length === 0 ? e : null;
      }, 'both alice calls ended');
      assert.deepEqual(ended.map((e) => e.cause), ['transferred', 'remote'], JSON.stringify(ended));
    }
    const endedAtCarol = (await stateOf(c)).ended.find((x) => x.id === atCarol.call);
    assert.equal(endedAtCarol?.cause, 'replaced');
    // Alice, the transferor, hangs up her call with bob once his call to carol succeeded.
    assert.equal((await stateOf(b)).ended.find((x) => x.id === atBob.call)?.cause, 'remote');
    const audio = await hearEachOther([b, c]);
    assert.ok(audio.ok, `bob and carol hear each other: ${JSON.stringify(audio.deltas)}`);
    console.log(`# after the attended transfer, received at bob and at carol: ${JSON.stringify(audio.deltas)}`);
    await must(c, 'hangup', replacing.call);
    await waitEvent(b, 'callEnded', (d) => d.call === requested.newCall);
    await closeAll(alice, bob, carol);
  });
});

describe('background tabs', () => {
  test("a real whose own timers run once a minute (Chrome's hidden-tab throttling) stays registered and rings", async () => {
    // Every setTimeout of alice's page fires at the next whole minute after
    // the page loaded, as Chrome's intensive throttling of hidden tabs does;
    // the test ends before the first minute: no timer of the page runs at all.
    const throttle = (context) => context.addInitScript(() => {
      const setTimeoutNative = window.setTimeout.bind(window);
      const t0 = performance.now();
      window.__throttle = { armed: 0, fired: 0 };
      window.setTimeout = (fn, ms = 0, ...args) => {
        window.__throttle.armed += 1;
        const due = performance.now() + Number(ms);
        const aligned = t0 + Math.ceil((due - t0) / 60000) * 60000;
        return setTimeoutNative(() => { window.__throttle.fired += 1; fn(...args); }, aligned - performance.now());
      };
    });
    const loaded = Date.now();
    // Kamailio's min_expires is 10 s: a 20 s binding is refreshed every 10 s.
    const { alice, bob, real, b } = await aliceAndBob(1, { alice: { init: throttle, query: { expires: '20' } } });
    const grants = new Set();
    await until(async () => {
      const s = await stateOf(real);
      if (s.registration.state === 'registered') grants.add(s.registration.at);
      assert.equal(await kamailio.contacts('alice'), 1, 'the binding never lapses');
      return grants.size >= 3;
    }, 'two refreshes of the registration', 40000);
    const { call } = await must(b, 'call', 'alice');
    const ring = await waitEvent(real, 'incoming');
    await must(real, 'decline', ring.call);
    const ended = await waitEvent(b, 'callEnded', (d) => d.call === call);
    assert.deepEqual([ended.cause, ended.status], ['failed', 603]);
    const t = await real.evaluate(() => window.__throttle);
    assert.ok(Date.now() - loaded < 60000, 'the test ran within the first minute');
    assert.ok(t.armed > 0 && t.fired === 0, `the page armed timers but none ran: ${JSON.stringify(t)}`);
    console.log(`# with the tab's timers held back: ${grants.size - 1} refreshes in ${((Date.now() - loaded) / 1000).toFixed(1)} s, driven by the worker's pings`);
    await closeAll(alice, bob);
  });

  test('autoplay refused: every tab is told, a gesture in the real tab plays the audio', async () => {
    // This Chromium lets a page that captures the microphone autoplay; the
    // page's play() is made to refuse as a blocked one does (NotAllowedError)
    // until a trusted pointer press.
    const blockPlay = (context) => context.addInitScript(() => {
      const play = HTMLMediaElement.prototype.play;
      let pressed = false;
      window.addEventListener('pointerdown', (e) => { pressed ||= e.isTrusted; }, true);
      HTMLMediaElement.prototype.play = function () {
        if (pressed) return play.call(this);
        return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
      };
    });
    const { alice, bob, real, dummies, b } = await aliceAndBob(2, { alice: { init: blockPlay } });
    await must(b, 'call', 'alice');
    const ring = await waitEvent(dummies[0], 'incoming');
    await must(dummies[0], 'answer', ring.call);
    for (const p of alice.pages) assert.equal((await waitEvent(p, 'audioBlocked')).blocked, true);
    assert.equal((await stateOf(dummies[0])).audioBlocked, true);
    await real.click('#gesture');
    for (const p of alice.pages) await waitEvent(p, 'audioBlocked', (d) => d.blocked === false);
    assert.equal((await stateOf(dummies[0])).audioBlocked, false);
    const audio = await hearEachOther([real, b]);
    assert.ok(audio.ok, `alice's real plays bob after the gesture: ${JSON.stringify(audio.deltas)}`);
    await closeAll(alice, bob);
  });
});

describe('bad input', () => {
  test('actions with bad arguments get coded errors, in a dummy and in the real; bad options throw', async () => {
    const { alice, bob, real, dummies } = await aliceAndBob(2);
    for (const page of [dummies[0], real]) {
      const code = async (method, ...args) => (await act(page, method, ...args)).error?.code;
      assert.equal(await code('call', 42), 'bad_arguments');
      assert.equal(await code('call'), 'bad_arguments');
      assert.equal(await code('call', 'not a uri'), 'bad_arguments');
      assert.equal(await code('answer', 'nope'), 'no_such_call');
      assert.equal(await code('hold'), 'bad_arguments');
      assert.equal(await code('decline', 'nope', 200), 'bad_arguments');
      assert.equal(await code('dtmf', 'nope', 'xyz'), 'bad_arguments');
      assert.equal(await code('dtmf', 'nope', '12', { via: 'smoke' }), 'bad_arguments');
      assert.equal(await code('dtmf', 'nope', '12'), 'no_such_call');
      assert.equal(await code('dispatch', 'dial', { to: 'bob' }), 'unknown_action');
      assert.equal(await code('dispatch', 'hangup', { call: 'x', extra: 1 }), 'bad_arguments');
      const handler = await page.evaluate(() => { try { window.tabphone.setActionHandler(() => 1); } catch (e) { return e; } });
      assert.equal(handler?.code, 'unsupported');
      const e = (await act(page, 'hangup', 'nope')).error;
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0);
    }
    const bad = await real.evaluate(async () => {
      const { TabPhone } = await import('/pkg/tabphone_tab.js');
      const tries = [
        { sip: { servers: ['http://x'], user: 'a', password: 'p', domain: 'd' } },
        { sip: { servers: ['ws://x'], password: 'p', domain: 'd' } },
        { sip: { servers: [], user: 'a', password: 'p', domain: 'd' } },
        { sip: { servers: 'ws://x', user: 'a', password: 'p', domain: 'd', expires: -1 } },
        { sip: { servers: 'ws://x', user: 'a', password: 'p', domain: 'd' }, media: { keepWarm: 'yes' } },
      ];
      return tries.map((o) => {
        try { TabPhone.connect('/pkg/worker.js', { app: 'bad-options', ...o }); return null; } catch (e) { return e; }
      });
    });
    for (const e of bad) assert.equal(e?.code, 'bad_options', JSON.stringify(e));
    await closeAll(alice, bob);
  });

  test('a server that sends garbage frames: error events in every tab, and the phone stays registered and usable', async () => {
    const server = await WsSipServer.start();
    const alice = await user('alice', 2, { query: { server: server.url, domain: '127.0.0.1', app: 'garbage-test' } });
    try {
      for (const p of alice.pages) await registered(p);
      const real = await oneReal(alice.pages);
      const dummy = alice.pages.find((p) => p !== real);
      const grantedBefore = (await stateOf(real)).registration.at;
      const before = await Promise.all(alice.pages.map((p) => seen(p, 'error')));
      const cut = [
        'MESSAGE sip:alice@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKcut',
        'From: <sip:srv@127.0.0.1>;tag=1', 'To: <sip:alice@127.0.0.1>', 'Call-ID: cut@srv', 'CSeq: 1 MESSAGE',
        'Max-Forwards: 70', 'Content-Type: text/plain', 'Content-Length: 500', '', 'cut short',
      ].join('\r\n');
      const garbage = [
        'this is not SIP at all',
        // A response cut before the end of its header section.
        'SIP/2.0 200 OK\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKtrunc\r\nCSeq: 1 REG',
        // A request whose body is shorter than its Content-Length: a 400 comes back.
        cut,
        // Over the 64 KiB the SIP core takes.
        `OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\nX-Pad: ${'x'.repeat(70 * 1024)}\r\n\r\n`,
      ];
      // A well-formed response to no transaction: dropped (RFC 3261 17.1.3).
      const stray = ['SIP/2.0 200 OK', 'Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKnotxn',
        'From: <sip:alice@127.0.0.1>;tag=a', 'To: <sip:alice@127.0.0.1>;tag=b', 'Call-ID: none@srv',
        'CSeq: 7 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
      server.send(...garbage, stray);
      const errors = await until(async () => {
        const e = (await eventsOf(real, 'error')).slice(before[0]).map((x) => x.detail);
        return e.length >= garbage.length ? e : null;
      }, 'an error event per garbage frame');
      console.log(`# garbage from the server: ${errors.length} error events in the real: ${errors.map((e) => e.message).join(' | ')}`);
      assert.equal(errors.length, garbage.length, 'one error per garbage frame, none for the stray response');
      for (const e of errors) {
        assert.equal(e.code, 'phone_error');
        assert.match(e.message, /^bad message from the server: /);
      }
      const answered = await until(async () => server.received.find((t) => t.startsWith('SIP/2.0 400') && t.includes('Call-ID: cut@srv')),
        'the 400 to the cut request');
      assert.match(answered, /^CSeq: 1 MESSAGE\r?$/m);
      // The real relays them: the dummy's app is told the same, in the same order.
      const inDummy = await until(async () => {
        const e = (await eventsOf(dummy, 'error')).slice(before[1]).map((x) => x.detail);
        return e.length >= errors.length ? e : null;
      }, 'the same error events in the dummy');
      assert.deepEqual(inDummy, errors);
      // A MESSAGE received: every tab's app is told.
      const hello = ['MESSAGE sip:alice@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKmsg1',
        'From: <sip:srv@127.0.0.1>;tag=m1', 'To: <sip:alice@127.0.0.1>', 'Call-ID: msg1@srv', 'CSeq: 1 MESSAGE',
        'Max-Forwards: 70', 'Content-Type: text/plain', 'Content-Length: 15', '', 'hello every tab'].join('\r\n');
      server.send(hello);
      for (const p of alice.pages) {
        const m = await waitEvent(p, 'message');
        assert.deepEqual(m, { from: 'sip:srv@127.0.0.1', contentType: 'text/plain', body: 'hello every tab' });
      }
      for (const p of alice.pages) {
        const s = await stateOf(p);
        assert.equal(s.registration.state, 'registered', JSON.stringify(s.registration));
        assert.equal(s.connection.state, 'connected', JSON.stringify(s.connection));
      }
      // Still usable: a message and a registration refresh from the dummy.
      assert.deepEqual(await must(dummy, 'message', 'srv', 'still here'), { status: 200 });
      assert.ok(server.received.some((t) => t.startsWith('MESSAGE sip:srv@127.0.0.1') && t.endsWith('still here')));
      await must(dummy, 'register');
      await until(async () => {
        const st = await stateOf(real);
        return st.registration.state === 'registered' && st.registration.at > grantedBefore;
      }, 'a new registration granted');
      assert.equal(server.sockets.size, 1, 'the phone kept its one connection');
    } finally {
      await closeAll(alice);
      await server.close();
    }
  });
});
