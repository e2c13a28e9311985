//! The event printing: every event as one JSON line on stdout, with `t`, the
//! milliseconds since the CLI started.

use serde_json::{json, Value};
use tabphone_sip::ua::{EndCause, Event};
use tabphone_sip::Instant;

/// Prints JSON lines stamped with the time since `start`.
pub struct Printer {
    start: Instant,
}

impl Printer {
    pub fn new(start: Instant) -> Printer {
        Printer { start }
    }

    /// Print `v` (an object) as one line, with `t` added.
    pub fn print(&self, mut v: Value) {
        if let Some(o) = v.as_object_mut() {
            o.insert("t".into(), json!(self.start.elapsed().as_millis() as u64));
        }
        println!("{v}");
    }

    /// Print one of the agent's events.
    pub fn event(&self, e: &Event) {
        self.print(event_json(e));
    }
}

/// The JSON line of an event: `{"event": <snake_case name>, ...its fields}`;
/// SDP bodies are reduced to `has_sdp`.
pub fn event_json(e: &Event) -> Value {
    call_event_json(e).unwrap_or_else(|| agent_event_json(e))
}

/// Events about one call.
fn call_event_json(e: &Event) -> Option<Value> {
    Some(match e {
        Event::Incoming { call, from, sdp, replaces } => json!({
            "event": "incoming", "call": call.0, "from": from, "has_sdp": sdp.is_some(),
            "replaces": replaces.map(|r| r.0),
        }),
        Event::Progress { call, status, sdp } => {
            json!({"event": "progress", "call": call.0, "status": status, "has_sdp": sdp.is_some()})
        }
        Event::Established { call, .. } => json!({"event": "established", "call": call.0}),
        Event::Ended { call, cause } => {
            let (cause, status) = match cause {
                EndCause::Local => ("local", None),
                EndCause::Remote => ("remote", None),
                EndCause::Failed(s) => ("failed", Some(*s)),
                EndCause::Timeout => ("timeout", None),
                EndCause::Transport => ("transport", None),
            };
            json!({"event": "ended", "call": call.0, "cause": cause, "status": status})
        }
        Event::Reoffer { call, sdp } => json!({"event": "reoffer", "call": call.0, "has_sdp": sdp.is_some()}),
        Event::ReinviteAnswered { call, .. } => json!({"event": "reinvite_answered", "call": call.0}),
        Event::ReinviteFailed { call, status } => {
            json!({"event": "reinvite_failed", "call": call.0, "status": status})
        }
        Event::RecoveryOfferNeeded { call } => json!({"event": "recovery_offer_needed", "call": call.0}),
        Event::Refer { call, target } => json!({"event": "refer", "call": call.0, "target": target}),
        Event::ReferProgress { call, status } => {
            json!({"event": "refer_progress", "call": call.0, "status": status})
        }
        Event::Dtmf { call, digit, duration_ms } => {
            json!({"event": "dtmf", "call": call.0, "digit": digit.to_string(), "duration_ms": duration_ms})
        }
        _ => return None,
    })
}

/// Events about the connection, the registration, messages and the agent.
fn agent_event_json(e: &Event) -> Value {
    match e {
        Event::Connecting { url } => json!({"event": "connecting", "url": url}),
        Event::Connected { url } => json!({"event": "connected", "url": url}),
        Event::Disconnected { cause } => json!({"event": "disconnected", "cause": format!("{cause:?}")}),
        Event::RecoveryError { retry_in } => {
            json!({"event": "recovery_error", "retry_in_ms": retry_in.as_millis() as u64})
        }
        Event::RecoveryFailed => json!({"event": "recovery_failed"}),
        Event::Recovered => json!({"event": "recovered"}),
        Event::Registered { expires, bindings } => {
            json!({"event": "registered", "expires": expires, "bindings": bindings})
        }
        Event::Unregistered => json!({"event": "unregistered"}),
        Event::RegistrationFailed { status } => json!({"event": "registration_failed", "status": status}),
        Event::MessageReceived { from, content_type, body } => {
            json!({"event": "message", "from": from, "content_type": content_type, "body": body})
        }
        Event::MessageResult { id, status } => json!({"event": "message_result", "id": id, "status": status}),
        Event::Stopped => json!({"event": "stopped"}),
        Event::Error { call, message } => {
            json!({"event": "error", "call": call.map(|c| c.0), "message": message})
        }
        Event::Trace { line } => json!({"event": "trace", "line": line}),
        _ => json!({"event": "other", "debug": format!("{e:?}")}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabphone_sip::ua::CallId;

    #[test]
    fn a_failed_call_carries_its_status_and_a_call_event_its_id() {
        let v = event_json(&Event::Ended { call: CallId(3), cause: EndCause::Failed(486) });
        assert_eq!(v, json!({"event": "ended", "call": 3, "cause": "failed", "status": 486}));
        let v = event_json(&Event::Ended { call: CallId(3), cause: EndCause::Remote });
        assert_eq!(v["status"], Value::Null);
    }

    #[test]
    fn agent_events_keep_their_names_and_fields() {
        let v = event_json(&Event::Registered { expires: 600, bindings: 2 });
        assert_eq!(v, json!({"event": "registered", "expires": 600, "bindings": 2}));
        assert_eq!(event_json(&Event::Stopped), json!({"event": "stopped"}));
    }
}
