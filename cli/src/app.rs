//! The app's policy: what the CLI does on each of the agent's events (call
//! once ready, answer or refuse incoming calls, answer re-offers, refuse
//! REFER, hang up after `--hangup-after`, stop), and its exit code. No IO:
//! the driver feeds it events and performs the commands it returns.

use std::time::Duration;

use tabphone_sip::ua::{CallId, Command, EndCause, Event, UserAgent};
use tabphone_sip::Instant;

/// What the CLI was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Stay registered; answer incoming calls with `auto_answer`, else refuse them.
    Register { auto_answer: bool },
    /// Call `target`, hang up after `hangup_after` (or when the peer does).
    Call { target: String, hangup_after: Option<Duration> },
}

/// The policy's state.
#[derive(Debug)]
pub struct App {
    mode: Mode,
    /// The agent registers (`call --no-register` does not): a call waits for it.
    registers: bool,
    sdp_version: u32,
    call: Option<CallId>,
    call_started: bool,
    established: bool,
    hangup_at: Option<Instant>,
    stop_sent: bool,
    stopping_code: u8,
    exit: Option<u8>,
}

impl App {
    pub fn new(mode: Mode, registers: bool) -> App {
        App {
            mode,
            registers,
            sdp_version: 1,
            call: None,
            call_started: false,
            established: false,
            hangup_at: None,
            stop_sent: false,
            stopping_code: 0,
            exit: None,
        }
    }

    /// The exit code, once the CLI is done.
    pub fn exit_code(&self) -> Option<u8> {
        self.exit
    }

    /// When to hang up, if a hang-up is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.hangup_at
    }

    /// The call to hang up now that `now` has come, if its time has come.
    pub fn on_timeout(&mut self, now: Instant) -> Option<CallId> {
        if self.hangup_at.is_some_and(|t| t <= now) {
            self.hangup_at = None;
            return self.call;
        }
        None
    }

    /// SIGINT or SIGTERM: the first one stops the agent (the command to give
    /// it); a second one, or one after the agent is asked to stop, exits now.
    pub fn on_signal(&mut self) -> Option<Command> {
        if self.exit.is_some() || self.stop_sent {
            self.exit = Some(self.stopping_code);
            return None;
        }
        self.stopping_code = match self.mode {
            Mode::Register { .. } => 0,
            Mode::Call { .. } => u8::from(!self.established),
        };
        self.stop_sent = true;
        Some(Command::Stop)
    }

    /// The commands for the agent that answer `e`.
    pub fn on_event(&mut self, now: Instant, e: &Event, ua: &mut UserAgent) -> Vec<Command> {
        let mut commands = Vec::new();
        match e {
            Event::Registered { .. } => self.ready(ua, &mut commands),
            Event::Connected { .. } if !self.registers => self.ready(ua, &mut commands),
            Event::RegistrationFailed { status: Some(401 | 403 | 404) } => {
                // Wrong credentials will not fix themselves.
                self.stop(1, &mut commands);
            }
            Event::Incoming { call, .. } => commands.push(self.incoming(*call)),
            Event::Established { call, .. } if Some(*call) == self.call => {
                self.established = true;
                if let Mode::Call { hangup_after: Some(d), .. } = self.mode {
                    self.hangup_at = Some(now + d);
                }
            }
            Event::Reoffer { call, .. } => {
                commands.push(Command::AnswerReoffer { call: *call, sdp: self.next_sdp() });
            }
            Event::RecoveryOfferNeeded { call } => {
                commands.push(Command::Reinvite { call: *call, sdp: self.next_sdp() });
            }
            Event::Refer { call, .. } => commands.push(Command::NotifyRefer { call: *call, status: 603 }),
            Event::Ended { call, cause } if Some(*call) == self.call => self.ended(cause, &mut commands),
            Event::RecoveryFailed => self.stop(1, &mut commands),
            Event::Stopped => self.exit = Some(self.stopping_code),
            _ => {}
        }
        commands
    }

    /// Registered (or connected, without registration): `call` places its call, once.
    fn ready(&mut self, ua: &mut UserAgent, commands: &mut Vec<Command>) {
        let Mode::Call { target, .. } = &self.mode else { return };
        if self.call_started {
            return;
        }
        let (call, target) = (ua.new_call_id(), target.clone());
        self.call = Some(call);
        self.call_started = true;
        commands.push(Command::Call { call, target, sdp: self.next_sdp(), headers: Vec::new() });
    }

    /// Answer the first incoming call with `--auto-answer`; refuse the others (486 Busy Here).
    fn incoming(&mut self, call: CallId) -> Command {
        match self.mode {
            Mode::Register { auto_answer: true } if self.call.is_none() => {
                self.call = Some(call);
                Command::Answer { call, sdp: self.next_sdp() }
            }
            _ => Command::Reject { call, status: 486 },
        }
    }

    /// Our call ended: `register` waits for the next, `call` stops (exit 0
    /// for an answered call ended by either side, else 1).
    fn ended(&mut self, cause: &EndCause, commands: &mut Vec<Command>) {
        self.call = None;
        self.hangup_at = None;
        match self.mode {
            Mode::Register { .. } => self.established = false,
            Mode::Call { .. } => {
                let normal = self.established && matches!(cause, EndCause::Local | EndCause::Remote);
                self.stop(u8::from(!normal), commands);
            }
        }
    }

    fn stop(&mut self, code: u8, commands: &mut Vec<Command>) {
        if !self.stop_sent {
            self.stop_sent = true;
            self.stopping_code = code;
            commands.push(Command::Stop);
        }
    }

    fn next_sdp(&mut self) -> String {
        self.sdp_version += 1;
        sdp(self.sdp_version)
    }
}

/// An audio SDP for the CLI's signaling-only calls: plain RTP (PCMU, PCMA,
/// telephone-event) on a port nobody listens on.
fn sdp(version: u32) -> String {
    tabphone_sip::sdp::with_version(tabphone_sip::sdp::AUDIO_OFFER, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabphone_sip::ua::Config;

    fn ua() -> UserAgent {
        UserAgent::new(Config::new("ws://127.0.0.1:1", "sip:alice@127.0.0.1", "x"))
    }

    fn call_mode() -> Mode {
        Mode::Call { target: "bob".into(), hangup_after: Some(Duration::from_secs(2)) }
    }

    #[test]
    fn a_call_is_placed_once_when_registered_and_hung_up_on_time() {
        let (mut app, mut ua, now) = (App::new(call_mode(), true), ua(), Instant::now());
        let connected = Event::Connected { url: "ws://127.0.0.1:1".into() };
        assert_eq!(app.on_event(now, &connected, &mut ua), vec![], "waits for the registration");
        let registered = Event::Registered { expires: 600, bindings: 1 };
        let placed = app.on_event(now, &registered, &mut ua);
        let [Command::Call { call, target, .. }] = placed.as_slice() else { panic!("{placed:?}") };
        assert_eq!(target, "bob");
        assert_eq!(app.on_event(now, &registered, &mut ua), vec![], "a refresh places no second call");
        let established = Event::Established { call: *call, sdp: None };
        assert_eq!(app.on_event(now, &established, &mut ua), vec![]);
        assert_eq!(app.poll_timeout(), Some(now + Duration::from_secs(2)));
        assert_eq!(app.on_timeout(now), None);
        assert_eq!(app.on_timeout(now + Duration::from_secs(2)), Some(*call));
    }

    #[test]
    fn an_answered_call_ended_by_the_peer_exits_0_and_a_refused_one_1() {
        for (answered, cause, code) in [(true, EndCause::Remote, 0), (false, EndCause::Failed(486), 1)] {
            let (mut app, mut ua, now) = (App::new(call_mode(), false), ua(), Instant::now());
            let placed = app.on_event(now, &Event::Connected { url: "ws://x".into() }, &mut ua);
            let [Command::Call { call, .. }] = placed.as_slice() else { panic!("{placed:?}") };
            if answered {
                app.on_event(now, &Event::Established { call: *call, sdp: None }, &mut ua);
            }
            assert_eq!(app.on_event(now, &Event::Ended { call: *call, cause }, &mut ua), vec![Command::Stop]);
            assert_eq!(app.exit_code(), None);
            app.on_event(now, &Event::Stopped, &mut ua);
            assert_eq!(app.exit_code(), Some(code));
        }
    }

    #[test]
    fn register_answers_one_call_with_auto_answer_and_refuses_the_rest() {
        let (mut ua, now) = (ua(), Instant::now());
        let incoming =
            |n| Event::Incoming { call: CallId(n), from: "<sip:bob@x>".into(), sdp: None, replaces: None };
        let mut app = App::new(Mode::Register { auto_answer: true }, true);
        assert!(matches!(
            app.on_event(now, &incoming(1), &mut ua)[..],
            [Command::Answer { call: CallId(1), .. }]
        ));
        let busy = vec![Command::Reject { call: CallId(2), status: 486 }];
        assert_eq!(app.on_event(now, &incoming(2), &mut ua), busy);
        let mut app = App::new(Mode::Register { auto_answer: false }, true);
        let busy = vec![Command::Reject { call: CallId(1), status: 486 }];
        assert_eq!(app.on_event(now, &incoming(1), &mut ua), busy);
    }

    #[test]
    fn a_second_signal_exits_at_once() {
        let mut app = App::new(Mode::Register { auto_answer: false }, true);
        assert_eq!(app.on_signal(), Some(Command::Stop));
        assert_eq!(app.exit_code(), None);
        assert_eq!(app.on_signal(), None);
        assert_eq!(app.exit_code(), Some(0));
    }
}
