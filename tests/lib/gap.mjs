// The audio gap meter: how long a page (bob) received no audio while its peer changed, e.g.
// alice's call moving to another tab (a new RTCPeerConnection: bob's connection is renegotiated
// and the audio comes in a new SSRC, the old inbound-rtp stat may vanish), or the same SSRC
// resuming after a silence (a hold, then unhold).
//
// `startGapMeter(page)` runs a loop in the page itself (no CDP round trip per sample): every
// ~10 ms it reads getStats() of every open RTCPeerConnection the page made (recorded in
// `window.__tabphonePcs` by tests/lib/audio.mjs, so a tabphone page and the JsSIP page alike)
// and keeps, per inbound-rtp audio SSRC, *runs*: stretches of packets with no silence longer
// than `silenceMs`, each with the arrival time of its first and last packet. Arrival times come
// from `lastPacketReceivedTimestamp` (the network thread's receive time), so the sampling
// interval bounds only the first-packet estimate of a run that starts with several packets
// between two samples (estimated at 20 ms per packet back from the last, never before the
// previous sample). A new SSRC always starts a new run; for the same SSRC a silence shorter than
// `silenceMs` is not seen. Times are wall-clock ms of the page: performance.timeOrigin +
// performance.now(), the clock of the test pages' event `at`s (`pageNow`).
//
// `gapAfter(page, since)`: the old stream is every run that began at or before `since` (the
// page time just before the change; with `{ newStream: true }`, every later run of those
// SSRCs too); the new one is the first other run that began after it, once
// the runs after `since` hold `minPackets` packets (a stream often starts with a packet or two,
// then a pause, then flows). The gap is the new run's first packet minus the old runs' last
// packet (negative: they overlapped). `silenceMs` (150 by default) is above the hiccups of a
// live stream seen here (up to ~70 ms at a stream's start) and below a hold or a handover.
import { until } from './phone.mjs';

/** The page's clock, as the meter and the test pages' events use it. */
export const pageNow = (page) => page.evaluate(() => performance.timeOrigin + performance.now());

/** Start (or restart, forgetting what it saw) the meter in `page`. */
export function startGapMeter(page, { intervalMs = 10, silenceMs = 150, ptimeMs = 20 } = {}) {
  return page.evaluate(([every, silence, ptime]) => {
    window.__gapMeter?.stop();
    const now = () => performance.timeOrigin + performance.now();
    // Chromium has reported stats times both as epoch ms and as performance time: take either.
    const wall = (t) => (t > 1e12 ? t : performance.timeOrigin + t);
    const meter = { runs: [], samples: 0, maxIntervalMs: 0, startedAt: now(), stopped: false };
    const seen = new Map(); // `${pc index}:${ssrc}` -> { packets, run }
    let previous = null;
    const sample = async () => {
      const at = now();
      const pcs = window.__tabphonePcs || [];
      for (const [index, pc] of pcs.entries()) {
        if (pc.connectionState === 'closed') continue;
        let report;
        try { report = await pc.getStats(); } catch { continue; }
        report.forEach((s) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'audio' || !s.lastPacketReceivedTimestamp) return;
          const key = `${index}:${s.ssrc}`;
          const entry = seen.get(key) ?? { packets: 0, run: null };
          seen.set(key, entry);
          const grew = (s.packetsReceived || 0) - entry.packets;
          if (grew <= 0) return;
          entry.packets = s.packetsReceived;
          const last = wall(s.lastPacketReceivedTimestamp);
          const first = Math.max(previous ?? -Infinity, last - (grew - 1) * ptime);
          if (entry.run && first - entry.run.last <= silence) {
            entry.run.last = last;
            entry.run.packets += grew;
          } else {
            entry.run = { pc: index, ssrc: s.ssrc, first, last, packets: grew };
            meter.runs.push(entry.run);
          }
        });
      }
      if (previous !== null) meter.maxIntervalMs = Math.max(meter.maxIntervalMs, at - previous);
      previous = at;
      meter.samples += 1;
      if (!meter.stopped) setTimeout(sample, every);
    };
    meter.stop = () => { meter.stopped = true; };
    window.__gapMeter = meter;
    sample();
  }, [intervalMs, silenceMs, ptimeMs]);
}

/** The runs so far and the loop's figures: `{ runs, samples, maxIntervalMs, meanIntervalMs }`. */
export function gapRuns(page) {
  return page.evaluate(() => {
    const m = window.__gapMeter;
    const elapsed = performance.timeOrigin + performance.now() - m.startedAt;
    return {
      runs: m.runs.map((r) => ({ ...r })),
      samples: m.samples,
      maxIntervalMs: m.maxIntervalMs,
      meanIntervalMs: m.samples > 1 ? elapsed / m.samples : null,
    };
  });
}

/**
 * The gap at `page` after page time `since`, once the runs after it hold `minPackets` packets:
 * `{ gapMs, oldLast, newFirst, oldSsrcs, newSsrc, sameSsrc, newPc, samples, maxIntervalMs }`,
 * or null while they do not (or there is no old run).
 */
export async function gapAfter(page, since, { minPackets = 5, newStream = false } = {}) {
  const { runs, samples, maxIntervalMs } = await gapRuns(page);
  const before = new Set(runs.filter((r) => r.first <= since).map((r) => r.ssrc));
  // With `newStream`, a run of an old SSRC that began after `since` (the old stream
  // stuttering, e.g. on a loaded machine) is still the old stream, not the new one.
  const isOld = (r) => r.first <= since || (newStream && before.has(r.ssrc));
  const old = runs.filter(isOld);
  const later = runs.filter((r) => !isOld(r)).sort((a, b) => a.first - b.first);
  if (!old.length || later.reduce((n, r) => n + r.packets, 0) < minPackets) return null;
  const [next] = later;
  const oldLast = Math.max(...old.map((r) => r.last));
  const oldSsrcs = [...new Set(old.map((r) => r.ssrc))];
  return {
    gapMs: next.first - oldLast,
    oldLast,
    newFirst: next.first,
    oldSsrcs,
    newSsrc: next.ssrc,
    sameSsrc: oldSsrcs.includes(next.ssrc),
    newPc: !old.some((r) => r.pc === next.pc),
    samples,
    maxIntervalMs,
  };
}

/**
 * Wait (at most `timeoutMs`, a bound) for `gapAfter(page, since)`; a timeout fails with the
 * runs the meter saw.
 */
export function waitGap(page, since, what, timeoutMs = 20000, options = {}) {
  return until(() => gapAfter(page, since, options), what, timeoutMs).catch(async (e) => {
    const { runs, samples } = await gapRuns(page).catch(() => ({ runs: 'unreadable' }));
    const shown = Array.isArray(runs) ? runs.map((r) => ({ ...r, first: r.first - since, last: r.last - since })) : runs;
    throw new Error(`${e.message}\nthe meter's runs (ms after since), ${samples} samples: ${JSON.stringify(shown)}`);
  });
}

/** Stop the meter's loop in `page`. */
export const stopGapMeter = (page) => page.evaluate(() => window.__gapMeter?.stop());
