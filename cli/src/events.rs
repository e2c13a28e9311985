//! What the CLI prints: one JSON line per thing that happened, with `t`, the
//! milliseconds since the CLI started. From the phone's events: `connecting`,
//! `connected`, `disconnected` (a connection lost or a first attempt failed),
//! `reconnecting` (another round of attempts), `recovery_error` (every server
//! failed; `retry_in_ms`), `recovered` (connected and registered again after
//! a loss), `registered`, `registration_failed`, `unregistered`, `incoming`,
//! `ended` (`cause`, `status`), `refer`, `refer_progress`, `dtmf`, `message`,
//! `error`, `trace`, `stopped`. From the state: `established` and
//! `call_state` as calls move, `held` as hold changes. The media layer's
//! requests (`media`, the SDP left out), the app's actions (`action`) and
//! their results (`result`). The driver adds `socket_connect` (each socket
//! it opens), `socket_error`, `signal`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tabphone_phone::media::MediaRequest;
use tabphone_phone::state::{CallState, Connection, Held, Registration};
use tabphone_phone::{Instant, PhoneError, PhoneEvent, PhoneState};

/// Prints JSON lines, and remembers what the lines derived from the state
/// and the connection need.
pub struct Printer {
    start: Instant,
    /// The wall clock at `start`, Unix ms (the phone's times are Unix ms).
    start_unix: u64,
    /// The phone registers: a recovery is complete once registered again.
    registers: bool,
    /// Each live call's state and hold, as last printed.
    calls: BTreeMap<String, (CallState, Held)>,
    connection: Option<Connection>,
    /// A connection was up once (a later loss is a recovery, not a first attempt).
    was_connected: bool,
    /// A connection that was up was lost; `recovered` is owed.
    lost: bool,
}

impl Printer {
    pub fn new(start: Instant, start_unix: u64, registers: bool) -> Printer {
        let (calls, connection) = (BTreeMap::new(), None);
        Printer { start, start_unix, registers, calls, connection, was_connected: false, lost: false }
    }

    /// Print `v` (an object) as one line, with `t` added.
    pub fn print(&self, mut v: Value) {
        if let Some(o) = v.as_object_mut() {
            o.insert("t".into(), json!(self.start.elapsed().as_millis() as u64));
        }
        println!("{v}");
    }

    /// The lines of one of the phone's events.
    pub fn event(&mut self, e: &PhoneEvent) {
        for line in self.event_lines(e) {
            self.print(line);
        }
    }

    /// The lines of a new state: calls that moved, hold that changed.
    pub fn state(&mut self, s: &PhoneState) {
        for line in self.state_lines(s) {
            self.print(line);
        }
    }

    /// A request to the media layer, without its SDP.
    pub fn media(&self, r: &MediaRequest) {
        self.print(media_line(r));
    }

    /// An action given to the phone.
    pub fn action(&self, id: u64, name: &str, args: &Value) {
        self.print(json!({"event": "action", "id": id, "action": name, "args": args}));
    }

    /// An action's result.
    pub fn result(&self, id: u64, name: &str, result: &Result<Value, PhoneError>) {
        self.print(match result {
            Ok(v) => json!({"event": "result", "id": id, "action": name, "ok": v}),
            Err(e) => json!({"event": "result", "id": id, "action": name, "error": e}),
        });
    }

    fn event_lines(&mut self, e: &PhoneEvent) -> Vec<Value> {
        match e {
            PhoneEvent::Connection { connection } => self.connection_lines(connection),
            PhoneEvent::Registration { registration } => self.registration_lines(registration),
            other => vec![event_line(other)],
        }
    }

    fn connection_lines(&mut self, c: &Connection) -> Vec<Value> {
        let previous = self.connection.replace(c.clone());
        match c {
            Connection::Connecting { url } => vec![json!({"event": "connecting", "url": url})],
            Connection::Connected { url } => {
                self.was_connected = true;
                let mut lines = vec![json!({"event": "connected", "url": url})];
                if !self.registers && std::mem::take(&mut self.lost) {
                    lines.push(json!({"event": "recovered"}));
                }
                lines
            }
            Connection::Recovering { cause, next_try: None } => {
                let again = matches!(previous, Some(Connection::Recovering { .. }));
                self.lost |= self.was_connected && matches!(previous, Some(Connection::Connected { .. }));
                let event = if again { "reconnecting" } else { "disconnected" };
                vec![json!({"event": event, "cause": cause})]
            }
            Connection::Recovering { cause, next_try: Some(at) } => {
                let now = self.start_unix + self.start.elapsed().as_millis() as u64;
                vec![
                    json!({"event": "recovery_error", "cause": cause, "retry_in_ms": at.saturating_sub(now)}),
                ]
            }
            Connection::Disconnected { cause } => vec![json!({"event": "disconnected", "cause": cause})],
        }
    }

    fn registration_lines(&mut self, r: &Registration) -> Vec<Value> {
        match r {
            Registration::Registered { expires, bindings, .. } => {
                let mut lines =
                    vec![json!({"event": "registered", "expires": expires, "bindings": bindings})];
                if self.registers && std::mem::take(&mut self.lost) {
                    lines.push(json!({"event": "recovered"}));
                }
                lines
            }
            Registration::Failed { status } => {
                vec![json!({"event": "registration_failed", "status": status})]
            }
            Registration::Unregistered => vec![json!({"event": "unregistered"})],
        }
    }

    fn state_lines(&mut self, s: &PhoneState) -> Vec<Value> {
        let mut lines = Vec::new();
        let mut now = BTreeMap::new();
        for c in &s.calls {
            let before = self.calls.get(&c.id).copied();
            if before.map(|b| b.0) != Some(c.state) {
                lines.push(match c.state {
                    CallState::Established => json!({"event": "established", "call": c.id}),
                    state => json!({"event": "call_state", "call": c.id, "state": state}),
                });
            }
            if before.map_or(c.held != Held::default(), |b| b.1 != c.held) {
                let (local, remote) = (c.held.local, c.held.remote);
                lines.push(json!({"event": "held", "call": c.id, "local": local, "remote": remote}));
            }
            now.insert(c.id.clone(), (c.state, c.held));
        }
        self.calls = now;
        lines
    }
}

/// The line of an event about calls, messages or the phone itself.
fn event_line(e: &PhoneEvent) -> Value {
    match e {
        PhoneEvent::Incoming { call, peer, replaces } => json!({
            "event": "incoming", "call": call, "from": peer.uri, "name": peer.name, "replaces": replaces,
        }),
        PhoneEvent::CallEnded { call, cause } => {
            let mut v = json!({"event": "ended", "call": call, "status": null});
            if let (Some(o), Ok(Value::Object(c))) = (v.as_object_mut(), serde_json::to_value(cause)) {
                o.extend(c);
            }
            v
        }
        PhoneEvent::TransferRequested { call, to, new_call } => {
            json!({"event": "refer", "call": call, "target": to, "new_call": new_call})
        }
        PhoneEvent::TransferProgress { call, status } => {
            json!({"event": "refer_progress", "call": call, "status": status})
        }
        PhoneEvent::Dtmf { call, tone, duration_ms } => {
            json!({"event": "dtmf", "call": call, "digit": tone.to_string(), "duration_ms": duration_ms})
        }
        PhoneEvent::Message { from, content_type, body } => {
            json!({"event": "message", "from": from, "content_type": content_type, "body": body})
        }
        PhoneEvent::Error { call, message } => json!({"event": "error", "call": call, "message": message}),
        PhoneEvent::Trace { line } => json!({"event": "trace", "line": line}),
        PhoneEvent::Stopped => json!({"event": "stopped"}),
        other => json!({"event": "other", "debug": format!("{other:?}")}),
    }
}

/// `{"event": "media", "id", "call", "kind", ...}`: the request's fields but
/// the SDP (`offer`, `answer`).
fn media_line(r: &MediaRequest) -> Value {
    let mut v = json!({"event": "media", "id": r.id, "call": r.call});
    if let (Some(o), Ok(Value::Object(mut kind))) = (v.as_object_mut(), serde_json::to_value(&r.kind)) {
        kind.remove("offer");
        kind.remove("answer");
        o.extend(kind);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabphone_phone::media::MediaKind;
    use tabphone_phone::state::{DisconnectCause, EndCause};
    use tabphone_phone::Direction;

    fn printer(registers: bool) -> Printer {
        Printer::new(Instant::now(), 1_700_000_000_000, registers)
    }

    fn connection(p: &mut Printer, c: Connection) -> Vec<Value> {
        p.event_lines(&PhoneEvent::Connection { connection: c })
    }

    fn names(lines: &[Value]) -> Vec<&str> {
        lines.iter().map(|l| l["event"].as_str().unwrap()).collect()
    }

    #[test]
    fn a_failed_call_carries_its_cause_and_status() {
        let e = PhoneEvent::CallEnded { call: "c1".into(), cause: EndCause::Failed { status: 486 } };
        assert_eq!(event_line(&e), json!({"event": "ended", "call": "c1", "cause": "failed", "status": 486}));
        let e = PhoneEvent::CallEnded { call: "c1".into(), cause: EndCause::Remote };
        assert_eq!(
            event_line(&e),
            json!({"event": "ended", "call": "c1", "cause": "remote", "status": null})
        );
    }

    #[test]
    fn a_recovery_is_a_loss_of_a_connection_that_was_up_then_registered_again() {
        let mut p = printer(true);
        let (url, lost) = ("ws://x".to_string(), DisconnectCause::SocketClosed);
        let recovering = |next_try| Connection::Recovering { cause: lost, next_try };
        // A first connection after failed attempts is not a recovery.
        assert_eq!(names(&connection(&mut p, Connection::Connecting { url: url.clone() })), ["connecting"]);
        assert_eq!(names(&connection(&mut p, recovering(None))), ["disconnected"]);
        let retry = connection(&mut p, recovering(Some(1_700_000_002_000)));
        assert_eq!(names(&retry), ["recovery_error"]);
        assert!(retry[0]["retry_in_ms"].as_u64().unwrap() <= 2000);
        assert_eq!(names(&connection(&mut p, recovering(None))), ["reconnecting"]);
        assert_eq!(names(&connection(&mut p, Connection::Connected { url: url.clone() })), ["connected"]);
        let registered = Registration::Registered { expires: 600, bindings: 1, at: 0 };
        let lines = p.event_lines(&PhoneEvent::Registration { registration: registered.clone() });
        assert_eq!(names(&lines), ["registered"]);
        // Lost once up: registered again is a recovery, once.
        let lines = connection(&mut p, recovering(None));
        assert_eq!(lines[0], json!({"event": "disconnected", "cause": "socket_closed"}));
        connection(&mut p, Connection::Connected { url });
        let lines = p.event_lines(&PhoneEvent::Registration { registration: registered.clone() });
        assert_eq!(names(&lines), ["registered", "recovered"]);
        let lines = p.event_lines(&PhoneEvent::Registration { registration: registered });
        assert_eq!(names(&lines), ["registered"], "a refresh is no recovery");
    }

    #[test]
    fn calls_moving_and_hold_changing_are_lines_of_the_state() {
        let mut p = printer(true);
        let state = |call_state: &str, remote: bool| {
            let json = format!(
                r#"{{"v":1,"rev":1,"aor":"sip:a@x","online":true,"connection":{{"state":"connected","url":"ws://x"}},
"registration":{{"state":"unregistered"}},"calls":[{{"id":"c","direction":"incoming",
"peer":{{"uri":"sip:b@x","name":null}},"state":"{call_state}","held":{{"local":false,"remote":{remote}}},
"muted":false,"startedAt":0,"answeredAt":null,"replaces":null,"dialog":null}}],"ended":[]}}"#
            );
            PhoneState::parse(&json).unwrap()
        };
        let lines = p.state_lines(&state("ringing", false));
        assert_eq!(lines, [json!({"event": "call_state", "call": "c", "state": "ringing"})]);
        assert_eq!(p.state_lines(&state("ringing", false)), Vec::<Value>::new());
        assert_eq!(
            p.state_lines(&state("established", false)),
            [json!({"event": "established", "call": "c"})]
        );
        let held = json!({"event": "held", "call": "c", "local": false, "remote": true});
        assert_eq!(p.state_lines(&state("established", true)), [held]);
    }

    #[test]
    fn media_lines_leave_the_sdp_out() {
        let r = MediaRequest {
            id: 4,
            call: "c".into(),
            kind: MediaKind::Answer { offer: "v=0\r\n".into(), direction: Direction::RecvOnly, fresh: false },
        };
        assert_eq!(
            media_line(&r),
            json!({"event": "media", "id": 4, "call": "c", "kind": "answer", "direction": "recvonly", "fresh": false})
        );
    }
}
