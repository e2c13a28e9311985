//! The SIP user agent's events: the state they change, the actions they
//! answer, and the policy that used to live in the CLI (answer re-offers,
//! ICE-restart re-INVITEs after recovery, follow and report transfers).

use crate::json::json;
use tabphone_sip::msg::NameAddr;
use tabphone_sip::transport::Cause;
use tabphone_sip::ua::{self, CallId, Command, Event};

use crate::call::{split_uri_headers, Call};
use crate::error::{ErrorCode, PhoneError};
use crate::event::PhoneEvent;
use crate::media::MediaKind;
use crate::phone::{Phone, Purpose, Run};
use crate::state::{CallDirection, CallState, Connection, DisconnectCause, EndCause, Peer, Registration};
use crate::Instant;

fn disconnect_cause(c: Cause) -> DisconnectCause {
    match c {
        Cause::SocketClosed => DisconnectCause::SocketClosed,
        Cause::ConnectTimeout => DisconnectCause::ConnectTimeout,
        Cause::NoPong => DisconnectCause::NoPong,
        Cause::Requested => DisconnectCause::Requested,
        _ => DisconnectCause::Other,
    }
}

impl Phone {
    pub(crate) fn on_sip_event(&mut self, now: Instant, e: Event) {
        if let Some(ua) = event_call(&e) {
            // The events of a call this phone no longer has are dropped.
            if let Some(i) = self.call_index_ua(ua) {
                self.on_call_event(now, i, e);
            }
            return;
        }
        match e {
            Event::Connecting { .. }
            | Event::Connected { .. }
            | Event::Disconnected { .. }
            | Event::RecoveryError { .. }
            | Event::RecoveryFailed => self.on_connection_event(now, e),
            Event::Registered { .. } | Event::Unregistered | Event::RegistrationFailed { .. } => {
                self.on_registration_event(now, e)
            }
            Event::Incoming { call, from, sdp, replaces } => {
                self.on_incoming(now, call, &from, sdp, replaces)
            }
            Event::MessageReceived { from, content_type, body } => {
                self.event(PhoneEvent::Message { from, content_type, body })
            }
            // The handle of a MESSAGE is the id of its action.
            Event::MessageResult { id, status } => {
                let result = match status {
                    200..=299 => Ok(json!({ "status": status })),
                    _ => Err(PhoneError::request_failed(Some(status), "message")),
                };
                self.resolve(id, result);
            }
            Event::Stopped => self.on_ua_stopped(now),
            Event::Error { call, message } => {
                let call = call.and_then(|c| self.call_id_of(c));
                self.event(PhoneEvent::Error { call, message })
            }
            Event::Trace { line } => self.event(PhoneEvent::Trace { line }),
            _ => {}
        }
    }

    /// An event of live call `i` (a call being taken over has its own
    /// handling of the re-INVITE's outcome: `resume.rs`).
    fn on_call_event(&mut self, now: Instant, i: usize, e: Event) {
        let resuming = self.calls[i].resume.is_some();
        match e {
            Event::Progress { status, sdp, .. } => self.on_progress(now, i, status, sdp),
            Event::Established { sdp, .. } => self.on_established(now, i, sdp),
            Event::Ended { cause, .. } => {
                let cause = self.sip_end_cause(i, cause);
                self.explain_refused_offer(i, cause);
                self.end_at(now, i, cause);
            }
            Event::ReinviteAnswered { sdp, .. } if resuming => self.on_resume_answered(now, i, sdp),
            Event::ReinviteFailed { status, .. } if resuming => self.on_resume_failed(now, i, status),
            Event::Glare { .. } if resuming => self.on_resume_glare(i),
            Event::GlareRetry { .. } if resuming => self.on_resume_glare_retry(i),
            Event::Reoffer { sdp, .. } => self.on_reoffer(i, sdp),
            Event::ReinviteAnswered { sdp, .. } => self.on_reinvite_answered(i, sdp),
            Event::AckWithoutAnswer { .. } => self.on_ack_without_answer(now, i),
            Event::ReinviteFailed { status, .. } => self.on_reinvite_failed(i, status),
            Event::Glare { .. } => self.on_glare(i),
            Event::GlareRetry { .. } => self.on_glare_retry(i),
            Event::RecoveryOfferNeeded { .. } => self.on_recovery_offer_needed(i),
            Event::Refer { target, .. } => self.on_refer_in(now, i, &target),
            Event::ReferProgress { status, .. } => self.on_refer_progress(now, i, status),
            Event::Dtmf { digit, duration_ms, .. } => {
                let call = self.calls[i].id.clone();
                self.event(PhoneEvent::Dtmf { call, tone: digit, duration_ms });
            }
            _ => {}
        }
    }

    /// The phone's id of the SIP core's call.
    fn call_id_of(&self, ua: CallId) -> Option<String> {
        self.call_index_ua(ua).map(|i| self.calls[i].id.clone())
    }

    fn on_connection_event(&mut self, now: Instant, e: Event) {
        let recovering = match &self.connection {
            Connection::Recovering { cause, .. } => Some(*cause),
            _ => None,
        };
        let next = match e {
            Event::Connecting { url } => match recovering {
                Some(cause) => Connection::Recovering { cause, next_try: None },
                None => Connection::Connecting { url },
            },
            Event::Connected { url } => {
                self.set_connection(Connection::Connected { url });
                return self.send_resumes(now);
            }
            Event::Disconnected { cause } if self.run == Run::Running => {
                Connection::Recovering { cause: disconnect_cause(cause), next_try: None }
            }
            Event::Disconnected { cause } => Connection::Disconnected { cause: disconnect_cause(cause) },
            Event::RecoveryError { retry_in } => Connection::Recovering {
                cause: recovering.unwrap_or(DisconnectCause::Other),
                next_try: Some(self.unix_ms(now) + retry_in.as_millis() as u64),
            },
            _ => Connection::Disconnected { cause: DisconnectCause::RecoveryFailed },
        };
        self.set_connection(next);
    }

    /// The registration's news, and the `register` / `unregister` actions
    /// it answers: a failure answers both kinds (an un-REGISTER refused,
    /// unanswered or lost with the connection fails too).
    fn on_registration_event(&mut self, now: Instant, e: Event) {
        // What the waiting actions get: `Some(expires)` registered, `None`
        // unregistered, or the failure's status.
        let (next, outcome) = match e {
            Event::Registered { expires, bindings } => {
                (Registration::Registered { expires, bindings, at: self.unix_ms(now) }, Ok(Some(expires)))
            }
            Event::RegistrationFailed { status } => (Registration::Failed { status }, Err(status)),
            _ => (Registration::Unregistered, Ok(None)),
        };
        let lost = !self.is_connected();
        self.set_registration(next);
        // Each waiting action's result, made for it (no copies of one).
        for (id, register) in std::mem::take(&mut self.reg_waiters) {
            let what = if register { "register" } else { "unregister" };
            let result = match outcome {
                Ok(Some(expires)) if register => Ok(json!({ "expires": expires })),
                Ok(None) if !register => Ok(json!({})),
                Ok(_) => {
                    self.reg_waiters.push((id, register));
                    continue;
                }
                Err(None) if lost => Err(PhoneError::new(
                    ErrorCode::NotConnected,
                    // Whole texts, not a `format!` of `what`.
                    match register {
                        true => "register: the connection dropped before the registrar answered",
                        false => "unregister: the connection dropped before the registrar answered",
                    },
                )),
                Err(status) => Err(PhoneError::request_failed(status, what)),
            };
            self.resolve(id, result);
        }
    }

    fn on_ua_stopped(&mut self, now: Instant) {
        // The SIP core ends every call before it stops; anything left ends here.
        let all = self.call_ids(&|_| true);
        self.end_calls(now, all, EndCause::Local);
        self.stopped(DisconnectCause::Stopped);
    }

    fn on_incoming(
        &mut self,
        now: Instant,
        ua: CallId,
        from: &str,
        sdp: Option<String>,
        replaces: Option<CallId>,
    ) {
        let peer = match NameAddr::parse(from) {
            Ok(na) => Peer { uri: na.uri, name: na.display.filter(|d| !d.is_empty()) },
            Err(_) => Peer { uri: from.to_string(), name: None },
        };
        let id = self.random_id();
        let mut call = Call::new(id.clone(), ua, CallDirection::Incoming, peer.clone(), self.unix_ms(now));
        call.held.remote = sdp.as_deref().is_some_and(|s| crate::sdp::offer_direction(s).holds_peer());
        call.offer = sdp;
        let replaced = replaces.and_then(|r| self.call_index_ua(r));
        let replaces = replaced.map(|i| self.calls[i].id.clone());
        call.replaces = replaces.clone();
        self.calls.push(call);
        self.event(PhoneEvent::Incoming { call: id, peer, replaces });
        // RFC 3891: a call that replaces an established one is taken at once.
        if replaced.is_some_and(|i| self.calls[i].state == CallState::Established) {
            let i = self.calls.len() - 1;
            self.start_answer(i);
        }
    }

    fn on_progress(&mut self, now: Instant, i: usize, status: u16, sdp: Option<String>) {
        let c = &mut self.calls[i];
        if c.state == CallState::Establishing {
            c.state = CallState::Ringing;
        }
        let apply = sdp.filter(|_| c.early.is_none());
        if let Some(answer) = &apply {
            c.note_answer(answer, true);
            c.early = Some(answer.clone());
        }
        let parent = c.referred_by.clone();
        if let Some(answer) = apply {
            let kind = MediaKind::ApplyAnswer { answer, provisional: true };
            self.media_at(i, kind, Some(Purpose::ApplyInitial));
        }
        if let Some(parent) = parent {
            self.report_transfer(now, &parent, status);
        }
    }

    fn on_established(&mut self, now: Instant, i: usize, sdp: Option<String>) {
        let answered_at = self.unix_ms(now);
        let c = &mut self.calls[i];
        c.state = CallState::Established;
        c.answered_at = Some(answered_at);
        // The answer to our offer: the 200's (outgoing) or the ACK's (incoming, offerless).
        let ours = c.direction == CallDirection::Outgoing || c.offer.is_none();
        let apply = sdp.filter(|s| ours && c.early.as_ref() != Some(s));
        if let Some(answer) = &apply {
            c.note_answer(answer, true);
        }
        let (action, parent, replaces) = (c.answer_action.take(), c.referred_by.take(), c.replaces.take());
        if let Some(answer) = apply {
            let kind = MediaKind::ApplyAnswer { answer, provisional: false };
            self.media_at(i, kind, Some(Purpose::ApplyInitial));
        }
        if let Some(action) = action {
            self.resolve_ok(action);
        }
        if let Some(parent) = parent {
            self.report_transfer(now, &parent, 200);
        }
        if let Some(old) = replaces.and_then(|r| self.call_index(&r)) {
            self.hang_up(now, old, EndCause::Replaced);
        }
    }

    /// The peer asks us to transfer (it got 202 and a NOTIFY 100 already).
    fn on_refer_in(&mut self, now: Instant, i: usize, target: &str) {
        let call = self.calls[i].id.clone();
        let (uri, headers) = split_uri_headers(target);
        // The Refer-To's headers (Replaces, for an attended transfer) go into
        // the INVITE (RFC 3515 2.1), all of them or the transfer is refused.
        let bad_header = headers.iter().find_map(|(n, v)| ua::check_extra_header(n, v).err());
        let refused = if !self.config.follow_transfers {
            Some((603, None))
        } else if let Some(why) = bad_header {
            Some((400, Some(format!("the Refer-To cannot be followed: {why}"))))
        } else if self.target_uri(&uri).is_err() {
            Some((400, Some("the Refer-To URI is not a SIP URI".to_string())))
        } else {
            None
        };
        let new_call = match refused {
            Some(_) => None,
            None => {
                self.calls[i].refer_in = true;
                Some(self.place_call(now, uri, headers, Some(call.clone())))
            }
        };
        // One event either way (after the new call's offer request, before the refusal's error).
        self.event(PhoneEvent::TransferRequested { call: call.clone(), to: target.to_string(), new_call });
        if let Some((status, why)) = refused {
            if let Some(message) = why {
                self.event(PhoneEvent::Error { call: Some(call), message });
            }
            let ua = self.calls[i].ua;
            self.ua_command(now, Command::NotifyRefer { call: ua, status });
        }
    }

    /// Tell the transferor how the call it asked for is going (NOTIFY sipfrag).
    pub(crate) fn report_transfer(&mut self, now: Instant, parent: &str, status: u16) {
        let Some(i) = self.call_index(parent) else { return };
        let c = &mut self.calls[i];
        let alive =
            self.ua.as_ref().and_then(|ua| ua.call_state(c.ua)) == Some(ua::SessionState::Established);
        if !c.refer_in || !alive {
            return;
        }
        if status >= 200 {
            c.refer_in = false;
        }
        let ua = c.ua;
        self.ua_command(now, Command::NotifyRefer { call: ua, status });
    }

    /// Our REFER: the first final status answers the action, the NOTIFYs
    /// that follow are progress; a final 2xx ends the call here.
    fn on_refer_progress(&mut self, now: Instant, i: usize, status: u16) {
        let c = &mut self.calls[i];
        let Some(refer) = c.refer_out else { return };
        let call = c.id.clone();
        if !refer.accepted && status >= 200 {
            if status < 300 {
                c.refer_out = Some(crate::call::ReferOut { accepted: true, ..refer });
                return self.resolve_ok(refer.action);
            }
            c.refer_out = None;
            return self.resolve(refer.action, Err(PhoneError::request_failed(Some(status), "transfer")));
        }
        self.event(PhoneEvent::TransferProgress { call, status });
        if refer.accepted && status >= 200 {
            self.calls[i].refer_out = None;
            if status < 300 {
                self.hang_up(now, i, EndCause::Transferred);
            }
        }
    }

    /// A media failure of the call: reported, and the call ends (no SIP
    /// answer can refuse what is under way).
    pub(crate) fn media_failed(&mut self, now: Instant, i: usize, reason: &str) {
        self.media_error_event(i, "", reason);
        self.hang_up(now, i, EndCause::MediaFailed);
    }

    pub(crate) fn media_error(reason: impl Into<String>) -> PhoneError {
        PhoneError::new(ErrorCode::MediaFailed, reason)
    }
}

/// The call an event of the SIP core is about, for those [`Phone::on_call_event`] handles.
fn event_call(e: &Event) -> Option<CallId> {
    match e {
        Event::Progress { call, .. }
        | Event::Established { call, .. }
        | Event::Ended { call, .. }
        | Event::ReinviteAnswered { call, .. }
        | Event::ReinviteFailed { call, .. }
        | Event::Glare { call }
        | Event::GlareRetry { call }
        | Event::Reoffer { call, .. }
        | Event::AckWithoutAnswer { call }
        | Event::RecoveryOfferNeeded { call }
        | Event::Refer { call, .. }
        | Event::ReferProgress { call, .. }
        | Event::Dtmf { call, .. } => Some(*call),
        _ => None,
    }
}
