//! Offer/answer after the call is set up, one exchange at a time per call:
//! our re-INVITEs (hold, unhold, ICE restart) wait in a queue; the peer's
//! re-offer is answered as soon as the media layer is not making or applying
//! one of ours (RFC 3264 allows one outstanding offer per direction; the
//! media layer, a single `RTCPeerConnection`, only one at all). Also the
//! replies of the media layer, routed to what waits for them.

use tabphone_sip::ua::{self, Command};

use crate::call::{Op, Own, Remote};
use crate::error::{ErrorCode, PhoneError};
use crate::media::MediaKind;
use crate::perform::not_connected;
use crate::phone::{Phone, Purpose};
use crate::sdp::{offer_direction, Direction};
use crate::state::{CallState, EndCause};
use crate::Instant;

pub(crate) fn offer_dir(hold: bool) -> Direction {
    if hold {
        Direction::SendOnly
    } else {
        Direction::SendRecv
    }
}

impl Phone {
    pub(crate) fn on_media(&mut self, now: Instant, request: u64, result: Result<String, String>) {
        let Some(w) = self.media.iter().position(|w| w.request == request) else { return };
        let wait = self.media.remove(w);
        let Some(i) = self.call_index_ua(wait.call) else { return };
        match wait.purpose {
            Purpose::CallOffer => self.on_call_offer(now, i, result),
            Purpose::IncomingAnswer => self.on_incoming_answer(now, i, result),
            Purpose::ApplyInitial => {
                if let Err(e) = result {
                    self.media_failed(now, i, &e);
                }
            }
            Purpose::OwnOffer => self.on_own_offer(now, i, request, result),
            Purpose::OwnApply => self.on_own_apply(i, request, result),
            Purpose::RemoteAnswer => self.on_remote_answer(now, i, request, result),
            Purpose::RemoteApply => self.on_remote_apply(i, request, result),
            Purpose::ResumeOffer => self.on_resume_offer(now, i, request, result),
            Purpose::ResumeApply => self.on_resume_apply(now, i, request, result),
            Purpose::ResumeMute => self.on_resume_mute(i, result),
            Purpose::Mute { action, .. } | Purpose::Dtmf { action } => match result {
                Ok(_) => {
                    if let Purpose::Mute { muted, .. } = wait.purpose {
                        self.calls[i].muted = muted;
                    }
                    self.resolve_ok(action)
                }
                Err(e) => self.resolve(action, Err(Self::media_error(e))),
            },
        }
    }

    fn on_call_offer(&mut self, now: Instant, i: usize, result: Result<String, String>) {
        let c = &mut self.calls[i];
        if c.state != CallState::Initial {
            return;
        }
        match result {
            Ok(sdp) => {
                c.state = CallState::Establishing;
                let sdp = c.wire_offer(sdp, true);
                let (call, target, headers) = (c.ua, c.peer.uri.clone(), std::mem::take(&mut c.headers));
                self.ua_command(now, Command::Call { call, target, sdp, headers });
            }
            Err(e) => self.media_failed(now, i, &e),
        }
    }

    fn on_incoming_answer(&mut self, now: Instant, i: usize, result: Result<String, String>) {
        let c = &mut self.calls[i];
        if !c.is_unanswered_incoming() {
            return;
        }
        let call = c.ua;
        match result {
            Ok(sdp) => {
                c.state = CallState::Establishing;
                // Our answer to its offer, or our offer when it had none.
                let sdp = match c.offer {
                    Some(_) => {
                        c.note_answer(&sdp, false);
                        sdp
                    }
                    None => c.wire_offer(sdp, true),
                };
                self.ua_command(now, Command::Answer { call, sdp });
            }
            Err(e) => {
                c.end = Some(EndCause::MediaFailed);
                c.state = CallState::Terminating;
                if let Some(action) = c.answer_action.take() {
                    self.resolve(action, Err(Self::media_error(e.clone())));
                }
                self.media_error_event(i, "", &e);
                // 488 Not Acceptable Here: the offer could not be answered.
                self.ua_command(now, Command::Reject { call, status: 488 });
            }
        }
    }

    /// Start what can start: a deferred re-offer of the peer first, then our
    /// next queued change (only on an established call).
    pub(crate) fn kick(&mut self, i: usize) {
        loop {
            let c = &mut self.calls[i];
            if c.resume.is_some() {
                // Taken over from a previous real tab: the rest waits for that.
                return;
            }
            let making = matches!(c.nego.own, Own::Offering { .. } | Own::Applying { .. });
            if matches!(c.nego.remote, Remote::Idle) && !making {
                if let Some(offer) = c.nego.deferred.take() {
                    return self.start_remote(i, offer);
                }
            }
            let idle = matches!((&c.nego.own, &c.nego.remote), (Own::Idle, Remote::Idle));
            if c.state != CallState::Established || !idle {
                return;
            }
            let Some(op) = c.nego.queue.pop() else { return };
            if !self.is_connected() {
                self.fail_op(i, op, not_connected());
                continue;
            }
            return self.start_own(i, op);
        }
    }

    fn start_own(&mut self, i: usize, op: Op) {
        let c = &self.calls[i];
        let (hold, ice_restart) = match op {
            Op::Hold { hold, .. } => (hold, false),
            Op::IceRestart => (c.held.local, true),
        };
        let kind = MediaKind::Offer { direction: offer_dir(hold), ice_restart };
        let request = self.media_at(i, kind, Some(Purpose::OwnOffer));
        self.calls[i].nego.own = Own::Offering { op, request };
    }

    fn fail_op(&mut self, i: usize, op: Op, error: PhoneError) {
        match op {
            Op::Hold { action, .. } => self.resolve(action, Err(error)),
            // Not connected: the next recovery asks again.
            Op::IceRestart if error.code == ErrorCode::NotConnected => {}
            Op::IceRestart => self.call_error(i, format!("ICE restart: {}", error.message)),
        }
    }

    fn on_own_offer(&mut self, now: Instant, i: usize, request: u64, result: Result<String, String>) {
        let c = &mut self.calls[i];
        let Own::Offering { op, request: r } = c.nego.own else { return };
        if r != request {
            return;
        }
        c.nego.own = Own::Idle;
        let (ua_call, deferred) = (c.ua, c.nego.deferred.is_some());
        let established =
            self.ua.as_ref().and_then(|ua| ua.call_state(ua_call)) == Some(ua::SessionState::Established);
        match result {
            Err(e) => self.fail_op(i, op, Self::media_error(e)),
            Ok(sdp) if !deferred && self.is_connected() && established => {
                let sdp = self.calls[i].wire_offer(sdp, false);
                self.calls[i].nego.own = Own::Reinviting { op };
                self.ua_command(now, Command::Reinvite { call: ua_call, sdp });
            }
            Ok(_) => {
                self.media_at(i, MediaKind::Rollback, None);
                if deferred {
                    // The peer's offer came first: answer it, then offer again.
                    self.calls[i].nego.requeue(op);
                } else if !self.is_connected() {
                    self.fail_op(i, op, not_connected());
                } else {
                    self.fail_op(
                        i,
                        op,
                        PhoneError::new(ErrorCode::WrongState, "the call is not established"),
                    );
                }
            }
        }
        self.kick(i);
    }

    /// After a recovery: an ICE-restart re-INVITE, once, in its turn.
    pub(crate) fn on_recovery_offer_needed(&mut self, i: usize) {
        if !self.calls[i].nego.queue.iter().any(|op| matches!(op, Op::IceRestart)) {
            self.calls[i].nego.enqueue(Op::IceRestart);
        }
        self.kick(i);
    }

    pub(crate) fn on_reinvite_answered(&mut self, i: usize, sdp: Option<String>) {
        let c = &mut self.calls[i];
        if matches!(c.nego.remote, Remote::AwaitingAck) {
            // The ACK's answer to the offer we put in our 200.
            c.nego.remote = Remote::Idle;
            if let Some(answer) = sdp {
                c.note_answer(&answer, true);
                let kind = MediaKind::ApplyAnswer { answer, provisional: false };
                let request = self.media_at(i, kind, Some(Purpose::RemoteApply));
                self.calls[i].nego.remote = Remote::ApplyingAck { request };
            }
            return self.kick(i);
        }
        let Own::Reinviting { op } = c.nego.own else { return };
        match sdp {
            Some(answer) => {
                c.note_answer(&answer, true);
                let kind = MediaKind::ApplyAnswer { answer, provisional: false };
                let request = self.media_at(i, kind, Some(Purpose::OwnApply));
                self.calls[i].nego.own = Own::Applying { op, request };
            }
            None => {
                c.nego.own = Own::Idle;
                self.media_at(i, MediaKind::Rollback, None);
                self.fail_op(i, op, Self::media_error("the re-INVITE was answered without SDP"));
                self.kick(i);
            }
        }
    }

    pub(crate) fn on_reinvite_failed(&mut self, i: usize, status: u16) {
        let c = &mut self.calls[i];
        let op = match c.nego.own {
            Own::Reinviting { op } => {
                self.media_at(i, MediaKind::Rollback, None);
                op
            }
            // Rolled back already, at the 491.
            Own::GlareWait { op } => op,
            _ => return,
        };
        self.calls[i].nego.own = Own::Idle;
        if status == 488 && self.calls[i].drop_dtls_claim() {
            // Not Acceptable Here, to an offer that claimed a DTLS role (see
            // crate::sdp): once more with the offer as the media layer made it.
            let role = self.calls[i].dtls.map_or("?", |r| r.as_str());
            let message = format!(
                "re-INVITE refused with 488 with a=setup:{role} in its offer: offered again with the media layer's own a=setup"
            );
            self.call_error(i, message);
            self.calls[i].nego.requeue(op);
            return self.kick(i);
        }
        self.fail_op(i, op, PhoneError::request_failed(Some(status), "re-INVITE"));
        self.kick(i);
    }

    /// Our re-INVITE met glare: its offer is void (rolled back); the peer's
    /// re-offer may be answered meanwhile, and ours waits for the SIP core.
    pub(crate) fn on_glare(&mut self, i: usize) {
        let c = &mut self.calls[i];
        let Own::Reinviting { op } = c.nego.own else { return };
        c.nego.own = Own::GlareWait { op };
        self.media_at(i, MediaKind::Rollback, None);
        self.kick(i);
    }

    /// The wait after glare is over: the same change again, from a fresh
    /// offer of the media as they are now (the peer's re-offer may have
    /// changed them).
    pub(crate) fn on_glare_retry(&mut self, i: usize) {
        let c = &mut self.calls[i];
        let Own::GlareWait { op } = c.nego.own else { return };
        c.nego.own = Own::Idle;
        c.nego.requeue(op);
        self.kick(i);
    }

    fn on_own_apply(&mut self, i: usize, request: u64, result: Result<String, String>) {
        let c = &mut self.calls[i];
        let Own::Applying { op, request: r } = c.nego.own else { return };
        if r != request {
            return;
        }
        c.nego.own = Own::Idle;
        match (result, op) {
            (Ok(_), Op::Hold { action, hold }) => {
                c.held.local = hold;
                self.resolve_ok(action);
            }
            (Ok(_), Op::IceRestart) => {}
            (Err(e), op) => self.fail_op(i, op, Self::media_error(e)),
        }
        self.kick(i);
    }

    /// A call refused with 488 whose offer (the INVITE's, or a resume's)
    /// claimed a DTLS role: say so, the likely cause (see [`crate::sdp`]).
    pub(crate) fn explain_refused_offer(&mut self, i: usize, cause: EndCause) {
        let c = &self.calls[i];
        let refused =
            matches!(cause, EndCause::Failed { status: 488 } | EndCause::ResumeFailed { status: 488 });
        if !refused || !c.claimed {
            return;
        }
        let role = c.dtls.unwrap_or(crate::sdp::DtlsRole::Active).as_str();
        let message = format!(
            "the peer refused our offer with 488; it claimed a=setup:{role} (tabphone offers a definite DTLS \
             role, RFC 4145; an RFC 5763 peer answers it with the other one)"
        );
        self.call_error(i, message);
    }

    pub(crate) fn on_reoffer(&mut self, i: usize, sdp: Option<String>) {
        self.calls[i].nego.deferred = Some(sdp);
        self.kick(i);
    }

    /// Ask the media layer for the 200 to the peer's re-INVITE: an answer to
    /// its offer (RFC 3264 6.1, keeping our hold), or an offer if it had none.
    fn start_remote(&mut self, i: usize, sdp: Option<String>) {
        let c = &self.calls[i];
        let hold = c.held.local;
        let peer_holds = sdp.as_deref().map(|offer| offer_direction(offer).holds_peer());
        let (kind, offerless) = match sdp {
            Some(offer) => {
                let direction = offer_direction(&offer).answer(hold);
                let new = crate::sdp::fingerprint(&offer);
                let fresh = c.remote_fingerprint.as_deref().is_some_and(|old| new.is_some_and(|n| n != old));
                (MediaKind::Answer { direction, offer, fresh }, false)
            }
            None => (MediaKind::Offer { direction: offer_dir(hold), ice_restart: false }, true),
        };
        let request = self.media_at(i, kind, Some(Purpose::RemoteAnswer));
        self.calls[i].nego.remote = Remote::Answering { request, offerless, peer_holds };
    }

    fn on_remote_answer(&mut self, now: Instant, i: usize, request: u64, result: Result<String, String>) {
        let c = &mut self.calls[i];
        let Remote::Answering { request: r, offerless, peer_holds } = c.nego.remote else { return };
        if r != request {
            return;
        }
        c.nego.remote = Remote::Idle;
        let call = c.ua;
        match result {
            Ok(sdp) => {
                c.held.remote = peer_holds.unwrap_or(c.held.remote);
                let sdp = if offerless {
                    c.nego.remote = Remote::AwaitingAck;
                    c.wire_offer(sdp, false)
                } else {
                    c.note_answer(&sdp, false);
                    sdp
                };
                self.ua_command(now, Command::AnswerReoffer { call, sdp });
                self.kick(i);
            }
            Err(e) => {
                // 488 Not Acceptable Here: the call goes on as it was (RFC 3261
                // 14.2); the media layer left its media as they were.
                self.media_error_event(i, "the peer's re-offer was refused with 488: ", &e);
                self.ua_command(now, Command::RejectReoffer { call, status: 488 });
                self.kick(i);
            }
        }
    }

    /// The ACK came without the answer to the offer in our 200. After a
    /// re-INVITE the offer is void: rolled back, and the next exchange may
    /// start. After the initial INVITE the call has no session: it ends.
    /// (An ACK that never comes ends the call in the SIP core.)
    pub(crate) fn on_ack_without_answer(&mut self, now: Instant, i: usize) {
        let c = &mut self.calls[i];
        let reason = "the peer's ACK brought no answer to our offer";
        if !matches!(c.nego.remote, Remote::AwaitingAck) {
            if c.direction == crate::state::CallDirection::Incoming && c.offer.is_none() {
                self.media_failed(now, i, reason);
            }
            return;
        }
        c.nego.remote = Remote::Idle;
        self.media_at(i, MediaKind::Rollback, None);
        self.call_error(i, reason.to_string());
        self.kick(i);
    }

    fn on_remote_apply(&mut self, i: usize, request: u64, result: Result<String, String>) {
        let c = &mut self.calls[i];
        if !matches!(c.nego.remote, Remote::ApplyingAck { request: r } if r == request) {
            return;
        }
        c.nego.remote = Remote::Idle;
        if let Err(e) = result {
            self.media_error_event(i, "the peer's answer: ", &e);
        }
        self.kick(i);
    }
}
