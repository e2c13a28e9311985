//! Starting (with calls inherited from a previous real tab: `resume.rs`),
//! the stop modes, and a call ending (in any mode).
//!
//! | `unregister` | `hang_up` | what happens | who uses it |
//! |---|---|---|---|
//! | yes | yes | every call hung up, un-REGISTER, close when answered | the app's `close()` |
//! | no | no | close at once; established calls left to a successor | a handover, `takeOver` |
//! | yes | no | as "no, no" when an established call is kept, else as "yes, yes" | the last tab's `pagehide` (a reload resumes) |
//! | no | yes | every call hung up (answers not awaited), close; the binding stays | - |
//!
//! The calls kept for a successor stay in the state as they were (with their
//! dialog; no `callEnded`), so the last state published is what the
//! successor inherits and every tab sees them continue. The next
//! [`crate::PhoneInput::Start`] of this phone drops them: those its
//! `inherit` does not list end `handed_over` then.
//!
//! Whenever calls are kept, the calls that cannot be (not established:
//! ringing, being set up, being hung up) are ended the way their state
//! allows before the socket closes (a 480 to a ringing incoming call, a
//! CANCEL after a provisional, a BYE to an answered call awaiting its ACK),
//! with cause `not_resumable`: no successor could take them over.

use tabphone_sip::ua::{self, UserAgent};

use crate::call::Call;
use crate::error::{ErrorCode, PhoneError};
use crate::event::PhoneEvent;
use crate::media::MediaKind;
use crate::phone::{Phone, Purpose, Run};
use crate::resume::Inherited;
use crate::state::{CallState, DisconnectCause, EndCause, EndedCall, ENDED_KEPT};
use crate::timers::Timer;
use crate::Instant;

impl Phone {
    pub(crate) fn start(&mut self, now: Instant, unix_ms: u64, inherit: Option<Inherited<'_>>) {
        if self.run != Run::Stopped {
            let message = "start: the phone is already running".to_string();
            return self.event(PhoneEvent::Error { call: None, message });
        }
        self.clock = Some((now, unix_ms));
        let kept = std::mem::take(&mut self.kept);
        let mut sip = self.config.sip.clone();
        // A new seed per start: a restarted agent must not reuse Call-IDs and tags.
        sip.seed = self.next_random().max(1);
        self.ua = Some(UserAgent::new(sip));
        self.run = Run::Running;
        self.ua_command(now, ua::Command::Start);
        if let Some(inherited) = inherit {
            self.inherit(now, unix_ms, inherited);
        }
        for v in &kept {
            if self.call_index(&v.id).is_none() && !self.ended.iter().any(|e| e.id == v.id) {
                self.record_end(now, &v.id, EndCause::HandedOver);
            }
        }
    }

    /// Can a successor take this call over: established, with a dialog.
    pub(crate) fn resumable(&self, c: &Call) -> bool {
        let dialog = c.inherited.is_some() || self.ua.as_ref().is_some_and(|ua| ua.dialog(c.ua).is_some());
        c.state == CallState::Established && c.end.is_none() && dialog
    }

    pub(crate) fn stop(&mut self, now: Instant, unregister: bool, hang_up: bool) {
        if self.run == Run::Stopped || (self.run == Run::Stopping && unregister) {
            return;
        }
        // Ids by reference, here and in `end_at`: no `IntoIter<u64>` copy.
        for &id in &self.timers.actions() {
            self.resolve(id, Err(PhoneError::new(ErrorCode::Stopped, "the phone stopped")));
        }
        self.media.clear();
        self.timers.clear(Timer::Resume);
        let keep = !hang_up && self.calls.iter().any(|c| self.resumable(c));
        let dropped = if hang_up || !keep { EndCause::Local } else { EndCause::NotResumable };
        // Calls the SIP core does not know yet (the offer was being made).
        let unsent = self.call_ids(&Call::ua_call_unsent);
        self.end_calls(now, unsent, dropped);
        if unregister && !keep {
            for c in &mut self.calls {
                let refused = EndCause::Declined { status: 480 };
                c.end.get_or_insert(if c.is_unanswered_incoming() { refused } else { EndCause::Local });
            }
            self.run = Run::Stopping;
            return self.ua_command(now, ua::Command::Stop);
        }
        self.close_now(now, hang_up, dropped);
    }

    /// Close at once: the calls kept stay in the state, the others are hung
    /// up first (their requests leave before the close).
    fn close_now(&mut self, now: Instant, hang_up: bool, dropped: EndCause) {
        let mut ends = Vec::new();
        for id in self.call_ids(&|_| true) {
            let Some(i) = self.call_index(&id) else { continue };
            if !hang_up && self.resumable(&self.calls[i]) {
                self.refresh_view(i);
                self.kept.push(self.calls.remove(i).view);
                self.media_request(id, crate::media::MediaKind::Close);
                continue;
            }
            // Calls a stop under way was hanging up keep that cause (their
            // `end`, which the hang-up sets and the drain does not change).
            self.hang_up(now, i, dropped);
            ends.push(id);
        }
        self.drain_ua(now);
        self.end_calls(now, ends, dropped);
        self.ua = None;
        self.push(crate::PhoneOutput::Close);
        self.stopped(DisconnectCause::HandedOver);
    }

    // ----- calls ending -----

    /// The calls with these ids that are still live end, one by one, with
    /// the cause decided for each (`end`), else `cause`. Ending one call
    /// changes no other's `end` (the SIP core's events wait for the next drain).
    pub(crate) fn end_calls(&mut self, now: Instant, ids: Vec<String>, cause: EndCause) {
        for id in ids {
            if let Some(i) = self.call_index(&id) {
                let cause = self.calls[i].end.unwrap_or(cause);
                self.end_at(now, i, cause);
            }
        }
    }

    /// Live call `i` leaves the state with `cause`: recorded in `ended`,
    /// announced, its media closed, its waiting actions failed, a transferor told.
    pub(crate) fn end_at(&mut self, now: Instant, i: usize, cause: EndCause) {
        let call = self.calls.remove(i);
        self.record_end(now, &call.id, cause);
        self.media_request(call.id.clone(), MediaKind::Close);
        let mut actions = call.waiting_actions();
        let mut w = 0;
        while w < self.media.len() {
            if self.media[w].call != call.ua {
                w += 1;
                continue;
            }
            if let Purpose::Mute { action, .. } | Purpose::Dtmf { action } = self.media.remove(w).purpose {
                actions.push(action);
            }
        }
        for &action in &actions {
            self.resolve(action, Err(crate::perform::call_refused(ErrorCode::CallEnded, &call.id, " ended")));
        }
        if let Some(parent) = &call.referred_by {
            self.report_transfer(now, parent, crate::call::transfer_status(cause));
        }
    }

    /// A call ended: in `ended`, and announced.
    pub(crate) fn record_end(&mut self, now: Instant, id: &str, cause: EndCause) {
        self.ended.push(EndedCall { id: id.to_string(), cause, at: self.unix_ms(now) });
        while self.ended.len() > ENDED_KEPT {
            self.ended.remove(0);
        }
        self.event(PhoneEvent::CallEnded { call: id.to_string(), cause });
    }
}
