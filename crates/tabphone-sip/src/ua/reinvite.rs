//! Re-INVITEs (RFC 3261 14): ours (a new offer, hold and unhold, the
//! ICE-restart offer after recovery), the peer's (reported as
//! [`Event::Reoffer`], answered with [`super::Command::AnswerReoffer`] or
//! refused with [`super::Command::RejectReoffer`]), and
//! glare: a re-INVITE while another is under way gets 491; ours that got
//! 491 is void ([`Event::Glare`]), and after a random wait (RFC 3261 14.1)
//! the app is asked for a fresh offer ([`Event::GlareRetry`]): the stale one
//! may no longer describe its media.

use std::time::Duration;

use super::txn::{Owner, TxnKey};
use super::{CallId, Event, SessionState, UserAgent, ALLOW};
use crate::msg::{decimal, Method, Request, Response};
use crate::sdp::set_direction;
use crate::Instant;

/// A call's re-INVITEs.
#[derive(Debug, Default)]
pub(super) struct Reinvite {
    /// Ours, in flight.
    pub(super) ours: Option<TxnKey>,
    /// The peer's, waiting for the app's answer.
    pub(super) theirs: Option<Request>,
    /// Ours met glare (491): ask for a fresh offer at this time.
    pub(super) glare_retry: Option<Instant>,
}

impl Reinvite {
    /// A re-INVITE either way is under way.
    pub(super) fn in_progress(&self) -> bool {
        self.ours.is_some() || self.theirs.is_some()
    }

    /// When the glare retry is due.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.glare_retry
    }
}

impl UserAgent {
    /// [`super::Command::Reinvite`]: a new offer in an established call.
    pub(super) fn reinvite(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get(&id) else { return self.no_call(id) };
        if call.state != SessionState::Established {
            return self.call_problem(id, " is not established");
        }
        if call.reinvite.in_progress() {
            return self.call_problem(id, ": a re-INVITE is already under way");
        }
        if !self.connected {
            return self.call_problem(id, ": not connected; the re-INVITE follows recovery");
        }
        let Some((mut r, key)) = self.in_dialog_request(id, Method::Invite) else { return };
        r.headers.push("Allow", ALLOW);
        r.headers.push("Content-Type", "application/sdp");
        r.body = sdp.into_bytes();
        if let Some(c) = self.calls.get_mut(&id) {
            c.reinvite.glare_retry = None;
            c.reinvite.ours = Some(key.clone());
        }
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// [`super::Command::Hold`] and [`super::Command::Unhold`]: a re-INVITE
    /// with the offer's direction set to `sendonly` or `sendrecv`.
    pub(super) fn hold(&mut self, now: Instant, id: CallId, sdp: &str, held: bool) {
        if let Some(c) = self.calls.get_mut(&id) {
            c.held = held;
        }
        self.reinvite(now, id, set_direction(sdp, if held { "sendonly" } else { "sendrecv" }))
    }

    /// [`super::Command::AnswerReoffer`].
    pub(super) fn answer_reoffer(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get_mut(&id) else {
            return self.no_call(id);
        };
        let Some(req) = call.reinvite.theirs.take() else {
            return self.call_problem(id, " has no re-INVITE to answer");
        };
        self.send_ok_until_ack(now, id, &req, sdp, &[]);
    }

    /// [`super::Command::RejectReoffer`]: a final non-2xx to the peer's
    /// re-INVITE; its ACK comes hop by hop and is ignored, the session stays
    /// as it was.
    pub(super) fn reject_reoffer(&mut self, id: CallId, status: u16) {
        if !(400..=699).contains(&status) {
            return self.call_error(id, format!("a re-INVITE is refused with 400-699, not {status}"));
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return self.no_call(id);
        };
        let Some(req) = call.reinvite.theirs.take() else {
            return self.call_problem(id, " has no re-INVITE to refuse");
        };
        let tag = call.dialog.local_tag.clone();
        self.respond(&req, status, Some(&tag), &[]);
    }

    /// The peer's re-INVITE: 500 while we have not answered its INVITE, 491
    /// while ours is pending or an offer is being negotiated (RFC 3261 14.2),
    /// else a target refresh and [`Event::Reoffer`].
    pub(super) fn on_reinvite(&mut self, id: CallId, req: Request, tag: &str) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.incoming.is_some() {
            let retry_after = decimal(self.rng.next_u64() % 11);
            return self.respond(&req, 500, Some(tag), &[("Retry-After", &retry_after)]);
        }
        if call.negotiating() || call.invite.is_some() {
            return self.respond(&req, 491, Some(tag), &[]);
        }
        call.dialog.refresh_target(&req.headers);
        let sdp = req.body_text();
        call.reinvite.theirs = Some(req);
        self.event(Event::Reoffer { call: id, sdp });
    }

    /// The final answer to our re-INVITE.
    pub(super) fn on_reinvite_answer(&mut self, now: Instant, id: CallId, req: &Request, resp: &Response) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        call.reinvite.ours = None;
        let status = resp.status;
        let resuming = std::mem::take(&mut call.resuming);
        if (200..300).contains(&status) {
            call.dialog.refresh_target(&resp.headers);
            self.send_ack(now, id, req.headers.cseq_seq().unwrap_or(1));
            return self.event(Event::ReinviteAnswered { call: id, sdp: resp.body_text() });
        }
        let outgoing = call.outgoing;
        if status != 408 {
            self.ack_failure(req, resp);
        }
        if status == 491 {
            // Glare: try again after a random wait, longer for the side that
            // owns the Call-ID (RFC 3261 14.1).
            let (lo, span) = if outgoing { (2100, 1900) } else { (0, 2000) };
            let wait = lo + self.rng.next_u64() % span;
            if let Some(c) = self.calls.get_mut(&id) {
                c.reinvite.glare_retry = Some(now + Duration::from_millis(wait));
                c.resuming = resuming;
            }
            return self.event(Event::Glare { call: id });
        }
        self.reinvite_failed(id, status);
        // A resumed call's re-INVITE failed (not glare): the peer will not
        // send to us, so the call ends, as it does when the dialog is gone.
        if resuming || status == 408 || status == 481 {
            self.bye_failed(now, id, status);
        }
    }

    /// Tell the app our re-INVITE failed ([`Event::ReinviteFailed`]; not
    /// inlined: three callers).
    #[inline(never)]
    pub(super) fn reinvite_failed(&mut self, id: CallId, status: u16) {
        self.event(Event::ReinviteFailed { call: id, status });
    }

    /// Glare retries that are due: the app asked for a fresh offer, put off
    /// while the peer's offer is still being answered, or failed if the call
    /// or connection is gone.
    pub(super) fn glare_timeouts(&mut self, now: Instant) {
        for i in 0.. {
            let Some(id) = self.call_at(i) else { break };
            let Some(call) = self.calls.get_mut(&id) else { continue };
            if call.reinvite.glare_retry.is_none_or(|at| at > now) {
                continue;
            }
            if call.negotiating() {
                // The peer's re-INVITE is still being answered: a little later.
                call.reinvite.glare_retry = Some(now + self.config.t1);
                continue;
            }
            call.reinvite.glare_retry = None;
            if call.state == SessionState::Established && self.connected {
                self.event(Event::GlareRetry { call: id });
            } else {
                self.reinvite_failed(id, 491);
            }
        }
    }
}
