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
//! - A dropped connection keeps every dialog. After reconnecting the agent
//!   registers again, then emits [`Event::Recovered`] and one
//!   [`Event::RecoveryOfferNeeded`] per established call: the app answers each
//!   with [`Command::Reinvite`] carrying an ICE-restart offer.
//! - Never panics on any input.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::msg::{self, CSeq, Message, Method, NameAddr, Replaces, Request, Response, Role};
use crate::msg::{SubscriptionState, Uri};
use crate::rng::Rng;
pub use crate::sdp::set_direction;
use crate::trace::{self, Direction};
use crate::transport::{SocketEvent, Transport, TransportConfig, TransportEvent, TransportOutput};
use crate::Instant;

mod api;
mod auth;
mod identity;
mod register;
mod send;
mod timer;
mod txn;

pub use api::{CallId, Command, Config, EndCause, Event, Input, Output, SessionState};
use auth::Nonces;
use identity::Identity;
use register::{RegState, Registration};
use timer::{Timer, TimerTable};
use txn::{Owner, Resend, Retransmit, Transactions, TxnKey};

#[derive(Debug)]
struct Call {
    state: SessionState,
    outgoing: bool,
    call_id: String,
    local_tag: String,
    remote_tag: Option<String>,
    remote_uri: String,
    remote_target: String,
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: Option<u32>,
    /// Outgoing: the INVITE in flight (for CANCEL and ACK).
    invite: Option<(TxnKey, Request)>,
    got_provisional: bool,
    cancel_wanted: bool,
    /// Incoming: the INVITE we must answer.
    incoming: Option<Request>,
    /// Our 2xx awaiting its ACK.
    retransmit: Option<Retransmit>,
    /// A received re-INVITE waiting for the app's answer.
    reoffer: Option<Request>,
    /// Our re-INVITE in flight.
    reinvite: Option<TxnKey>,
    /// Our re-INVITE met glare (491): resend this offer at this time (RFC 3261 14.1).
    glare_retry: Option<(Instant, String)>,
    /// A REFER we received: its CSeq (the NOTIFY event id).
    refer_in: Option<u32>,
    held: bool,
}

impl Call {
    /// The CSeq of the next request in the dialog.
    fn next_cseq(&mut self) -> u32 {
        self.local_cseq += 1;
        self.local_cseq
    }

    /// A request of this call now runs as transaction `key` (sent again with
    /// credentials): an INVITE in flight follows it.
    fn resent(&mut self, key: &TxnKey, req: &Request) {
        if req.method == Method::Invite {
            if self.invite.is_some() {
                self.invite = Some((key.clone(), req.clone()));
            }
            if self.reinvite.is_some() {
                self.reinvite = Some(key.clone());
            }
        }
    }

    /// A call being set up: no remote tag, no route set, nothing pending.
    fn new(
        outgoing: bool,
        call_id: String,
        local_tag: String,
        remote_uri: String,
        remote_target: String,
    ) -> Call {
        Call {
            state: SessionState::Establishing,
            outgoing,
            call_id,
            local_tag,
            remote_tag: None,
            remote_uri,
            remote_target,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
            invite: None,
            got_provisional: false,
            cancel_wanted: false,
            incoming: None,
            retransmit: None,
            reoffer: None,
            reinvite: None,
            glare_retry: None,
            refer_in: None,
            held: false,
        }
    }
}

/// The SIP user agent.
#[derive(Debug)]
pub struct UserAgent {
    config: Config,
    transport: Transport,
    connected: bool,
    rng: Rng,
    me: Identity,
    reg: Registration,
    txns: Transactions,
    calls: BTreeMap<CallId, Call>,
    next_call: u64,
    /// [`Command::Stop`] is under way ([`Timer::Stop`] bounds it).
    stopping: bool,
    timers: TimerTable,
    out: std::collections::VecDeque<Output>,
    url: String,
    nonces: Nonces,
}

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, REFER, NOTIFY";
const SUPPORTED: &[&str] = &["outbound", "path", "gruu", "replaces"];

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
            calls: BTreeMap::new(),
            next_call: 1,
            stopping: false,
            timers: TimerTable::default(),
            out: Default::default(),
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
        self.out.pop_front()
    }

    /// When to feed [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = [self.transport.poll_timeout(), self.timers.next_timeout()].into_iter().flatten().min();
        let mut fold = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        fold(self.txns.poll_timeout());
        for call in self.calls.values() {
            fold(call.retransmit.as_ref().map(Retransmit::poll_timeout));
            fold(call.glare_retry.as_ref().map(|g| g.0));
        }
        t
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

    // ----- plumbing -----

    fn drain_transport(&mut self, now: Instant) {
        while let Some(o) = self.transport.poll_output() {
            match o {
                TransportOutput::Connect { url } => {
                    self.url = url.clone();
                    self.out.push_back(Output::Connect { url });
                }
                TransportOutput::Close => self.out.push_back(Output::Close),
                TransportOutput::Send(text) => self.out.push_back(Output::Send(text.to_string())),
                TransportOutput::Event(e) => self.on_transport_event(now, e),
            }
        }
    }

    fn on_transport_event(&mut self, now: Instant, e: TransportEvent) {
        match e {
            TransportEvent::Connecting { url } => self.event(Event::Connecting { url }),
            TransportEvent::Connected { url, recovered } => {
                self.connected = true;
                self.event(Event::Connected { url });
                if self.stopping {
                    return;
                }
                if recovered {
                    self.reg.recovering = true;
                }
                if self.reg.want {
                    self.send_register(now, self.reg.expires);
                } else if recovered {
                    self.recovered();
                }
            }
            TransportEvent::Disconnected { cause } => {
                let was = std::mem::replace(&mut self.connected, false);
                self.event(Event::Disconnected { cause });
                if was {
                    self.connection_lost();
                }
                if self.stopping && !self.transport_busy() {
                    self.finish_stop(now);
                }
            }
            TransportEvent::RecoveryError { retry_in } => self.event(Event::RecoveryError { retry_in }),
            TransportEvent::RecoveryFailed => self.event(Event::RecoveryFailed),
        }
    }

    fn transport_busy(&self) -> bool {
        !matches!(self.transport.state(), crate::transport::State::Closed)
    }

    /// Every transaction on the lost connection is gone: its answer would come
    /// on that connection. Dialogs stay.
    fn connection_lost(&mut self) {
        let txns = self.txns.take_all();
        self.timers.stop(Timer::RegisterTimeout);
        self.reg.pending = None;
        self.reg.state = RegState::Idle;
        self.timers.stop(Timer::RegisterRefresh);
        for txn in txns {
            match txn.owner {
                Owner::Register => {}
                Owner::Message(id) => self.event(Event::MessageResult { id, status: 503 }),
                Owner::Call(call) => self.call_txn_lost(call, &txn.request),
            }
        }
    }

    fn call_txn_lost(&mut self, id: CallId, req: &Request) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        match req.method {
            Method::Invite if call.state == SessionState::Establishing && call.outgoing => {
                call.state = SessionState::Terminated;
                self.event(Event::Ended { call: id, cause: EndCause::Transport });
            }
            Method::Invite => {
                call.reinvite = None;
                self.event(Event::ReinviteFailed { call: id, status: 503 });
            }
            Method::Bye => {
                call.state = SessionState::Terminated;
                self.event(Event::Ended { call: id, cause: EndCause::Local });
            }
            Method::Refer => self.event(Event::ReferProgress { call: id, status: 503 }),
            _ => {}
        }
    }

    fn gc(&mut self, now: Instant) {
        self.calls.retain(|_, c| c.state != SessionState::Terminated);
        if self.stopping {
            // Calls ended and the unregister answered: close (and cancel any retry).
            if self.calls.is_empty() && self.reg.pending.is_none() {
                self.finish_stop(now);
            }
        }
    }

    /// Close for good (no retry will undo it), fail what is still pending, say Stopped.
    fn finish_stop(&mut self, now: Instant) {
        if std::mem::take(&mut self.stopping) {
            self.timers.stop(Timer::Stop);
            self.transport.stop();
            self.drain_transport(now);
            self.connected = false;
            for txn in self.txns.take_all() {
                if let Owner::Message(id) = txn.owner {
                    self.event(Event::MessageResult { id, status: 503 });
                }
            }
            self.event(Event::Stopped);
        }
    }

    // ----- building requests -----

    fn in_dialog_request(&mut self, id: CallId, method: Method) -> Option<(Request, TxnKey)> {
        let contact = self.me.contact();
        let call = self.calls.get_mut(&id)?;
        call.local_cseq += 1;
        let (cseq, target, call_id) = (call.local_cseq, call.remote_target.clone(), call.call_id.clone());
        let to = NameAddr::new(call.remote_uri.clone()).with_tag(call.remote_tag.as_deref());
        let (local_tag, routes) = (call.local_tag.clone(), call.route_set.clone());
        let from = self.me.from(&local_tag);
        let (mut r, branch) = self.base_request(method.clone(), &target, &call_id, cseq);
        for route in routes {
            r.headers.push("Route", route);
        }
        r.headers.push("From", from.to_string());
        r.headers.push("To", to.to_string());
        if matches!(method, Method::Invite | Method::Refer | Method::Notify) {
            r.headers.push("Contact", contact.to_string());
        }
        Some((r, branch))
    }

    // ----- commands -----

    fn on_command(&mut self, now: Instant, c: Command) {
        if self.stopping && !matches!(c, Command::Start) {
            // Refused, with the outcome the command would have had.
            return match c {
                Command::Message { id, .. } => self.event(Event::MessageResult { id, status: 503 }),
                Command::Call { call, .. } => self.event(Event::Ended { call, cause: EndCause::Transport }),
                _ => self.error("stopping: command refused"),
            };
        }
        match c {
            Command::Start => {
                self.stopping = false;
                self.timers.stop(Timer::Stop);
                self.reg.want = self.config.register;
                self.transport.start(now);
                if self.connected && self.reg.want && self.reg.state == RegState::Idle {
                    self.send_register(now, self.reg.expires);
                }
            }
            Command::Stop => self.stop(now),
            Command::Register => self.register(now),
            Command::Unregister => self.unregister(now),
            Command::Reconnect => self.transport.restart(now),
            Command::SetBackupProxy(url) => self.transport.set_backup(url),
            Command::UseBackupProxy(on) => self.transport.use_backup(on),
            Command::Call { call, target, sdp } => self.call(now, call, &target, sdp),
            Command::Answer { call, sdp } => self.answer(now, call, sdp),
            Command::Reject { call, status } => self.reject(call, status),
            Command::Hangup { call } => self.hangup(now, call),
            Command::Reinvite { call, sdp } => self.reinvite(now, call, sdp),
            Command::Hold { call, sdp } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.held = true;
                }
                self.reinvite(now, call, set_direction(&sdp, "sendonly"))
            }
            Command::Unhold { call, sdp } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.held = false;
                }
                self.reinvite(now, call, set_direction(&sdp, "sendrecv"))
            }
            Command::AnswerReoffer { call, sdp } => self.answer_reoffer(now, call, sdp),
            Command::Refer { call, target, replaces } => self.refer(now, call, &target, replaces),
            Command::NotifyRefer { call, status } => self.notify_refer(now, call, status),
            Command::Dtmf { call, digits, duration_ms } => self.dtmf(now, call, &digits, duration_ms),
            Command::Message { id, target, content_type, body } => {
                self.message(now, id, &target, &content_type, body)
            }
        }
    }

    fn stop(&mut self, now: Instant) {
        self.stopping = true;
        self.timers.set(Timer::Stop, now + Duration::from_secs(2));
        self.reg.want = false;
        self.timers.stop(Timer::RegisterRefresh);
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            self.end_call(now, id);
        }
        if self.connected && self.reg.state == RegState::Registered {
            self.send_register(now, 0);
        }
    }

    fn call(&mut self, now: Instant, id: CallId, target: &str, sdp: String) {
        if self.calls.contains_key(&id) {
            return self.error(format!("call {} exists", id.0));
        }
        if !self.connected {
            return self.event(Event::Ended { call: id, cause: EndCause::Transport });
        }
        let uri = match self.me.target_uri(target) {
            Ok(u) => u,
            Err(e) => {
                self.error(e);
                return self.event(Event::Ended { call: id, cause: EndCause::Failed(400) });
            }
        };
        self.next_call = self.next_call.max(id.0 + 1);
        let call_id = self.random_hex(20);
        let local_tag = self.random_hex(10);
        let mut call = Call::new(true, call_id.clone(), local_tag.clone(), uri.clone(), uri.clone());
        call.local_cseq = 1;
        let (mut r, branch) = self.base_request(Method::Invite, &uri, &call_id, 1);
        r.headers.push("From", self.me.from(&local_tag).to_string());
        r.headers.push("To", NameAddr::new(uri.clone()).to_string());
        r.headers.push("Contact", self.me.contact().to_string());
        r.headers.push("Allow", ALLOW);
        r.headers.push("Supported", "outbound, replaces");
        r.headers.push("Content-Type", "application/sdp");
        r.body = sdp.into_bytes();
        call.invite = Some((branch.clone(), r.clone()));
        self.calls.insert(id, call);
        self.send_request(now, Owner::Call(id), branch, r);
    }

    fn answer(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get_mut(&id) else { return self.error(format!("no call {}", id.0)) };
        let Some(invite) = call.incoming.take() else {
            return self.error(format!("call {} has nothing to answer", id.0));
        };
        let extra = [("Allow", ALLOW.to_string()), ("Supported", "outbound, replaces".to_string())];
        self.send_ok_until_ack(now, id, &invite, sdp, &extra);
    }

    /// A 200 with `sdp` to an INVITE (initial or re-INVITE), resent from T1
    /// doubling to T2 until its ACK, for at most 64*T1 (RFC 3261 13.3.1.4).
    fn send_ok_until_ack(
        &mut self,
        now: Instant,
        id: CallId,
        invite: &Request,
        sdp: String,
        extra: &[(&str, String)],
    ) {
        let contact = self.me.contact();
        let Some(call) = self.calls.get_mut(&id) else { return };
        let mut resp = Response::to(invite, 200, Some(&call.local_tag));
        resp.headers.push("Contact", contact.to_string());
        for (name, value) in extra {
            resp.headers.push(name.to_string(), value.clone());
        }
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = sdp.into_bytes();
        let text = resp.encode();
        let cseq = invite.cseq().map_or(0, |c| c.seq);
        call.retransmit = Some(Retransmit::new(text.clone(), cseq, now, self.config.t1));
        self.send_text(text);
    }

    fn reject(&mut self, id: CallId, status: u16) {
        if !(300..=699).contains(&status) {
            return self.error(format!("reject needs a status 300-699, not {status}"));
        }
        let Some(call) = self.calls.get_mut(&id) else { return self.error(format!("no call {}", id.0)) };
        let Some(invite) = call.incoming.take() else {
            return self.error(format!("call {} has nothing to reject", id.0));
        };
        let tag = call.local_tag.clone();
        call.state = SessionState::Terminated;
        let resp = Response::to(&invite, status, Some(&tag));
        self.send_text(resp.encode());
        self.event(Event::Ended { call: id, cause: EndCause::Failed(status) });
    }

    fn hangup(&mut self, now: Instant, id: CallId) {
        if !self.calls.contains_key(&id) {
            return self.error(format!("no call {}", id.0));
        }
        self.end_call(now, id);
    }

    /// End a call the way its state needs.
    fn end_call(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        match call.state {
            SessionState::Terminating | SessionState::Terminated => {}
            SessionState::Initial | SessionState::Establishing if !call.outgoing => {
                if call.incoming.is_some() {
                    self.reject(id, 480);
                } else {
                    // Answered, ACK not yet here: BYE (RFC 3261 15).
                    self.send_bye(now, id);
                }
            }
            SessionState::Initial | SessionState::Establishing => {
                call.state = SessionState::Terminating;
                if call.got_provisional {
                    self.send_cancel(now, id);
                } else {
                    call.cancel_wanted = true;
                }
            }
            SessionState::Established => self.send_bye(now, id),
        }
    }

    fn send_cancel(&mut self, now: Instant, id: CallId) {
        let Some((branch, invite)) = self.calls.get(&id).and_then(|c| c.invite.clone()) else { return };
        let mut r = Request::new(Method::Cancel, invite.uri.clone());
        for name in ["Via", "Route", "Max-Forwards", "From", "To", "Call-ID"] {
            for v in invite.headers.get_all(name) {
                r.headers.push(name, v.to_string());
            }
        }
        let seq = invite.cseq().map_or(1, |c| c.seq);
        r.headers.push("CSeq", CSeq::new(seq, Method::Cancel).to_string());
        self.send_request(now, Owner::Call(id), branch.cancel(), r);
    }

    fn send_bye(&mut self, now: Instant, id: CallId) {
        let Some((r, branch)) = self.in_dialog_request(id, Method::Bye) else { return };
        if let Some(c) = self.calls.get_mut(&id) {
            c.state = SessionState::Terminating;
            c.retransmit = None;
        }
        self.send_request(now, Owner::Call(id), branch, r);
    }

    fn reinvite(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get(&id) else { return self.error(format!("no call {}", id.0)) };
        if call.state != SessionState::Established {
            return self.error(format!("call {} is not established", id.0));
        }
        if call.reinvite.is_some() || call.reoffer.is_some() {
            return self.error(format!("call {}: a re-INVITE is already under way", id.0));
        }
        if !self.connected {
            return self.error(format!("call {}: not connected; the re-INVITE follows recovery", id.0));
        }
        let Some((mut r, branch)) = self.in_dialog_request(id, Method::Invite) else { return };
        if let Some(c) = self.calls.get_mut(&id) {
            c.glare_retry = None;
        }
        r.headers.push("Allow", ALLOW);
        r.headers.push("Content-Type", "application/sdp");
        r.body = sdp.into_bytes();
        if let Some(c) = self.calls.get_mut(&id) {
            c.reinvite = Some(branch.clone());
        }
        self.send_request(now, Owner::Call(id), branch, r);
    }

    fn answer_reoffer(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get_mut(&id) else { return self.error(format!("no call {}", id.0)) };
        let Some(req) = call.reoffer.take() else {
            return self.error(format!("call {} has no re-INVITE to answer", id.0));
        };
        self.send_ok_until_ack(now, id, &req, sdp, &[]);
    }

    fn refer(&mut self, now: Instant, id: CallId, target: &str, replaces: Option<CallId>) {
        if self.calls.get(&id).map(|c| c.state) != Some(SessionState::Established) {
            return self.error(format!("call {} is not established", id.0));
        }
        let refer_to = match replaces {
            Some(other) => {
                let Some(o) = self.calls.get(&other) else {
                    return self.error(format!("no call {}", other.0));
                };
                let Some(remote_tag) = &o.remote_tag else {
                    return self.error(format!("call {} has no dialog", other.0));
                };
                // The peer of `other` is told to INVITE with Replaces: its dialog seen from there.
                let rep = Replaces {
                    call_id: o.call_id.clone(),
                    to_tag: remote_tag.clone(),
                    from_tag: o.local_tag.clone(),
                };
                NameAddr::new(rep.refer_to_uri(&o.remote_uri))
            }
            None => match self.me.target_uri(target) {
                Ok(u) => NameAddr::new(u),
                Err(e) => return self.error(e),
            },
        };
        let Some((mut r, branch)) = self.in_dialog_request(id, Method::Refer) else { return };
        r.headers.push("Refer-To", refer_to.to_string());
        r.headers.push("Referred-By", NameAddr::new(self.me.aor.clone()).to_string());
        self.send_request(now, Owner::Call(id), branch, r);
    }

    fn notify_refer(&mut self, now: Instant, id: CallId, status: u16) {
        let Some(seq) = self.calls.get(&id).and_then(|c| c.refer_in) else {
            return self.error(format!("call {} has no transfer to report", id.0));
        };
        let Some((mut r, branch)) = self.in_dialog_request(id, Method::Notify) else { return };
        r.headers.push("Event", format!("refer;id={seq}"));
        let state = if status >= 200 {
            SubscriptionState::Terminated { reason: Some("noresource".into()) }
        } else {
            SubscriptionState::Active { expires: Some(60) }
        };
        r.headers.push("Subscription-State", state.to_string());
        r.headers.push("Content-Type", "message/sipfrag;version=2.0");
        r.body = format!("SIP/2.0 {status} {}\r\n", msg::reason_phrase(status)).into_bytes();
        if status >= 200 {
            if let Some(c) = self.calls.get_mut(&id) {
                c.refer_in = None;
            }
        }
        self.send_request(now, Owner::Call(id), branch, r);
    }

    fn dtmf(&mut self, now: Instant, id: CallId, digits: &str, duration_ms: u32) {
        if self.calls.get(&id).map(|c| c.state) != Some(SessionState::Established) {
            return self.error(format!("call {} is not established", id.0));
        }
        if let Some(bad) = digits.chars().find(|c| !"0123456789*#ABCDabcd".contains(*c)) {
            return self.error(format!("{bad:?} is not a DTMF digit"));
        }
        for d in digits.chars() {
            let Some((mut r, branch)) = self.in_dialog_request(id, Method::Info) else { return };
            r.headers.push("Content-Type", "application/dtmf-relay");
            r.body = format!("Signal={}\r\nDuration={duration_ms}\r\n", d.to_ascii_uppercase()).into_bytes();
            self.send_request(now, Owner::Call(id), branch, r);
        }
    }

    fn message(&mut self, now: Instant, id: u64, target: &str, content_type: &str, body: String) {
        if !self.connected {
            return self.event(Event::MessageResult { id, status: 503 });
        }
        let uri = match self.me.target_uri(target) {
            Ok(u) => u,
            Err(e) => {
                self.error(e);
                return self.event(Event::MessageResult { id, status: 400 });
            }
        };
        let call_id = self.random_hex(20);
        let tag = self.random_hex(10);
        let (mut r, branch) = self.base_request(Method::Message, &uri, &call_id, 1);
        r.headers.push("From", self.me.from(&tag).to_string());
        r.headers.push("To", NameAddr::new(uri).to_string());
        r.headers.push("Content-Type", content_type.to_string());
        r.body = body.into_bytes();
        self.send_request(now, Owner::Message(id), branch, r);
    }

    // ----- timers -----

    fn on_timeout(&mut self, now: Instant) {
        self.transport.handle_timeout(now);
        self.drain_transport(now);
        for timer in Timer::VALUES {
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

    /// Our 2xx resends and glare retries that are due.
    fn call_timeouts(&mut self, now: Instant) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids.iter().copied() {
            let Some(call) = self.calls.get_mut(&id) else { continue };
            if call.glare_retry.as_ref().is_none_or(|g| g.0 > now) {
                continue;
            }
            if call.reoffer.is_some() || call.retransmit.is_some() || call.reinvite.is_some() {
                // The peer's re-INVITE is still being answered: a little later.
                call.glare_retry = call.glare_retry.take().map(|(_, sdp)| (now + self.config.t1, sdp));
                continue;
            }
            if let Some((_, sdp)) = call.glare_retry.take() {
                if call.state == SessionState::Established && self.connected {
                    self.reinvite(now, id, sdp);
                } else {
                    self.event(Event::ReinviteFailed { call: id, status: 491 });
                }
            }
        }
        for id in ids {
            let Some(call) = self.calls.get_mut(&id) else { continue };
            let Some(rt) = call.retransmit.as_mut() else { continue };
            match rt.on_timeout(now, self.config.t2) {
                Resend::Wait => {}
                Resend::Again(text) => self.send_text(text),
                Resend::GiveUp => {
                    call.retransmit = None;
                    // RFC 3261 13.3.1.4: no ACK, end the session with a BYE.
                    self.send_bye(now, id);
                    self.event(Event::Ended { call: id, cause: EndCause::Timeout });
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.state = SessionState::Terminated;
                    }
                }
            }
        }
    }

    /// [`Timer::Stop`]: what else is due now ends first with its own cause;
    /// then the calls end here all the same, each with its event.
    fn stop_deadline(&mut self, now: Instant) {
        self.txn_timeouts(now);
        self.call_timeouts(now);
        if !self.stopping {
            return;
        }
        // The server did not answer our BYEs and CANCELs in time.
        let ids: Vec<CallId> = std::mem::take(&mut self.calls).into_keys().collect();
        for call in ids {
            self.event(Event::Ended { call, cause: EndCause::Local });
        }
        self.reg.pending = None;
        self.finish_stop(now);
    }

    // ----- received -----

    fn on_data(&mut self, now: Instant, data: &[u8]) {
        if data == b"\r\n" {
            return self.transport.handle_socket(now, SocketEvent::Received { is_pong: true });
        }
        self.transport.handle_socket(now, SocketEvent::Received { is_pong: false });
        if data == b"\r\n\r\n" {
            // A keepalive ping from the server (RFC 5626 4.4.1): pong.
            return self.out.push_back(Output::Send("\r\n".into()));
        }
        if self.config.trace {
            let line = trace::trace_line(Direction::In, &self.url, &String::from_utf8_lossy(data));
            self.event(Event::Trace { line });
        }
        match msg::parse(data) {
            Ok(Message::Request(r)) => self.on_request(now, r),
            Ok(Message::Response(r)) => self.on_response(now, r),
            Err(e) => {
                self.error(format!("bad message from the server: {}", e.reason));
                if let Some((status, headers)) = e.answer {
                    if headers.get("Via").is_some() {
                        let tag = self.random_hex(10);
                        let mut resp = Response::to_headers(&headers, status, Some(&tag));
                        resp.reason = e.reason.chars().filter(|c| !c.is_control()).take(100).collect();
                        self.send_text(resp.encode());
                    }
                }
            }
        }
    }

    fn on_request(&mut self, now: Instant, req: Request) {
        let from = req.headers.get("From").and_then(|v| NameAddr::parse(v).ok());
        let to = req.headers.get("To").and_then(|v| NameAddr::parse(v).ok());
        let call_id = req.headers.get("Call-ID").unwrap_or("").to_string();
        let (Some(from), Some(to)) = (from, to) else { return };
        match req.method {
            Method::Ack => return self.on_ack(now, &req, &call_id, &from, &to),
            Method::Cancel => return self.on_cancel(&req),
            _ => {}
        }
        if let Some(to_tag) = to.tag() {
            let found = self.calls.iter().find(|(_, c)| {
                c.call_id == call_id && c.local_tag == to_tag && c.remote_tag.as_deref() == from.tag()
            });
            return match found.map(|(id, _)| *id) {
                Some(id) => self.on_dialog_request(now, id, req),
                None => self.respond(&req, 481, None, &[]),
            };
        }
        // Out of dialog: RFC 3261 8.2 order: method, URI scheme, Require, content.
        let allow = [("Allow", ALLOW.to_string())];
        match req.method {
            Method::Invite | Method::Options | Method::Message => {}
            Method::Bye | Method::Info | Method::Notify | Method::Prack | Method::Update => {
                return self.respond(&req, 481, None, &[]);
            }
            Method::Register | Method::Subscribe | Method::Publish | Method::Refer => {
                return self.respond(&req, 405, None, &allow);
            }
            _ => return self.respond(&req, 501, None, &allow),
        }
        if let Ok(u) = Uri::parse(&req.uri) {
            if u.scheme != "sip" && u.scheme != "sips" {
                return self.respond(&req, 416, None, &[]);
            }
        }
        let unsupported: Vec<&str> = req
            .headers
            .list("Require")
            .filter(|o| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(o)))
            .collect();
        if !unsupported.is_empty() {
            let list = unsupported.join(", ");
            return self.respond(&req, 420, None, &[("Unsupported", list)]);
        }
        match req.method {
            Method::Options => {
                let extra = [
                    ("Allow", ALLOW.to_string()),
                    ("Accept", "application/sdp".to_string()),
                    ("Supported", SUPPORTED.join(", ")),
                ];
                self.respond(&req, 200, None, &extra);
            }
            Method::Message => {
                self.respond(&req, 200, None, &[]);
                let content_type = req.headers.get("Content-Type").unwrap_or("text/plain").to_string();
                let body = req.body_text().unwrap_or_default();
                self.event(Event::MessageReceived { from: from.uri, content_type, body });
            }
            _ => self.on_invite(req, from, call_id),
        }
    }

    fn on_invite(&mut self, req: Request, from: NameAddr, call_id: String) {
        if let Some(ct) = req.headers.get("Content-Type") {
            if !req.body.is_empty() && !msg::media_type_is(ct, "application/sdp") {
                return self.respond(&req, 415, None, &[("Accept", "application/sdp".into())]);
            }
        }
        let accepts: Vec<&str> = req.headers.list("Accept").collect();
        if !accepts.is_empty() && !accepts.iter().any(|a| accepts_sdp(a)) {
            return self.respond(&req, 406, None, &[("Accept", "application/sdp".into())]);
        }
        // A retransmitted INVITE (same Call-ID and From tag) is absorbed.
        if self.calls.values().any(|c| c.call_id == call_id && c.remote_tag.as_deref() == from.tag()) {
            return;
        }
        let replaces = req.headers.get("Replaces").and_then(|v| self.match_replaces(v));
        let id = CallId(self.next_call);
        self.next_call += 1;
        let local_tag = self.random_hex(10);
        let route_set = req.headers.route_set(Role::Uas);
        let remote_target = req.headers.first_contact_uri().unwrap_or_else(|| from.uri.clone());
        let sdp = req.body_text();
        let from_text = req.headers.get("From").unwrap_or("").to_string();
        self.respond(&req, 100, None, &[]);
        self.respond(&req, 180, Some(&local_tag), &[("Contact", self.me.contact().to_string())]);
        let remote_tag = from.tag().map(str::to_string);
        let mut call = Call::new(false, call_id, local_tag, from.uri, remote_target);
        call.remote_tag = remote_tag;
        call.route_set = route_set;
        call.remote_cseq = req.cseq().map(|c| c.seq);
        call.incoming = Some(req);
        self.calls.insert(id, call);
        self.event(Event::Incoming { call: id, from: from_text, sdp, replaces });
    }

    fn match_replaces(&self, v: &str) -> Option<CallId> {
        let r = Replaces::parse(v).ok()?;
        self.calls
            .iter()
            .find(|(_, c)| {
                c.call_id == r.call_id
                    && c.local_tag == r.to_tag
                    && c.remote_tag.as_deref() == Some(&r.from_tag)
            })
            .map(|(id, _)| *id)
    }

    fn on_cancel(&mut self, req: &Request) {
        let branch = req.headers.top_branch();
        let found = self.calls.iter().find(|(_, c)| {
            c.incoming.as_ref().is_some_and(|inv| inv.headers.top_branch() == branch && branch.is_some())
        });
        let Some(id) = found.map(|(id, _)| *id) else {
            return self.respond(req, 481, None, &[]);
        };
        self.respond(req, 200, None, &[]);
        if let Some(call) = self.calls.get_mut(&id) {
            if let Some(invite) = call.incoming.take() {
                let tag = call.local_tag.clone();
                call.state = SessionState::Terminated;
                let resp = Response::to(&invite, 487, Some(&tag));
                self.send_text(resp.encode());
                self.event(Event::Ended { call: id, cause: EndCause::Remote });
            }
        }
    }

    fn on_ack(&mut self, _now: Instant, req: &Request, call_id: &str, from: &NameAddr, to: &NameAddr) {
        let seq = req.cseq().map_or(0, |c| c.seq);
        let found = self.calls.iter_mut().find(|(_, c)| {
            c.call_id == call_id
                && Some(c.local_tag.as_str()) == to.tag()
                && c.remote_tag.as_deref() == from.tag()
        });
        let Some((id, call)) = found else { return };
        let id = *id;
        if call.retransmit.as_ref().is_none_or(|r| r.cseq != seq) {
            return; // an ACK for a non-2xx, or a duplicate
        }
        call.retransmit = None;
        let sdp = req.body_text();
        if call.state == SessionState::Establishing {
            call.state = SessionState::Established;
            self.event(Event::Established { call: id, sdp });
        } else if sdp.is_some() {
            self.event(Event::ReinviteAnswered { call: id, sdp });
        }
    }

    fn on_dialog_request(&mut self, now: Instant, id: CallId, req: Request) {
        let seq = req.cseq().map_or(0, |c| c.seq);
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.remote_cseq.is_some_and(|r| seq <= r) {
            return self.respond(&req, 500, None, &[]);
        }
        call.remote_cseq = Some(seq);
        let tag = call.local_tag.clone();
        match req.method {
            Method::Bye => {
                call.state = SessionState::Terminated;
                self.respond(&req, 200, Some(&tag), &[]);
                self.event(Event::Ended { call: id, cause: EndCause::Remote });
            }
            Method::Invite => {
                if call.reinvite.is_some() || call.reoffer.is_some() || call.retransmit.is_some() {
                    return self.respond(&req, 491, Some(&tag), &[]);
                }
                if let Some(target) = req.headers.first_contact_uri() {
                    call.remote_target = target;
                }
                let sdp = req.body_text();
                call.reoffer = Some(req);
                self.event(Event::Reoffer { call: id, sdp });
            }
            Method::Info => {
                self.respond(&req, 200, Some(&tag), &[]);
                let ct = req.headers.get("Content-Type").unwrap_or("");
                if msg::media_type_is(ct, "application/dtmf-relay") {
                    if let Some((digit, duration_ms)) = parse_dtmf_relay(&req.body_text().unwrap_or_default())
                    {
                        self.event(Event::Dtmf { call: id, digit, duration_ms });
                    }
                }
            }
            Method::Refer => {
                let Some(target) = req.headers.get("Refer-To").and_then(|v| NameAddr::parse(v).ok()) else {
                    return self.respond(&req, 400, Some(&tag), &[]);
                };
                call.refer_in = Some(seq);
                self.respond(&req, 202, Some(&tag), &[]);
                self.event(Event::Refer { call: id, target: target.uri });
                self.notify_refer(now, id, 100);
            }
            Method::Notify => {
                self.respond(&req, 200, Some(&tag), &[]);
                let is_refer = req
                    .headers
                    .get("Event")
                    .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
                if is_refer {
                    let body = req.body_text().unwrap_or_default();
                    let status = body
                        .lines()
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .and_then(|s| s.parse::<u16>().ok());
                    if let Some(status) = status {
                        self.event(Event::ReferProgress { call: id, status });
                    }
                }
            }
            Method::Options => self.respond(&req, 200, Some(&tag), &[("Allow", ALLOW.to_string())]),
            Method::Message => {
                let from = call.remote_uri.clone();
                self.respond(&req, 200, Some(&tag), &[]);
                let content_type = req.headers.get("Content-Type").unwrap_or("text/plain").to_string();
                let body = req.body_text().unwrap_or_default();
                self.event(Event::MessageReceived { from, content_type, body });
            }
            _ => self.respond(&req, 501, Some(&tag), &[("Allow", ALLOW.to_string())]),
        }
    }

    fn recovered(&mut self) {
        self.event(Event::Recovered);
        let ids: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state == SessionState::Established)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.event(Event::RecoveryOfferNeeded { call: id });
        }
    }

    fn on_provisional(&mut self, now: Instant, id: CallId, resp: &Response) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if resp.status == 100 {
            call.got_provisional = true;
        } else {
            call.got_provisional = true;
            if let Some(tag) = resp
                .headers
                .get("To")
                .and_then(|t| NameAddr::parse(t).ok())
                .and_then(|t| t.tag().map(str::to_string))
            {
                call.remote_tag = Some(tag);
            }
            let sdp = resp.body_text();
            self.event(Event::Progress { call: id, status: resp.status, sdp });
        }
        if self.calls.get(&id).is_some_and(|c| c.cancel_wanted) {
            if let Some(c) = self.calls.get_mut(&id) {
                c.cancel_wanted = false;
            }
            self.send_cancel(now, id);
        }
    }

    fn on_call_response(&mut self, now: Instant, id: CallId, req: &Request, resp: Response) {
        let status = resp.status;
        let Some(call) = self.calls.get_mut(&id) else {
            if req.method == Method::Invite && (200..300).contains(&status) {
                self.reack(now, &resp);
            }
            return;
        };
        match req.method {
            Method::Invite if call.invite.is_some() => {
                // The initial INVITE.
                if (200..300).contains(&status) {
                    let to = resp.headers.get("To").and_then(|t| NameAddr::parse(t).ok());
                    call.remote_tag = to.as_ref().and_then(|t| t.tag().map(str::to_string));
                    if let Some(target) = resp.headers.first_contact_uri() {
                        call.remote_target = target;
                    }
                    call.route_set = resp.headers.route_set(Role::Uac);
                    call.invite = None;
                    let seq = req.cseq().map_or(1, |c| c.seq);
                    let terminating = call.state == SessionState::Terminating;
                    call.state = SessionState::Established;
                    self.send_ack(now, id, seq, None);
                    if terminating {
                        // Hung up while the 200 was on its way: BYE now.
                        self.send_bye(now, id);
                        self.event(Event::Ended { call: id, cause: EndCause::Local });
                    } else {
                        self.event(Event::Established { call: id, sdp: resp.body_text() });
                    }
                } else {
                    let cause = match (status, call.state) {
                        (487, SessionState::Terminating) => EndCause::Local,
                        (408, _) => EndCause::Timeout,
                        _ => EndCause::Failed(status),
                    };
                    call.state = SessionState::Terminated;
                    if status != 408 {
                        self.ack_failure(req, &resp);
                    }
                    self.event(Event::Ended { call: id, cause });
                }
            }
            Method::Invite => {
                // A re-INVITE.
                call.reinvite = None;
                if (200..300).contains(&status) {
                    if let Some(target) = resp.headers.first_contact_uri() {
                        call.remote_target = target;
                    }
                    let seq = req.cseq().map_or(1, |c| c.seq);
                    self.send_ack(now, id, seq, None);
                    self.event(Event::ReinviteAnswered { call: id, sdp: resp.body_text() });
                } else {
                    let outgoing = call.outgoing;
                    if status != 408 {
                        self.ack_failure(req, &resp);
                    }
                    if status == 491 {
                        // Glare: try again after a random wait, longer for the side
                        // that owns the Call-ID (RFC 3261 14.1).
                        let (lo, span) = if outgoing { (2100, 1900) } else { (0, 2000) };
                        let offer = req.body_text().unwrap_or_default();
                        let wait = lo + self.rng.next_u64() % span;
                        if let Some(c) = self.calls.get_mut(&id) {
                            c.glare_retry = Some((now + Duration::from_millis(wait), offer));
                        }
                        return;
                    }
                    self.event(Event::ReinviteFailed { call: id, status });
                    if status == 408 || status == 481 {
                        self.send_bye(now, id);
                        self.event(Event::Ended { call: id, cause: EndCause::Failed(status) });
                    }
                }
            }
            Method::Bye => {
                call.state = SessionState::Terminated;
                self.event(Event::Ended { call: id, cause: EndCause::Local });
            }
            Method::Refer => self.event(Event::ReferProgress { call: id, status }),
            // Whatever the CANCEL's answer, the INVITE's answer decides.
            Method::Cancel => {}
            _ => {
                if status == 408 || status == 481 {
                    self.send_bye(now, id);
                    self.event(Event::Ended { call: id, cause: EndCause::Failed(status) });
                }
            }
        }
    }

    fn send_ack(&mut self, now: Instant, id: CallId, seq: u32, sdp: Option<String>) {
        let Some((mut r, branch)) = self.in_dialog_request(id, Method::Ack) else { return };
        if let Some(c) = self.calls.get_mut(&id) {
            // ACK does not take a CSeq number of its own.
            c.local_cseq -= 1;
        }
        r.headers.remove("CSeq");
        r.headers.push("CSeq", CSeq::new(seq, Method::Ack).to_string());
        if let Some(sdp) = sdp {
            r.headers.push("Content-Type", "application/sdp");
            r.body = sdp.into_bytes();
        }
        self.send_request(now, Owner::Call(id), branch, r);
    }

    /// ACK a 2xx whose transaction is gone (a retransmission) from its headers.
    fn reack(&mut self, now: Instant, resp: &Response) {
        let call_id = resp.headers.get("Call-ID").unwrap_or("");
        let seq = resp.cseq().map_or(0, |c| c.seq);
        let to_tag = resp
            .headers
            .get("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|t| t.tag().map(str::to_string));
        let found = self.calls.iter().find(|(_, c)| c.call_id == call_id && c.outgoing);
        let Some((id, call)) = found else { return };
        let id = *id;
        if call.remote_tag == to_tag {
            return self.send_ack(now, id, seq, None);
        }
        // A 2xx from another fork (RFC 3261 13.2.2.4): acknowledge that dialog,
        // then end it; the call goes on with the first answer.
        let (local_tag, remote_uri) = (call.local_tag.clone(), call.remote_uri.clone());
        let target = resp.headers.first_contact_uri().unwrap_or_else(|| remote_uri.clone());
        let routes = resp.headers.route_set(Role::Uac);
        let from = self.me.from(&local_tag).to_string();
        let to = NameAddr::new(remote_uri).with_tag(to_tag.as_deref()).to_string();
        for (method, cseq) in [(Method::Ack, seq), (Method::Bye, seq.wrapping_add(1))] {
            let (mut r, _) = self.base_request(method.clone(), &target, call_id, cseq);
            for route in &routes {
                r.headers.push("Route", route.clone());
            }
            r.headers.push("From", from.clone());
            r.headers.push("To", to.clone());
            // The BYE's answer matches no call and is dropped; nothing waits for it.
            r.headers.push("User-Agent", self.config.user_agent.clone());
            self.send_text(r.encode());
        }
    }

    /// The ACK of a non-2xx final response to an INVITE: same branch, hop by hop.
    fn ack_failure(&mut self, invite: &Request, resp: &Response) {
        let mut r = Request::new(Method::Ack, invite.uri.clone());
        for name in ["Via", "Route", "Max-Forwards", "From", "Call-ID"] {
            if let Some(v) = invite.headers.get(name) {
                r.headers.push(name, v.to_string());
            }
        }
        r.headers.push("To", resp.headers.get("To").unwrap_or("").to_string());
        let seq = invite.cseq().map_or(1, |c| c.seq);
        r.headers.push("CSeq", CSeq::new(seq, Method::Ack).to_string());
        self.send_text(r.encode());
    }
}

/// Does an Accept value take SDP?
fn accepts_sdp(a: &str) -> bool {
    let t = a.split(';').next().unwrap_or("").trim();
    ["application/sdp", "application/*", "*/*"].iter().any(|x| t.eq_ignore_ascii_case(x))
}

/// `Signal=5\r\nDuration=160` → ('5', 160).
fn parse_dtmf_relay(body: &str) -> Option<(char, u32)> {
    let mut digit = None;
    let mut duration = 100;
    for line in body.lines() {
        let Some((k, v)) = line.split_once('=') else { continue };
        match k.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = v.trim().chars().next(),
            "duration" => duration = v.trim().parse().unwrap_or(100),
            _ => {}
        }
    }
    digit.filter(|d| "0123456789*#ABCDabcd".contains(*d)).map(|d| (d.to_ascii_uppercase(), duration))
}
