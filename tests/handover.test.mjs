// Handover of established calls to alice's next real tab (issue 10), in Chromium with fake
// media, Kamailio on loopback (and rtpengine for the sipp peer), audio proven by getStats at
// both ends, the audio gap measured at bob. Timings are printed, never asserted.
//
// No test yet: this file holds the setup and the recipes below, each piece proven on main
// before the handover landed (tests/peers.test.mjs, tests/plain-rtp.test.mjs, tests/tabs.test.mjs,
// tests/phone.test.mjs). Add the file to the xtask's list (xtask/src/main.rs, `test`) with its
// first test.
//
// ## Parties
// - alice: `user('alice', n)` (tests/lib/phone.mjs): n tabs of tests/pages/phone in one context;
//   `await registered(p)` for each, `real = await oneReal(alice.pages)` (tests/lib/browser.mjs),
//   `dummies = alice.pages.filter((p) => p !== real)`. The first tab opened hosts the SharedWorker
//   and is real first. Her call's peer connection in a page: `callPc` (run in the page).
// - bob, tabphone: `bob = await user('bob')`, `b = bob.pages[0]`; a call rings with
//   `waitEvent(b, 'incoming')`, `must(b, 'answer', ring.call)`; bob's view of the call:
//   `callIn(b, ring.call, 'established')`, `(await stateOf(b)).calls` (one, same id).
// - bob, JsSIP: `bob = await jssipUser(browser, kamailio, 'bob', { answer: 'auto' })`
//   (tests/lib/jssip.mjs), `b = bob.page`; `jssipCall(b, null, 'established')`,
//   `jssipState(b).calls` (one, same id), each re-INVITE received with its Contact in
//   `calls[0].reinvites` (a handover's target refresh shows alice's new Contact).
//   JsSIP needed nothing special: default options but `session_timers: false` (the page's
//   default). With JsSIP's default timers (`sessionTimers=1` in the query: Session-Expires 90,
//   JsSIP refreshes), its UPDATE at ~45 s got 501 from tabphone and JsSIP kept the call
//   (checked for 55 s). Its Contact is `sip:<random>@<random>.invalid;transport=ws;ob`.
// - bob, sipp (plain RTP through rtpengine): `Sipp.start('uas.xml', kamailio.sipp, { echo: true })`,
//   alice calls 'uas'; sipp echoes alice's audio, so prove audio at alice only:
//   `hearEachOther([newReal])`. uas.xml answers any number of re-INVITEs (hold offers with the
//   RFC 3264 direction) until the BYE; `sipp.messages()` has them; `sipp.exitCode()` is 0 after
//   the BYE. Needs `Rtpengine.start()` and `Kamailio.start({ rtpengine: rtpengine.ng })`.
//
// ## Audio and the gap at bob (tests/lib/gap.mjs, tests/lib/audio.mjs)
//   const audio = await hearEachOther([real, b]);          // before: ok, both ways
//   await startGapMeter(b);                                // in bob's page, every ~10 ms
//   const since = await pageNow(b);                        // just before the handover action
//   ... the action (a)-(f) ...
//   const next = await oneReal(survivors);                 // alice's new real
//   const gap = await waitGap(b, since, 'audio from the new real', 60000); // fails with the runs
//   // gap.gapMs (new stream's first packet - old stream's last), gap.newSsrc, gap.sameSsrc
//   assert.ok((await hearEachOther([next, b])).ok);        // after: both ways again
//   assert.equal(await kamailio.contacts('alice'), 1);     // tests/lib/kamailio.mjs (ul.lookup)
// Measured on main (no handover; tests/fresh-pc.test.mjs, run by hand): when the caller
// re-INVITEs from a fresh RTCPeerConnection (JsSIP's freshPc in tests/pages/jssip/phone.js:
// close the old, new one, re-INVITE), a Chromium bob (tabphone or JsSIP) renegotiates and the
// audio comes back in a new SSRC (the old inbound-rtp stat vanishes) after ~5-6.7 s: bob's ICE
// keeps the dead pair ~3.4-3.9 s, then DTLS waits for its next ClientHello retransmission (50 ms
// doubling); in 2 runs of 8 not within 60 s. While the old peer connection stays open, bob never
// switched (no DTLS for the new one within 15 s). Through rtpengine to sipp: 1.2-2.1 s
// (tests/plain-rtp.test.mjs). Wait for the gap with a wide bound (60 s above).
// The handover on main (a74cb15), one run each, alice in 3 tabs: when alice placed the call
// (she offered actpass, bob answered active: bob is the DTLS client), the gap at bob was
// 6.7 s (close, tabphone bob), 6.6 s (close, JsSIP bob), 6.5 s (takeOver, tabphone bob), as
// above; when bob placed it (alice is the DTLS client, her new offer keeps a=setup:active, so
// her new peer connection sends the ClientHello itself), 0.54 s (close), 0.60 s (takeOver),
// 0.62 s (close, JsSIP bob). Audio both ways after each, one contact, bob's call unchanged.
//
// ## How the real leaves, as the tests do it today
// (a) close: `await real.close()`; pagehide runs (the `close` message, tabs.test.mjs "after a
//     graceful close"). Without handlers: `closeWithoutHandlers(real)` (tests/lib/browser.mjs).
//     `real.close({ runBeforeUnload: true })` also runs beforeunload (checked on main: the next
//     tab becomes real, one contact; a prompt, if the app
//     warns before closing with a call, is then a dialog: `page.on('dialog', (d) => d.accept())`).
// (b) crash: `await crash(alice.context, real)` (CDP Page.crash). For a real that does not host
//     the worker: before the call, close the first tab (`await alice.pages[0].close()`; the
//     worker lives on), so that another tab is real, then call and crash that one
//     (tabs.test.mjs "after the real crashes").
// (c) crash of the worker's host: the first tab opened is the host and the first real:
//     `assert.equal(await oneReal(alice.pages), alice.pages[0])` (checked on main), then
//     `await crash(alice.context, alice.pages[0])`; the other tabs start a new worker.
// (d) freeze, then thaw: alice's pages need a short ping timeout: `user('alice', 2, { query:
//     { worker: '/pkg/worker.js?pingInterval=200&pingTimeout=1000' } })` (absolute path: the
//     page lives in /phone/). `await setFrozen(alice.context, real, true)` (CDP debugger pause +
//     lifecycle frozen), the next real takes over (936 ms here, checked on main);
//     `await setFrozen(alice.context, real, false)`,
//     then `real.waitForFunction(() => window.tabphone.role === 'dummy')` and check that it sent
//     nothing for the moved call (record its frames before freezing: `recordFramesSent` in
//     phone.test.mjs). Measured on main: a debugger-paused real's peer connection keeps sending
//     audio (bob got ~150 packets and growing energy per 3 s, 0.5 s and 8.5 s into the freeze),
//     and keeps its ICE alive: see the gap note above.
// (e) reload of the only tab: `alice = await user('alice', 1)`, `await a.reload()`, then
//     `await a.waitForFunction(() => window.phoneReady && window.tabphone.role === 'real')`;
//     the page's events start afresh (`window.phoneEvents`). Checked on main: real again,
//     registered, the same instance id, one contact.
// (f) takeOver (to come): `await must(dummy, 'takeOver')` (tests/lib/phone.mjs runs
//     `window.tabphone.takeOver()` in the page), then `assert.equal(await oneReal(alice.pages), dummy)`.
import { Kamailio } from './lib/kamailio.mjs';
import { Rtpengine } from './lib/rtpengine.mjs';
import { launchWithMedia } from './lib/audio.mjs';
import { useServers } from './lib/phone.mjs';

let browser;
let kamailio;
let rtpengine;

/**
 * rtpengine, Kamailio with rtpengine on (browser-to-browser calls are left alone), Chromium.
 * Attach with the first test, `before(startServers); after(stopServers);` (from node:test):
 * attached to a file with no test, node --test runs `before` but never `after`, and hangs.
 */
async function startServers() {
  rtpengine = await Rtpengine.start();
  kamailio = await Kamailio.start({ rtpengine: rtpengine.ng });
  browser = await launchWithMedia();
  useServers(browser, kamailio);
}

async function stopServers() {
  await browser?.close();
  await kamailio?.close();
  await rtpengine?.close();
}
