//! Performing actions: the checks that need the phone's state (so that the
//! SIP core never refuses a command the phone gave it), then the commands.
//! When each result is given is in the table of [`crate::action`].

use crate::json::json;
use tabphone_sip::msg::Uri;
use tabphone_sip::ua::Command;

use crate::action::{Action, DtmfVia};
use crate::call::{Call, Op, ReferOut, Resume};
use crate::error::{ErrorCode, PhoneError};
use crate::media::MediaKind;
use crate::phone::{Phone, Purpose, Run};
use crate::sdp::Direction;
use crate::state::{CallDirection, CallState, EndCause, Peer, Registration};
use crate::Instant;
use std::mem::take;
use tabphone_json::quote;

/// An action's error on its way to its result: boxed, one pointer through
/// every `?` of the checks (its result is given unboxed).
type Failure = Box<PhoneError>;

type Outcome = Result<(), Failure>;

fn wrong_state(message: impl Into<String>) -> PhoneError {
    PhoneError::new(ErrorCode::WrongState, message)
}

fn not_waiting(c: &Call) -> PhoneError {
    call_refused(ErrorCode::WrongState, &c.id, " is not an incoming call waiting for an answer")
}

/// `not_connected`: what an action or a queued change gets without a
/// connection (one copy of its text).
#[inline(never)]
pub(crate) fn not_connected() -> PhoneError {
    PhoneError::new(ErrorCode::NotConnected, "not connected to the server")
}

/// An action's error about call `id`: `call {id}{what}` (one formatting
/// site for all of them).
#[inline(never)]
pub(crate) fn call_refused(code: ErrorCode, id: &str, what: &str) -> PhoneError {
    PhoneError::new(code, format!("call {id}{what}"))
}

impl Phone {
    pub(crate) fn on_action(&mut self, now: Instant, id: u64, name: &str, args: &str) {
        if self.is_pending(id) {
            let message = format!("action id {id} is already pending");
            return self.refuse(id, PhoneError::new(ErrorCode::BadArguments, message));
        }
        let mut action = match Action::parse(name, args) {
            Ok(a) => a,
            Err(e) => return self.refuse(id, e),
        };
        if self.run != Run::Running {
            return self.refuse(id, PhoneError::new(ErrorCode::Stopped, "the phone is not running"));
        }
        self.admit(now, id);
        if let Err(e) = self.perform(now, id, &mut action) {
            self.resolve(id, Err(*e));
        }
    }

    /// Start the action; its result is given here or later, by `resolve`.
    /// An action on a call finds it first (`no_such_call`); those that need
    /// it established check that next (`wrong_state`).
    /// (The texts it hands on are taken out of `action`: no copies, and one
    /// drop of what is left.)
    fn perform(&mut self, now: Instant, id: u64, action: &mut Action) -> Outcome {
        let i = match action.call() {
            Some(call) => self.call_of(call)?,
            None => 0,
        };
        if let Action::Hold { .. }
        | Action::Unhold { .. }
        | Action::Dtmf { .. }
        | Action::Transfer { .. }
        | Action::AttendedTransfer { .. } = action
        {
            self.established(i)?;
        }
        match action {
            Action::Call { to, headers } => self.act_call(now, id, to, take(headers)),
            Action::Answer { .. } => self.act_answer(id, i),
            Action::Decline { status, .. } => self.act_decline(now, id, i, *status),
            Action::Hangup { .. } => {
                self.resolve_ok(id);
                self.hang_up(now, i, EndCause::Local);
                Ok(())
            }
            Action::Hold { .. } => self.act_hold(id, i, true),
            Action::Unhold { .. } => self.act_hold(id, i, false),
            Action::Mute { .. } => self.act_mute(id, i, true),
            Action::Unmute { .. } => self.act_mute(id, i, false),
            Action::Dtmf { tones, via, duration_ms, .. } => {
                self.act_dtmf(now, id, i, take(tones), *via, *duration_ms)
            }
            Action::Transfer { to, .. } => self.act_transfer(now, id, i, Some(to), None),
            Action::AttendedTransfer { with, .. } => self.act_transfer(now, id, i, None, Some(with)),
            Action::Message { to, text } => self.act_message(now, id, to, take(text)),
            Action::Register => {
                self.supersede_registration(id, true);
                self.ua_command(now, Command::Register);
                Ok(())
            }
            Action::Unregister => {
                self.supersede_registration(id, false);
                self.ua_command(now, Command::Unregister);
                Ok(())
            }
        }
    }

    /// A `register` (or `unregister`) waits for the next outcome; one of the
    /// other kind still waiting will never get its outcome: it fails.
    fn supersede_registration(&mut self, id: u64, register: bool) {
        // Whole texts, not a `format!` of the name.
        let superseded =
            if register { "superseded by a later register" } else { "superseded by a later unregister" };
        for (action, r) in std::mem::take(&mut self.reg_waiters) {
            match r == register {
                true => self.reg_waiters.push((action, r)),
                false => self.resolve(action, Err(wrong_state(superseded))),
            }
        }
        self.reg_waiters.push((id, register));
    }

    fn call_of(&self, id: &str) -> Result<usize, Failure> {
        self.call_index(id)
            .ok_or_else(|| PhoneError::new(ErrorCode::NoSuchCall, format!("no call {}", quote(id))).into())
    }

    /// Call `i` is established, and not being taken over.
    fn established(&self, i: usize) -> Outcome {
        let c = &self.calls[i];
        if c.state != CallState::Established {
            return Err(call_refused(ErrorCode::WrongState, &c.id, " is not established").into());
        }
        if c.resume.is_some() {
            return Err(
                call_refused(ErrorCode::WrongState, &c.id, " is being taken over from another tab").into()
            );
        }
        Ok(())
    }

    fn require_connected(&self) -> Outcome {
        match self.is_connected() {
            true => Ok(()),
            false => Err(not_connected().into()),
        }
    }

    /// Calls and messages: connected, and registered when the phone registers.
    fn require_registered(&self) -> Outcome {
        let registered = matches!(self.registration, Registration::Registered { .. });
        if self.config.sip.register && !registered {
            return Err(PhoneError::new(ErrorCode::NotRegistered, "not registered").into());
        }
        self.require_connected()
    }

    /// A target as the SIP core will use it: a SIP URI, or a user at the account's domain.
    pub(crate) fn target_uri(&self, to: &str) -> Result<String, Failure> {
        let uri = if to.as_bytes().contains(&b':') {
            to.to_string()
        } else {
            let domain = Uri::parts(&self.config.sip.aor).map(|(_, _, host)| host).unwrap_or_default();
            Uri::sip_text(to, domain)
        };
        match Uri::parts(&uri) {
            Ok((s, _, _)) if s.eq_ignore_ascii_case("sip") || s.eq_ignore_ascii_case("sips") => Ok(uri),
            Ok((s, _, _)) => Err(PhoneError::new(
                ErrorCode::BadArguments,
                format!("{}: scheme {} is not SIP", quote(to), s.to_ascii_lowercase()),
            )
            .into()),
            Err(e) => {
                Err(PhoneError::new(ErrorCode::BadArguments, format!("{} is not a SIP URI: {e}", quote(to)))
                    .into())
            }
        }
    }

    fn act_call(&mut self, now: Instant, id: u64, to: &str, headers: Vec<(String, String)>) -> Outcome {
        self.require_registered()?;
        let uri = self.target_uri(to)?;
        let call = self.place_call(now, uri, headers, None);
        self.resolve(id, Ok(json!({ "call": call })));
        Ok(())
    }

    /// A new outgoing call in state `initial`; the INVITE (with `headers`)
    /// leaves with the media layer's offer.
    pub(crate) fn place_call(
        &mut self,
        now: Instant,
        uri: String,
        headers: Vec<(String, String)>,
        referred_by: Option<String>,
    ) -> String {
        // Actions and SIP events come only while the agent exists.
        let Some(ua) = self.ua.as_mut() else { return String::new() };
        let ua_id = ua.new_call_id();
        let id = self.random_id();
        let peer = Peer { uri, name: None };
        let mut call = Call::new(id.clone(), ua_id, CallDirection::Outgoing, peer, self.unix_ms(now));
        call.referred_by = referred_by;
        call.headers = headers;
        self.calls.push(call);
        let kind = MediaKind::Offer { direction: Direction::SendRecv, ice_restart: false };
        self.media_at(self.calls.len() - 1, kind, Some(Purpose::CallOffer));
        id
    }

    fn act_answer(&mut self, id: u64, i: usize) -> Outcome {
        let c = &mut self.calls[i];
        if !c.is_unanswered_incoming() || c.answering {
            return Err(not_waiting(c).into());
        }
        c.answer_action = Some(id);
        self.start_answer(i);
        Ok(())
    }

    /// Ask the media layer for our 200's SDP: the answer to the INVITE's
    /// offer (RFC 3264 6.1), or an offer when it had none.
    pub(crate) fn start_answer(&mut self, i: usize) {
        let c = &mut self.calls[i];
        c.answering = true;
        let kind = match &c.offer {
            Some(offer) => {
                let direction = crate::sdp::answer_direction(offer);
                MediaKind::Answer { offer: offer.clone(), direction, fresh: false }
            }
            None => MediaKind::Offer { direction: Direction::SendRecv, ice_restart: false },
        };
        self.media_at(i, kind, Some(Purpose::IncomingAnswer));
    }

    fn act_decline(&mut self, now: Instant, id: u64, i: usize, status: u16) -> Outcome {
        let c = &mut self.calls[i];
        if !c.is_unanswered_incoming() {
            return Err(not_waiting(c).into());
        }
        c.end = Some(EndCause::Declined { status });
        c.state = CallState::Terminating;
        let ua = c.ua;
        self.resolve_ok(id);
        self.ua_command(now, Command::Reject { call: ua, status });
        Ok(())
    }

    /// End call `i` the way its state needs, reporting `cause` when it ends.
    pub(crate) fn hang_up(&mut self, now: Instant, i: usize, cause: EndCause) {
        let c = &mut self.calls[i];
        let known = self.ua.as_ref().is_some_and(|ua| ua.call_state(c.ua).is_some());
        if !known && matches!(c.resume, Some(Resume::Offering { .. } | Resume::Ready { .. })) {
            // Being taken over: the BYE follows its re-INVITE (`resume.rs`).
            c.end.get_or_insert(cause);
            c.state = CallState::Terminating;
            return;
        }
        if c.ua_call_unsent() || !known {
            return self.end_at(now, i, cause);
        }
        if c.state == CallState::Terminating {
            return;
        }
        let cause = match cause {
            // The SIP core refuses a ringing call with 480.
            EndCause::Local if c.is_unanswered_incoming() => EndCause::Declined { status: 480 },
            other => other,
        };
        c.end = Some(cause);
        c.state = CallState::Terminating;
        let ua = c.ua;
        self.ua_command(now, Command::Hangup { call: ua });
    }

    fn act_hold(&mut self, id: u64, i: usize, hold: bool) -> Outcome {
        self.require_connected()?;
        if self.calls[i].want_hold() == hold {
            self.resolve_ok(id);
            return Ok(());
        }
        self.calls[i].nego.enqueue(Op::Hold { action: id, hold });
        self.kick(i);
        Ok(())
    }

    fn act_mute(&mut self, id: u64, i: usize, muted: bool) -> Outcome {
        let c = &self.calls[i];
        if c.state == CallState::Terminating || (c.is_unanswered_incoming() && !c.answering) {
            return Err(call_refused(ErrorCode::WrongState, &c.id, " has no media to mute").into());
        }
        self.media_at(i, MediaKind::Mute { muted }, Some(Purpose::Mute { action: id, muted }));
        Ok(())
    }

    fn act_dtmf(&mut self, now: Instant, id: u64, i: usize, tones: String, via: DtmfVia, ms: u32) -> Outcome {
        match via {
            DtmfVia::Rtp => {
                let kind = MediaKind::Dtmf { tones, duration_ms: ms, gap_ms: self.config.dtmf_gap_ms };
                self.media_at(i, kind, Some(Purpose::Dtmf { action: id }));
            }
            DtmfVia::Info => {
                self.require_connected()?;
                let ua = self.calls[i].ua;
                self.ua_command(now, Command::Dtmf { call: ua, digits: tones, duration_ms: ms });
                self.resolve_ok(id);
            }
        }
        Ok(())
    }

    fn act_transfer(
        &mut self,
        now: Instant,
        id: u64,
        i: usize,
        to: Option<&str>,
        with: Option<&str>,
    ) -> Outcome {
        let replaces = match with {
            Some(w) => {
                let w = self.call_of(w)?;
                self.established(w)?;
                Some(self.calls[w].ua)
            }
            None => None,
        };
        let target = match to {
            Some(to) => self.target_uri(to)?,
            None => String::new(),
        };
        self.require_connected()?;
        let c = &mut self.calls[i];
        if c.refer_out.is_some_and(|r| !r.accepted) {
            return Err(
                call_refused(ErrorCode::WrongState, &c.id, ": a transfer is already being asked").into()
            );
        }
        c.refer_out = Some(ReferOut { action: id, accepted: false });
        let ua = c.ua;
        self.ua_command(now, Command::Refer { call: ua, target, replaces });
        Ok(())
    }

    fn act_message(&mut self, now: Instant, id: u64, to: &str, text: String) -> Outcome {
        self.require_registered()?;
        let target = self.target_uri(to)?;
        let content_type = "text/plain;charset=UTF-8".to_string();
        // The action's id is the SIP core's handle of the MESSAGE: its result answers it.
        self.ua_command(now, Command::Message { id, target, content_type, body: text });
        Ok(())
    }
}
