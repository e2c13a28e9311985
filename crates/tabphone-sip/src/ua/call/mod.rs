//! Calls: a [`Dialog`] and what goes on around it, the INVITE transactions,
//! re-INVITEs, a REFER received. Ending a call (CANCEL, BYE, 480, as its state
//! needs), the BYE both ways, and the answers to requests in a call are here;
//! setting one up is in `outgoing.rs` (INVITE, CANCEL, the answer and its ACK,
//! forked answers) and `incoming.rs` (a new INVITE, answering, rejecting, a
//! CANCEL received, our 2xx resent until its ACK).

mod incoming;
mod outgoing;

use super::dialog::Dialog;
use super::reinvite::Reinvite;
use super::txn::{Owner, Retransmit, TxnKey};
use super::{CallId, EndCause, Event, SessionState, UserAgent};
use crate::msg::{Method, Request, Response};
use crate::Instant;
pub use outgoing::check_extra_header;
pub(super) use outgoing::ClientInvite;

/// One call.
#[derive(Debug)]
pub(super) struct Call {
    pub(super) state: SessionState,
    /// We sent the INVITE.
    pub(super) outgoing: bool,
    pub(super) dialog: Dialog,
    /// Outgoing: the initial INVITE until its final answer.
    pub(super) invite: Option<ClientInvite>,
    /// Incoming: the initial INVITE until the app answers it.
    pub(super) incoming: Option<Request>,
    /// Our 2xx to an INVITE (initial or re-INVITE), resent until its ACK.
    pub(super) ok: Option<Retransmit>,
    /// Re-INVITEs both ways.
    pub(super) reinvite: Reinvite,
    /// A REFER we received: its CSeq (the NOTIFY event id).
    pub(super) refer_in: Option<u32>,
    /// On hold by [`super::Command::Hold`].
    pub(super) held: bool,
    /// Rebuilt by [`super::Command::Resume`]; its re-INVITE is not answered yet.
    pub(super) resuming: bool,
}

impl Call {
    /// A call being set up in `dialog`.
    pub(super) fn new(outgoing: bool, dialog: Dialog) -> Call {
        Call {
            state: SessionState::Establishing,
            outgoing,
            dialog,
            invite: None,
            incoming: None,
            ok: None,
            reinvite: Reinvite::default(),
            refer_in: None,
            held: false,
            resuming: false,
        }
    }

    /// The earliest of our 2xx resend and a glare retry.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let ok = self.ok.as_ref().map(Retransmit::poll_timeout);
        crate::earliest(&[ok, self.reinvite.poll_timeout()])
    }

    /// An offer is being negotiated: a re-INVITE either way, or our 2xx
    /// waits for its ACK. A new re-INVITE would be glare (RFC 3261 14.1).
    pub(super) fn negotiating(&self) -> bool {
        self.reinvite.in_progress() || self.ok.is_some()
    }

    /// A request of this call now runs as transaction `key` (sent again with
    /// credentials): an INVITE in flight follows it.
    pub(super) fn resent(&mut self, key: &TxnKey, req: &Request) {
        if matches!(req.method, Method::Invite) {
            if let Some(invite) = &mut self.invite {
                invite.key = key.clone();
            }
            if self.reinvite.ours.is_some() {
                self.reinvite.ours = Some(key.clone());
            }
        }
    }
}

/// The calls, in [`CallId`] order: a plain `Vec` searched in full (a phone
/// has a handful of calls; a map's code per key type costs more).
#[derive(Debug, Default)]
pub(super) struct Calls(Vec<(CallId, Call)>);

impl Calls {
    /// The call.
    pub(super) fn get(&self, id: &CallId) -> Option<&Call> {
        self.0.iter().find(|(k, _)| k == id).map(|(_, c)| c)
    }

    /// The call, to update (not inlined: some 40 callers).
    #[inline(never)]
    pub(super) fn get_mut(&mut self, id: &CallId) -> Option<&mut Call> {
        self.0.iter_mut().find(|(k, _)| k == id).map(|(_, c)| c)
    }

    /// Is there a call `id`?
    pub(super) fn contains_key(&self, id: &CallId) -> bool {
        self.get(id).is_some()
    }

    /// A new call (its id is not taken: the callers check), in id order.
    pub(super) fn insert(&mut self, id: CallId, call: Call) {
        // A plain loop: a `position` closure brought its own copy.
        let mut at = 0;
        while at < self.0.len() && self.0[at].0 .0 <= id.0 {
            at += 1;
        }
        self.0.insert(at, (id, call));
    }

    /// The calls, in id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&CallId, &Call)> {
        self.0.iter().map(|(k, c)| (k, c))
    }

    /// The ended calls go; the others keep their order (moved down over
    /// the ended ones, which are then cut off: no `Vec::remove` copy).
    pub(super) fn remove_terminated(&mut self) {
        let mut kept = 0;
        for i in 0..self.0.len() {
            if self.0[i].1.state != SessionState::Terminated {
                self.0.swap(kept, i);
                kept += 1;
            }
        }
        self.0.truncate(kept);
    }

    /// The handle of the `i`th call, in id order.
    pub(super) fn id_at(&self, i: usize) -> Option<CallId> {
        self.0.get(i).map(|(id, _)| *id)
    }

    /// No call left?
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every call removed.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

impl UserAgent {
    /// [`super::Command::Hangup`].
    pub(super) fn hangup(&mut self, now: Instant, id: CallId) {
        if !self.calls.contains_key(&id) {
            return self.no_call(id);
        }
        self.end_call(now, id);
    }

    /// End a call the way its state needs.
    pub(super) fn end_call(&mut self, now: Instant, id: CallId) {
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
                if call.invite.as_ref().is_some_and(|i| i.provisional) {
                    self.send_cancel(now, id);
                } else if let Some(invite) = &mut call.invite {
                    // No CANCEL before a provisional (RFC 3261 9.1): when one comes.
                    invite.cancel_wanted = true;
                }
            }
            SessionState::Established => self.send_bye(now, id),
        }
    }

    /// BYE: the call is over for us, whatever the answer.
    pub(super) fn send_bye(&mut self, now: Instant, id: CallId) {
        let Some((r, key)) = self.in_dialog_request(id, Method::Bye) else { return };
        if let Some(c) = self.calls.get_mut(&id) {
            c.state = SessionState::Terminating;
            c.ok = None;
        }
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// The call ends with a failure `status` (its dialog is gone, or a
    /// resumed one was refused): a BYE along the route set tells the peer
    /// when it still can.
    pub(super) fn bye_failed(&mut self, now: Instant, id: CallId, status: u16) {
        self.send_bye(now, id);
        self.ended(id, EndCause::Failed(status));
    }

    /// The peer's BYE.
    pub(super) fn on_bye(&mut self, id: CallId, req: &Request, tag: &str) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.state = SessionState::Terminated;
        }
        self.respond(req, 200, Some(tag), &[]);
        self.ended(id, EndCause::Remote);
    }

    /// The final answer to a request of call `id`, by method.
    pub(super) fn on_call_response(&mut self, now: Instant, id: CallId, req: &Request, resp: &Response) {
        let status = resp.status;
        let Some(call) = self.calls.get_mut(&id) else {
            if matches!(req.method, Method::Invite) && (200..300).contains(&status) {
                self.reack(now, resp);
            }
            return;
        };
        match req.method {
            Method::Invite if call.invite.is_some() => self.on_invite_answer(now, id, req, resp),
            Method::Invite => self.on_reinvite_answer(now, id, req, resp),
            Method::Bye => {
                call.state = SessionState::Terminated;
                self.ended(id, EndCause::Local);
            }
            Method::Refer => self.event(Event::ReferProgress { call: id, status }),
            // Whatever the CANCEL's answer, the INVITE's answer decides.
            Method::Cancel => {}
            _ => {
                // RFC 3261 12.2.1.2: the dialog is gone.
                if status == 408 || status == 481 {
                    self.bye_failed(now, id, status);
                }
            }
        }
    }

    /// Glare retries, then our 2xx resends, that are due.
    pub(super) fn call_timeouts(&mut self, now: Instant) {
        self.glare_timeouts(now);
        self.ok_timeouts(now);
    }
}
