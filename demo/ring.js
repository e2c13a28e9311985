// The ringtone: played by the real tab only (the one with the sound), while a
// call rings here. A two-tone ring (440 + 480 Hz, 2 s on, 4 s off) made with
// Web Audio, so there is no file to load. Browsers start an AudioContext
// suspended until a user gesture in the tab; then it stays silent (the
// banner and the tab title still show the call).

const ON_S = 2;
const PERIOD_S = 6;

export class Ringer {
  constructor() {
    this.context = null;
    this.nodes = null;
  }

  /** Ring or stop. */
  set(ringing) {
    if (ringing && !this.nodes) this.start();
    else if (!ringing && this.nodes) this.stop();
  }

  start() {
    try {
      this.context ||= new AudioContext();
    } catch {
      return; // no Web Audio: a silent ring
    }
    const ctx = this.context;
    ctx.resume().catch(() => {});
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const oscillators = [440, 480].map((f) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    // Schedule the on/off pattern for a minute; a longer ring starts over.
    for (let t = 0; t < 60; t += PERIOD_S) {
      gain.gain.setValueAtTime(0.08, ctx.currentTime + t);
      gain.gain.setValueAtTime(0, ctx.currentTime + t + ON_S);
    }
    const again = setTimeout(() => { this.stop(); this.start(); }, 60000);
    this.nodes = { gain, oscillators, again };
  }

  stop() {
    const { gain, oscillators, again } = this.nodes;
    clearTimeout(again);
    for (const o of oscillators) o.stop();
    gain.disconnect();
    this.nodes = null;
  }
}
