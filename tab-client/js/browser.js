// The tab client's hand-written browser side: the same work as web-sys calls
// from Rust costs the wasm several times the bytes, and one file compresses
// better than several. Plumbing, with three exceptions: the gathering
// policy's decision (`useful`, `decide`, tested in Node), the options' type
// checks (`readOptions`, tested in Node; their values are checked in Rust)
// and the SIP instance id's making (`instanceId`, tested in Node).
// - Call media (tab-client/src/media/mod.rs has the Rust API around it): a
//   Factory (the microphone, a prewarmed call) and one Call per
//   RTCPeerConnection. A failure rejects (or throws) an array [code, ...fields]
//   that the Rust side turns into its MediaError; a call's events go to its
//   `on` callback as [kind, ...fields].
// - Socket, the SIP WebSocket (tab-client/src/sip_socket.rs).
// - Promise continuations (later.rs): each outcome to Rust with its id.
// - The page's events and state (listen.rs), localStorage, random bytes,
//   the instance id, an Error's parts, a phone event's listener argument,
//   the SharedWorker's port and the JS options
//   (`readOptions`: a list in the order PhoneOptions::from_js reads).
// - TabPhone's action methods and getters (`withMethods`): each method one
//   `dispatch` with its arguments, each getter one `field(n)`
//   (tab-client/src/js.rs): two wasm exports for them all.

// ---- Call media

// The name and message of a rejected or thrown value (DOMException or Error).
const parts = (e) => (e instanceof Error ? [e.name, e.message] : ['Error', typeof e == 'string' ? e : 'unknown error']);

// Run `f` (which may throw or reject) as the negotiation step `step`.
const step = async (step, f) => {
  try {
    return await f();
  } catch (e) {
    throw ['negotiation', step, ...parts(e)];
  }
};

// getUserMedia for `audio` (MediaTrackConstraints): the audio track.
const mic = async (audio) => {
  const devices = globalThis.navigator?.mediaDevices;
  if (!devices) throw ['unsupported', 'navigator.mediaDevices (a secure page is needed)'];
  let stream;
  try {
    stream = await devices.getUserMedia({ audio, video: false });
  } catch (e) {
    throw ['microphone', ...parts(e)];
  }
  const track = stream.getAudioTracks()[0];
  if (!track) throw ['microphone', 'NotFoundError', 'getUserMedia gave no audio track'];
  return track;
};

// Whether a `candidate:` line (RFC 8839 section 5.1) is enough to stop
// waiting soon: UDP, and server-reflexive or relay when `server`s are configured.
export const useful = (line, server) => {
  const f = line.replace(/^a=/, '').split(/[ \t\n\f\r]+/).filter((x) => x);
  const typ = f.indexOf('typ');
  const kind = typ < 0 ? undefined : f[typ + 1];
  return f[2]?.toLowerCase() == 'udp' && kind != null && (!server || kind == 'srflx' || kind == 'relay');
};

// The gathering policy's decision (GatheringPolicy in options.rs): at `now`,
// with the first useful candidate at `first` (null: none yet), `complete` the
// browser's state and `usable` whether the SDP holds a candidate. Returns
// [deadline] while waiting, else [deadline, end] with end 0 complete,
// 1 settled, 2 the cap (all times in ms from the same origin as `t0`).
export const decide = (p, t0, first, now, complete, usable) => {
  const cap = t0 + p.max;
  const deadline = first != null && !p.complete ? Math.min(cap, first + p.settle) : cap;
  if (complete && usable) return [deadline, 0];
  if (now >= deadline && now < cap) return [deadline, 1];
  if (now >= cap) return [deadline, 2];
  return [deadline];
};

// Run `apply` (the setLocalDescription that starts gathering) on `pc` and
// wait until gathering is good enough by policy `p`; the report is
// [elapsed ms, first useful ms or -1, candidates, end]. Listening starts
// before `apply`, so no early candidate is missed.
const gather = async (pc, p, apply) => {
  const t0 = performance.now();
  let first = null, count = 0, timer, done;
  const over = new Promise((resolve) => (done = resolve));
  const check = () => {
    const now = performance.now();
    const usable = !!pc.localDescription?.sdp.includes('\na=candidate:');
    const [deadline, end] = decide(p, t0, first, now, pc.iceGatheringState == 'complete', usable);
    clearTimeout(timer);
    if (end == null) timer = setTimeout(check, deadline - now);
    else done(usable ? [now - t0, first == null ? -1 : first - t0, count, end] : ['no_candidates', Math.floor(now - t0)]);
  };
  const onCandidate = (e) => {
    const line = e.candidate?.candidate;
    if (line) {
      count++;
      if (first == null && useful(line, p.server)) first = performance.now();
    }
    check();
  };
  pc.addEventListener('icecandidate', onCandidate);
  pc.addEventListener('icegatheringstatechange', check);
  try {
    await step('set_local', apply);
    check();
    return await over;
  } finally {
    clearTimeout(timer);
    pc.removeEventListener('icecandidate', onCandidate);
    pc.removeEventListener('icegatheringstatechange', check);
  }
};

// One call's media: its peer connection, microphone track (stopped on
// close), remote <audio> element and DTMF sender. `o` is the factory's
// options (MediaOptions::to_json, parsed).
export class Call {
  constructor(track, o, on) {
    const document = globalThis.document;
    if (!document) throw ['unsupported', 'document (call media runs in a page)'];
    let pc;
    try {
      pc = new RTCPeerConnection(o.config);
    } catch {
      throw ['unsupported', 'RTCPeerConnection'];
    }
    Object.assign(this, { pc, o, on, track, muted: false, held: false, closed: false, blocked: false });
    this.ready = this.report = null;
    const sender = pc.addTrack(track, new MediaStream([track]));
    this.use(sender, pc.getTransceivers().find((t) => t.sender == sender));
    this.ended(track);
    const audio = (this.audio = document.createElement('audio'));
    audio.setAttribute('data-tabphone-media', '');
    document.body?.append(audio);
    pc.addEventListener('track', (e) => {
      if (e.track.kind == 'audio') {
        audio.srcObject = new MediaStream([e.track]);
        this.play();
      }
    });
    pc.addEventListener('iceconnectionstatechange', () => this.emit('ice', pc.iceConnectionState));
    if (o.sink != null)
      this.output(o.sink).catch((e) => e[0] == 'output_device' && this.emit('failed', e[1], e[2]));
  }

  // Resolves once ICE has left new and checking (connected, failed...) or
  // after `ms`, whichever comes first.
  settled(ms) {
    const pc = this.pc;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('iceconnectionstatechange', check);
        resolve();
      };
      const check = () => pc.iceConnectionState != 'new' && pc.iceConnectionState != 'checking' && done();
      const timer = setTimeout(done, ms);
      pc.addEventListener('iceconnectionstatechange', check);
    });
  }

  emit(...event) {
    if (!this.closed) this.on?.(event);
  }

  open() {
    if (this.closed) throw ['closed'];
  }

  // Send with `sender` (of transceiver `transceiver`), its tones reported.
  use(sender, transceiver) {
    const dtmf = sender.dtmf;
    Object.assign(this, { sender, transceiver, dtmf });
    dtmf?.addEventListener('tonechange', (e) => {
      if (dtmf == this.dtmf) e.tone ? this.emit('tone', e.tone) : this.emit('done');
    });
  }

  ended(track) {
    track.addEventListener('ended', () => track == this.track && this.emit('ended'));
  }

  // The microphone sends sound unless muted or holding the peer (the offer
  // is sendonly then, so RTP still flows: silence), as SIP.js does.
  enable() {
    this.track.enabled = !this.muted && !this.held;
  }

  mute(muted) {
    this.muted = muted;
    this.enable();
  }

  hold(held) {
    this.held = held;
    this.enable();
  }

  direction(direction) {
    const t = this.transceiver;
    if (!t) return;
    try {
      t.direction = direction;
    } catch (e) {
      throw ['negotiation', 'set_direction', ...parts(e)];
    }
  }

  async offer(restart, hold) {
    this.open();
    const ready = this.ready;
    this.ready = null;
    if (ready != null && !restart && !hold) return ready;
    this.direction(hold ? 'sendonly' : 'sendrecv');
    this.hold(hold);
    const offer = await step('create_offer', () => this.pc.createOffer({ iceRestart: restart }));
    return this.local(offer);
  }

  async answer(sdp, direction) {
    this.open();
    this.ready = null;
    await this.remote('offer', sdp);
    await this.adopt();
    this.direction(direction);
    this.hold(direction == 'sendonly' || direction == 'inactive');
    const answer = await step('create_answer', () => this.pc.createAnswer());
    return this.local(answer);
  }

  async apply(sdp) {
    this.open();
    await this.remote('answer', sdp);
  }

  async rollback() {
    this.open();
    this.ready = null;
    await step('rollback', () => this.pc.setLocalDescription({ type: 'rollback' }));
    const current = this.transceiver?.currentDirection;
    this.hold(current == 'sendonly' || current == 'inactive');
  }

  remote(type, sdp) {
    return step('set_remote', () => this.pc.setRemoteDescription({ type, sdp }));
  }

  // Apply our offer or answer, gather by the policy, return the local SDP.
  async local(description) {
    const report = await gather(this.pc, this.o, () => this.pc.setLocalDescription(description));
    if (typeof report[0] == 'string') throw report;
    this.open();
    this.report = report;
    const sdp = this.pc.localDescription?.sdp;
    if (sdp == null) throw ['closed'];
    return sdp;
  }

  // A remote offer that holds us (sendonly, inactive) is not matched to the
  // transceiver our track was added with (JSEP 5.10 matches only sendrecv
  // and recvonly sections to them): the browser made another one for it,
  // which would never send. Our track goes on that one, ours is stopped (or
  // a later offer of ours would add a section), so that an unhold finds our
  // microphone. Nothing changes when ours was matched.
  async adopt() {
    const ours = this.transceiver;
    if (!ours || ours.mid != null) return;
    const offered = this.pc.getTransceivers().find((t) => t.mid != null && t.receiver?.track?.kind == 'audio');
    if (!offered) return;
    await step('replace_track', () => offered.sender.replaceTrack(this.track));
    ours.stop();
    this.use(offered.sender, offered);
  }

  // Queue DTMF `tones` (replacing tones still queued); throws when it cannot.
  tones(tones, duration, gap) {
    this.open();
    const dtmf = this.dtmf;
    if (!dtmf) throw ['dtmf_unavailable'];
    if (!/^[0-9A-Da-d*#,]+$/.test(tones)) throw ['bad_tones', tones];
    if (dtmf.canInsertDTMF === false) throw ['dtmf_unavailable'];
    try {
      dtmf.insertDTMF(tones, duration, gap);
    } catch (e) {
      throw e?.name == 'InvalidCharacterError' ? ['bad_tones', tones] : ['dtmf_unavailable'];
    }
  }

  // Switch the microphone to device `id` (the default when null), keeping
  // the mute state, without renegotiating.
  async input(id) {
    this.open();
    const audio = { ...this.o.audio };
    delete audio.deviceId;
    if (id != null) audio.deviceId = { exact: id };
    const track = await mic(audio);
    track.enabled = !this.muted && !this.held;
    try {
      await step('replace_track', () => this.sender.replaceTrack(track));
      this.open();
    } catch (e) {
      track.stop();
      throw e;
    }
    const old = this.track;
    this.track = track;
    this.ended(track);
    old.stop();
  }

  async output(id) {
    this.open();
    const audio = this.audio;
    if (!audio.setSinkId) throw ['output_device', 'NotSupportedError', 'this browser has no HTMLMediaElement.setSinkId'];
    try {
      await audio.setSinkId(id);
    } catch (e) {
      throw ['output_device', ...parts(e)];
    }
  }

  // play() now (inside a user gesture this lifts the autoplay block), the
  // outcome reported. AbortError means a newer play() or source superseded
  // this one (SIP.js #846): that one reports instead.
  play() {
    const audio = this.audio;
    if (this.closed || !audio.srcObject) return;
    audio.play().then(
      () => {
        this.blocked = false;
        this.emit('playing');
      },
      (e) => {
        const [name, message] = parts(e);
        if (name == 'NotAllowedError') {
          this.blocked = true;
          this.emit('blocked');
        } else if (name != 'AbortError') this.emit('failed', name, message);
      },
    );
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.track.stop();
    this.pc.close();
    const audio = this.audio;
    audio.pause();
    audio.srcObject = null;
    audio.remove();
  }
}

// Makes each call's Call, with the microphone kept open and a call with a
// gathered offer prepared ahead (`prewarm`) for the next outgoing call.
export class Factory {
  // `o`: MediaOptions::to_json.
  constructor(o) {
    Object.assign(this, { microphone: null, warm: null, warming: null, generation: 0 });
    this.configure(o);
  }

  // Options for calls made from now on.
  configure(o) {
    this.o = JSON.parse(o);
  }

  isWarm() {
    return !!this.warm && !this.warm.closed;
  }

  async prewarm() {
    const generation = this.generation;
    if (this.warming === generation || this.isWarm()) return;
    this.warming = generation;
    try {
      const call = await this.make(null);
      try {
        call.ready = await call.offer(false, false);
      } catch (e) {
        call.close();
        throw e;
      }
      if (this.generation != generation) call.close(); // Released meanwhile: keep nothing open.
      else {
        this.warm?.close();
        this.warm = call;
      }
    } finally {
      if (this.warming === generation) this.warming = null;
    }
  }

  async open() {
    (await this.track()).stop();
  }

  // A call reporting to `on`: for an outgoing one the prewarmed call when
  // ready, and with keepWarm the next is prepared a second later.
  async call(outgoing, on) {
    let call = outgoing ? this.warm : null;
    if (outgoing) this.warm = null;
    if (call && !call.closed) call.on = on;
    else call = await this.make(on);
    // A failure here is the next call's to report, when it asks again.
    if (outgoing && this.o.warm) setTimeout(() => this.prewarm().catch(() => {}), 1000);
    return call;
  }

  async make(on) {
    const track = await this.track();
    try {
      return new Call(track, this.o, on);
    } catch (e) {
      track.stop();
      throw e;
    }
  }

  // Close the microphone and the prepared call.
  release() {
    this.generation++;
    this.microphone?.stop();
    this.warm?.close();
    this.microphone = this.warm = null;
  }

  // A new clone of the open microphone's track, opening it if needed.
  async track() {
    const live = () => this.microphone?.readyState == 'live';
    if (live()) return this.microphone.clone();
    const generation = this.generation;
    const opened = await mic(this.o.audio);
    // Released meanwhile: this track is the caller's alone (its call stops it).
    if (this.generation != generation) return opened;
    // Another caller opened it meanwhile: keep one.
    if (live()) {
      opened.stop();
      return this.microphone.clone();
    }
    this.microphone = opened;
    return opened.clone();
  }
}

// ---- The SIP WebSocket: a WebSocket with the `sip` subprotocol whose events
// go to `on` as [kind, ...fields]: ['open', protocol], ['message', bytes] (a
// Uint8Array: a text frame as its UTF-8), ['error'], ['close', code, reason,
// clean].
const utf8 = new TextEncoder();

export class Socket {
  // Throws (a SyntaxError) for a URL the browser refuses.
  constructor(url, on) {
    const ws = (this.ws = new WebSocket(url, 'sip'));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => on(['open', ws.protocol]);
    ws.onmessage = ({ data }) => {
      if (typeof data == 'string') on(['message', utf8.encode(data)]);
      else if (data instanceof ArrayBuffer) on(['message', new Uint8Array(data)]);
    };
    ws.onerror = () => on(['error']);
    ws.onclose = (e) => on(['close', e.code, e.reason, e.wasClean]);
  }

  get open() {
    return this.ws.readyState == 1;
  }

  get buffered() {
    return this.ws.bufferedAmount;
  }

  get url() {
    return this.ws.url;
  }

  // A string as a text frame, a Uint8Array as a binary one.
  send(data) {
    this.ws.send(data);
  }

  close() {
    this.ws.close(1000);
  }

  // No event after this; the connection closes if it is not closed already.
  detach() {
    const ws = this.ws;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    if (ws.readyState < 2) this.close();
  }
}

// ---- localStorage, for the SIP instance id and the calls kept for a reload
// (tab-client/src/instance.rs, saved.rs). Without it (disabled, full, or
// outside a page) a read gives null and a write does nothing.
export const getItem = (key) => {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
};

// Store `value` under `key`, or remove the key when `value` is null.
export const setItem = (key, value) => {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {}
};

// Fill `bytes` (a Uint8Array) from the platform's cryptographic random
// source, from Math.random where there is none.
export const fillRandom = (bytes) => {
  try {
    crypto.getRandomValues(bytes);
  } catch {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.random() * 256;
  }
};

// The SIP instance id stored under `key` (tab-client/src/instance.rs), or a
// new version 4 UUID from fillRandom, stored (where storage works).
export const instanceId = (key) => {
  let id = getItem(key);
  if (!/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(id)) {
    const b = new Uint8Array(16);
    fillRandom(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    id = Array.from(b, (x, i) => (i > 3 && i < 11 && i % 2 == 0 ? '-' : '') + (x + 256).toString(16).slice(1)).join('');
    setItem(key, id);
  }
  return id;
};

// ---- The tab's port to the app's SharedWorker (tab-client/src/client.rs),
// started, each message's data to `on`. Throws when the worker cannot start.
export const openWorker = (url, name, on) => {
  const port = new SharedWorker(url, { type: 'module', name }).port;
  port.onmessage = (e) => on(e.data);
  port.start();
  return port;
};

// ---- The page (tab-client/src/listen.rs): its events and state.
// Call `on` at each of the space-separated `names` events of `target`
// ('window' or 'document'); returns the function that stops listening.
// Outside a page, nothing listens.
export const listen = (target, names, on) => {
  const t = globalThis[target];
  const list = t ? names.split(' ') : [];
  for (const name of list) t.addEventListener(name, on);
  return () => {
    for (const name of list) t.removeEventListener(name, on);
  };
};

// 0 outside a page; else 1, plus 2 when it is visible, plus 4 when it has the focus.
export const pageState = () => {
  const d = globalThis.document;
  return d ? 1 | (d.visibilityState == 'visible' ? 2 : 0) | (d.hasFocus() ? 4 : 0) : 0;
};

// Whether the browser says it is offline (false outside a page).
export const offline = () => globalThis.window?.navigator.onLine === false;

// ---- Promise continuations (tab-client/src/later.rs): `on([id, true,
// value])` or `on([id, false, reason])` once `p` settles.
export const settleInto = (p, id, on) =>
  p.then(
    (v) => on([id, true, v]),
    (e) => on([id, false, e]),
  );

// ---- Values for the Rust side: the name and message of an Error (a
// DOMException too), null for another value (tab-client/src/sip_socket.rs:
// error_parts); a phone event (PhoneEvent::to_json) as its listeners receive
// it (js.rs): its fields without `event`, an error's with code 'phone_error',
// a trace line as text, the registration or connection itself.
export const errorParts = (e) => (e instanceof Error ? [String(e.name), String(e.message)] : null);

export const eventDetail = (json) => {
  const { event, ...detail } = JSON.parse(json);
  if (event == 'error') detail.code = 'phone_error';
  return event == 'trace' ? detail.line : event == 'registration' || event == 'connection' ? detail[event] : detail;
};

// ---- The phone's JavaScript options `{sip, media}` (tab-client/src/phone/
// options.rs: PhoneOptions::from_js, which then checks their values): read
// and type-checked, in the order of that list, as
// [servers, user, password, domain, displayName, traceSip, expires,
//  iceServers ([urls, username, credential] each, sip's then media's),
//  keepWarm, outputDevice, inputDevice, echoCancellation, noiseSuppression,
//  autoGainControl, settleMs, maxMs, waitForComplete]
// with undefined for what is not set. Throws the message of the first bad field.
export const readOptions = (sip, media) => {
  const isObject = (v) => typeof v == 'object' && v !== null;
  const bad = (message) => {
    throw message;
  };
  // o[key], undefined when not set (or null, or o is no object).
  const get = (o, key) => {
    try {
      return isObject(o) ? (o[key] ?? undefined) : undefined;
    } catch {}
  };
  const typed = (o, key, what, wrong, fits) => {
    const v = get(o, key);
    if (v !== undefined && !fits(v)) bad(`${what}.${key}: ${wrong}`);
    return v;
  };
  const string = (o, key, what) => typed(o, key, what, 'not a string', (v) => typeof v == 'string');
  const flag = (o, key, what) => typed(o, key, what, 'not a boolean', (v) => typeof v == 'boolean');
  const whole = (v) => typeof v == 'number' && v >= 0 && v <= 4294967295 && v % 1 == 0;
  const number = (o, key, what) => typed(o, key, what, 'not a whole number of the right range', whole);
  const required = (key) => {
    const v = get(sip, key);
    if (typeof v != 'string') bad(`sip.${key}: a string is needed`);
    return v;
  };
  // A string or a list of strings, as a list of its own.
  const urls = (v, what, missing) => {
    if (typeof v == 'string') return [v];
    if (!Array.isArray(v)) bad(`${what}: ${missing}`);
    for (const url of v) if (typeof url != 'string') bad(`${what}: not a list of strings`);
    return Array.from(v);
  };
  const iceServers = (o, what) => {
    const list = get(o, 'iceServers');
    if (list === undefined) return [];
    if (!Array.isArray(list)) bad(`${what}: a list of {urls, username?, credential?} is needed`);
    return Array.from(list, (s) => [
      urls(get(s, 'urls'), what, 'each server needs urls'),
      string(s, 'username', what),
      string(s, 'credential', what),
    ]);
  };
  if (!isObject(sip)) bad('sip: an object {servers, user, password, domain} is needed');
  const options = [
    urls(get(sip, 'servers'), 'sip.servers', 'a URL or a list of URLs is needed'),
    required('user'),
    required('password'),
    required('domain'),
    string(sip, 'displayName', 'sip'),
    flag(sip, 'traceSip', 'sip'),
    number(sip, 'expires', 'sip'),
    iceServers(sip, 'sip.iceServers'),
  ];
  if (media == null) return options;
  if (!isObject(media)) bad('media: an object is needed');
  options[7].push(...iceServers(media, 'media.iceServers'));
  const gathering = get(media, 'gathering');
  const g = 'media.gathering';
  options.push(
    flag(media, 'keepWarm', 'media'),
    string(media, 'outputDevice', 'media'),
    string(media, 'inputDevice', 'media'),
    flag(media, 'echoCancellation', 'media'),
    flag(media, 'noiseSuppression', 'media'),
    flag(media, 'autoGainControl', 'media'),
    number(gathering, 'settleMs', g),
    number(gathering, 'maxMs', g),
    flag(gathering, 'waitForComplete', g),
  );
  return options;
};

// ---- TabPhone's action methods and getters (tab-client/src/js.rs; typed in
// typings.rs): each method is `dispatch(name, args)` with its arguments, the
// undefined ones left out; each getter `field(n)`. `withMethods` puts them on
// the class's prototype (as a class's own are: not enumerable) and returns
// the phone.
const defined = (args) => {
  for (const k in args) if (args[k] === undefined) delete args[k];
  return args;
};
const act = (phone, name, args) => phone.dispatch(name, defined(args));
const methods = {
  call(to) {
    return act(this, 'call', { to });
  },
  answer(call) {
    return act(this, 'answer', { call });
  },
  decline(call, status) {
    return act(this, 'decline', { call, status: status ?? undefined });
  },
  hangup(call) {
    return act(this, 'hangup', { call });
  },
  hold(call) {
    return act(this, 'hold', { call });
  },
  unhold(call) {
    return act(this, 'unhold', { call });
  },
  mute(call) {
    return act(this, 'mute', { call });
  },
  unmute(call) {
    return act(this, 'unmute', { call });
  },
  // `options` an object: its fields join the arguments; another value: `options`.
  dtmf(call, tones, options) {
    const args = defined({ call, tones });
    if (typeof options == 'object' && options !== null) Object.assign(args, options);
    else if (options != null) args.options = options;
    return this.dispatch('dtmf', args);
  },
  transfer(call, to) {
    return act(this, 'transfer', { call, to });
  },
  attendedTransfer(call, other) {
    return act(this, 'attendedTransfer', { call, with: other });
  },
  message(to, text) {
    return act(this, 'message', { to, text });
  },
  register() {
    return this.dispatch('register', null);
  },
  unregister() {
    return this.dispatch('unregister', null);
  },
};
// The getters, each `field(n)` (js.rs) with its number: their order.
const getters = ['role', 'epoch', 'tabId', 'tabs', 'instanceId'];
export const withMethods = (phone) => {
  const proto = Object.getPrototypeOf(phone);
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true });
  }
  getters.forEach((name, n) => Object.defineProperty(proto, name, { get() { return this.field(n); }, configurable: true }));
  return phone;
};
