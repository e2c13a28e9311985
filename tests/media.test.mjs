// Browser tests of tab-client's media layer (tab-client/src/media) in real
// Chromium: two BrowserContexts (two users), offers and answers carried by the
// test (no SIP), audio checked with getStats numbers. Also the single timer.
// The page is tests/pages/media/, the wasm surface tests/media-surface.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE } from './lib/browser.mjs';
import { hearEachOther, launchWithMedia, receivedOver, recordPeerConnections } from './lib/audio.mjs';
import { startStun } from './lib/stun.mjs';

let browser;
before(async () => { browser = await launchWithMedia(); });
after(async () => { await browser?.close(); });

/** A user: a page of its own BrowserContext with a MediaPeer (options as in the surface). */
async function user(options = {}) {
  const context = await browser.newContext();
  await recordPeerConnections(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`${BASE}/media/index.html`);
  await page.waitForFunction(() => window.mediaReady);
  await page.evaluate((o) => { window.peer = new window.media.MediaPeer(o); }, options);
  return page;
}

const offer = (page, iceRestart = false, hold = false) =>
  page.evaluate(([r, h]) => window.peer.offer(r, h), [iceRestart, hold]);
const answer = (page, sdp, direction = 'sendrecv') =>
  page.evaluate(([s, d]) => window.peer.answer(s, d), [sdp, direction]);
const applyAnswer = (page, sdp) => page.evaluate((s) => window.peer.applyAnswer(s), sdp);
const events = (page) => page.evaluate(() => window.peer.events());
/** Reads the stats of the peer's current call only. */
const CALL = () => [window.peer.pc()];

/** One offer/answer exchange from `a` to `b`; returns both SDPs. */
async function negotiate(a, b, { iceRestart = false, hold = false, direction = 'sendrecv' } = {}) {
  const o = await offer(a, iceRestart, hold);
  const ans = await answer(b, o, direction);
  await applyAnswer(a, ans);
  return { offer: o, answer: ans };
}

const directionOf = (sdp) => sdp.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m)?.[1];
const ufragOf = (sdp) => sdp.match(/^a=ice-ufrag:(\S+)/m)?.[1];

async function waitForEvent(page, wanted, timeout = 10000) {
  await page.waitForFunction((w) => window.peer.events().includes(w), wanted, { timeout });
}

/** Wait until `page` receives at least this much more audio (bounded wait). */
async function expectHears(pages, label) {
  const r = await hearEachOther(pages, { pick: CALL });
  assert.ok(r.ok, `${label}: ${JSON.stringify(r.deltas)}`);
}

describe('a call between two users', () => {
  let alice;
  let bob;
  let sdp;
  before(async () => {
    [alice, bob] = [await user(), await user()];
    sdp = await negotiate(alice, bob);
  });
  after(async () => {
    await alice.context().close();
    await bob.context().close();
  });

  test('the offer is complete (non-trickle) and carries telephone-event; audio flows both ways', async () => {
    assert.match(sdp.offer, /^a=candidate:.* udp .* typ host/m, 'the offer has a UDP candidate');
    assert.match(sdp.offer, /^a=rtpmap:\d+ telephone-event\/8000/m);
    assert.match(sdp.answer, /^a=candidate:/m, 'the answer has candidates');
    await expectHears([alice, bob], 'both hear');
    for (const page of [alice, bob]) {
      assert.ok((await events(page)).includes('playback_started'), 'remote audio played in the element');
      const elements = await page.evaluate(() => document.querySelectorAll('audio[data-tabphone-media]').length);
      assert.equal(elements, 1, 'one audio element for the call');
    }
  });

  test("mute silences what the other side receives; unmute restores it", async () => {
    await alice.evaluate(() => window.peer.mute(true));
    await receivedOver(bob, 500, CALL); // what was in flight
    const muted = await receivedOver(bob, 2000, CALL);
    assert.ok(muted.packets >= 25, `packets still flow while muted: ${JSON.stringify(muted)}`);
    assert.ok(muted.energy < 0.001, `silence while muted: ${JSON.stringify(muted)}`);
    await alice.evaluate(() => window.peer.mute(false));
    await expectHears([bob], 'bob hears alice again');
  });

  test('hold: a sendonly offer is answered recvonly; the holder receives nothing and sends silence; resume', async () => {
    const held = await negotiate(alice, bob, { hold: true, direction: 'recvonly' });
    assert.equal(directionOf(held.offer), 'sendonly');
    assert.equal(directionOf(held.answer), 'recvonly');
    await receivedOver(alice, 500, CALL);
    const atAlice = await receivedOver(alice, 2000, CALL);
    assert.equal(atAlice.packets, 0, `alice (holding) receives no packets: ${JSON.stringify(atAlice)}`);
    const atBob = await receivedOver(bob, 2000, CALL);
    assert.ok(atBob.packets >= 25 && atBob.energy < 0.001, `bob (held) gets silence: ${JSON.stringify(atBob)}`);
    // An ICE restart while held stays on hold.
    const restart = await negotiate(alice, bob, { iceRestart: true, hold: true, direction: 'recvonly' });
    assert.equal(directionOf(restart.offer), 'sendonly');
    const resumed = await negotiate(alice, bob);
    assert.equal(directionOf(resumed.offer), 'sendrecv');
    assert.equal(directionOf(resumed.answer), 'sendrecv');
    await expectHears([alice, bob], 'both hear after resume');
  });

  test('DTMF: each tone is reported played; bad tones get a code', async () => {
    await alice.evaluate(() => window.peer.dtmf('1#9', 100, 70));
    await waitForEvent(alice, 'tones_done');
    const tones = (await events(alice)).filter((e) => e.startsWith('tone:'));
    assert.deepEqual(tones, ['tone:1', 'tone:#', 'tone:9']);
    const bad = await alice.evaluate(() => { try { window.peer.dtmf('12E', 100, 70); return null; } catch (e) { return e; } });
    assert.equal(bad?.code, 'bad_tones');
  });

  test('ICE restart: new credentials, audio keeps flowing', async () => {
    const before = ufragOf(await alice.evaluate(() => window.peer.pc().localDescription.sdp));
    const restart = await negotiate(alice, bob, { iceRestart: true });
    assert.ok(ufragOf(restart.offer) && ufragOf(restart.offer) !== before, 'a new ufrag');
    await expectHears([alice, bob], 'both hear after the ICE restart');
  });

  test('switching the microphone replaces the track without renegotiating', async () => {
    const ids = await alice.evaluate(async () => (await navigator.mediaDevices.enumerateDevices())
      .filter((d) => d.kind === 'audioinput').map((d) => d.deviceId));
    assert.ok(ids.length >= 2, `fake devices offer two microphones: ${ids.length}`);
    const trackId = () => alice.evaluate(() => window.peer.pc().getSenders()[0].track.id);
    const old = await trackId();
    await alice.evaluate((id) => window.peer.setInput(id), ids[1]);
    assert.notEqual(await trackId(), old, 'a new track is sent');
    assert.equal(await alice.evaluate(() => window.peer.pc().signalingState), 'stable', 'no new offer needed');
    await expectHears([bob], 'bob hears the new microphone');
  });

  test('output device: the default is accepted, an unknown one refused with a code', async () => {
    await alice.evaluate(() => window.peer.setOutput(''));
    const refused = await alice.evaluate(() => window.peer.setOutput('no-such-device').then(() => null, (e) => e));
    assert.equal(refused?.code, 'output_device', JSON.stringify(refused));
  });
});

describe('call setup', () => {
  test('autoplay refused: reported, then played on a user gesture', async () => {
    // This Chromium lets a page that is capturing the microphone autoplay, so
    // the page's play() is made to refuse as a blocked one does (NotAllowedError)
    // until the user clicks (a trusted click; Playwright's evaluate() counts as
    // a user activation, so navigator.userActivation cannot tell).
    const [alice, bob] = [await user(), await user()];
    await alice.evaluate(() => {
      const play = HTMLMediaElement.prototype.play;
      let clicked = false;
      document.addEventListener('click', (e) => { clicked ||= e.isTrusted; }, true);
      HTMLMediaElement.prototype.play = function () {
        if (clicked) return play.call(this);
        return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
      };
    });
    await negotiate(alice, bob);
    await waitForEvent(alice, 'playback_blocked');
    assert.equal(await alice.evaluate(() => window.peer.playbackBlocked()), true);
    await alice.evaluate(() => { window.onGesture = () => window.peer.retryPlayback(); });
    await alice.click('#gesture');
    await waitForEvent(alice, 'playback_started');
    assert.equal(await alice.evaluate(() => window.peer.playbackBlocked()), false);
    await expectHears([alice], 'alice hears bob after the gesture');
    await alice.context().close();
    await bob.context().close();
  });

  test('a call that begins held: answered recvonly; after the unhold our microphone is sent, one audio section', async () => {
    // JSEP matches a sendonly section to a new transceiver, not to the one the microphone
    // was added with: the answerer must move its track there (an answer from a fresh
    // connection to a held call's resume offer is this case too).
    const [alice, bob] = [await user(), await user()];
    const held = await negotiate(alice, bob, { hold: true, direction: 'recvonly' });
    assert.equal(directionOf(held.offer), 'sendonly');
    assert.equal(directionOf(held.answer), 'recvonly');
    const resumed = await negotiate(alice, bob);
    assert.equal(directionOf(resumed.answer), 'sendrecv');
    await expectHears([alice, bob], 'both hear after the unhold');
    const live = await bob.evaluate(() => window.peer.pc().getTransceivers().filter((t) => !t.stopped).length);
    assert.equal(live, 1, 'one live transceiver at bob');
    const again = await negotiate(bob, alice);
    assert.equal(again.offer.match(/^m=/gm).length, 1, "bob's own offer has one media section");
    await expectHears([alice, bob], 'both hear after bob re-offers');
    await alice.context().close();
    await bob.context().close();
  });

  test('a prewarmed call offers at once what it gathered before, and works; the next is prepared meanwhile', async () => {
    const [alice, bob] = [await user({ keepWarm: true }), await user()];
    await alice.evaluate(() => window.peer.prewarm());
    const pcs = () => alice.evaluate(() => window.__tabphonePcs.length);
    assert.equal(await pcs(), 1, 'the prepared peer connection');
    assert.equal(await alice.evaluate(() => window.peer.warm), true);
    const t0 = Date.now();
    const o = await offer(alice);
    const offerMs = Date.now() - t0;
    const pc = await alice.evaluate(() => ({ state: window.peer.pc().signalingState, sdp: window.peer.pc().localDescription.sdp }));
    assert.equal(pc.state, 'have-local-offer');
    // The prepared offer is the local description as gathering settled; a
    // candidate the browser surfaced later (TCP, after the UDP ones) may have
    // been added to the description since, and is not in the offer.
    const late = (l) => l.startsWith('a=candidate:') || l === 'a=end-of-candidates';
    const lines = (sdp) => sdp.split('\r\n').filter((l) => !late(l));
    assert.deepEqual(lines(o), lines(pc.sdp), 'the prepared offer');
    const cands = (sdp) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.ok(cands(o).length > 0, 'the offer has candidates');
    for (const c of cands(o)) assert.ok(cands(pc.sdp).includes(c), `offered candidate kept: ${c}`);
    await applyAnswer(alice, await answer(bob, o));
    await expectHears([alice, bob], 'both hear');
    console.log(`# prewarmed: offer() returned in ${offerMs} ms (page round trip included)`);
    // keepWarm: the next call's peer connection was prepared in the background.
    await alice.waitForFunction(() => window.peer.warm);
    assert.equal(await pcs(), 2);
    await alice.evaluate(() => window.peer.hangup());
    await offer(alice);
    assert.equal(await pcs(), 2, 'the second call took the prepared one');
    await alice.waitForFunction(() => window.__tabphonePcs.length === 3); // the next, a second later
    // Released while (likely) still preparing: nothing may stay open.
    await alice.evaluate(() => window.peer.close());
    await alice.waitForFunction(() => window.__tabphonePcs.every((p) => p.connectionState === 'closed'), null,
      { timeout: 5000 }).catch(() => {});
    const left = await alice.evaluate(() => ({
      elements: document.querySelectorAll('audio[data-tabphone-media]').length,
      pcs: window.__tabphonePcs.map((p) => p.connectionState),
    }));
    assert.equal(left.elements, 0, 'the audio elements are removed on close');
    assert.ok(left.pcs.every((s) => s === 'closed'), `every peer connection closed: ${left.pcs}`);
    await alice.context().close();
    await bob.context().close();
  });

  test('with an ICE server, gathering settles after a server-reflexive candidate (figures printed)', async () => {
    const stun = await startStun();
    const [alice, bob] = [await user({ iceServers: [{ urls: stun.url }] }), await user()];
    try {
      const o = await offer(alice);
      const g = await alice.evaluate(() => window.peer.gathering());
      assert.ok(stun.requests > 0, 'the STUN server was asked');
      assert.match(o, /^a=candidate:.* udp .* typ srflx raddr /m, 'a server-reflexive candidate');
      assert.equal(g.end, 'Settled', JSON.stringify(g));
      await applyAnswer(alice, await answer(bob, o));
      await expectHears([alice, bob], 'both hear');
      console.log(`# with a STUN server: gathering ended after ${g.elapsedMs.toFixed(1)} ms, the first `
        + `server-reflexive candidate at ${g.firstUsefulMs.toFixed(1)} ms, ${g.candidates} candidates`);
    } finally {
      await stun.close();
      await alice.context().close();
      await bob.context().close();
    }
  });

  test('gathering: the policy against waiting for complete (figures printed)', async () => {
    const runs = 5;
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const figures = {};
    for (const [name, options] of [['policy', {}], ['complete', { waitForComplete: true }]]) {
      const page = await user(options);
      const times = [];
      for (let i = 0; i < runs; i += 1) {
        const o = await offer(page);
        assert.match(o, /^a=candidate:/m);
        const g = await page.evaluate(() => window.peer.gathering());
        times.push(g.elapsedMs);
        figures[`${name} end`] = g.end;
        await page.evaluate(() => window.peer.hangup());
      }
      figures[name] = median(times);
      figures[`${name} all`] = times.map((t) => t.toFixed(1)).join(' ');
      await page.context().close();
    }
    console.log(`# offerer ICE gathering, median of ${runs} (ms): policy ${figures.policy.toFixed(1)} `
      + `[${figures['policy all']}] ended ${figures['policy end']}; wait for complete ${figures.complete.toFixed(1)} `
      + `[${figures['complete all']}] ended ${figures['complete end']}`);
    assert.equal(figures['complete end'], 'Complete');
  });
});

describe('timer', () => {
  test('one setTimeout, re-armed only when the deadline changes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/media/index.html`);
    await page.waitForFunction(() => window.mediaReady);
    const counts = await page.evaluate(() => {
      let calls = 0;
      const setTimeout = window.setTimeout;
      window.setTimeout = (...args) => { calls += 1; return setTimeout(...args); };
      return window.media.timerCheck(() => calls);
    });
    assert.deepEqual(counts, { armed: 1, unchanged: 0, changed: 1, same: 1, earlier: 2, again: 3, disarmed: 3 });
    await context.close();
  });
});

// The gathering policy's decision (tab-client/js/browser.js `useful` and
// `decide`, pure functions), here in Node with chosen times.
describe('gathering policy', async () => {
  const { decide, useful } = await import('../tab-client/js/browser.js');
  const HOST = 'candidate:1 1 udp 2122260223 192.168.1.5 50000 typ host generation 0';
  const TCP = 'candidate:2 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active';
  const SRFLX = 'candidate:3 1 udp 1686052607 203.0.113.7 50000 typ srflx raddr 192.168.1.5 rport 50000';
  const policy = { settle: 10, max: 2000, complete: false };

  test('usefulness by protocol and type', () => {
    assert.ok(useful(HOST, false));
    assert.ok(useful(`a=${HOST}`, false));
    assert.ok(!useful(TCP, false));
    assert.ok(!useful(HOST, true), 'a host candidate alone is not enough with ICE servers');
    assert.ok(useful(SRFLX, true));
    assert.ok(!useful('candidate:garbage', false));
  });

  test('settles after the first useful candidate, else waits for the cap', () => {
    assert.deepEqual(decide(policy, 0, null, 5, false, true), [2000], 'no useful candidate: the cap');
    assert.deepEqual(decide(policy, 0, 5, 14, false, true), [15]);
    assert.deepEqual(decide(policy, 0, 5, 15, false, true), [15, 1]);
    assert.deepEqual(decide(policy, 0, 5, 3, true, true), [15, 0], 'complete ends it at once');
  });

  test('waiting for complete ignores settling', () => {
    const p = { ...policy, complete: true };
    assert.deepEqual(decide(p, 0, 5, 100, false, true), [2000]);
    assert.deepEqual(decide(p, 0, 5, 130, true, true), [2000, 0]);
  });

  test('the cap ends it, and complete with no candidate waits for the cap', () => {
    const p = { ...policy, max: 50 };
    assert.deepEqual(decide(p, 0, null, 49, false, true), [50]);
    assert.deepEqual(decide(p, 0, null, 50, false, true), [50, 2]);
    assert.deepEqual(decide(p, 0, null, 50, false, false), [50, 2], 'over with nothing usable: no_candidates');
    assert.deepEqual(decide(p, 0, null, 10, true, false), [50]);
  });
});

// The SIP instance id (browser.js `instanceId`; tab-client/src/instance.rs),
// here in Node, without storage: a stored id is kept only when it is a UUID,
// else a new version 4 one each time (one per real then).
describe('instance id', async () => {
  const { instanceId } = await import('../tab-client/js/browser.js');
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  test('a new version 4 UUID without storage', () => {
    const [a, b] = [instanceId('tabphone:instance:x'), instanceId('tabphone:instance:x')];
    assert.match(a, V4);
    assert.match(b, V4);
    assert.notEqual(a, b);
  });

  test('a stored UUID is kept, anything else replaced', () => {
    const stored = new Map([
      ['ok', '6C1F1C9E-1111-4a4a-8b8b-000000000001'],
      ['bad', '6c1f1c9e11114a4a8b8b000000000001'],
      ['hex', '6c1f1c9e-1111-4a4a-8b8b-00000000000g'],
    ]);
    globalThis.localStorage = {
      getItem: (k) => stored.get(k) ?? null,
      setItem: (k, v) => stored.set(k, v),
      removeItem: (k) => stored.delete(k),
    };
    try {
      assert.equal(instanceId('ok'), '6C1F1C9E-1111-4a4a-8b8b-000000000001');
      for (const key of ['bad', 'hex', 'none']) {
        const id = instanceId(key);
        assert.match(id, V4);
        assert.equal(stored.get(key), id, 'the new id is stored');
        assert.equal(instanceId(key), id, 'and kept');
      }
    } finally {
      delete globalThis.localStorage;
    }
  });
});

// The tab's JS options as browser.js's `readOptions` reads them: a list in the
// fixed order `PhoneOptions::from_js` (tab-client/src/phone/options.rs) takes
// them by index, or the first bad field's message, thrown as a string.
describe('options reading', async () => {
  const { readOptions } = await import('../tab-client/js/browser.js');
  const sip = { servers: 'wss://a', user: 'alice', password: 'pw', domain: 'example.com' };
  const thrown = (f) => {
    try {
      f();
    } catch (e) {
      return e;
    }
    assert.fail('no error');
  };

  test('every field at its index', () => {
    const full = readOptions(
      { ...sip, servers: ['wss://a', 'wss://b'], displayName: 'Alice', traceSip: true, expires: 600,
        iceServers: [{ urls: 'stun:s', username: 'u', credential: 'c' }] },
      { iceServers: [{ urls: ['turn:t'] }], keepWarm: false, outputDevice: 'out', inputDevice: 'in',
        echoCancellation: false, noiseSuppression: true, autoGainControl: false,
        gathering: { settleMs: 20, maxMs: 900, waitForComplete: true } },
    );
    assert.deepEqual(full, [
      ['wss://a', 'wss://b'], 'alice', 'pw', 'example.com', 'Alice', true, 600,
      [[['stun:s'], 'u', 'c'], [['turn:t'], undefined, undefined]],
      false, 'out', 'in', false, true, false, 20, 900, true,
    ]);
    assert.deepEqual(readOptions(sip, undefined),
      [['wss://a'], 'alice', 'pw', 'example.com', undefined, undefined, undefined, []], 'no media: sip only');
    assert.equal(readOptions({ ...sip, displayName: null }, null)[4], undefined, 'null is not set');
  });

  test('the first bad field is named', () => {
    assert.equal(thrown(() => readOptions(null)), 'sip: an object {servers, user, password, domain} is needed');
    assert.equal(thrown(() => readOptions({ ...sip, servers: 5 })), 'sip.servers: a URL or a list of URLs is needed');
    assert.equal(thrown(() => readOptions({ ...sip, servers: ['wss://a', 1] })), 'sip.servers: not a list of strings');
    assert.equal(thrown(() => readOptions({ ...sip, user: undefined, domain: 1 })), 'sip.user: a string is needed');
    assert.equal(thrown(() => readOptions({ ...sip, traceSip: 'yes' })), 'sip.traceSip: not a boolean');
    assert.equal(thrown(() => readOptions({ ...sip, expires: 1.5 })), 'sip.expires: not a whole number of the right range');
    assert.equal(thrown(() => readOptions({ ...sip, iceServers: {} })),
      'sip.iceServers: a list of {urls, username?, credential?} is needed');
    assert.equal(thrown(() => readOptions({ ...sip, iceServers: [{}] })), 'sip.iceServers: each server needs urls');
    assert.equal(thrown(() => readOptions(sip, 7)), 'media: an object is needed');
    assert.equal(thrown(() => readOptions(sip, { inputDevice: 3, keepWarm: 1 })), 'media.keepWarm: not a boolean');
    assert.equal(thrown(() => readOptions(sip, { gathering: { maxMs: -1 } })),
      'media.gathering.maxMs: not a whole number of the right range');
  });

  test('a getter that throws reads as not set', () => {
    const tricky = { ...sip, get displayName() { throw new Error('no'); } };
    assert.equal(readOptions(tricky, undefined)[4], undefined);
  });
});
