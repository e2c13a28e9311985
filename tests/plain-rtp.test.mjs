// End-to-end test of the phone with a plain SIP peer that has no WebRTC:
// alice (tabphone in Debian Chromium, fake devices) calls a sipp UAS over
// UDP that echoes RTP (tests/sip/uas.xml with -rtp_echo), and a sipp UAC
// (tests/sip/uac.xml, echoing too) calls her, through Kamailio
// with its rtpengine switch on (tests/sip/kamailio.cfg, WITH_RTPENGINE) and
// Debian's rtpengine in userspace bridging ICE + DTLS-SRTP to plain RTP/AVP.
// Audio is proved by getStats at alice: her fake microphone's beep comes
// back (packets and totalAudioEnergy grow). Timings are printed, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kamailio } from './lib/kamailio.mjs';
import { Rtpengine } from './lib/rtpengine.mjs';
import { Sipp } from './lib/sipp.mjs';
import { oneReal } from './lib/browser.mjs';
import { hearEachOther, launchWithMedia } from './lib/audio.mjs';
import { pageNow, startGapMeter, stopGapMeter, waitGap } from './lib/gap.mjs';
import { jssip, jssipCall, jssipUser } from './lib/jssip.mjs';
import {
  callIn, callPc, closeAll, eventsOf, must, registered, sleep, stateOf, until, user, useServers, waitEvent,
} from './lib/phone.mjs';

let browser;
let kamailio;
let rtpengine;
before(async () => {
  rtpengine = await Rtpengine.start();
  kamailio = await Kamailio.start({ rtpengine: rtpengine.ng });
  browser = await launchWithMedia();
  useServers(browser, kamailio);
});
after(async () => {
  await browser?.close();
  await kamailio?.close();
  await rtpengine?.close();
});

/** The SDP body of a traced SIP message (after the blank line). */
const body = (message) => message.split(/\r?\n\r?\n/).slice(1).join('\n');

/**
 * The last INVITE (`what` = 'INVITE') or 200 OK to an INVITE ('200') that
 * `page`'s real phone traced, `sent` or received (the tests here have one call
 * and no re-INVITE: the INVITE that went through is the last, after the 407).
 */
async function traced(page, sent, what) {
  const traces = (await eventsOf(page, 'trace')).map((e) => e.detail)
    .filter((t) => t.startsWith(sent ? 'SIP sent to' : 'SIP received'));
  const startLine = what === 'INVITE' ? /^INVITE / : /^SIP\/2\.0 200 /;
  return traces.filter((t) => startLine.test(t.split('\n')[1]) && /^CSeq: \d+ INVITE\r?$/m.test(t)).at(-1);
}

/**
 * In `page`, from now on: when the call's peer connection connects (ICE and
 * DTLS done), and when its first inbound audio packet arrives (getStats
 * polled every 5 ms), as wall-clock ms in `window.__media`.
 */
function watchMedia(page) {
  return page.evaluate((pick) => {
    window.__media = {};
    const find = new Function(`return (${pick})()`);
    const poll = async () => {
      const pc = find();
      if (pc) {
        if (!window.__media.connected && pc.connectionState === 'connected') window.__media.connected = Date.now();
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.packetsReceived > 0) window.__media.firstPacket ??= Date.now();
        });
      }
      if (!window.__media.firstPacket) setTimeout(poll, 5);
    };
    poll();
  }, callPc.toString());
}

/**
 * The call's media path at `page`: the inbound audio codec (its mimeType) and
 * the addresses of the selected ICE candidate pair.
 */
function mediaPath(page) {
  return page.evaluate(async (pick) => {
    const report = await new Function(`return (${pick})()`)().getStats();
    const path = { codec: null, local: null, remote: null };
    const where = (c) => c && `${c.address}:${c.port}`;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') path.codec = report.get(s.codecId)?.mimeType ?? null;
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        path.local = where(report.get(pair?.localCandidateId));
        path.remote = where(report.get(pair?.remoteCandidateId));
      }
    });
    return path;
  }, callPc.toString());
}

describe('a plain SIP peer without WebRTC, through rtpengine', () => {
  test('alice calls a sipp UAS that echoes RTP: her own audio comes back; hang up', async () => {
    const sipp = await Sipp.start('uas.xml', kamailio.sipp, { echo: true });
    const alice = await user('alice', 1, { query: { trace: '1' } });
    const [page] = alice.pages;
    try {
      await registered(page);
      await watchMedia(page);
      const { call } = await must(page, 'call', 'uas');
      const established = await callIn(page, call, 'established');

      // Kamailio had rtpengine rewrite both SDPs: sipp was offered plain RTP
      // on rtpengine's address, alice got an answer with ICE and DTLS-SRTP.
      const invite = sipp.messages().split('message received').find((m) => /\n\s*INVITE sip:uas@/.test(m));
      assert.ok(invite, `sipp received the INVITE:\n${sipp.messages()}`);
      const offer = body(invite.slice(invite.indexOf('INVITE sip:')));
      assert.match(offer, /^m=audio \d+ RTP\/AVP /m, offer);
      assert.match(offer, new RegExp(`^c=IN IP4 ${rtpengine.address.replaceAll('.', '\\.')}`, 'm'), offer);
      assert.doesNotMatch(offer, /a=(ice-ufrag|candidate|fingerprint|setup):/, offer);
      const answer = body(await traced(page, false, '200'));
      assert.match(answer, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\b/m, answer);
      assert.match(answer, /^a=fingerprint:/m, answer);
      assert.match(answer, /^a=candidate:/m, answer);
      assert.match(answer, /^a=rtcp-mux/m, answer);
      // alice's offer claimed the DTLS client role; rtpengine took it and is the server.
      assert.match(body(await traced(page, true, 'INVITE')), /^a=setup:active\r?$/m);
      assert.match(answer, /^a=setup:passive\r?$/m, answer);

      // Alice hears her own beep: PCMU (what sipp answered), echoed by sipp,
      // encrypted again by rtpengine.
      const audio = await hearEachOther([page]);
      assert.ok(audio.ok, `alice hears the echo: ${JSON.stringify(audio.deltas)}\nrtpengine log tail:\n${rtpengine.log().slice(-3000)}`);
      const path = await mediaPath(page);
      assert.equal(path.codec, 'audio/PCMU');
      assert.equal(path.remote?.split(':')[0], rtpengine.address, 'alice exchanges media with rtpengine');
      const media = await until(() => page.evaluate(() => window.__media.firstPacket && window.__media), 'the first echoed packet');
      const answered = established.answeredAt;
      console.log(`# alice -> sipp echo through rtpengine: 200 OK at alice -> ICE+DTLS connected ${media.connected - answered} ms, -> first echoed packet ${media.firstPacket - answered} ms; ${audio.deltas[0].packets} packets and ${audio.deltas[0].energy.toFixed(3)} energy in the check; ICE pair ${path.local} <-> ${path.remote}`);

      // Re-INVITEs go through rtpengine too: hold, unhold, and the echo is back.
      await must(page, 'hold', call);
      assert.equal((await callIn(page, call, 'established')).held.local, true);
      await must(page, 'unhold', call);
      assert.equal((await callIn(page, call, 'established')).held.local, false);
      const again = await hearEachOther([page]);
      assert.ok(again.ok, `the echo after unhold: ${JSON.stringify(again.deltas)}`);

      await must(page, 'hangup', call);
      assert.equal((await waitEvent(page, 'callEnded', (d) => d.call === call)).cause, 'local');
      assert.equal(await sipp.exitCode(), 0, `sipp ran its scenario to the end:\n${sipp.errors()}`);
      const open = await page.evaluate((pick) => new Function(`return (${pick})()`)()?.connectionState ?? null, callPc.toString());
      assert.equal(open, null, 'the call\'s peer connection is closed');
    } finally {
      await closeAll(alice);
      await sipp.close();
    }
  });

  test('a sipp UAC with plain RTP calls alice: rtpengine offers her ICE and DTLS, she answers, the echo of her audio comes back', async () => {
    const alice = await user('alice', 2, { query: { trace: '1' } });
    let sipp;
    try {
      for (const p of alice.pages) await registered(p);
      // sipp calls alice through Kamailio, echoes what it receives, and hangs up after 4 s.
      sipp = await Sipp.start('uac.xml', kamailio.sipp, {
        echo: true, args: ['-s', 'alice', '-d', '4000', `127.0.0.1:${kamailio.udp}`],
      });
      const real = await oneReal(alice.pages);
      const dummy = alice.pages.find((p) => p !== real);
      const ring = await waitEvent(dummy, 'incoming');
      await must(dummy, 'answer', ring.call);
      await callIn(real, ring.call, 'established');
      // The offer alice got was rtpengine's WebRTC one, not sipp's plain RTP.
      const offer = body(await traced(real, false, 'INVITE'));
      assert.match(offer, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m, offer);
      assert.match(offer, /^a=fingerprint:/m, offer);
      assert.match(offer, /^a=candidate:/m, offer);
      // sipp got a plain RTP answer on rtpengine's address.
      const ok = sipp.messages().split('message received').find((m) => /\n\s*SIP\/2\.0 200 OK/.test(m) && /CSeq: 1 INVITE/.test(m));
      assert.ok(ok, `sipp received the 200:\n${sipp.messages()}`);
      const answer = body(ok.slice(ok.indexOf('SIP/2.0 200')));
      assert.match(answer, /^m=audio \d+ RTP\/AVP /m, answer);
      assert.doesNotMatch(answer, /a=(ice-ufrag|candidate|fingerprint|setup):/, answer);
      const audio = await hearEachOther([real]);
      assert.ok(audio.ok, `alice hears her echo: ${JSON.stringify(audio.deltas)}\nrtpengine log tail:\n${rtpengine.log().slice(-3000)}`);
      console.log(`# sipp -> alice through rtpengine: ${audio.deltas[0].packets} echoed packets and ${audio.deltas[0].energy.toFixed(3)} energy at alice in the check`);
      assert.equal((await waitEvent(dummy, 'callEnded', (d) => d.call === ring.call)).cause, 'remote');
      assert.equal(await sipp.exitCode(), 0, `sipp ran its scenario to the end:\n${sipp.errors()}`);
    } finally {
      await closeAll(alice);
      await sipp?.close();
    }
  });

  test('JsSIP alice calls the sipp UAS, then re-INVITEs from a fresh RTCPeerConnection (what a handover sends): sipp answers it, rtpengine bridges the new ICE and DTLS, the echo comes back', async () => {
    const sipp = await Sipp.start('uas.xml', kamailio.sipp, { echo: true });
    const alice = await jssipUser(browser, kamailio, 'alice');
    const a = alice.page;
    try {
      const id = await jssip(a, 'call', 'uas');
      await jssipCall(a, id, 'established');
      let audio = await hearEachOther([a]);
      assert.ok(audio.ok, `alice hears the echo: ${JSON.stringify(audio.deltas)}`);
      await startGapMeter(a);
      await sleep(300);
      const since = await pageNow(a);
      await jssip(a, 'freshPc');
      const answered = await pageNow(a);
      const gap = await waitGap(a, since, 'the echo on the fresh peer connection');
      assert.ok(gap.newPc && !gap.sameSsrc, JSON.stringify(gap));
      audio = await hearEachOther([a]);
      assert.ok(audio.ok, `the echo on the fresh peer connection: ${JSON.stringify(audio.deltas)}\nrtpengine log tail:\n${rtpengine.log().slice(-3000)}`);
      console.log(`# fresh peer connection toward sipp through rtpengine: re-INVITE answered ${(answered - since).toFixed(0)} ms after it began, echo gap at alice ${gap.gapMs.toFixed(1)} ms (first echoed packet ${(gap.newFirst - since).toFixed(1)} ms after the re-INVITE began)`);
      await stopGapMeter(a);
      const reinvites = sipp.messages().split('message received').filter((m) => /\n\s*INVITE sip:/.test(m));
      assert.equal(reinvites.length, 2, 'sipp got the INVITE and the re-INVITE');
      await jssip(a, 'hangup', id);
      await jssipCall(a, id, 'ended');
      assert.equal(await sipp.exitCode(), 0, `sipp ran its scenario to the end:\n${sipp.errors()}`);
    } finally {
      await closeAll(alice);
      await sipp.close();
    }
  });

  test('with rtpengine on, a call between two browsers is left alone: the SDP arrives as sent, audio both ways', async () => {
    const alice = await user('alice', 1, { query: { trace: '1' } });
    const bob = await user('bob', 1, { query: { trace: '1' } });
    const [a] = alice.pages;
    const [b] = bob.pages;
    await registered(a);
    await registered(b);
    const { call } = await must(a, 'call', 'bob');
    const ring = await waitEvent(b, 'incoming');
    await must(b, 'answer', ring.call);
    await callIn(a, call, 'established');
    const offer = body(await traced(a, true, 'INVITE'));
    assert.match(offer, /^a=candidate:/m);
    assert.equal(body(await traced(b, false, 'INVITE')), offer, 'the offer reached bob untouched');
    const answer = body(await traced(b, true, '200'));
    assert.match(answer, /^a=candidate:/m);
    assert.equal(body(await traced(a, false, '200')), answer, 'the answer reached alice untouched');
    const audio = await hearEachOther([a, b]);
    assert.ok(audio.ok, `audio both ways: ${JSON.stringify(audio.deltas)}`);
    await must(a, 'hangup', call);
    await waitEvent(b, 'callEnded', (d) => d.call === ring.call);
    assert.equal((await stateOf(a)).calls.length, 0);
    await closeAll(alice, bob);
  });
});
