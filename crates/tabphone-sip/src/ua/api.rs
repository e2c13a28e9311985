//! What the agent and the app say to each other: [`Command`], [`Event`]
//! (with [`EndCause`]), and what the glue feeds and performs: [`Input`],
//! [`Output`]. The settings are in `config.rs`.

use std::time::Duration;

use crate::transport::Cause;

/// A call handle, chosen with [`super::UserAgent::new_call_id`] for outgoing calls
/// and by the agent for incoming ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

/// Session states (the SIP.js names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// A C int as the tag, not one byte: less code to read and compare it
// (measured in the shipped wasm).
#[repr(C)]
pub enum SessionState {
    /// Created, nothing sent or answered yet.
    Initial,
    /// INVITE sent or received, no ACK yet.
    Establishing,
    /// Answered and acknowledged.
    Established,
    /// BYE or CANCEL sent.
    Terminating,
    /// Over.
    Terminated,
}

/// What the app asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum Command {
    /// Connect (and register when [`super::Config::register`]).
    Start,
    /// Hang up every call, unregister, close; emits [`Event::Stopped`].
    Stop,
    /// Register now (or refresh).
    Register,
    /// Remove this instance's binding (expires=0).
    Unregister,
    /// Drop the connection and connect again (a network change).
    Reconnect,
    /// Set (or clear) the backup outbound proxy URL.
    SetBackupProxy(Option<String>),
    /// Use the backup proxy from the next connect on.
    UseBackupProxy(bool),
    /// Call `target` with an SDP offer.
    Call {
        /// Handle from [`super::UserAgent::new_call_id`].
        call: CallId,
        /// SIP URI, or a user at the AOR's domain.
        target: String,
        /// SDP offer.
        sdp: String,
        /// Extra headers for the INVITE (and its retry with credentials), name
        /// and value, as [`super::check_extra_header`] accepts them: `Replaces`
        /// from a Refer-To, `X-` headers of the app, ...
        headers: Vec<(String, String)>,
    },
    /// Answer an incoming call with an SDP answer (or an offer, if the INVITE had none).
    Answer {
        /// Call.
        call: CallId,
        /// SDP.
        sdp: String,
    },
    /// Refuse an incoming call (486, 603, 480, ...).
    Reject {
        /// Call.
        call: CallId,
        /// Status 300-699.
        status: u16,
    },
    /// End a call in any state: CANCEL, BYE or a 487/480 as fits.
    Hangup {
        /// Call.
        call: CallId,
    },
    /// Send a re-INVITE with this offer (an ICE restart after recovery, say).
    Reinvite {
        /// Call.
        call: CallId,
        /// SDP offer.
        sdp: String,
    },
    /// Re-INVITE with the offer's direction set to `sendonly`.
    Hold {
        /// Call.
        call: CallId,
        /// SDP offer.
        sdp: String,
    },
    /// Re-INVITE with the offer's direction set to `sendrecv`.
    Unhold {
        /// Call.
        call: CallId,
        /// SDP offer.
        sdp: String,
    },
    /// Answer a re-INVITE reported by [`Event::Reoffer`].
    AnswerReoffer {
        /// Call.
        call: CallId,
        /// SDP answer.
        sdp: String,
    },
    /// Refuse a re-INVITE reported by [`Event::Reoffer`] (488 Not Acceptable
    /// Here when the media cannot answer its offer): the call goes on with
    /// the session as it was (RFC 3261 14.2).
    RejectReoffer {
        /// Call.
        call: CallId,
        /// Final status, 400-699.
        status: u16,
    },
    /// Take over a dialog another agent (another tab, a page before a reload)
    /// held, from its [`super::DialogSnapshot`]: rebuild it as an established
    /// call, our CSeq [`super::RESUME_CSEQ_JUMP`] past the snapshot's, and
    /// send a re-INVITE with our Contact and `sdp` along its route set (a
    /// target refresh, RFC 3261 12.2). [`Event::ReinviteAnswered`] when the
    /// peer takes it; when it refuses ([`Event::ReinviteFailed`], but glare,
    /// which asks for a fresh offer as usual) the call ends. Needs the
    /// connection (not the registration); a bad snapshot is refused (an
    /// error, and the call ends with 400).
    Resume {
        /// A fresh handle ([`super::UserAgent::new_call_id`]).
        call: CallId,
        /// The dialog as [`super::UserAgent::dialog`] gave it.
        dialog: super::DialogSnapshot,
        /// SDP offer (an ICE restart from the new media).
        sdp: String,
    },
    /// Blind transfer (REFER), or attended when `replaces` names the other call.
    Refer {
        /// Call to transfer.
        call: CallId,
        /// Where to (for attended: ignored, the other call's peer is used).
        target: String,
        /// The consultation call for attended transfer.
        replaces: Option<CallId>,
    },
    /// Report progress of a transfer we were asked for ([`Event::Refer`]) as
    /// a NOTIFY with a `message/sipfrag` status line.
    NotifyRefer {
        /// Call that carried the REFER.
        call: CallId,
        /// Status of the new call (100, 180, 200, 486, ...).
        status: u16,
    },
    /// Send DTMF digits by INFO (`application/dtmf-relay`), one INFO per digit.
    Dtmf {
        /// Call.
        call: CallId,
        /// Digits `0-9*#A-D`.
        digits: String,
        /// Duration per digit, ms.
        duration_ms: u32,
    },
    /// Send a MESSAGE; the result comes as [`Event::MessageResult`].
    Message {
        /// App handle echoed in the result.
        id: u64,
        /// SIP URI, or a user at the AOR's domain.
        target: String,
        /// Content-Type.
        content_type: String,
        /// Body.
        body: String,
    },
}

impl Command {
    /// The call the command names, if any (for attended transfer, the call
    /// transferred).
    pub fn call(&self) -> Option<CallId> {
        match self {
            Command::Call { call, .. }
            | Command::Resume { call, .. }
            | Command::Answer { call, .. }
            | Command::Reject { call, .. }
            | Command::Hangup { call }
            | Command::Reinvite { call, .. }
            | Command::Hold { call, .. }
            | Command::Unhold { call, .. }
            | Command::AnswerReoffer { call, .. }
            | Command::RejectReoffer { call, .. }
            | Command::Refer { call, .. }
            | Command::NotifyRefer { call, .. }
            | Command::Dtmf { call, .. } => Some(*call),
            Command::Start
            | Command::Stop
            | Command::Register
            | Command::Unregister
            | Command::Reconnect
            | Command::SetBackupProxy(_)
            | Command::UseBackupProxy(_)
            | Command::Message { .. } => None,
        }
    }
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// We hung up.
    Local,
    /// The peer hung up (BYE or CANCEL).
    Remote,
    /// Refused or failed with this status.
    Failed(u16),
    /// No answer to a request in 64*T1, or no ACK to our 2xx.
    Timeout,
    /// The connection dropped before the call was established.
    Transport,
}

/// What the agent tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum Event {
    /// Connecting to `url`.
    Connecting {
        /// Server URL.
        url: String,
    },
    /// Connected.
    Connected {
        /// Server URL.
        url: String,
    },
    /// The connection dropped or an attempt failed.
    Disconnected {
        /// Why.
        cause: Cause,
    },
    /// Every server failed; another round follows in `retry_in`.
    RecoveryError {
        /// Delay before the next round.
        retry_in: Duration,
    },
    /// Recovery gave up (only with a round limit).
    RecoveryFailed,
    /// Back after an unexpected loss, registered again when registering.
    Recovered,
    /// Registered for `expires` seconds.
    Registered {
        /// Granted expiry.
        expires: u32,
        /// Contacts the registrar lists for the AOR, this one included (servers
        /// cap them; a stable [`super::Config::instance_id`] keeps it from growing).
        bindings: u32,
    },
    /// Not registered any more (after [`Command::Unregister`] or [`Command::Stop`]).
    Unregistered,
    /// A REGISTER failed; for an un-REGISTER (refused, unanswered, or lost
    /// with the connection) [`Event::Unregistered`] follows: the agent
    /// stops refreshing, the registrar drops the binding when it expires.
    RegistrationFailed {
        /// Final status, or `None` when there was no answer.
        status: Option<u16>,
    },
    /// A new incoming call.
    Incoming {
        /// Handle.
        call: CallId,
        /// From, as received.
        from: String,
        /// SDP offer, if the INVITE had one.
        sdp: Option<String>,
        /// The call it replaces (attended transfer), if any.
        replaces: Option<CallId>,
    },
    /// A provisional response to our INVITE.
    Progress {
        /// Call.
        call: CallId,
        /// 180, 183, ...
        status: u16,
        /// Early SDP.
        sdp: Option<String>,
    },
    /// The call is established; for an outgoing call `sdp` is the answer.
    Established {
        /// Call.
        call: CallId,
        /// SDP of the 2xx (outgoing) or of the ACK (incoming, offerless INVITE).
        sdp: Option<String>,
    },
    /// The call ended.
    Ended {
        /// Call.
        call: CallId,
        /// Why.
        cause: EndCause,
    },
    /// The peer sent a re-INVITE; answer with [`Command::AnswerReoffer`] (or
    /// refuse it with [`Command::RejectReoffer`]).
    Reoffer {
        /// Call.
        call: CallId,
        /// Its offer (None: send an offer in the answer).
        sdp: Option<String>,
    },
    /// The ACK of our 2xx brought no answer, though our 2xx carried an offer
    /// (the INVITE or re-INVITE had none; RFC 3261 13.2.1 puts the answer in
    /// the ACK). The offer is void: roll it back. After an initial INVITE
    /// (reported [`Event::Established`] just before) the call has no agreed
    /// session at all.
    AckWithoutAnswer {
        /// Call.
        call: CallId,
    },
    /// Our re-INVITE was answered (or, with SDP, the ACK of our 2xx that
    /// carried an offer).
    ReinviteAnswered {
        /// Call.
        call: CallId,
        /// SDP answer.
        sdp: Option<String>,
    },
    /// Our re-INVITE met glare (491 Request Pending, RFC 3261 14.1): its offer
    /// is void (roll it back). After a random wait the agent asks for a fresh
    /// one with [`Event::GlareRetry`].
    Glare {
        /// Call.
        call: CallId,
    },
    /// The wait after [`Event::Glare`] is over and no offer is under way:
    /// send a fresh offer now ([`Command::Reinvite`], [`Command::Hold`] or
    /// [`Command::Unhold`]). When the call is no longer established or the
    /// connection is down, [`Event::ReinviteFailed`] with 491 comes instead.
    GlareRetry {
        /// Call.
        call: CallId,
    },
    /// Our re-INVITE failed (the call goes on, unless the status was 408 or 481).
    ReinviteFailed {
        /// Call.
        call: CallId,
        /// Status.
        status: u16,
    },
    /// After recovery: send an ICE-restart offer with [`Command::Reinvite`].
    RecoveryOfferNeeded {
        /// Call.
        call: CallId,
    },
    /// The peer asks us to transfer (we answered 202); report with [`Command::NotifyRefer`].
    Refer {
        /// Call that carried the REFER.
        call: CallId,
        /// Refer-To URI (may carry `?Replaces=`).
        target: String,
    },
    /// Progress of our REFER: 202 when accepted, then the sipfrag statuses.
    ReferProgress {
        /// Call.
        call: CallId,
        /// Status.
        status: u16,
    },
    /// A DTMF digit by INFO.
    Dtmf {
        /// Call.
        call: CallId,
        /// Digit.
        digit: char,
        /// Duration, ms.
        duration_ms: u32,
    },
    /// A MESSAGE arrived (answered 200).
    MessageReceived {
        /// From.
        from: String,
        /// Content-Type.
        content_type: String,
        /// Body.
        body: String,
    },
    /// Final status of our MESSAGE (408 when unanswered).
    MessageResult {
        /// App handle.
        id: u64,
        /// Status.
        status: u16,
    },
    /// [`Command::Stop`] finished; the connection is closed.
    Stopped,
    /// Something went wrong that the app should know about: bad input from
    /// the server, or a command that cannot run.
    Error {
        /// The call it concerns (the one a refused command named), if any.
        call: Option<CallId>,
        /// What.
        message: String,
    },
    /// A message in or out ([`super::Config::trace`]), credentials redacted.
    Trace {
        /// The log text.
        line: String,
    },
}

/// What the glue must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum Output {
    /// Open a WebSocket (subprotocol `sip`) to `url`, dropping any other.
    Connect {
        /// URL.
        url: String,
    },
    /// Send this text on the socket.
    Send(String),
    /// Close the socket.
    Close,
    /// Tell the app.
    Event(Event),
}

/// Inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
// An input lives only for one `handle_input` call, so a `Command` kept
// inline (larger since it is `repr(C)`) costs one copy, not memory.
#[allow(clippy::large_enum_variant)]
pub enum Input<'a> {
    /// The socket of the last [`Output::Connect`] opened.
    Opened,
    /// It closed or failed.
    Closed,
    /// A message arrived on it.
    Received(&'a [u8]),
    /// An app command.
    Command(Command),
    /// [`super::UserAgent::poll_timeout`] passed.
    Timeout,
}
