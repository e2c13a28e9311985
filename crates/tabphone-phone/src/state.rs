//! The shared state: what the real tab publishes and every tab renders.
//!
//! Version 1, as JSON (camelCase keys; times are Unix milliseconds, see
//! the crate docs, "Now"):
//!
//! ```json
//! {
//!   "v": 1,
//!   "rev": 7,
//!   "aor": "sip:alice@example.com",
//!   "online": true,
//!   "audioBlocked": false,
//!   "connection": {"state": "connected", "url": "wss://sip.example.com"},
//!   "registration": {"state": "registered", "expires": 600, "bindings": 1, "at": 1700000000000},
//!   "calls": [{
//!     "id": "9f2c4e1a07b3d558", "direction": "outgoing",
//!     "peer": {"uri": "sip:bob@example.com", "name": null},
//!     "state": "established", "held": {"local": false, "remote": false}, "muted": false,
//!     "startedAt": 1700000001000, "answeredAt": 1700000002500,
//!     "replaces": null,
//!     "dialog": {
//!       "callId": "3f0a9c1e5b7d2468ace0", "localTag": "8d1c5e7a9b", "remoteTag": "as5f2c7e01",
//!       "localUri": "sip:alice@example.com", "remoteUri": "sip:bob@example.com",
//!       "localCseq": 2, "remoteCseq": null,
//!       "remoteTarget": "sip:bob@192.0.2.9;transport=ws",
//!       "routeSet": ["<sip:127.0.0.1:5066;transport=ws;lr>"]
//!     },
//!     "handovers": 0, "resuming": false
//!   }],
//!   "ended": [{"id": "77aa01c2e9f04b10", "cause": "failed", "status": 486, "at": 1700000000500}]
//! }
//! ```
//!
//! - `rev` grows by one with every published change; a reader keeps the
//!   highest. A new real tab that inherits the state continues it. `v`
//!   changes only when a field changes meaning or goes away; fields and
//!   enum values are added within a version (`handovers`, `resuming`, the
//!   causes `resume_failed`, `expired`, `not_resumable`), so a reader
//!   older than its writer may not know every value.
//! - `connection.state`: `connecting {url}` (first attempt), `connected
//!   {url}`, `recovering {cause, nextTry}` (lost or failing, trying again;
//!   `nextTry` is when the next round starts, `null` while an attempt is under
//!   way), `disconnected {cause}` (not started, stopped, handed over, or
//!   recovery gave up).
//! - `registration.state`: `unregistered`, `registered {expires, bindings,
//!   at}`, `failed {status}` (`null`: no answer).
//! - `calls`: live calls in creation order; `state` is one of `initial`
//!   (outgoing, the media layer is making the offer), `establishing`,
//!   `ringing` (incoming: ringing here; outgoing: 180/183 received),
//!   `established`, `terminating`. A call leaves `calls` only into `ended`.
//!   `dialog` is the SIP dialog a successor tab needs to resume the call
//!   ([`DialogState`]): `null` until the peer's tag is known (an outgoing
//!   call before a tagged answer, or one not sent yet), then current: the
//!   state that counts an in-dialog request is published before that
//!   request leaves the socket.
//! - `handovers`: how many times a new real tab took the call over;
//!   `resuming`: one is doing it now (its re-INVITE not answered and applied
//!   yet; the call stays `established`). Both added to version 1 (absent:
//!   `0`, `false`). After a stop that leaves calls to a successor, the
//!   stopped phone's last state still lists them (that is what the
//!   successor inherits, and every tab sees the call go on).
//! - `ended`: the last [`ENDED_KEPT`] calls that ended, newest last, with the
//!   [`EndCause`] fields flattened in (`cause`, and `status` for `failed` and
//!   `declined`).
//!
//! - `audioBlocked`: the real tab's browser refused to play call audio
//!   without a user gesture (autoplay policy); a gesture in the real tab
//!   plays it.
//!
//! Credentials (the password, digest answers) never appear in the state.
//!
//! Unknown fields are ignored when a state is read. The code that writes and
//! reads this format is in `json/`; the serde attributes on the types
//! describe the same format for the tests, which check the two against
//! each other.
//!
//! Every tab derives the same events from two consecutive states with
//! [`changes`]: incoming calls, ended calls, connection, registration and
//! `audioBlocked` changes.

use crate::error::PhoneError;
use crate::event::PhoneEvent;

/// The state format version.
pub const STATE_VERSION: u32 = 1;

/// How many ended calls the state keeps.
pub const ENDED_KEPT: usize = 8;

/// The whole shared state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct PhoneState {
    /// Format version, [`STATE_VERSION`].
    pub v: u32,
    /// Revision, one more at each published change.
    pub rev: u64,
    /// The account's address of record.
    pub aor: String,
    /// The browser says it is online (`Online`/`Offline` inputs).
    pub online: bool,
    /// The browser refused to play a call's audio without a user gesture
    /// (autoplay policy) in the real tab; a gesture there plays it
    /// (`AudioBlocked` inputs). Absent in older states: `false`.
    #[cfg_attr(any(test, feature = "serde"), serde(rename = "audioBlocked", default))]
    pub audio_blocked: bool,
    /// The connection to the SIP server.
    pub connection: Connection,
    /// The registration of this browser's binding.
    pub registration: Registration,
    /// Live calls, oldest first.
    pub calls: Vec<CallView>,
    /// The last calls that ended, oldest first.
    pub ended: Vec<EndedCall>,
}

impl PhoneState {
    /// Parse a published state (checks the version).
    pub fn parse(json: &str) -> Result<PhoneState, PhoneError> {
        let s = crate::json::read_state(json)
            .map_err(|e| PhoneError::new(crate::ErrorCode::BadArguments, format!("state: {e}")))?;
        if s.v != STATE_VERSION {
            let message = format!("state version {} is not {STATE_VERSION}", s.v);
            return Err(PhoneError::new(crate::ErrorCode::BadArguments, message));
        }
        Ok(s)
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        crate::json::write_state_of(self)
    }

    /// The live call with this id.
    pub fn call(&self, id: &str) -> Option<&CallView> {
        self.calls.iter().find(|c| c.id == id)
    }
}

/// The connection to the SIP server.
#[derive(Debug, Clone, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "state", rename_all = "snake_case")
)]
pub enum Connection {
    /// The first attempt is under way.
    Connecting {
        /// Server.
        url: String,
    },
    /// Connected.
    Connected {
        /// Server.
        url: String,
    },
    /// Lost or failing; trying again.
    Recovering {
        /// Why the last connection or attempt ended.
        cause: DisconnectCause,
        /// When the next round of attempts starts (Unix ms), `null` while one is under way.
        #[cfg_attr(any(test, feature = "serde"), serde(rename = "nextTry"))]
        next_try: Option<u64>,
    },
    /// Not connected, and not trying.
    Disconnected {
        /// Why.
        cause: DisconnectCause,
    },
}

impl Connection {
    /// The JSON text, `{"state": "connected", "url": ...}`.
    pub fn to_json(&self) -> String {
        crate::json::write_connection(self)
    }
}

/// Equal texts are equal values (the writer is tested against serde's);
/// smaller in the wasm than a derived comparison.
impl PartialEq for Connection {
    fn eq(&self, other: &Connection) -> bool {
        self.to_json() == other.to_json()
    }
}

/// Why there is no connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum DisconnectCause {
    /// Not started yet.
    NotStarted,
    /// The socket closed or failed.
    SocketClosed,
    /// An attempt took longer than the connection timeout.
    ConnectTimeout,
    /// A keepalive ping got no pong.
    NoPong,
    /// Reconnecting on purpose (network change, REGISTER unanswered).
    Requested,
    /// Recovery gave up (a round limit was configured).
    RecoveryFailed,
    /// Stopped (and unregistered).
    Stopped,
    /// Stopped for a successor tab, which takes over the binding and the calls.
    HandedOver,
    /// A cause this version does not name.
    Other,
}

/// The registration of this browser's binding.
#[derive(Debug, Clone, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "state", rename_all = "snake_case")
)]
// A tag, then the variant's fields (as `Action`): a little less code
// where registrations are written and read.
#[repr(C)]
pub enum Registration {
    /// Not registered.
    Unregistered,
    /// Registered.
    Registered {
        /// Granted expiry, seconds (refreshed before it runs out).
        expires: u32,
        /// Contacts the registrar lists for the account, this one included.
        bindings: u32,
        /// When it was granted (Unix ms).
        at: u64,
    },
    /// The last REGISTER failed.
    Failed {
        /// Its status; `null` when no answer came.
        status: Option<u16>,
    },
}

impl Registration {
    /// The JSON text, `{"state": "registered", "expires": ...}`.
    pub fn to_json(&self) -> String {
        crate::json::write_registration(self)
    }
}

/// Equal texts are equal values, as for [`Connection`].
impl PartialEq for Registration {
    fn eq(&self, other: &Registration) -> bool {
        self.to_json() == other.to_json()
    }
}

/// Who started the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum CallDirection {
    /// The peer called.
    Incoming,
    /// This phone called.
    Outgoing,
}

/// Call states: SIP.js's session states plus `ringing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum CallState {
    /// Outgoing, the media layer is making the offer; nothing sent yet.
    Initial,
    /// INVITE sent (no ringing yet), or incoming answered and waiting for its ACK.
    Establishing,
    /// Incoming: ringing here. Outgoing: the peer rings (180/183).
    Ringing,
    /// Answered and acknowledged.
    Established,
    /// CANCEL, BYE or a refusal sent; the end is near.
    Terminating,
}

/// The other party.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct Peer {
    /// SIP URI.
    pub uri: String,
    /// Display name, when one was given.
    pub name: Option<String>,
}

/// Hold, both ways.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct Held {
    /// This phone holds the call (its `hold` was answered).
    pub local: bool,
    /// The peer holds it (its last offer was `sendonly` or `inactive`).
    pub remote: bool,
}

/// One live call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct CallView {
    /// Stable id, chosen by the phone (not the SIP Call-ID).
    pub id: String,
    /// Who called.
    pub direction: CallDirection,
    /// The other party.
    pub peer: Peer,
    /// Session state.
    pub state: CallState,
    /// Hold both ways.
    pub held: Held,
    /// The microphone is muted (the media layer confirmed it).
    pub muted: bool,
    /// When the call was created here (Unix ms).
    pub started_at: u64,
    /// When it was established (Unix ms).
    pub answered_at: Option<u64>,
    /// The live call this incoming call replaces (attended transfer, RFC
    /// 3891), until it is established and the old one hung up.
    pub replaces: Option<String>,
    /// The SIP dialog, for a successor tab to resume the call; `null` until
    /// the peer's tag is known.
    pub dialog: Option<DialogState>,
    /// How many times a new real tab took this call over (a handover).
    /// Absent in older states: 0.
    #[cfg_attr(any(test, feature = "serde"), serde(default))]
    pub handovers: u32,
    /// A new real tab is taking the call over: its re-INVITE is not answered
    /// (and its answer applied) yet. Absent in older states: `false`.
    #[cfg_attr(any(test, feature = "serde"), serde(default))]
    pub resuming: bool,
    /// This side's DTLS role in the call, `"active"` (the DTLS client) or
    /// `"passive"`, from the last answer; `null` before one said it (and in
    /// older states). A successor's offer claims it again, so the peer
    /// stays the DTLS server across handovers ([`crate::sdp`]).
    #[cfg_attr(any(test, feature = "serde"), serde(default))]
    pub dtls: Option<crate::sdp::DtlsRole>,
}

/// What a successor needs to continue a dialog from a new connection (a
/// target-refresh re-INVITE with a CSeq past `localCseq`, along the route
/// set): RFC 3261 12. From the SIP core's
/// [`tabphone_sip::ua::DialogSnapshot`]; which side sent the INVITE is the
/// call's `direction`. No credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct DialogState {
    /// The SIP Call-ID.
    pub call_id: String,
    /// Our tag (From of our requests).
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our URI (From).
    pub local_uri: String,
    /// The peer's URI (To).
    pub remote_uri: String,
    /// The CSeq of our last request in the dialog.
    pub local_cseq: u32,
    /// The CSeq of the peer's last request, if any.
    pub remote_cseq: Option<u32>,
    /// The peer's Contact: the Request-URI of our requests.
    pub remote_target: String,
    /// Route headers of our requests, in order.
    pub route_set: Vec<String>,
}

/// Why a call ended. In JSON the fields sit beside the call's own:
/// `{"cause": "failed", "status": 486}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "cause", rename_all = "snake_case")
)]
// A tag, then the variant's status (as `Action`): every `status` at one
// place, less code where the causes are matched.
#[repr(C)]
pub enum EndCause {
    /// Hung up here (`hangup`, or the phone stopped).
    Local,
    /// Declined here (`decline`) with this status.
    Declined {
        /// Final status sent.
        status: u16,
    },
    /// The peer hung up or gave up calling.
    Remote,
    /// Refused or failed with this status (486 busy, 404, ...).
    Failed {
        /// Status.
        status: u16,
    },
    /// No answer to a request in 64*T1, or no ACK to our answer.
    Timeout,
    /// The connection dropped before the call was established.
    Transport,
    /// The media layer failed (no offer, answer or answer applied).
    MediaFailed,
    /// Hung up here after the peer accepted our transfer.
    Transferred,
    /// Replaced by another call (attended transfer, RFC 3891).
    Replaced,
    /// Left to a successor tab, which resumes it.
    HandedOver,
    /// A new real tab tried to take the call over and the peer refused its
    /// re-INVITE with this status (481: the peer no longer has the dialog;
    /// 408: no answer; 503: the connection dropped meanwhile).
    ResumeFailed {
        /// The re-INVITE's final status.
        status: u16,
    },
    /// Inherited by a new real tab too late to take over
    /// ([`crate::Config::resume_within`]): the peer has surely given up.
    Expired,
    /// The real tab went away while the call was being set up (or rang):
    /// only an established call can be taken over.
    NotResumable,
}

/// A call that left `calls`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct EndedCall {
    /// Its id.
    pub id: String,
    /// Why (flattened: `cause`, maybe `status`).
    #[cfg_attr(any(test, feature = "serde"), serde(flatten))]
    pub cause: EndCause,
    /// When (Unix ms).
    pub at: u64,
}

/// The events a tab derives from two consecutive published states (`None`:
/// no real phone, the state `null`), in this order: [`PhoneEvent::Connection`]
/// and [`PhoneEvent::Registration`] when they changed,
/// [`PhoneEvent::CallEnded`] for each call that ended, [`PhoneEvent::Incoming`]
/// for each new incoming call, [`PhoneEvent::AudioBlocked`] when the flag
/// changed (`null` counts as not blocked). Every tab, real or dummy, runs it
/// on the states it receives, so all of them report the same events.
///
/// - A call new in `next` is incoming when it rings; for a tab whose first
///   state this is (`prev` is `None`) only a ringing call counts, so a tab
///   that joins during a call is not told of it as a new one.
/// - A call ends when its id enters `ended`; ended calls already in the
///   first state a tab sees are history, not events.
/// - A live call that leaves without an `ended` entry (the real went away,
///   `next` is `None`) ends with [`EndCause::HandedOver`].
/// - The connection and registration of the first state are reported as changes.
pub fn changes(prev: Option<&PhoneState>, next: Option<&PhoneState>) -> Vec<PhoneEvent> {
    let mut out = Vec::new();
    if let Some(n) = next {
        if prev.map(|p| &p.connection) != Some(&n.connection) {
            out.push(PhoneEvent::Connection { connection: n.connection.clone() });
        }
        if prev.map(|p| &p.registration) != Some(&n.registration) {
            out.push(PhoneEvent::Registration { registration: n.registration.clone() });
        }
    }
    let live_next = |id: &str| next.is_some_and(|n| n.call(id).is_some());
    let ended_next = |id: &str| next.and_then(|n| n.ended.iter().find(|e| e.id == id));
    if let (Some(p), Some(n)) = (prev, next) {
        for e in &n.ended {
            if !p.ended.iter().any(|old| old.id == e.id) {
                out.push(PhoneEvent::CallEnded { call: e.id.clone(), cause: e.cause });
            }
        }
    }
    for c in prev.map_or(&[][..], |p| &p.calls[..]) {
        if !live_next(&c.id) && ended_next(&c.id).is_none() {
            out.push(PhoneEvent::CallEnded { call: c.id.clone(), cause: EndCause::HandedOver });
        }
    }
    for c in next.map_or(&[][..], |n| &n.calls[..]) {
        let new = prev.is_some_and(|p| p.call(&c.id).is_none());
        let first_sight = prev.is_none() && c.state == CallState::Ringing;
        if c.direction == CallDirection::Incoming && (new || first_sight) {
            let replaces = c.replaces.clone();
            out.push(PhoneEvent::Incoming { call: c.id.clone(), peer: c.peer.clone(), replaces });
        }
    }
    let blocked = |s: Option<&PhoneState>| s.is_some_and(|s| s.audio_blocked);
    if blocked(prev) != blocked(next) {
        out.push(PhoneEvent::AudioBlocked { blocked: blocked(next) });
    }
    out
}
