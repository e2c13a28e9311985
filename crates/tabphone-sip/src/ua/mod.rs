//! The user agent: registration, calls, in-dialog requests and recovery, on
//! top of the [`crate::transport`] policy and the [`crate::msg`] parser.
//!
//! ## Contract
//! - One input at a time through [`UserAgent::handle_input`] with the current
//!   time; then drain [`UserAgent::poll_output`] until `None`, and call
//!   [`UserAgent::handle_input`] with [`Input::Timeout`] at
//!   [`UserAgent::poll_timeout`]. Nothing here reads a clock, opens a socket or
//!   draws randomness of its own: tags, branches, Call-IDs and client nonces
//!   come from a generator seeded by [`Config::seed`].
//! - The glue opens one WebSocket (subprotocol `sip`) per [`Output::Connect`],
//!   drops the previous one, sends [`Output::Send`] text on it, and reports
//!   only the current socket's open, close and messages.
//! - Transactions follow RFC 3261 for a reliable transport: requests are never
//!   retransmitted, Timer B and F are 64*T1, a 2xx to an INVITE is resent
//!   (T1 doubling to T2) until its ACK comes or 64*T1 passes. Request
//!   retransmissions do not occur on WebSocket and are not absorbed.
//! - Every command gets an outcome as an [`Event`]; a command that cannot run
//!   (unknown call, wrong state) gets [`Event::Error`]. Bad input from the
//!   server gets [`Event::Error`] and, where RFC 3261 says so, a 400 or 505.
//! - SDP is opaque text from and to the media layer, except that
//!   [`Command::Hold`] and [`Command::Unhold`] set the direction attribute.
//!   An offer is never sent twice: after glare (491) the agent asks for a
//!   fresh one ([`Event::Glare`], then [`Event::GlareRetry`]).
//! - A dropped connection keeps every dialog. After reconnecting the agent
//!   registers again, then emits [`Event::Recovered`] and one
//!   [`Event::RecoveryOfferNeeded`] per established call: the app answers each
//!   with [`Command::Reinvite`] carrying an ICE-restart offer.
//! - The app may keep each call's dialog ([`UserAgent::dialog`], current
//!   after every input, before the requests it queued leave), and another
//!   agent on another connection take it over with [`Command::Resume`] (a
//!   target-refresh re-INVITE from that connection: a handover).
//! - Never panics on any input.
//!
//! ## Layout
//! Each concern in one file, each an `impl UserAgent` block (or a type it uses):
//! - `mod.rs`: this contract, [`UserAgent`], its inputs dispatched;
//!   `api.rs`: [`Command`], [`Event`], [`EndCause`], [`Input`],
//!   [`Output`], [`CallId`], [`SessionState`]; `config.rs`: [`Config`];
//! - `timer.rs`: the agent's own deadlines in one table (register timeout and
//!   refresh, stop); transactions and calls keep theirs;
//! - `txn.rs`: client transactions by a typed key (branch, and CANCEL),
//!   Timer B/F, the CANCEL and the ACK of a non-2xx (one hop-by-hop copy of
//!   the INVITE), our 2xx resent until its ACK;
//! - `auth.rs`: a 401/407 answered once with credentials, and the one digest
//!   writer (REGISTER carries credentials for the last challenge with it);
//! - `send.rs`: building and sending requests and responses;
//!   `identity.rs`: our AOR, instance, Contact and Via host;
//! - `register.rs`: REGISTER, refresh, 423, failures, unregister;
//! - `dialog.rs`: a dialog's state (Call-ID, tags, remote target, route set,
//!   CSeqs), in-dialog requests, matching;
//! - `call/`: a call (ending it, BYE, answers by method), `outgoing.rs`
//!   (INVITE, CANCEL, the answer and its ACK, forks), `incoming.rs` (a new
//!   INVITE, answer, reject, CANCEL received, the ACK of our 2xx);
//! - `reinvite.rs`: re-INVITEs both ways, hold, glare (491, then a fresh
//!   offer asked for);
//! - `refer.rs`: REFER both ways, NOTIFY with sipfrag, Replaces;
//! - `info.rs`: DTMF by INFO; `message.rs`: MESSAGE both ways;
//! - `inbound.rs`: frames received, bad ones answered, requests checked and
//!   dispatched (out of dialog: RFC 3261 8.2, OPTIONS);
//! - `recovery.rs`: start, transport events, connection lost and recovered, stop;
//! - `resume.rs`: a dialog rebuilt from a [`DialogSnapshot`] and refreshed
//!   with a re-INVITE from this connection (a handover).

use crate::rng::Rng;
pub use crate::sdp::set_direction;
use crate::transport::{SocketEvent, Transport, TransportConfig};
use crate::Instant;

mod api;
mod auth;
mod call;
mod config;
mod dialog;
mod identity;
mod inbound;
mod info;
mod message;
mod recovery;
mod refer;
mod register;
mod reinvite;
mod resume;
mod send;
mod timer;
mod txn;

pub use api::{CallId, Command, EndCause, Event, Input, Output, SessionState};
use auth::Nonces;
pub use call::check_extra_header;
use call::Calls;
pub use config::Config;
pub use dialog::DialogSnapshot;
use identity::Identity;
use register::{RegState, Registration};
pub use resume::RESUME_CSEQ_JUMP;
use timer::{Timer, TimerTable};
use txn::Transactions;

/// The SIP user agent.
pub struct UserAgent {
    config: Config,
    transport: Transport,
    /// The transport's connection is open.
    connected: bool,
    /// Tags, branches, Call-IDs, client nonces, glare waits.
    rng: Rng,
    me: Identity,
    reg: Registration,
    txns: Transactions,
    calls: Calls,
    next_call: u64,
    /// [`Command::Stop`] is under way ([`Timer::Stop`] bounds it).
    stopping: bool,
    timers: TimerTable,
    /// What the app takes, first in first out (a few at a time: a `Vec`
    /// costs less code than a `VecDeque`).
    out: Vec<Output>,
    /// The server of the current connection (for traces, and WS or WSS in Via).
    url: String,
    nonces: Nonces,
}

/// The methods we take (Allow).
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, REFER, NOTIFY";
/// The extensions we support (Supported; others in Require get 420).
const SUPPORTED: &str = "outbound, path, gruu, replaces";

impl UserAgent {
    /// A stopped agent; send [`Command::Start`].
    pub fn new(config: Config) -> UserAgent {
        let mut rng = Rng::new(config.seed);
        let (call_id, from_tag) = (rng.hex(20), rng.hex(10));
        UserAgent {
            transport: Transport::new(TransportConfig {
                seed: config.seed ^ 0x9e37_79b9,
                ..config.transport.clone()
            }),
            rng,
            connected: false,
            me: Identity::new(&config),
            reg: Registration::new(call_id, from_tag, config.expires),
            config,
            txns: Transactions::default(),
            calls: Calls::default(),
            next_call: 1,
            stopping: false,
            timers: TimerTable::default(),
            out: Vec::new(),
            url: String::new(),
            nonces: Nonces::default(),
        }
    }

    /// A fresh handle for [`Command::Call`].
    pub fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        id
    }

    /// State of a call, if it exists.
    pub fn call_state(&self, call: CallId) -> Option<SessionState> {
        self.calls.get(&call).map(|c| c.state)
    }

    /// Is the call on hold (by [`Command::Hold`])?
    pub fn is_held(&self, call: CallId) -> bool {
        self.calls.get(&call).is_some_and(|c| c.held)
    }

    /// Is the agent registered?
    pub fn is_registered(&self) -> bool {
        self.reg.state == RegState::Registered
    }

    /// Next output, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// When to feed [`Input::Timeout`]: the earliest deadline of the
    /// transport, the agent's timer table, the transactions and the calls.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut calls = None;
        for (_, call) in self.calls.iter() {
            calls = crate::earliest(&[calls, call.poll_timeout()]);
        }
        crate::earliest(&[
            self.transport.poll_timeout(),
            self.timers.next_timeout(),
            self.txns.poll_timeout(),
            calls,
        ])
    }

    /// Feed one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Opened => self.transport.handle_socket(now, SocketEvent::Opened),
            Input::Closed => self.transport.handle_socket(now, SocketEvent::Closed),
            Input::Received(data) => self.on_data(now, data),
            Input::Command(c) => self.on_command(now, c),
            Input::Timeout => self.on_timeout(now),
        }
        self.drain_transport(now);
        self.gc(now);
    }

    /// What is due at `now`: the transport's timers, the agent's own (the
    /// table, in [`Timer::VALUES`] order), then the transactions' and calls'.
    fn on_timeout(&mut self, now: Instant) {
        self.transport.handle_timeout(now);
        self.drain_transport(now);
        // By reference: an array by value brings its own iterator code.
        for &timer in &Timer::VALUES {
            if self.timers.expire(timer, now) {
                match timer {
                    Timer::RegisterTimeout => self.register_timed_out(now),
                    Timer::RegisterRefresh => self.refresh_register(now),
                    Timer::Stop => self.stop_deadline(now),
                }
            }
        }
        self.txn_timeouts(now);
        self.call_timeouts(now);
    }

    /// A command from the app, to its subsystem.
    /// (By reference: the command is dropped once, here, whatever its
    /// variant and outcome.)
    fn on_command(&mut self, now: Instant, c: Command) {
        if self.refuse_while_stopping(&c) {
            return;
        }
        match &c {
            Command::Start => self.start(now),
            Command::Stop => self.stop(now),
            Command::Register => self.register(now),
            Command::Unregister => self.unregister(now),
            Command::Reconnect => self.transport.restart(now),
            Command::SetBackupProxy(url) => self.transport.set_backup(url.clone()),
            Command::UseBackupProxy(on) => self.transport.use_backup(*on),
            Command::Call { call, target, sdp, headers } => {
                self.call(now, *call, target, sdp.clone(), headers)
            }
            Command::Answer { call, sdp } => self.answer(now, *call, sdp.clone()),
            Command::Reject { call, status } => self.reject(*call, *status),
            Command::Hangup { call } => self.hangup(now, *call),
            Command::Reinvite { call, sdp } => self.reinvite(now, *call, sdp.clone()),
            Command::Hold { call, sdp } => self.hold(now, *call, sdp, true),
            Command::Unhold { call, sdp } => self.hold(now, *call, sdp, false),
            Command::AnswerReoffer { call, sdp } => self.answer_reoffer(now, *call, sdp.clone()),
            Command::RejectReoffer { call, status } => self.reject_reoffer(*call, *status),
            Command::Resume { call, dialog, sdp } => self.resume(now, *call, dialog.clone(), sdp.clone()),
            Command::Refer { call, target, replaces } => self.refer(now, *call, target, *replaces),
            Command::NotifyRefer { call, status } => self.notify_refer(now, *call, *status),
            Command::Dtmf { call, digits, duration_ms } => self.dtmf(now, *call, digits, *duration_ms),
            Command::Message { id, target, content_type, body } => {
                self.message(now, *id, target, content_type, body.clone())
            }
        }
    }
}

/// The state in short; not the configuration's password, nor the requests
/// in flight (they carry digest answers).
impl std::fmt::Debug for UserAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let calls: Vec<(u64, SessionState)> = self.calls.iter().map(|(id, c)| (id.0, c.state)).collect();
        f.debug_struct("UserAgent")
            .field("config", &self.config)
            .field("url", &self.url)
            .field("connected", &self.connected)
            .field("registration", &self.reg.state)
            .field("calls", &calls)
            .field("stopping", &self.stopping)
            .finish_non_exhaustive()
    }
}
