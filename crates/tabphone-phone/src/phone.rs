//! The phone: inputs, outputs, the run loop plumbing, results, and the
//! state publication. Start, stop and a call ending are in `stop.rs`. Actions are in `perform.rs`, the SIP events in
//! `sip_events.rs`, offer/answer exchanges and media replies in `nego.rs`.

use tabphone_sip::ua::{self, UserAgent};

use crate::call::Call;
use crate::config::Config;
use crate::error::{duration_text, ErrorCode, PhoneError};
use crate::event::PhoneEvent;
use crate::media::{MediaKind, MediaRequest};
use crate::resume::Inherited;
use crate::state::{
    CallDirection, Connection, DisconnectCause, EndedCall, PhoneState, Registration, STATE_VERSION,
};
use crate::timers::{Timer, Timers};
use crate::Instant;

/// What the glue feeds in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneInput<'a> {
    /// Connect and register. `unix_ms` is the wall clock at `now`: every time
    /// in the state is `unix_ms + (later now - this now)`. With `inherit`,
    /// take over the established calls of a previous real tab (see
    /// [`Inherited`]).
    Start {
        /// Milliseconds since the Unix epoch, now.
        unix_ms: u64,
        /// The last state a previous real tab published, to resume its calls.
        inherit: Option<Inherited<'a>>,
    },
    /// Stop, then [`PhoneEvent::Stopped`] (the modes are in `stop.rs` and the
    /// crate docs). `hang_up` and `unregister`: hang up every call,
    /// unregister, close (the app's `close()`). Neither: close at once, leave
    /// the binding and the established calls to a successor (a handover,
    /// cause `handed_over`). `unregister` alone: the same as neither when an
    /// established call is kept for a successor (a page reload), else
    /// unregister and close. `hang_up` alone: hang up every call, close
    /// without waiting for the answers, leave the binding.
    Stop {
        /// Remove the binding (unless a call is kept, without `hang_up`).
        unregister: bool,
        /// End every call (BYE, CANCEL, 480), or keep the established ones
        /// for a successor.
        hang_up: bool,
    },
    /// The socket of the last [`PhoneOutput::Connect`] opened.
    Opened,
    /// It closed or failed.
    Closed,
    /// A frame arrived on it (text frames as UTF-8 bytes).
    Received(&'a [u8]),
    /// The browser went online: reconnect when the phone was offline or not connected.
    Online,
    /// The browser went offline (noted in the state; the keepalive notices a dead socket).
    Offline,
    /// The browser refused to play call audio without a user gesture
    /// (`true`), or plays it again (`false`): the state's `audioBlocked`.
    AudioBlocked(bool),
    /// An action from the app; answered by exactly one [`PhoneOutput::Result`]
    /// with the same id. Ids must be unique among pending actions.
    Action {
        /// The caller's id.
        id: u64,
        /// Action name (`call`, `answer`, ...).
        name: &'a str,
        /// Its JSON arguments (`""` or `null` for none).
        args: &'a str,
    },
    /// The media layer's reply to [`PhoneOutput::Media`].
    Media {
        /// The request id.
        request: u64,
        /// The local SDP (offer, answer) or empty text; or why it failed.
        result: Result<String, String>,
    },
    /// [`Phone::poll_timeout`] passed.
    Timeout,
}

/// What the glue must do, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// A tag, then each variant's fields (as `Action`): less drop glue than
// with a niche tag.
#[repr(C)]
pub enum PhoneOutput {
    /// Open a WebSocket (subprotocol `sip`) to `url`, dropping any other.
    Connect {
        /// Server URL.
        url: String,
    },
    /// Send this text on the socket.
    Send(String),
    /// Close the socket.
    Close,
    /// Ask the media layer; reply with [`PhoneInput::Media`] (see [`crate::media`]).
    Media(MediaRequest),
    /// The one answer to an action.
    Result {
        /// The action's id.
        id: u64,
        /// Its result (JSON text of an object) or its coded error.
        result: Result<String, PhoneError>,
    },
    /// The state changed: publish this JSON text ([`PhoneState`]).
    State(String),
    /// Tell the app.
    Event(PhoneEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    Stopped,
    Running,
    /// Stop with unregister under way.
    Stopping,
}

/// Why the phone waits for a media reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// A tag, then the variant's fields (as `Action`): the `action` of `Mute`
// and `Dtmf` at one place.
#[repr(C)]
pub(crate) enum Purpose {
    /// The offer of our INVITE.
    CallOffer,
    /// The answer (or offer) of our 200 to the peer's INVITE.
    IncomingAnswer,
    /// The answer of the initial exchange applied (183, 200 or ACK).
    ApplyInitial,
    /// An offer for our re-INVITE.
    OwnOffer,
    /// The answer to our re-INVITE applied.
    OwnApply,
    /// The answer (or offer) to the peer's re-INVITE.
    RemoteAnswer,
    /// The ACK's answer applied.
    RemoteApply,
    /// The fresh offer of a call taken over from a previous real tab.
    ResumeOffer,
    /// The answer to its re-INVITE applied.
    ResumeApply,
    /// Its inherited mute carried to the new media.
    ResumeMute,
    /// Mute or unmute for this action.
    Mute { action: u64, muted: bool },
    /// DTMF for this action.
    Dtmf { action: u64 },
}

#[derive(Debug)]
pub(crate) struct Wait {
    /// The media request's id.
    pub request: u64,
    /// The call (the SIP core's handle: a live call's, unique among them).
    pub call: ua::CallId,
    pub purpose: Purpose,
}

/// The phone. See the crate docs for the contract.
pub struct Phone {
    pub(crate) config: Config,
    pub(crate) ua: Option<UserAgent>,
    pub(crate) run: Run,
    rng: u64,
    /// (monotonic, wall clock) at Start.
    pub(crate) clock: Option<(Instant, u64)>,
    pub(crate) online: bool,
    pub(crate) audio_blocked: bool,
    pub(crate) connection: Connection,
    pub(crate) registration: Registration,
    pub(crate) calls: Vec<Call>,
    pub(crate) ended: Vec<EndedCall>,
    /// Stopped without hang-up: the established calls left to a successor,
    /// as the last state shows them (until the next start).
    pub(crate) kept: Vec<crate::state::CallView>,
    /// The media replies awaited, in request order (ids only grow: a plain
    /// `Vec`, searched from the start).
    pub(crate) media: Vec<Wait>,
    next_media: u64,
    /// `register` (true) and `unregister` (false) actions waiting for the outcome.
    pub(crate) reg_waiters: Vec<(u64, bool)>,
    pub(crate) timers: Timers,
    out: Vec<PhoneOutput>,
    /// The JSON text of the last state published, with `rev` 0 (compared as
    /// text: equal texts are equal states, and the text is written anyway).
    published: Option<String>,
    pub(crate) rev: u64,
}

impl Phone {
    /// A stopped phone; feed [`PhoneInput::Start`].
    pub fn new(config: Config) -> Phone {
        Phone {
            rng: config.sip.seed.max(1),
            config,
            ua: None,
            run: Run::Stopped,
            clock: None,
            online: true,
            audio_blocked: false,
            connection: Connection::Disconnected { cause: DisconnectCause::NotStarted },
            registration: Registration::Unregistered,
            calls: Vec::new(),
            ended: Vec::new(),
            kept: Vec::new(),
            media: Vec::new(),
            next_media: 1,
            reg_waiters: Vec::new(),
            timers: Timers::default(),
            out: Vec::new(),
            published: None,
            rev: 0,
        }
    }

    /// Feed one input, then drain [`Phone::poll_output`].
    pub fn handle_input(&mut self, now: Instant, input: PhoneInput<'_>) {
        let mark = self.out.len();
        match input {
            PhoneInput::Start { unix_ms, inherit } => self.start(now, unix_ms, inherit),
            PhoneInput::Stop { unregister, hang_up } => self.stop(now, unregister, hang_up),
            PhoneInput::Opened => self.ua_input(now, ua::Input::Opened),
            PhoneInput::Closed => self.ua_input(now, ua::Input::Closed),
            PhoneInput::Received(data) => self.ua_input(now, ua::Input::Received(data)),
            PhoneInput::Online => {
                let was_offline = !std::mem::replace(&mut self.online, true);
                let connected = matches!(self.connection, Connection::Connected { .. });
                if self.run == Run::Running && (was_offline || !connected) {
                    self.ua_command(now, ua::Command::Reconnect);
                }
            }
            PhoneInput::Offline => self.online = false,
            PhoneInput::AudioBlocked(blocked) => self.set_audio_blocked(blocked),
            PhoneInput::Action { id, name, args } => self.on_action(now, id, name, args),
            PhoneInput::Media { request, result } => self.on_media(now, request, result),
            PhoneInput::Timeout => self.on_timeout(now),
        }
        self.drain_ua(now);
        if self.run == Run::Stopped {
            self.ua = None;
        }
        self.publish(mark);
    }

    /// Next output, until `None`. Perform them in order.
    pub fn poll_output(&mut self) -> Option<PhoneOutput> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// When to feed [`PhoneInput::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ua = self.ua.as_ref().and_then(UserAgent::poll_timeout);
        match (ua, self.timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The state as last published (`None` before the first input).
    pub fn state(&self) -> Option<PhoneState> {
        // The text is ours, written by the state's writer: it reads back
        // (the round trip is tested, `json/oracle.rs`).
        let state = PhoneState::parse(self.published.as_deref()?);
        debug_assert!(state.is_ok(), "the published state reads back: {state:?}");
        let state = state.ok()?;
        Some(PhoneState { rev: self.rev, ..state })
    }

    /// The state as last published lists a call (live, or kept for a
    /// successor after a stop): what a reloaded page could take over.
    pub fn has_calls(&self) -> bool {
        // The last state published lists the live calls and the kept ones
        // (it is published at the end of every input).
        self.published.is_some() && !(self.calls.is_empty() && self.kept.is_empty())
    }

    // ----- plumbing -----

    pub(crate) fn push(&mut self, o: PhoneOutput) {
        self.out.push(o);
    }

    pub(crate) fn event(&mut self, e: PhoneEvent) {
        self.out.push(PhoneOutput::Event(e));
    }

    pub(crate) fn ua_input(&mut self, now: Instant, input: ua::Input<'_>) {
        if let Some(ua) = self.ua.as_mut() {
            ua.handle_input(now, input);
        }
    }

    pub(crate) fn ua_command(&mut self, now: Instant, c: ua::Command) {
        self.ua_input(now, ua::Input::Command(c));
    }

    /// Perform what the user agent asks, and react to its events (which may
    /// give it more commands: their outputs join the same queue).
    pub(crate) fn drain_ua(&mut self, now: Instant) {
        while let Some(o) = self.ua.as_mut().and_then(UserAgent::poll_output) {
            match o {
                ua::Output::Connect { url } => self.push(PhoneOutput::Connect { url }),
                ua::Output::Send(text) => self.push(PhoneOutput::Send(text)),
                ua::Output::Close => self.push(PhoneOutput::Close),
                ua::Output::Event(e) => self.on_sip_event(now, e),
                _ => {}
            }
        }
    }

    /// splitmix64 over the seed of [`Config::sip`].
    pub(crate) fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A call id: 16 hex digits.
    pub(crate) fn random_id(&mut self) -> String {
        crate::call::hex_id(self.next_random())
    }

    /// Wall-clock milliseconds at `now` (see [`PhoneInput::Start`]).
    pub(crate) fn unix_ms(&self, now: Instant) -> u64 {
        self.clock.map_or(0, |(t0, ms)| ms + now.saturating_duration_since(t0).as_millis() as u64)
    }

    pub(crate) fn call_index(&self, id: &str) -> Option<usize> {
        self.calls.iter().position(|c| c.id == id)
    }

    /// The ids of the calls `pick` chooses, in order: to end them one by one.
    pub(crate) fn call_ids(&self, pick: &dyn Fn(&Call) -> bool) -> Vec<String> {
        let mut ids = Vec::new();
        for c in &self.calls {
            if pick(c) {
                ids.push(c.id.clone());
            }
        }
        ids
    }

    pub(crate) fn call_index_ua(&self, ua: ua::CallId) -> Option<usize> {
        self.calls.iter().position(|c| c.ua == ua)
    }

    pub(crate) fn is_connected(&self) -> bool {
        matches!(self.connection, Connection::Connected { .. })
    }

    /// Ask the media layer about call `call` (no reply awaited: see [`Phone::media_at`]).
    pub(crate) fn media_request(&mut self, call: String, kind: MediaKind) -> u64 {
        let id = self.next_media;
        self.next_media += 1;
        self.push(PhoneOutput::Media(MediaRequest { id, call, kind }));
        id
    }

    /// Ask the media layer about live call `i`; a reply is awaited for
    /// `purpose`, if given. The peer's SDP sent notes its fingerprint.
    pub(crate) fn media_at(&mut self, i: usize, kind: MediaKind, purpose: Option<Purpose>) -> u64 {
        let c = &mut self.calls[i];
        let remote = match &kind {
            MediaKind::Answer { offer: sdp, .. } | MediaKind::ApplyAnswer { answer: sdp, .. } => Some(sdp),
            _ => None,
        };
        if let Some(fingerprint) = remote.and_then(|sdp| crate::sdp::fingerprint(sdp)) {
            c.remote_fingerprint = Some(fingerprint.to_owned());
        }
        let (call, name) = (c.ua, c.id.clone());
        let id = self.media_request(name, kind);
        if let Some(purpose) = purpose {
            self.media.push(Wait { request: id, call, purpose });
        }
        id
    }

    /// An error event about live call `i`.
    pub(crate) fn call_error(&mut self, i: usize, message: String) {
        let call = Some(self.calls[i].id.clone());
        self.event(PhoneEvent::Error { call, message });
    }

    /// An error event about live call `i`'s media: `media: {what}{reason}`
    /// (one formatting site for all of them: not inlined).
    #[inline(never)]
    pub(crate) fn media_error_event(&mut self, i: usize, what: &str, reason: &str) {
        self.call_error(i, format!("media: {what}{reason}"));
    }

    // ----- actions: exactly one result each -----

    /// Action `id` is pending: its timer is set ([`Timer::Action`]).
    pub(crate) fn admit(&mut self, now: Instant, id: u64) {
        self.timers.set(Timer::Action(id), now + self.config.action_timeout);
    }

    pub(crate) fn is_pending(&self, id: u64) -> bool {
        self.timers.is_set(Timer::Action(id))
    }

    /// Answer action `id`, unless it was answered already (timed out).
    pub(crate) fn resolve(&mut self, id: u64, result: Result<String, PhoneError>) {
        if self.timers.clear(Timer::Action(id)) {
            self.push(PhoneOutput::Result { id, result });
        }
    }

    /// Answer action `id` with `{}`.
    pub(crate) fn resolve_ok(&mut self, id: u64) {
        self.resolve(id, Ok(String::from("{}")));
    }

    /// Answer an action that is not pending: refused on arrival, or timed out.
    pub(crate) fn refuse(&mut self, id: u64, error: PhoneError) {
        self.push(PhoneOutput::Result { id, result: Err(error) });
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.ua.as_ref().and_then(UserAgent::poll_timeout).is_some_and(|t| t <= now) {
            self.ua_input(now, ua::Input::Timeout);
        }
        for timer in self.timers.expired(now) {
            match timer {
                // No longer pending (its timer is gone): answered here.
                Timer::Action(id) => {
                    let message = format!("no outcome within {}", duration_text(self.config.action_timeout));
                    self.refuse(id, PhoneError::new(ErrorCode::Timeout, message));
                }
                Timer::Resume => self.resume_expired(now),
            }
        }
    }

    // ----- start and stop (`stop.rs`), the stopped phone -----

    /// The phone is stopped: no connection, no registration, no calls.
    pub(crate) fn stopped(&mut self, cause: DisconnectCause) {
        self.run = Run::Stopped;
        self.set_connection(Connection::Disconnected { cause });
        self.set_registration(Registration::Unregistered);
        self.reg_waiters.clear();
        self.set_audio_blocked(false);
        self.event(PhoneEvent::Stopped);
    }

    pub(crate) fn set_audio_blocked(&mut self, blocked: bool) {
        if std::mem::replace(&mut self.audio_blocked, blocked) != blocked {
            self.event(PhoneEvent::AudioBlocked { blocked });
        }
    }

    pub(crate) fn set_connection(&mut self, c: Connection) {
        if self.connection != c {
            self.connection = c.clone();
            self.event(PhoneEvent::Connection { connection: c });
        }
    }

    pub(crate) fn set_registration(&mut self, r: Registration) {
        if self.registration != r {
            self.registration = r.clone();
            self.event(PhoneEvent::Registration { registration: r });
        }
    }

    /// Live call `i`'s view as the state shows it now ([`Call::refresh_view`]).
    pub(crate) fn refresh_view(&mut self, i: usize) {
        let dialog = self.ua.as_ref().and_then(|ua| ua.dialog(self.calls[i].ua));
        self.calls[i].refresh_view(dialog);
    }

    // ----- the state -----

    /// The state's text with `rev`: the live calls as the state shows them
    /// (their views refreshed), then those kept for a successor.
    fn state_text(&self, rev: u64) -> String {
        crate::json::write_state(&crate::json::StateParts {
            v: STATE_VERSION,
            rev,
            aor: &self.config.sip.aor,
            online: self.online,
            audio_blocked: self.audio_blocked,
            connection: &self.connection,
            registration: &self.registration,
            live: &self.calls,
            kept: &self.kept,
            ended: &self.ended,
        })
    }

    /// Publish the state if this input changed it, ahead of this input's other
    /// outputs (results and events that follow see it; an in-dialog request
    /// leaves after the state that records it).
    fn publish(&mut self, mark: usize) {
        for i in 0..self.calls.len() {
            self.refresh_view(i);
        }
        let text = self.state_text(0);
        if self.published.as_ref() == Some(&text) {
            return;
        }
        self.rev += 1;
        self.out.insert(mark, PhoneOutput::State(self.state_text(self.rev)));
        self.published = Some(text);
    }
}

/// Without the configuration and the user agent: they hold the password.
impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("aor", &self.config.sip.aor)
            .field("run", &self.run)
            .field("connection", &self.connection)
            .field("registration", &self.registration)
            .field("calls", &self.calls.len())
            .field("pending", &self.timers.actions().len())
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Outgoing, and the SIP core was not given it yet.
    pub(crate) fn ua_call_unsent(&self) -> bool {
        self.direction == CallDirection::Outgoing && self.state == crate::state::CallState::Initial
    }
}
