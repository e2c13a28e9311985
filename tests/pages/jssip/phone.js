// JsSIP as a phone for the browser tests (tests/pages/jssip/index.html). One UA registered over
// ws at the test Kamailio; calls both ways; the remote audio played in #remote.
//
// window.jssipPhone:
//   state()            {registration, calls: [{id, direction, state, held, cause, reinvites}]}
//                      state: 'ringing' (incoming), 'calling', 'established', 'ended'
//   call(to)           place a call to user `to`; resolves to its id at once (see state())
//   answer(id?)        answer a ringing call (the latest when no id)
//   hangup(id?)        end a call (the latest when no id)
//   hold(id?) / unhold(id?)   a re-INVITE (a=sendonly / a=sendrecv); resolves when it succeeded
//   pc(id?)            the call's RTCPeerConnection (session.connection), for getStats()
//   freshPc(id?)       what a handover does to the peer, done from this side: close the call's
//                      RTCPeerConnection, make a new one (new SSRC, ICE ufrag, DTLS fingerprint)
//                      with the same microphone, re-INVITE from it; resolves once answered.
//                      {closeOld: 'after'}: the old one stays open (and sending) until the new
//                      one is connected (ICE and DTLS), then closes.
//                      It swaps JsSIP's private `session._connection` (JsSIP 3.13): test-only.
// window.jssipEvents: [{name, detail, at}] (at: performance.timeOrigin + performance.now()).
import JsSIP from './pkg/jssip.min.js';

const q = new URLSearchParams(location.search);
const now = () => performance.timeOrigin + performance.now();
const events = [];
const log = (name, detail = {}) => events.push({ name, detail, at: now() });
window.jssipEvents = events;
if (q.has('debug')) JsSIP.debug.enable('JsSIP:*');

const user = q.get('user');
const domain = q.get('domain') || '127.0.0.1';
const ua = new JsSIP.UA({
  sockets: [new JsSIP.WebSocketInterface(q.get('server'))],
  uri: `sip:${user}@${domain}`,
  password: q.get('password') ?? `${user}-secret`,
  register: true,
  session_timers: q.has('sessionTimers'),
});

let registration = 'unregistered';
for (const state of ['registered', 'unregistered', 'registrationFailed']) {
  ua.on(state, (e) => {
    registration = state;
    log('registration', { state, cause: e?.cause ?? null });
  });
}

const calls = new Map();
const audio = document.getElementById('remote');

/** Play what the peer connection receives (energy stats grow only while it plays). */
function play(pc) {
  pc.addEventListener('track', (e) => {
    audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
    audio.play().catch((err) => log('error', { message: `play(): ${err}` }));
  });
}

ua.on('newRTCSession', ({ session, originator }) => {
  const call = {
    id: session.id, session, direction: originator === 'local' ? 'outgoing' : 'incoming',
    state: originator === 'local' ? 'calling' : 'ringing', held: false, cause: null, reinvites: [],
  };
  calls.set(call.id, call);
  if (session.connection) play(session.connection);
  else session.on('peerconnection', (e) => play(e.peerconnection));
  session.on('confirmed', () => { call.state = 'established'; log('established', { id: call.id }); });
  const end = (cause) => { call.state = 'ended'; call.cause = cause; log('ended', { id: call.id, cause }); };
  session.on('ended', (e) => end(`${e.originator}: ${e.cause}`));
  session.on('failed', (e) => end(`failed ${e.originator}: ${e.cause}`));
  session.on('hold', (e) => { if (e.originator === 'local') call.held = true; });
  session.on('unhold', (e) => { if (e.originator === 'local') call.held = false; });
  // Re-INVITEs from the peer: the Contact tells a target refresh (a handover) apart.
  session.on('reinvite', (e) => {
    const detail = { id: call.id, contact: e.request.getHeader('Contact'), cseq: e.request.cseq };
    call.reinvites.push(detail);
    log('reinvite', detail);
  });
  log('newCall', { id: call.id, direction: call.direction });
  if (call.direction === 'incoming' && q.get('answer') === 'auto') answer(call.id);
});

const MEDIA = { mediaConstraints: { audio: true, video: false } };

function pick(id) {
  const call = id ? calls.get(id) : [...calls.values()].at(-1);
  if (!call) throw new Error(`no such call: ${id}`);
  return call;
}

function answer(id) {
  pick(id).session.answer(MEDIA);
}

/** Run `method` (hold or unhold) and resolve once its re-INVITE succeeded. */
function reinvite(id, method) {
  const { session } = pick(id);
  return new Promise((resolve, reject) => {
    const started = session[method]({}, () => resolve(true));
    if (!started) reject(new Error(`${method}() refused in this state`));
  });
}

/** See freshPc above. */
function freshPc(id, { closeOld = 'before' } = {}) {
  const { session } = pick(id);
  const old = session.connection;
  const next = new RTCPeerConnection(old.getConfiguration());
  const stream = new MediaStream(old.getSenders().map((s) => s.track).filter(Boolean));
  for (const track of stream.getTracks()) next.addTrack(track, stream);
  play(next);
  if (closeOld === 'before') old.close();
  session._connection = next;
  log('freshPc', { id: session.id });
  const connected = new Promise((resolve) => {
    const check = () => next.connectionState === 'connected' && resolve();
    next.addEventListener('connectionstatechange', check);
  });
  return new Promise((resolve, reject) => {
    if (!session.renegotiate({}, () => resolve(true))) reject(new Error('renegotiate() refused in this state'));
  }).then(async (ok) => {
    if (closeOld === 'after') {
      await connected;
      old.close();
    }
    return ok;
  });
}

window.jssipPhone = {
  state: () => ({
    registration,
    calls: [...calls.values()].map(({ session, ...c }) => ({ ...c, reinvites: [...c.reinvites] })),
  }),
  call(to) {
    const session = ua.call(`sip:${to}@${domain}`, MEDIA);
    return session.id;
  },
  answer,
  hangup: (id) => pick(id).session.terminate(),
  hold: (id) => reinvite(id, 'hold'),
  unhold: (id) => reinvite(id, 'unhold'),
  pc: (id) => pick(id).session.connection,
  freshPc,
};
ua.start();
window.jssipReady = true;
