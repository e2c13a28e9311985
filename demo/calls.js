// The calls: the incoming-call banners, the call list with its buttons, and
// the recent (ended) calls, all rendered from the shared state, the same in
// every tab. The recent list also keeps what this tab saw end before (a new
// real tab publishes a state without the old real's ended calls). Call items are kept by id across renders, so an open transfer
// panel or a half-typed address survives state changes.

const $in = (root, id) => root.querySelector(`[data-testid="${id}"]`);

/** "Bob" or "bob" from a peer {uri, name}. */
export function peerName(peer) {
  if (!peer) return 'Unknown';
  if (peer.name) return peer.name;
  const m = /^sips?:([^@;>]+)/.exec(peer.uri || '');
  return m ? decodeURIComponent(m[1]) : peer.uri || 'Unknown';
}

/** How many ended calls the recent list shows. */
const RECENT_KEPT = 20;

const STATE_LABEL = {
  initial: 'Starting…', establishing: 'Connecting…', ringing: 'Ringing…', established: 'In call',
  terminating: 'Ending…',
};

const CAUSE_LABEL = {
  local: 'hung up', remote: 'ended by the other side', timeout: 'no answer (timeout)',
  transport: 'connection lost', media_failed: 'media failed', transferred: 'transferred',
  replaced: 'replaced (transfer)', handed_over: 'the real tab left',
  resume_failed: 'lost moving to another tab', expired: 'too long without a tab to carry it',
  not_resumable: 'the tab carrying it left before it was answered',
};

/** Why a call ended, in words. */
export function endedText(e) {
  if (e.cause === 'declined') return `declined (${e.status})`;
  if (e.cause === 'failed') {
    const words = { 404: 'not found', 480: 'unavailable', 486: 'busy', 487: 'cancelled', 603: 'declined' };
    return `failed: ${e.status}${words[e.status] ? ` ${words[e.status]}` : ''}`;
  }
  return CAUSE_LABEL[e.cause] || e.cause;
}

/** 75 s -> "1:15"; 3700 s -> "1:01:40". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
}

function button(testid, label, className = '') {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.testid = testid;
  b.textContent = label;
  if (className) b.className = className;
  return b;
}

function avatar(peer) {
  const a = document.createElement('div');
  a.className = 'avatar';
  a.textContent = peerName(peer).slice(0, 1).toUpperCase();
  return a;
}

export class CallsView {
  /**
   * `ui`: {banners, list, empty, recent, recentCard}; `hooks`: {act(label, key,
   * fn), busy(key), phone(), dtmfTarget(), setDtmfTarget(id), redial(uri)}.
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.items = new Map(); // call id -> li
    this.peers = new Map(); // call id -> {peer, direction}, for the recent list
    this.last = null; // call id -> what `changes` last said about it
    this.history = new Map(); // call id -> ended call {id, cause, status?, at}, newest last
  }

  /** What changed in the calls since the last state, in words (for the log). */
  changes(state) {
    const lines = [];
    const seen = new Map();
    for (const c of state?.calls || []) {
      const now = {
        state: c.state === 'ringing' && c.direction === 'incoming' ? 'incoming'
          : STATE_LABEL[c.state]?.replace('…', '').toLowerCase() || c.state,
        held: c.held.local ? 'on hold' : 'resumed',
        remote: c.held.remote ? 'held by the other side' : 'resumed by the other side',
        muted: c.muted ? 'muted' : 'unmuted',
      };
      const before = this.last?.get(c.id);
      // A new incoming call is logged by the `incoming` event.
      const said = Object.keys(now).filter((k) => (before ? before[k] !== now[k] : k === 'state' && now.state !== 'incoming'))
        .map((k) => now[k]);
      if (said.length) lines.push(`${c.direction === 'incoming' ? 'call from' : 'call to'} ${peerName(c.peer)}: ${said.join(', ')}`);
      seen.set(c.id, now);
    }
    this.last = seen;
    return lines;
  }

  render(state) {
    const calls = state?.calls || [];
    for (const c of calls) this.peers.set(c.id, { peer: c.peer, direction: c.direction });
    this.renderIncoming(calls.filter((c) => c.direction === 'incoming' && c.state === 'ringing' && !c.replaces));
    this.renderCalls(calls);
    for (const e of state?.ended || []) this.ended(e);
    this.renderRecent();
  }

  /** Keep an ended call ({id, cause, status?, at}) in the recent list. */
  ended(e) {
    if (this.history.has(e.id)) return;
    this.history.set(e.id, e);
    if (this.history.size > RECENT_KEPT) this.history.delete(this.history.keys().next().value);
  }

  /** Update the call timers (once a second). */
  tick() {
    for (const li of this.items.values()) {
      const at = Number(li.dataset.answeredAt);
      if (at) $in(li, 'call-timer').textContent = duration(Date.now() - at);
    }
  }

  renderIncoming(ringing) {
    const box = this.ui.banners;
    const ids = new Set(ringing.map((c) => c.id));
    for (const el of [...box.children]) if (!ids.has(el.dataset.callId)) el.remove();
    for (const c of ringing) {
      let el = box.querySelector(`[data-call-id="${c.id}"]`);
      if (!el) {
        el = this.incomingBanner(c);
        box.append(el);
      }
      for (const b of el.querySelectorAll('button')) b.disabled = this.hooks.busy(`${c.id}:answer`);
    }
  }

  incomingBanner(c) {
    const el = document.createElement('div');
    el.className = 'banner incoming';
    el.dataset.testid = 'incoming';
    el.dataset.callId = c.id;
    const who = document.createElement('div');
    who.className = 'who';
    const name = document.createElement('b');
    name.textContent = peerName(c.peer);
    const uri = document.createElement('small');
    uri.textContent = c.peer.uri;
    who.append(name, ' is calling', document.createElement('br'), uri);
    const answer = button('answer', 'Answer', 'primary');
    const decline = button('decline', 'Decline', 'danger');
    const phone = this.hooks.phone;
    answer.addEventListener('click', () => this.hooks.act(`answer ${peerName(c.peer)}`, `${c.id}:answer`,
      () => phone().answer(c.id)));
    decline.addEventListener('click', () => this.hooks.act(`decline ${peerName(c.peer)}`, `${c.id}:answer`,
      () => phone().decline(c.id, 603)));
    const ring = avatar(c.peer);
    ring.classList.add('ringing');
    el.append(ring, who, answer, decline);
    return el;
  }

  renderCalls(calls) {
    const ids = new Set(calls.map((c) => c.id));
    for (const [id, li] of this.items) {
      if (!ids.has(id)) { li.remove(); this.items.delete(id); }
    }
    this.ui.empty.hidden = calls.length > 0;
    const target = this.hooks.dtmfTarget();
    for (const c of calls) {
      let li = this.items.get(c.id);
      if (!li) {
        li = this.callItem(c);
        this.items.set(c.id, li);
      }
      this.ui.list.append(li); // keeps creation order
      this.updateItem(li, c, calls, target);
    }
  }

  /** The item of one call: built once, updated by `updateItem`. */
  callItem(c) {
    const li = document.createElement('li');
    li.className = 'call';
    li.dataset.testid = 'call';
    li.dataset.callId = c.id;
    li.innerHTML = `
      <div class="call-main">
        <div class="who"><div class="name"></div><div class="uri"></div></div>
        <div class="call-meta"><span class="state-label" data-testid="call-state"></span>
          <span class="timer" data-testid="call-timer"></span></div>
      </div>
      <div class="flags" data-testid="call-flags"></div>
      <div class="call-buttons"></div>
      <div class="transfer" data-testid="transfer-panel" hidden>
        <form class="row-inline" data-testid="blind-form">
          <input data-testid="transfer-to" placeholder="Transfer to (name or sip: address)" spellcheck="false">
          <button data-testid="transfer-blind">Transfer</button>
        </form>
        <form class="row-inline" data-testid="attended-form">
          <select data-testid="transfer-with" aria-label="Connect with"></select>
          <button data-testid="transfer-attended">Connect</button>
        </form>
        <p class="hint">Blind: the other side calls the target. Attended: call the target first (hold this
          call, dial), then connect the two calls.</p>
      </div>`;
    li.querySelector('.call-main').prepend(avatar(c.peer));
    li.querySelector('.name').textContent = peerName(c.peer);
    li.querySelector('.uri').textContent = `${c.direction === 'incoming' ? '↙' : '↗'} ${c.peer.uri}`;
    this.wireButtons(li, c);
    return li;
  }

  wireButtons(li, c) {
    const { act, phone } = this.hooks;
    const who = peerName(c.peer);
    const buttons = li.querySelector('.call-buttons');
    const mute = button('mute', 'Mute');
    const hold = button('hold', 'Hold');
    const keypad = button('keypad', 'Keypad');
    const transfer = button('transfer', 'Transfer');
    const hangup = button('hangup', 'Hang up', 'danger');
    buttons.append(mute, hold, keypad, transfer, hangup);
    mute.addEventListener('click', () => {
      const a = mute.dataset.action;
      act(`${a} ${who}`, `${c.id}:mute`, () => phone()[a](c.id));
    });
    hold.addEventListener('click', () => {
      const a = hold.dataset.action;
      act(`${a} ${who}`, `${c.id}:hold`, () => phone()[a](c.id));
    });
    keypad.addEventListener('click', () => this.hooks.setDtmfTarget(c.id));
    transfer.addEventListener('click', () => {
      const panel = $in(li, 'transfer-panel');
      panel.hidden = !panel.hidden;
      transfer.setAttribute('aria-expanded', String(!panel.hidden));
      if (!panel.hidden) $in(li, 'transfer-to').focus();
    });
    hangup.addEventListener('click', () => act(`hang up ${who}`, `${c.id}:hangup`, () => phone().hangup(c.id)));
    $in(li, 'blind-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const to = $in(li, 'transfer-to').value.trim();
      if (to) act(`transfer ${who} to ${to}`, `${c.id}:transfer`, () => phone().transfer(c.id, to));
    });
    $in(li, 'attended-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const other = $in(li, 'transfer-with').value;
      if (other) {
        act(`connect ${who} with ${peerName(this.peers.get(other)?.peer)}`, `${c.id}:transfer`,
          () => phone().attendedTransfer(c.id, other));
      }
    });
  }

  /** Bring an item up to date with its call (and the other calls, for attended transfer). */
  updateItem(li, c, calls, target) {
    const { busy } = this.hooks;
    const live = c.state === 'established';
    Object.assign(li.dataset, {
      state: c.state, direction: c.direction, held: String(c.held.local), heldRemote: String(c.held.remote),
      muted: String(c.muted), answeredAt: c.answeredAt ? String(c.answeredAt) : '',
      handovers: String(c.handovers || 0), resuming: String(!!c.resuming),
    });
    li.classList.toggle('tones', target === c.id);
    const ringingHere = c.direction === 'incoming' && c.state === 'ringing';
    $in(li, 'call-state').textContent = ringingHere ? 'Incoming…'
      : live && c.held.local ? 'On hold' : live && c.held.remote ? 'Held by the other side'
        : STATE_LABEL[c.state] || c.state;
    $in(li, 'call-timer').textContent = c.answeredAt ? duration(Date.now() - c.answeredAt) : '';
    const moved = c.handovers ? `Moved between tabs ${c.handovers === 1 ? 'once' : `${c.handovers} times`}` : '';
    const flags = [c.held.local && c.held.remote && 'Also held by the other side', c.muted && 'Muted',
      c.replaces && 'Replacing a call (transfer)', c.resuming && 'Moving to this browser\'s new phone tab…',
      moved].filter(Boolean);
    $in(li, 'call-flags').textContent = flags.join(' · ');
    $in(li, 'call-flags').hidden = !flags.length;
    const set = (id, show, { action, label, pressed, key } = {}) => {
      const b = $in(li, id);
      b.hidden = !show;
      if (action) b.dataset.action = action;
      if (label) b.textContent = label;
      if (pressed !== undefined) b.setAttribute('aria-pressed', String(pressed));
      b.disabled = busy(key || `${c.id}:${id}`) || c.state === 'terminating';
    };
    set('mute', live, { action: c.muted ? 'unmute' : 'mute', label: c.muted ? 'Unmute' : 'Mute', pressed: c.muted });
    set('hold', live, {
      action: c.held.local ? 'unhold' : 'hold', label: c.held.local ? 'Resume' : 'Hold', pressed: c.held.local,
    });
    set('keypad', live && !c.held.local, { pressed: target === c.id, key: '-' });
    set('transfer', live, { key: `${c.id}:transfer` });
    set('hangup', !ringingHere, { label: live ? 'Hang up' : c.direction === 'outgoing' ? 'Cancel' : 'Hang up' });
    if (!live) $in(li, 'transfer-panel').hidden = true;
    this.updateTransfer(li, c, calls);
  }

  updateTransfer(li, c, calls) {
    const select = $in(li, 'transfer-with');
    const others = calls.filter((o) => o.id !== c.id && o.state === 'established');
    const chosen = select.value;
    select.replaceChildren(...others.map((o) => {
      const opt = document.createElement('option');
      opt.value = o.id;
      opt.textContent = `with ${peerName(o.peer)}`;
      return opt;
    }));
    if (others.some((o) => o.id === chosen)) select.value = chosen;
    $in(li, 'attended-form').hidden = others.length === 0;
    const busy = this.hooks.busy(`${c.id}:transfer`);
    for (const b of li.querySelectorAll('.transfer button')) b.disabled = busy;
  }

  renderRecent() {
    const ended = [...this.history.values()].sort((x, y) => y.at - x.at);
    this.ui.recentCard.hidden = ended.length === 0;
    const items = ended.map((e) => {
      const li = document.createElement('li');
      li.dataset.testid = 'ended';
      li.dataset.callId = e.id;
      li.dataset.cause = e.cause;
      const known = this.peers.get(e.id);
      const dir = document.createElement('span');
      dir.className = 'dir';
      dir.textContent = known ? (known.direction === 'incoming' ? '↙' : '↗') : '·';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = known ? peerName(known.peer) : 'A call';
      const why = document.createElement('span');
      why.className = `cause ${e.cause}`;
      why.textContent = endedText(e);
      const at = document.createElement('time');
      at.textContent = new Date(e.at).toTimeString().slice(0, 5);
      li.append(dir, name, why, at);
      if (known) {
        const again = button('call-back', 'Call', 'small');
        again.addEventListener('click', () => this.hooks.redial(known.peer.uri));
        li.append(again);
      }
      return li;
    });
    this.ui.recent.replaceChildren(...items);
  }
}
