// Audio checks for the browser tests: Chromium with fake media devices, every
// RTCPeerConnection of a page recorded, and getStats numbers (inbound-rtp
// packets and totalAudioEnergy) compared between two snapshots.
//
// Facts these rest on (../shared/notes/webrtc.md): energy grows only while the
// remote audio is played (tabphone plays it in an <audio> element); keep
// --mute-audio, or Chromium's echo canceller takes one page's played beep for
// echo and silences the other's fake microphone; the fake microphone's beep
// adds ~0.1-0.3 energy per second, silence ~0.
import { chromium } from 'playwright-core';
import { FLAGS } from './browser.mjs';

/** Fake microphone, no permission prompt, audio playable without a gesture, muted speakers. */
export const MEDIA_FLAGS = [
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required', '--mute-audio',
];

/** Debian's Chromium with the usual flags, fake media, and `extra` flags. */
export function launchWithMedia(extra = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, ...MEDIA_FLAGS, ...extra] });
}

/**
 * Record every RTCPeerConnection the pages of `context` create, in
 * `window.__tabphonePcs`, so that tests can read their statistics whoever made them.
 */
export async function recordPeerConnections(context) {
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || window.__tabphonePcs) return;
    window.__tabphonePcs = [];
    // A timeline for diagnostics (the handover benchmark prints it with BENCH_PCLOG=1):
    // [page ms, connection index (-1: getUserMedia), what], for getUserMedia and each
    // connection's negotiation calls (">" called, "<" resolved) and state changes.
    const log = (window.__pcLog = []);
    const at = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;
    const timed = (target, name, index) => {
      const native = target[name].bind(target);
      target[name] = (...args) => {
        log.push([at(), index, `${name}>`]);
        const p = native(...args);
        p?.then?.(() => log.push([at(), index, `${name}<`]), () => log.push([at(), index, `${name}!`]));
        return p;
      };
    };
    if (navigator.mediaDevices) timed(navigator.mediaDevices, 'getUserMedia', -1);
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.__tabphonePcs.push(this);
        const i = window.__tabphonePcs.length - 1;
        log.push([at(), i, 'new']);
        const states = { iceconnection: 'iceConnectionState', connection: 'connectionState',
          signaling: 'signalingState', icegathering: 'iceGatheringState' };
        for (const [ev, field] of Object.entries(states)) {
          this.addEventListener(`${ev}statechange`, () => log.push([at(), i, ev, this[field]]));
        }
        for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription']) timed(this, m, i);
      }
    };
  });
}

/**
 * A snapshot of what `page` receives: inbound-rtp audio packets and
 * totalAudioEnergy summed over its open peer connections (or over `pc`, a
 * function run in the page that returns the peer connections to read).
 */
export function inboundAudio(page, pick = null) {
  return page.evaluate(async (pickSource) => {
    // eslint-disable-next-line no-new-func
    const chosen = pickSource ? new Function(`return (${pickSource})()`)() : window.__tabphonePcs || [];
    const pcs = chosen.filter((pc) => pc && pc.connectionState !== 'closed');
    let packets = 0;
    let energy = 0;
    for (const pc of pcs) {
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          packets += s.packetsReceived || 0;
          energy += s.totalAudioEnergy || 0;
        }
      });
    }
    return { packets, energy, pcs: pcs.length, at: performance.now() };
  }, pick ? pick.toString() : null);
}

/** What changed between two snapshots. */
export function delta(before, after) {
  return { packets: after.packets - before.packets, energy: after.energy - before.energy };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (at most `timeoutMs`, a bound, not a timing assertion) until each page
 * in `pages` received at least `minPackets` more packets and `minEnergy` more
 * energy than in its first snapshot. Returns `{ ok, deltas }`, one delta per page.
 */
export async function hearEachOther(pages, { minPackets = 25, minEnergy = 0.05, timeoutMs = 8000, pick } = {}) {
  const start = await Promise.all(pages.map((p) => inboundAudio(p, pick)));
  const end = Date.now() + timeoutMs;
  let deltas = [];
  for (;;) {
    await sleep(250);
    const now = await Promise.all(pages.map((p) => inboundAudio(p, pick)));
    deltas = now.map((n, i) => delta(start[i], n));
    const ok = deltas.every((d) => d.packets >= minPackets && d.energy >= minEnergy);
    if (ok || Date.now() > end) return { ok, deltas };
  }
}

/**
 * What `page` receives over `ms`: `{ packets, energy }` grown. For checks of
 * silence (packets flow, energy ~0) and of a stopped stream (no packets).
 */
export async function receivedOver(page, ms, pick) {
  const before = await inboundAudio(page, pick);
  await sleep(ms);
  return delta(before, await inboundAudio(page, pick));
}
