//! The app's policy, as the phone's actions: call once ready (registered, or
//! connected with `--no-register`), answer (`--auto-answer`) or decline with
//! 486 incoming calls, hang up after `--hangup-after`, stop on wrong
//! credentials or when recovery gives up, and the exit code. Re-offers,
//! ICE-restart re-INVITEs after a recovery and glare are the phone's own
//! policy; transfers asked by the peer are refused (`follow_transfers` off).
//! No IO: the driver feeds it the phone's events, state and results, and
//! performs what it returns.

use std::time::Duration;

use serde_json::{json, Value};
use tabphone_phone::state::{CallState, Connection, DisconnectCause, EndCause, Registration};
use tabphone_phone::{Instant, PhoneError, PhoneEvent, PhoneState};

/// What the CLI was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Stay registered; answer incoming calls with `auto_answer`, else refuse them.
    Register { auto_answer: bool },
    /// Call `target`, hang up after `hangup_after` (or when the peer does).
    Call { target: String, hangup_after: Option<Duration> },
}

/// What the app asks the driver to give the phone.
#[derive(Debug, Clone, PartialEq)]
pub enum Do {
    /// An action, by name, with its JSON arguments.
    Action { name: &'static str, args: Value },
    /// `PhoneInput::Stop { unregister: true }`.
    Stop,
}

/// The policy's state.
#[derive(Debug)]
pub struct App {
    mode: Mode,
    /// The phone registers (`call --no-register` does not): a call waits for it.
    registers: bool,
    /// Our call: the one placed, or the one answered.
    call: Option<String>,
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

    /// The hang-up, once its time has come.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<Do> {
        match (self.hangup_at, &self.call) {
            (Some(at), Some(call)) if at <= now => {
                self.hangup_at = None;
                vec![Do::Action { name: "hangup", args: json!({ "call": call }) }]
            }
            _ => Vec::new(),
        }
    }

    /// SIGINT or SIGTERM: the first one stops the phone (hang up,
    /// unregister); a second one, or one after the phone is asked to stop,
    /// exits now.
    pub fn on_signal(&mut self) -> Vec<Do> {
        if self.exit.is_some() || self.stop_sent {
            self.exit = Some(self.stopping_code);
            return Vec::new();
        }
        let code = match self.mode {
            Mode::Register { .. } => 0,
            Mode::Call { .. } => u8::from(!self.established),
        };
        self.stop(code)
    }

    /// What answers one of the phone's events.
    pub fn on_event(&mut self, e: &PhoneEvent) -> Vec<Do> {
        match e {
            PhoneEvent::Registration { registration: Registration::Registered { .. } } => self.ready(),
            PhoneEvent::Connection { connection: Connection::Connected { .. } } if !self.registers => {
                self.ready()
            }
            PhoneEvent::Registration {
                registration: Registration::Failed { status: Some(401 | 403 | 404) },
            } => {
                // Wrong credentials will not fix themselves.
                self.stop(1)
            }
            PhoneEvent::Connection {
                connection: Connection::Disconnected { cause: DisconnectCause::RecoveryFailed },
            } => self.stop(1),
            PhoneEvent::Incoming { call, .. } => self.incoming(call),
            PhoneEvent::CallEnded { call, cause } if self.call.as_ref() == Some(call) => self.ended(*cause),
            PhoneEvent::Stopped => {
                self.exit = Some(self.stopping_code);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The state: our call established starts the `--hangup-after` clock.
    pub fn on_state(&mut self, now: Instant, state: &PhoneState) -> Vec<Do> {
        let ours = self.call.as_deref().and_then(|c| state.call(c));
        if !self.established && ours.is_some_and(|c| c.state == CallState::Established) {
            self.established = true;
            if let Mode::Call { hangup_after: Some(d), .. } = self.mode {
                self.hangup_at = Some(now + d);
            }
        }
        Vec::new()
    }

    /// The result of one of our actions: `call` names our call (or failed:
    /// `call` stops with 1).
    pub fn on_result(&mut self, action: &str, result: &Result<Value, PhoneError>) -> Vec<Do> {
        match (action, result) {
            ("call", Ok(v)) => {
                self.call = v["call"].as_str().map(str::to_string);
                Vec::new()
            }
            ("call", Err(_)) => self.stop(1),
            _ => Vec::new(),
        }
    }

    /// Registered (or connected, without registration): `call` places its call, once.
    fn ready(&mut self) -> Vec<Do> {
        let Mode::Call { target, .. } = &self.mode else { return Vec::new() };
        if self.call_started {
            return Vec::new();
        }
        self.call_started = true;
        vec![Do::Action { name: "call", args: json!({ "to": target }) }]
    }

    /// Answer the first incoming call with `--auto-answer`; decline the others (486 Busy Here).
    fn incoming(&mut self, call: &str) -> Vec<Do> {
        match self.mode {
            Mode::Register { auto_answer: true } if self.call.is_none() => {
                self.call = Some(call.to_string());
                vec![Do::Action { name: "answer", args: json!({ "call": call }) }]
            }
            _ => vec![Do::Action { name: "decline", args: json!({ "call": call, "status": 486 }) }],
        }
    }

    /// Our call ended: `register` waits for the next, `call` stops (exit 0
    /// for an answered call ended by either side, else 1).
    fn ended(&mut self, cause: EndCause) -> Vec<Do> {
        self.call = None;
        self.hangup_at = None;
        match self.mode {
            Mode::Register { .. } => {
                self.established = false;
                Vec::new()
            }
            Mode::Call { .. } => {
                let normal = self.established && matches!(cause, EndCause::Local | EndCause::Remote);
                self.stop(u8::from(!normal))
            }
        }
    }

    fn stop(&mut self, code: u8) -> Vec<Do> {
        if self.stop_sent {
            return Vec::new();
        }
        self.stop_sent = true;
        self.stopping_code = code;
        vec![Do::Stop]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabphone_phone::state::Peer;

    fn call_mode() -> Mode {
        Mode::Call { target: "bob".into(), hangup_after: Some(Duration::from_secs(2)) }
    }

    fn registered() -> PhoneEvent {
        PhoneEvent::Registration {
            registration: Registration::Registered { expires: 600, bindings: 1, at: 0 },
        }
    }

    fn state_with(call: &str, state: CallState) -> PhoneState {
        let json = format!(
            r#"{{"v":1,"rev":3,"aor":"sip:alice@x","online":true,"connection":{{"state":"connected","url":"ws://x"}},
"registration":{{"state":"unregistered"}},"calls":[{{"id":"{call}","direction":"outgoing",
"peer":{{"uri":"sip:bob@x","name":null}},"state":"{}","held":{{"local":false,"remote":false}},"muted":false,
"startedAt":0,"answeredAt":null,"replaces":null,"dialog":null}}],"ended":[]}}"#,
            serde_json::to_value(state).unwrap().as_str().unwrap()
        );
        PhoneState::parse(&json).unwrap()
    }

    #[test]
    fn a_call_is_placed_once_when_registered_and_hung_up_on_time() {
        let (mut app, now) = (App::new(call_mode(), true), Instant::now());
        let connected = PhoneEvent::Connection { connection: Connection::Connected { url: "ws://x".into() } };
        assert_eq!(app.on_event(&connected), vec![], "waits for the registration");
        let placed = app.on_event(&registered());
        assert_eq!(placed, vec![Do::Action { name: "call", args: json!({ "to": "bob" }) }]);
        assert_eq!(app.on_event(&registered()), vec![], "a refresh places no second call");
        assert_eq!(app.on_result("call", &Ok(json!({ "call": "c1" }))), vec![]);
        app.on_state(now, &state_with("c1", CallState::Ringing));
        assert_eq!(app.poll_timeout(), None);
        app.on_state(now, &state_with("c1", CallState::Established));
        assert_eq!(app.poll_timeout(), Some(now + Duration::from_secs(2)));
        assert_eq!(app.on_timeout(now), vec![]);
        let hangup = vec![Do::Action { name: "hangup", args: json!({ "call": "c1" }) }];
        assert_eq!(app.on_timeout(now + Duration::from_secs(2)), hangup);
    }

    #[test]
    fn an_answered_call_ended_by_the_peer_exits_0_and_a_refused_one_1() {
        let cases = [(true, EndCause::Remote, 0), (false, EndCause::Failed { status: 486 }, 1)];
        for (answered, cause, code) in cases {
            let (mut app, now) = (App::new(call_mode(), false), Instant::now());
            let connected =
                PhoneEvent::Connection { connection: Connection::Connected { url: "ws://x".into() } };
            assert_eq!(app.on_event(&connected).len(), 1, "no registration: calls when connected");
            app.on_result("call", &Ok(json!({ "call": "c1" })));
            if answered {
                app.on_state(now, &state_with("c1", CallState::Established));
            }
            assert_eq!(app.on_event(&PhoneEvent::CallEnded { call: "c1".into(), cause }), vec![Do::Stop]);
            assert_eq!(app.exit_code(), None);
            app.on_event(&PhoneEvent::Stopped);
            assert_eq!(app.exit_code(), Some(code));
        }
    }

    #[test]
    fn register_answers_one_call_with_auto_answer_and_declines_the_rest() {
        let incoming = |call: &str| PhoneEvent::Incoming {
            call: call.into(),
            peer: Peer { uri: "sip:bob@x".into(), name: None },
            replaces: None,
        };
        let busy =
            |call: &str| vec![Do::Action { name: "decline", args: json!({ "call": call, "status": 486 }) }];
        let mut app = App::new(Mode::Register { auto_answer: true }, true);
        assert_eq!(
            app.on_event(&incoming("a")),
            vec![Do::Action { name: "answer", args: json!({ "call": "a" }) }]
        );
        assert_eq!(app.on_event(&incoming("b")), busy("b"));
        let ended = PhoneEvent::CallEnded { call: "a".into(), cause: EndCause::Remote };
        assert_eq!(app.on_event(&ended), vec![], "register mode goes on");
        assert_eq!(app.on_event(&incoming("c")).len(), 1);
        let mut app = App::new(Mode::Register { auto_answer: false }, true);
        assert_eq!(app.on_event(&incoming("a")), busy("a"));
    }

    #[test]
    fn wrong_credentials_stop_with_1_and_a_second_signal_exits_at_once() {
        let mut app = App::new(Mode::Register { auto_answer: false }, true);
        let refused = PhoneEvent::Registration { registration: Registration::Failed { status: Some(403) } };
        assert_eq!(app.on_event(&refused), vec![Do::Stop]);
        assert_eq!(app.on_signal(), vec![], "already stopping");
        assert_eq!(app.exit_code(), Some(1));
        let mut app = App::new(Mode::Register { auto_answer: false }, true);
        assert_eq!(app.on_signal(), vec![Do::Stop]);
        assert_eq!(app.exit_code(), None);
        assert_eq!(app.on_signal(), vec![]);
        assert_eq!(app.exit_code(), Some(0));
    }
}
