//! Events for the app: what happened, beside the state that shows where
//! things are. JSON: `{"event": "callEnded", "call": "...", "cause": "remote"}`.

use tabphone_json::Obj;

use crate::json;
use crate::state::{Connection, EndCause, Peer, Registration};

/// Something the app should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "event", rename_all = "camelCase", rename_all_fields = "camelCase")
)]
#[non_exhaustive]
// A tag, then each variant's fields in their order (as `Action`): less
// drop glue than with a niche tag.
#[repr(C)]
pub enum PhoneEvent {
    /// A call rings here; `answer` or `decline` it. A call that replaces
    /// another (attended transfer) is answered by the phone itself.
    Incoming {
        /// Call id.
        call: String,
        /// Who calls.
        peer: Peer,
        /// The live call it replaces, if any.
        replaces: Option<String>,
    },
    /// A call left the state.
    CallEnded {
        /// Call id.
        call: String,
        /// Why (flattened: `cause`, maybe `status`).
        #[cfg_attr(any(test, feature = "serde"), serde(flatten))]
        cause: EndCause,
    },
    /// The connection changed (the state shows it too).
    Connection {
        /// The new connection state.
        connection: Connection,
    },
    /// The registration changed (the state shows it too).
    Registration {
        /// The new registration state.
        registration: Registration,
    },
    /// The peer of `call` asked us to call `to` (REFER); the phone follows it
    /// with `new_call` (when [`crate::Config::follow_transfers`]) and reports
    /// its progress to the peer.
    TransferRequested {
        /// The call that carried the REFER.
        call: String,
        /// The Refer-To URI.
        to: String,
        /// The call placed to follow it, if any.
        new_call: Option<String>,
    },
    /// Progress of our transfer after the peer accepted it: its call to the
    /// target got this status (100, 180, 200, 486, ...). On a final 2xx the
    /// phone hangs up `call` (cause `transferred`).
    TransferProgress {
        /// The transferred call.
        call: String,
        /// Status of the peer's call to the target.
        status: u16,
    },
    /// The peer sent a DTMF tone by SIP INFO.
    Dtmf {
        /// Call id.
        call: String,
        /// The tone.
        tone: char,
        /// Its duration, ms.
        duration_ms: u32,
    },
    /// A MESSAGE arrived.
    Message {
        /// Sender URI.
        from: String,
        /// Its Content-Type.
        content_type: String,
        /// Its body.
        body: String,
    },
    /// Something went wrong that no action result reports: bad input from
    /// the server, a media failure in a renegotiation the peer started, ...
    Error {
        /// The call concerned, if any.
        call: Option<String>,
        /// What.
        message: String,
    },
    /// A SIP message in or out (`trace` in [`crate::Config::sip`]), credentials redacted.
    Trace {
        /// The log text.
        line: String,
    },
    /// The browser refused (or allowed again) to play call audio without a
    /// user gesture (the state's `audioBlocked`).
    AudioBlocked {
        /// Blocked now.
        blocked: bool,
    },
    /// `Stop` finished: the connection is closed, every call is over or handed over.
    Stopped,
}

impl PhoneEvent {
    /// Whether a tab can derive this event from the published states
    /// ([`crate::state::changes`]): incoming and ended calls, connection,
    /// registration, audio blocked. The others (transfers, DTMF and messages
    /// received, errors, trace, stopped) happen only where the phone runs.
    pub fn in_state(&self) -> bool {
        matches!(
            self,
            PhoneEvent::Incoming { .. }
                | PhoneEvent::CallEnded { .. }
                | PhoneEvent::Connection { .. }
                | PhoneEvent::Registration { .. }
                | PhoneEvent::AudioBlocked { .. }
        )
    }

    /// Whether the real relays this event to the other tabs (through the
    /// worker), so that every tab reports it: the events a tab cannot derive
    /// from the state (transfers, DTMF and messages received, errors), but
    /// not trace lines (the real's own socket, often many) nor `stopped`.
    pub fn relayed(&self) -> bool {
        matches!(
            self,
            PhoneEvent::TransferRequested { .. }
                | PhoneEvent::TransferProgress { .. }
                | PhoneEvent::Dtmf { .. }
                | PhoneEvent::Message { .. }
                | PhoneEvent::Error { .. }
        )
    }

    /// Read a relayed event from its [`PhoneEvent::to_json`] text; `None`
    /// for the text of any other event, or not an event.
    pub fn parse_relayed(text: &str) -> Option<PhoneEvent> {
        json::read_relayed(text).ok()
    }

    /// The event's name in JSON (`"callEnded"`, `"incoming"`, ...). Out of
    /// line: inlined, `to_json` had a copy of its first field per event.
    #[inline(never)]
    pub fn name(&self) -> &'static str {
        match self {
            PhoneEvent::Incoming { .. } => "incoming",
            PhoneEvent::CallEnded { .. } => "callEnded",
            PhoneEvent::Connection { .. } => "connection",
            PhoneEvent::Registration { .. } => "registration",
            PhoneEvent::TransferRequested { .. } => "transferRequested",
            PhoneEvent::TransferProgress { .. } => "transferProgress",
            PhoneEvent::Dtmf { .. } => "dtmf",
            PhoneEvent::Message { .. } => "message",
            PhoneEvent::Error { .. } => "error",
            PhoneEvent::Trace { .. } => "trace",
            PhoneEvent::AudioBlocked { .. } => "audioBlocked",
            PhoneEvent::Stopped => "stopped",
        }
    }

    /// The JSON text, `{"event": name, ...fields}`.
    pub fn to_json(&self) -> String {
        let o = &mut Obj::new();
        o.str("event", self.name());
        match self {
            PhoneEvent::Incoming { call, peer, replaces } => {
                json::peer_field(o.str("call", call), peer).opt_str("replaces", replaces.as_deref())
            }
            PhoneEvent::CallEnded { call, cause } => json::end_cause(o.str("call", call), cause),
            PhoneEvent::Connection { connection } => {
                json::connection_fields(o.open("connection", '{'), connection).close('}')
            }
            PhoneEvent::Registration { registration } => {
                json::registration_fields(o.open("registration", '{'), registration).close('}')
            }
            PhoneEvent::TransferRequested { call, to, new_call } => {
                o.str("call", call).str("to", to).opt_str("newCall", new_call.as_deref())
            }
            PhoneEvent::TransferProgress { call, status } => {
                o.str("call", call).num("status", u64::from(*status))
            }
            PhoneEvent::Dtmf { call, tone, duration_ms } => o
                .str("call", call)
                .str("tone", tone.encode_utf8(&mut [0; 4]))
                .num("durationMs", u64::from(*duration_ms)),
            PhoneEvent::Message { from, content_type, body } => {
                o.str("from", from).str("contentType", content_type).str("body", body)
            }
            PhoneEvent::Error { call, message } => o.opt_str("call", call.as_deref()).str("message", message),
            PhoneEvent::Trace { line } => o.str("line", line),
            PhoneEvent::AudioBlocked { blocked } => o.bool("blocked", *blocked),
            PhoneEvent::Stopped => o,
        }
        .end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_flat() {
        let e = PhoneEvent::CallEnded { call: "c1".into(), cause: EndCause::Failed { status: 486 } };
        assert_eq!(e.to_json(), r#"{"event":"callEnded","call":"c1","cause":"failed","status":486}"#);
        let e = PhoneEvent::Dtmf { call: "c".into(), tone: '#', duration_ms: 100 };
        assert_eq!(e.to_json(), r##"{"event":"dtmf","call":"c","tone":"#","durationMs":100}"##);
        assert_eq!(PhoneEvent::Stopped.to_json(), r#"{"event":"stopped"}"#);
        // Every kind, as serde describes it: json/oracle.rs.
    }
}
