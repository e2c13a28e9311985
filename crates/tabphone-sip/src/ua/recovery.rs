//! The connection's life as the agent sees it: starting, transport events
//! (connected, lost, recovered: register again, then ask the app for one
//! ICE-restart offer per established call), what a lost connection takes with
//! it (every transaction; dialogs stay), and stopping (hang up, unregister,
//! close; at most [`Timer::Stop`] later).

use std::time::Duration;

use super::register::RegState;
use super::timer::Timer;
use super::txn::Owner;
use super::{CallId, Command, EndCause, Event, Output, SessionState, UserAgent};
use crate::msg::{Method, Request};
use crate::transport::{TransportEvent, TransportOutput};
use crate::Instant;

impl UserAgent {
    /// [`Command::Start`]: connect, and register when configured to.
    pub(super) fn start(&mut self, now: Instant) {
        self.stopping = false;
        self.timers.stop(Timer::Stop);
        self.reg.want = self.config.register;
        self.transport.start(now);
        if self.connected && self.reg.want && self.reg.state == RegState::Idle {
            self.send_register(now, self.reg.expires);
        }
    }

    /// While stopping, a command is refused with the outcome it would have had.
    pub(super) fn refuse_while_stopping(&mut self, c: &Command) -> bool {
        if !self.stopping || matches!(c, Command::Start) {
            return false;
        }
        match c {
            Command::Message { id, .. } => self.message_result(*id, 503),
            Command::Call { call, .. } | Command::Resume { call, .. } => {
                self.ended(*call, EndCause::Transport)
            }
            _ => self.event(Event::Error { call: c.call(), message: "stopping: command refused".into() }),
        }
        true
    }

    /// Perform what the transport asks, and hear what it says.
    pub(super) fn drain_transport(&mut self, now: Instant) {
        while let Some(o) = self.transport.poll_output() {
            match o {
                TransportOutput::Connect { url } => {
                    self.url = url.clone();
                    self.out.push(Output::Connect { url });
                }
                TransportOutput::Close => self.out.push(Output::Close),
                TransportOutput::Send(text) => self.out.push(Output::Send(text.to_string())),
                TransportOutput::Event(e) => self.on_transport_event(now, e),
            }
        }
    }

    /// Connected: register (or say recovered). Disconnected: what the
    /// connection carried is lost; a stop in progress may finish.
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

    /// The transport still has a connection or an attempt.
    fn transport_busy(&self) -> bool {
        !matches!(self.transport.state(), crate::transport::State::Closed)
    }

    /// Every transaction on the lost connection is gone: its answer would come
    /// on that connection. Dialogs stay. A REGISTER is sent again once
    /// connected (when still wanted); an un-REGISTER is not, and is reported
    /// failed (the binding stays at the registrar until it expires).
    fn connection_lost(&mut self) {
        if self.reg.state == RegState::Unregistering {
            self.registration_failed(None);
            self.event(Event::Unregistered);
        }
        let mut txns = self.txns.take_all();
        self.timers.stop(Timer::RegisterTimeout);
        self.reg.pending = None;
        self.reg.state = RegState::Idle;
        self.timers.stop(Timer::RegisterRefresh);
        while let Some(txn) = txns.pop_first() {
            match txn.owner {
                Owner::Register => {}
                Owner::Message(id) => self.message_result(id, 503),
                Owner::Call(call) => self.call_txn_lost(call, &txn.request),
            }
        }
    }

    /// A call's request lost with the connection: a call being set up ends,
    /// a re-INVITE fails, a BYE ends the call all the same.
    fn call_txn_lost(&mut self, id: CallId, req: &Request) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        match req.method {
            Method::Invite if call.state == SessionState::Establishing && call.outgoing => {
                call.state = SessionState::Terminated;
                self.ended(id, EndCause::Transport);
            }
            Method::Invite => {
                call.reinvite.ours = None;
                self.reinvite_failed(id, 503);
            }
            Method::Bye => {
                call.state = SessionState::Terminated;
                self.ended(id, EndCause::Local);
            }
            Method::Refer => self.event(Event::ReferProgress { call: id, status: 503 }),
            _ => {}
        }
    }

    /// Back after a loss (and registered again, when registering).
    pub(super) fn recovered(&mut self) {
        self.event(Event::Recovered);
        let mut i = 0;
        while let Some(id) = self.call_at(i) {
            if self.call_state(id) == Some(SessionState::Established) {
                self.event(Event::RecoveryOfferNeeded { call: id });
            }
            i += 1;
        }
    }

    /// [`Command::Stop`]: end every call, unregister; [`Self::gc`] closes when
    /// all is answered, [`Timer::Stop`] when it is not.
    pub(super) fn stop(&mut self, now: Instant) {
        self.stopping = true;
        self.timers.set(Timer::Stop, now + Duration::from_secs(2));
        self.reg.want = false;
        self.timers.stop(Timer::RegisterRefresh);
        let mut i = 0;
        while let Some(id) = self.call_at(i) {
            self.end_call(now, id);
            i += 1;
        }
        if self.connected && self.reg.state == RegState::Registered {
            self.send_register(now, 0);
        }
    }

    /// After each input: drop ended calls; when stopping and nothing is left
    /// to wait for, close.
    pub(super) fn gc(&mut self, now: Instant) {
        self.calls.remove_terminated();
        if self.stopping && self.calls.is_empty() && self.reg.pending.is_none() {
            self.finish_stop(now);
        }
    }

    /// [`Timer::Stop`]: what else is due now ends first with its own cause;
    /// then the calls end here all the same, each with its event.
    pub(super) fn stop_deadline(&mut self, now: Instant) {
        self.txn_timeouts(now);
        self.call_timeouts(now);
        if !self.stopping {
            return;
        }
        // The server did not answer our BYEs and CANCELs in time.
        let mut i = 0;
        while let Some(call) = self.call_at(i) {
            self.ended(call, EndCause::Local);
            i += 1;
        }
        self.calls.clear();
        self.reg.pending = None;
        self.finish_stop(now);
    }

    /// Close for good (no retry will undo it), fail what is still pending, say Stopped.
    fn finish_stop(&mut self, now: Instant) {
        if std::mem::take(&mut self.stopping) {
            self.timers.stop(Timer::Stop);
            self.transport.stop();
            self.drain_transport(now);
            self.connected = false;
            let mut txns = self.txns.take_all();
            while let Some(txn) = txns.pop_first() {
                if let Owner::Message(id) = txn.owner {
                    self.message_result(id, 503);
                }
            }
            self.event(Event::Stopped);
        }
    }
}
