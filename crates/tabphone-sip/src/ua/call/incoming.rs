//! Being called: a new INVITE (100 and 180 at once, then the app answers or
//! rejects), a CANCEL of it (200, then 487 to the INVITE), our 2xx resent from
//! T1 doubling to T2 until its ACK (RFC 3261 13.3.1.4), and that ACK.

use super::super::dialog::Dialog;
use super::super::txn::{Resend, Retransmit};
use super::super::{CallId, EndCause, Event, SessionState, UserAgent, ALLOW};
use super::Call;
use crate::msg::{NameAddr, Request, Response, Role};
use crate::Instant;

impl UserAgent {
    /// An INVITE outside any dialog that passed the checks (`to`: its To
    /// URI): a new call, or a retransmission of one (same Call-ID and From
    /// tag), absorbed.
    pub(in crate::ua) fn on_new_invite(&mut self, req: Request, from: &NameAddr, to: &str, call_id: &str) {
        if self.find_dialog(call_id, None, from.tag()).is_some() {
            return;
        }
        let replaces = req.headers.get("Replaces").and_then(|v| self.match_replaces(v));
        let id = CallId(self.next_call);
        self.next_call += 1;
        let local_tag = self.random_hex(10);
        let remote_target = req.headers.first_contact_uri().unwrap_or_else(|| from.uri.clone());
        let sdp = req.body_text();
        let from_text = req.headers.get("From").unwrap_or("").to_string();
        self.respond(&req, 100, None, &[]);
        self.respond(&req, 180, Some(&local_tag), &[("Contact", &self.me.contact_text.clone())]);
        // Our URI in the dialog is the To of the INVITE (RFC 3261 12.1.1).
        let mut dialog =
            Dialog::new(call_id.to_string(), local_tag, to.to_string(), from.uri.clone(), remote_target);
        dialog.remote_tag = from.tag().map(str::to_string);
        dialog.route_set = req.headers.route_set(Role::Uas);
        dialog.remote_cseq = req.headers.cseq_seq();
        let mut call = Call::new(false, dialog);
        call.incoming = Some(req);
        self.calls.insert(id, call);
        self.event(Event::Incoming { call: id, from: from_text, sdp, replaces });
    }

    /// [`super::super::Command::Answer`].
    pub(in crate::ua) fn answer(&mut self, now: Instant, id: CallId, sdp: String) {
        let Some(call) = self.calls.get_mut(&id) else {
            return self.no_call(id);
        };
        let Some(invite) = call.incoming.take() else {
            return self.call_problem(id, " has nothing to answer");
        };
        let extra = [("Allow", ALLOW), ("Supported", "outbound, replaces")];
        self.send_ok_until_ack(now, id, &invite, sdp, &extra);
    }

    /// A 200 with `sdp` to an INVITE (initial or re-INVITE), resent until
    /// its ACK ([`Retransmit`]).
    pub(in crate::ua) fn send_ok_until_ack(
        &mut self,
        now: Instant,
        id: CallId,
        invite: &Request,
        sdp: String,
        extra: &[(&'static str, &str)],
    ) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let mut resp = Response::to(invite, 200, Some(&call.dialog.local_tag));
        resp.headers.push("Contact", self.me.contact_text.clone());
        for (name, value) in extra {
            resp.headers.push(*name, *value);
        }
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = sdp.into_bytes();
        let text = resp.encode();
        let cseq = invite.headers.cseq_seq().unwrap_or(0);
        let offer = invite.body.is_empty();
        call.ok = Some(Retransmit::new(text.clone(), cseq, offer, now, self.config.t1));
        self.send_text(text);
    }

    /// [`super::super::Command::Reject`] (and a hangup before answering: 480).
    pub(in crate::ua) fn reject(&mut self, id: CallId, status: u16) {
        if !(300..=699).contains(&status) {
            return self.call_error(id, format!("reject needs a status 300-699, not {status}"));
        }
        if !self.calls.contains_key(&id) {
            return self.no_call(id);
        }
        if !self.refuse_incoming(id, status, EndCause::Failed(status)) {
            self.call_problem(id, " has nothing to reject");
        }
    }

    /// Answer call `id`'s INVITE, if the app has not, with a final `status`
    /// and end the call with `cause`; false when there is none.
    fn refuse_incoming(&mut self, id: CallId, status: u16, cause: EndCause) -> bool {
        let Some(call) = self.calls.get_mut(&id) else { return false };
        let Some(invite) = call.incoming.take() else { return false };
        let tag = call.dialog.local_tag.clone();
        call.state = SessionState::Terminated;
        self.respond(&invite, status, Some(&tag), &[]);
        self.ended(id, cause);
        true
    }

    /// A CANCEL: of an INVITE we have not answered (by its branch), 200 and
    /// 487; of anything else, 481.
    pub(in crate::ua) fn on_cancel(&mut self, req: &Request) {
        let branch = req.headers.top_branch();
        let mut found = None;
        for (id, c) in self.calls.iter() {
            if c.incoming.as_ref().is_some_and(|inv| inv.headers.top_branch() == branch && branch.is_some()) {
                found = Some(*id);
                break;
            }
        }
        let Some(id) = found else {
            return self.respond(req, 481, None, &[]);
        };
        self.respond(req, 200, None, &[]);
        self.refuse_incoming(id, 487, EndCause::Remote);
    }

    /// An ACK: of our 2xx (its CSeq), which ends the resends and establishes
    /// the call (or completes a re-INVITE); others are ignored. One that
    /// should have brought the answer to our offer and did not is reported.
    pub(in crate::ua) fn on_ack(&mut self, req: &Request, call_id: &str, from: &NameAddr, to: &NameAddr) {
        let seq = req.headers.cseq_seq().unwrap_or(0);
        let Some(to_tag) = to.tag() else { return };
        let Some(id) = self.find_dialog(call_id, Some(to_tag), from.tag()) else { return };
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.ok.as_ref().is_none_or(|r| r.cseq != seq) {
            return; // an ACK for a non-2xx, or a duplicate
        }
        let offered = call.ok.take().is_some_and(|ok| ok.offer);
        let sdp = req.body_text();
        let missing = offered && sdp.is_none();
        if call.state == SessionState::Establishing {
            call.state = SessionState::Established;
            self.event(Event::Established { call: id, sdp });
        } else if sdp.is_some() {
            self.event(Event::ReinviteAnswered { call: id, sdp });
        }
        if missing {
            self.event(Event::AckWithoutAnswer { call: id });
        }
    }

    /// Our 2xx resends that are due; 64*T1 without an ACK ends the call with
    /// a BYE (RFC 3261 13.3.1.4).
    pub(in crate::ua) fn ok_timeouts(&mut self, now: Instant) {
        for i in 0.. {
            let Some(id) = self.call_at(i) else { break };
            let Some(call) = self.calls.get_mut(&id) else { continue };
            let Some(ok) = call.ok.as_mut() else { continue };
            match ok.on_timeout(now, self.config.t2) {
                Resend::Wait => {}
                Resend::Again(text) => self.send_text(text),
                Resend::GiveUp => {
                    call.ok = None;
                    self.send_bye(now, id);
                    self.ended(id, EndCause::Timeout);
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.state = SessionState::Terminated;
                    }
                }
            }
        }
    }
}
