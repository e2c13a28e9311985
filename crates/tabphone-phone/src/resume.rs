//! Taking calls over from a previous real tab (a handover, a crash, a page
//! reload): [`Inherited`], the state it published last, given to
//! [`crate::PhoneInput::Start`].
//!
//! Each inherited call that was established, with its dialog, keeps its id,
//! peer, direction, times, hold and mute, counts one more handover, and is
//! `resuming` until it is back: the media layer makes a fresh offer (a new
//! `RTCPeerConnection`: `sendonly` when held here, then muted if it was);
//! once connected (the registration is not awaited: the REGISTER and the
//! re-INVITE leave back to back) the SIP core rebuilds the dialog and sends
//! a target-refresh re-INVITE with our Contact and that offer
//! ([`tabphone_sip::ua::Command::Resume`]); its answer applied, the call is
//! established here. A refusal ends the call `resume_failed` with the
//! status (the SIP core sends a BYE), a media failure `media_failed`.
//! Calls that were not established end `not_resumable` (nothing is sent:
//! this phone has no transaction of theirs), and all of them end `expired`
//! when the state is older than [`crate::Config::resume_within`], or the
//! re-INVITE could not leave before it got that old.
//!
//! `rev` continues past the inherited one, and the inherited `ended`
//! history is kept, so every tab reads the new real's states as the
//! continuation of the old one's.

use std::time::Duration;

use tabphone_sip::ua::{self, Command};

use crate::call::{dialog_snapshot, Call, Resume};
use crate::event::PhoneEvent;
use crate::media::MediaKind;
use crate::nego::offer_dir;
use crate::phone::{Phone, Purpose};
use crate::state::{CallState, CallView, EndCause, PhoneState, ENDED_KEPT};
use crate::timers::Timer;
use crate::Instant;

/// The calls of a previous real tab to take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inherited<'a> {
    /// The last [`PhoneState`] JSON it published (or kept in storage).
    pub state: &'a str,
    /// When it was last known alive (Unix ms): its calls are resumed only
    /// within [`crate::Config::resume_within`] of this.
    pub as_of_unix_ms: u64,
}

impl Phone {
    /// Take over the calls of `inherited` (the phone has just started).
    pub(crate) fn inherit(&mut self, now: Instant, unix_ms: u64, inherited: Inherited<'_>) {
        let mut state = match PhoneState::parse(inherited.state) {
            Ok(s) => s,
            Err(e) => {
                let message = format!("inherited state refused, no call taken over: {}", e.message);
                return self.event(PhoneEvent::Error { call: None, message });
            }
        };
        self.rev = self.rev.max(state.rev);
        // By reference: no `IntoIter` copy for this type.
        for e in &state.ended {
            if !self.ended.iter().any(|old| old.id == e.id) && state.calls.iter().all(|c| c.id != e.id) {
                self.ended.push(e.clone());
            }
        }
        while self.ended.len() > ENDED_KEPT {
            self.ended.remove(0);
        }
        let age = Duration::from_millis(unix_ms.saturating_sub(inherited.as_of_unix_ms));
        let left = self.config.resume_within.checked_sub(age);
        if let Some(left) = left {
            self.timers.set(Timer::Resume, now + left);
        }
        // Oldest first, popped from the reversed list: no `IntoIter` copy for this type.
        state.calls.reverse();
        while let Some(view) = state.calls.pop() {
            self.inherit_call(now, view, left.is_some());
        }
    }

    /// One inherited call: resumed (`fresh`, established, with a dialog) or ended.
    fn inherit_call(&mut self, now: Instant, v: CallView, fresh: bool) {
        if self.ended.iter().any(|e| e.id == v.id) {
            // It ended here after that state was published: reported already.
            return;
        }
        if self.call_index(&v.id).is_some() {
            let message = format!("inherited state: call {} twice, taken over once", v.id);
            return self.event(PhoneEvent::Error { call: Some(v.id), message });
        }
        let Some(ua) = self.ua.as_mut() else { return };
        let mut call = Call::new(v.id, ua.new_call_id(), v.direction, v.peer, v.started_at);
        call.state = v.state;
        call.held = v.held;
        call.muted = v.muted;
        call.answered_at = v.answered_at;
        call.handovers = v.handovers;
        call.dtls = v.dtls;
        call.inherited = v.dialog.map(|d| dialog_snapshot(d, v.direction));
        let cause = match v.state {
            CallState::Established if call.inherited.is_some() && fresh => None,
            CallState::Established if call.inherited.is_some() => Some(EndCause::Expired),
            // It was being hung up here.
            CallState::Terminating => Some(EndCause::Local),
            _ if !fresh => Some(EndCause::Expired),
            _ => Some(EndCause::NotResumable),
        };
        self.calls.push(call);
        match cause {
            Some(cause) => self.end_at(now, self.calls.len() - 1, cause),
            None => self.start_resume(self.calls.len() - 1),
        }
    }

    /// Ask the media layer for the fresh offer (and the mute it had).
    fn start_resume(&mut self, i: usize) {
        let c = &mut self.calls[i];
        c.handovers = c.handovers.saturating_add(1);
        let muted = c.muted;
        let kind = MediaKind::Offer { direction: offer_dir(c.held.local), ice_restart: false };
        let request = self.media_at(i, kind, Some(Purpose::ResumeOffer));
        self.calls[i].resume = Some(Resume::Offering { request });
        if muted {
            self.media_at(i, MediaKind::Mute { muted: true }, Some(Purpose::ResumeMute));
        }
    }

    pub(crate) fn on_resume_offer(
        &mut self,
        now: Instant,
        i: usize,
        request: u64,
        result: Result<String, String>,
    ) {
        if !matches!(self.calls[i].resume, Some(Resume::Offering { request: r }) if r == request) {
            return;
        }
        match result {
            Ok(sdp) => {
                self.calls[i].resume = Some(Resume::Ready { sdp });
                self.send_resumes(now);
            }
            Err(e) => {
                self.calls[i].resume = None;
                self.media_failed(now, i, &e);
            }
        }
    }

    /// Once connected: the re-INVITE of every call whose offer is ready (the
    /// SIP core rebuilds the dialog, or has it already after glare), and a
    /// BYE right after for a call hung up meanwhile.
    pub(crate) fn send_resumes(&mut self, now: Instant) {
        if !self.is_connected() {
            return;
        }
        for i in 0..self.calls.len() {
            let c = &mut self.calls[i];
            let Some(Resume::Ready { sdp }) = &c.resume else { continue };
            let sdp = c.wire_offer(sdp.clone(), false);
            c.resume = Some(Resume::Reinviting);
            let (call, hang_up) = (c.ua, c.end.is_some());
            let known = self.ua.as_ref().is_some_and(|ua| ua.call_state(call).is_some());
            let command = match (known, c.inherited.clone()) {
                (false, Some(dialog)) => Command::Resume { call, dialog, sdp },
                _ => Command::Reinvite { call, sdp },
            };
            self.ua_command(now, command);
            if hang_up {
                self.ua_command(now, Command::Hangup { call });
            }
        }
    }

    /// The peer took the re-INVITE: apply its answer.
    pub(crate) fn on_resume_answered(&mut self, now: Instant, i: usize, sdp: Option<String>) {
        let c = &mut self.calls[i];
        if !matches!(c.resume, Some(Resume::Reinviting)) || c.end.is_some() {
            return;
        }
        match sdp {
            Some(answer) => {
                c.note_answer(&answer, true);
                let kind = MediaKind::ApplyAnswer { answer, provisional: false };
                let request = self.media_at(i, kind, Some(Purpose::ResumeApply));
                self.calls[i].resume = Some(Resume::Applying { request });
            }
            None => {
                self.calls[i].resume = None;
                self.media_failed(now, i, "the resume re-INVITE was answered without SDP");
            }
        }
    }

    pub(crate) fn on_resume_apply(
        &mut self,
        now: Instant,
        i: usize,
        request: u64,
        result: Result<String, String>,
    ) {
        if !matches!(self.calls[i].resume, Some(Resume::Applying { request: r }) if r == request) {
            return;
        }
        self.calls[i].resume = None;
        match result {
            Ok(_) => self.kick(i),
            Err(e) => self.media_failed(now, i, &e),
        }
    }

    /// The re-INVITE failed: the call ends `resume_failed` (the SIP core
    /// ends it with a BYE, but for a lost connection or a failed glare
    /// retry: then the BYE comes from here).
    pub(crate) fn on_resume_failed(&mut self, now: Instant, i: usize, status: u16) {
        if matches!(self.calls[i].resume.take(), Some(Resume::Reinviting)) {
            self.media_at(i, MediaKind::Rollback, None);
        }
        self.hang_up(now, i, EndCause::ResumeFailed { status });
    }

    /// Glare: the offer is void; the SIP core asks for a fresh one later.
    pub(crate) fn on_resume_glare(&mut self, i: usize) {
        self.calls[i].resume = Some(Resume::GlareWait);
        self.media_at(i, MediaKind::Rollback, None);
    }

    /// After glare: a fresh offer, then a re-INVITE.
    pub(crate) fn on_resume_glare_retry(&mut self, i: usize) {
        let c = &self.calls[i];
        let kind = MediaKind::Offer { direction: offer_dir(c.held.local), ice_restart: false };
        let request = self.media_at(i, kind, Some(Purpose::ResumeOffer));
        self.calls[i].resume = Some(Resume::Offering { request });
    }

    /// The SIP core ended a call: the cause of a failed resume says so.
    pub(crate) fn sip_end_cause(&self, i: usize, cause: ua::EndCause) -> EndCause {
        let c = &self.calls[i];
        let resume_failed = |status| match c.resume.is_some() {
            true => EndCause::ResumeFailed { status },
            false => EndCause::Failed { status },
        };
        c.end.unwrap_or(match cause {
            ua::EndCause::Local => EndCause::Local,
            ua::EndCause::Remote => EndCause::Remote,
            ua::EndCause::Failed(status) => resume_failed(status),
            ua::EndCause::Timeout if c.resume.is_some() => EndCause::ResumeFailed { status: 408 },
            ua::EndCause::Timeout => EndCause::Timeout,
            ua::EndCause::Transport if c.resume.is_some() => EndCause::ResumeFailed { status: 503 },
            ua::EndCause::Transport => EndCause::Transport,
        })
    }

    /// [`Timer::Resume`]: calls whose re-INVITE has not left are too old now.
    pub(crate) fn resume_expired(&mut self, now: Instant) {
        let unsent = |c: &Call| {
            matches!(c.resume, Some(Resume::Offering { .. } | Resume::Ready { .. }))
                && self.ua.as_ref().is_none_or(|ua| ua.call_state(c.ua).is_none())
        };
        let ids = self.call_ids(&unsent);
        self.end_calls(now, ids, EndCause::Expired);
    }

    /// A media reply for a call being taken over.
    pub(crate) fn on_resume_mute(&mut self, i: usize, result: Result<String, String>) {
        if let Err(e) = result {
            self.calls[i].muted = false;
            self.media_error_event(i, "the inherited mute failed, the microphone is live: ", &e);
        }
    }
}
