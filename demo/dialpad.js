// The dialer: the address input, the dial pad and the call button. While a
// call is in progress (established, not on hold) the pad's keys send DTMF to
// it instead of typing; "Dial instead" (or holding the call) gives the pad
// back to the input, e.g. to call someone for an attended transfer.

import { peerName } from './calls.js';

const KEYS = [
  ['1', ''], ['2', 'ABC'], ['3', 'DEF'], ['4', 'GHI'], ['5', 'JKL'], ['6', 'MNO'],
  ['7', 'PQRS'], ['8', 'TUV'], ['9', 'WXYZ'], ['*', ''], ['0', '+'], ['#', ''],
];
const VIA = 'tabphone-demo:dtmf-via';
const LAST = 'tabphone-demo:last-dialed';

const by = (root, id) => root.querySelector(`[data-testid="${id}"]`);

export class Dialpad {
  /** `root`: the dialer card; `hooks`: {act(label, key, fn), phone(), changed() (render again)}. */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.input = by(root, 'dial-input');
    this.via = by(root, 'dtmf-via');
    this.bar = by(root, 'dtmf-target');
    this.chosen = null; // call id picked with a call's Keypad button
    this.released = null; // call id whose tones were turned off ("Dial instead")
    this.target = null; // the call that gets the tones now
    this.sent = new Map(); // call id -> tones sent so far (shown in the bar)
    this.queue = Promise.resolve(); // tones go one action at a time
    this.via.value = localStorage.getItem(VIA) === 'info' ? 'info' : 'rtp';
    this.via.addEventListener('change', () => localStorage.setItem(VIA, this.via.value));
    this.buildPad();
    by(root, 'dial-form').addEventListener('submit', (e) => { e.preventDefault(); this.dial(); });
    by(root, 'dial-call').addEventListener('click', () => this.dial());
    by(root, 'dial-clear').addEventListener('click', () => { this.input.value = this.input.value.slice(0, -1); });
    document.addEventListener('keydown', (e) => this.onKey(e));
  }

  buildPad() {
    const pad = by(this.root, 'dialpad');
    for (const [key, letters] of KEYS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.testid = `key-${key}`;
      b.dataset.key = key;
      b.innerHTML = `<span class="digit"></span><span class="letters"></span>`;
      b.querySelector('.digit').textContent = key;
      b.querySelector('.letters').textContent = letters || '\u00a0';
      b.addEventListener('click', () => this.press(key));
      pad.append(b);
    }
  }

  /** Digits typed anywhere outside a field press the pad. */
  onKey(e) {
    if (this.root.hidden || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest?.('input, select, textarea, [contenteditable]')) return;
    if (!/^[0-9*#]$/.test(e.key)) return;
    e.preventDefault();
    const b = by(this.root, `key-${e.key}`);
    b.classList.add('pressed');
    setTimeout(() => b.classList.remove('pressed'), 120);
    this.press(e.key);
  }

  press(key) {
    const call = this.target;
    if (!call) {
      this.input.value += key;
      return;
    }
    this.sent.set(call.id, (this.sent.get(call.id) || '') + key);
    this.renderBar();
    const via = this.via.value;
    const label = `DTMF ${key} to ${peerName(call.peer)} (${via})`;
    this.queue = this.queue.then(() => this.hooks.act(label, null, () => this.hooks.phone().dtmf(call.id, key, { via })));
  }

  dial() {
    let to = this.input.value.trim();
    if (!to) {
      // An empty call button brings back the last number, as on a desk phone.
      this.input.value = localStorage.getItem(LAST) || '';
      this.input.focus();
      return;
    }
    localStorage.setItem(LAST, to);
    this.hooks.act(`call ${to}`, 'dial', async () => {
      const r = await this.hooks.phone().call(to);
      this.input.value = '';
      return r;
    });
  }

  /** Put an address in the input (recent calls' "Call"), ready to dial. */
  fill(uri) {
    this.input.value = uri;
    this.input.focus();
  }

  /** Tones for `id` from now on (a call's Keypad button). */
  choose(id) {
    this.chosen = id;
    this.released = null;
  }

  /** Which call the pad sends tones to, given the live calls. */
  update(calls, busyDial) {
    const usable = calls.filter((c) => c.state === 'established' && !c.held.local);
    const chosen = usable.find((c) => c.id === this.chosen);
    const auto = usable[usable.length - 1] || null;
    const target = chosen || auto;
    this.target = target && target.id !== this.released ? target : null;
    by(this.root, 'dial-call').disabled = busyDial;
    this.renderBar(target);
  }

  renderBar(candidate = this.target) {
    const bar = this.bar;
    bar.replaceChildren();
    bar.hidden = !candidate;
    if (!candidate) return;
    const name = peerName(candidate.peer);
    if (this.target) {
      const tones = this.sent.get(candidate.id) || '';
      const text = document.createElement('span');
      text.textContent = `Keypad sends tones to ${name}`;
      const sent = document.createElement('code');
      sent.dataset.testid = 'dtmf-sent';
      sent.textContent = tones;
      const off = document.createElement('button');
      off.type = 'button';
      off.className = 'link';
      off.textContent = 'Dial instead';
      off.addEventListener('click', () => { this.released = candidate.id; this.hooks.changed(); });
      bar.append(text, sent, off);
    } else {
      const text = document.createElement('span');
      text.textContent = `In a call with ${name}`;
      const on = document.createElement('button');
      on.type = 'button';
      on.className = 'link';
      on.textContent = 'Send tones';
      on.addEventListener('click', () => { this.released = null; this.hooks.changed(); });
      bar.append(text, on);
    }
  }
}
