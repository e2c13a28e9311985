//! Actions: what the app asks of the phone, parsed from a name and JSON
//! arguments, checked here as far as that needs no phone state.
//!
//! | name | arguments | result |
//! |---|---|---|
//! | `call` | `{to, headers?}` | `{"call": id}` at once (the call is in the state) |
//! | `answer` | `{call}` | `{}` when the call is established (ACK received) |
//! | `decline` | `{call, status?}` (default 603) | `{}` when the refusal is sent |
//! | `hangup` | `{call}` | `{}` when the CANCEL, BYE or refusal is sent |
//! | `hold` / `unhold` | `{call}` | `{}` when the re-INVITE is answered and its answer applied |
//! | `mute` / `unmute` | `{call}` | `{}` when the media layer did it |
//! | `dtmf` | `{call, tones, via?, duration?}` | `{}` when played (`via: "rtp"`, default) or sent (`"info"`) |
//! | `transfer` | `{call, to}` | `{}` when the REFER is accepted (202) |
//! | `attendedTransfer` | `{call, with}` | `{}` when the REFER is accepted (202) |
//! | `message` | `{to, text}` | `{"status": 200}` on a 2xx |
//! | `register` | none | `{"expires": s}` when registered (a later `unregister` fails it, `wrong_state`) |
//! | `unregister` | none | `{}` when unregistered (`not_connected` if the connection drops first) |
//!
//! While a call is `resuming` (taken over from a previous real tab), `hold`,
//! `unhold`, `dtmf`, `transfer` and `attendedTransfer` on it are refused
//! with `wrong_state` (its re-INVITE is under way); `mute` and `unmute` work
//! on the new media; `hangup` gets `{}` at once and its BYE follows the
//! re-INVITE (before the re-INVITE left, the BYE waits for it).
//!
//! Arguments are a JSON object (camelCase keys); unknown keys are refused.
//! "None" means no text, `null` or `{}`.

use tabphone_json::{quote, Object, ReadError};

use crate::json::{opt_num_field, str_field};

use crate::error::{ErrorCode, PhoneError};

/// How DTMF tones travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfVia {
    /// In the media, RFC 4733 telephone-events (the media layer sends them). The default.
    Rtp,
    /// One SIP INFO (`application/dtmf-relay`) per tone.
    Info,
}

/// One parsed action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A tag, then each variant's fields in their order: the `call` of every
// variant that has one is at the same place ([`Action::call`], the drop
// glue: less code than with the fields in Rust's order and a niche tag).
#[repr(C)]
pub enum Action {
    /// Call `to` (a SIP URI, or a user at the account's domain).
    Call {
        /// Target.
        to: String,
        /// Extra headers for the INVITE, name and value.
        headers: Vec<(String, String)>,
    },
    /// Answer an incoming ringing call.
    Answer {
        /// Call id.
        call: String,
    },
    /// Refuse an incoming ringing call.
    Decline {
        /// Call id.
        call: String,
        /// Final status, 300-699.
        status: u16,
    },
    /// End a call in any state: CANCEL (outgoing, unanswered), a 480
    /// refusal (incoming, ringing) or BYE.
    Hangup {
        /// Call id.
        call: String,
    },
    /// Put an established call on hold (a `sendonly` re-INVITE).
    Hold {
        /// Call id.
        call: String,
    },
    /// Take it off hold (a `sendrecv` re-INVITE).
    Unhold {
        /// Call id.
        call: String,
    },
    /// Stop sending the microphone.
    Mute {
        /// Call id.
        call: String,
    },
    /// Send it again.
    Unmute {
        /// Call id.
        call: String,
    },
    /// Send DTMF tones.
    Dtmf {
        /// Call id.
        call: String,
        /// `0-9`, `A-D`, `*`, `#`, and `,` (a 2 s pause, RTP only); upper case.
        tones: String,
        /// RTP (default) or SIP INFO.
        via: DtmfVia,
        /// Tone duration, 40-6000 ms (default 100).
        duration_ms: u32,
    },
    /// Blind transfer: ask the peer to call `to` (REFER).
    Transfer {
        /// Call id.
        call: String,
        /// Target.
        to: String,
    },
    /// Attended transfer: ask the peer of `call` to replace `with` (REFER with Replaces).
    AttendedTransfer {
        /// The call to transfer.
        call: String,
        /// The consultation call whose peer takes it over.
        with: String,
    },
    /// Send a text MESSAGE.
    Message {
        /// Target.
        to: String,
        /// Body (`text/plain;charset=UTF-8`).
        text: String,
    },
    /// Register now (or refresh).
    Register,
    /// Remove this browser's binding.
    Unregister,
}

/// Why the arguments are bad: the message of a `bad_arguments` error (made
/// into a [`PhoneError`] once, by [`Action::parse`]).
type Bad = String;

/// Each action's name and the argument fields it knows.
const ACTIONS: [(&str, &[&str]); 14] = [
    ("call", &["to", "headers"]),
    ("answer", &["call"]),
    ("decline", &["call", "status"]),
    ("hangup", &["call"]),
    ("hold", &["call"]),
    ("unhold", &["call"]),
    ("mute", &["call"]),
    ("unmute", &["call"]),
    ("dtmf", &["call", "tones", "via", "duration"]),
    ("transfer", &["call", "to"]),
    ("attendedTransfer", &["call", "with"]),
    ("message", &["to", "text"]),
    ("register", &[]),
    ("unregister", &[]),
];

/// The arguments of action `name`: an object with only the `known` fields.
fn args<'a>(name: &str, text: &'a str, known: &[&str]) -> Result<Object<'a>, Bad> {
    let o = Object::parse(text).map_err(|e| named(name, e))?;
    o.only(known).map_err(|e| named(name, e))?;
    Ok(o)
}

/// A bad argument `e` of action `name`: `"name: e"`.
fn named(name: &str, e: Box<ReadError>) -> Bad {
    format!("{name}: {e}")
}

/// The first error the arguments read so far met ([`Object::keep`]),
/// named after the action.
fn read_ok(name: &str, o: &Object<'_>) -> Result<(), Bad> {
    o.done(()).map_err(|e| named(name, e))
}

impl Action {
    /// Parse an action from its name and its JSON arguments.
    pub fn parse(name: &str, args_json: &str) -> Result<Action, PhoneError> {
        let text = match tabphone_json::trim(args_json) {
            "" | "null" => "{}",
            t => t,
        };
        // The action by its index in ACTIONS: names compared once.
        let mut i = 0;
        while ACTIONS[i].0 != name {
            i += 1;
            if i == ACTIONS.len() {
                return Err(PhoneError::new(ErrorCode::UnknownAction, format!("no action {}", quote(name))));
            }
        }
        Action::read(i, name, text).map_err(|message| PhoneError::new(ErrorCode::BadArguments, message))
    }

    /// Action `i` of [`ACTIONS`], `name`, from its arguments `text`.
    fn read(i: usize, name: &str, text: &str) -> Result<Action, Bad> {
        let o = args(name, text, ACTIONS[i].1)?;
        let str = |k: &str| str_field(&o, k);
        let action = match i {
            0 => {
                let to = target(name, &o, str("to"))?;
                Action::Call { to, headers: headers(o.raw("headers"))? }
            }
            2 => {
                let status = opt_num_field::<u16>(&o, "status").unwrap_or(603);
                read_ok(name, &o)?;
                if !(300..=699).contains(&status) {
                    return Err(format!("decline: status {status} is not 300-699"));
                }
                Action::Decline { call: str("call"), status }
            }
            8 => return dtmf(&o),
            9 => {
                let call = str("call");
                let to = target(name, &o, str("to"))?;
                Action::Transfer { call, to }
            }
            10 => {
                let (call, with) = (str("call"), str("with"));
                read_ok(name, &o)?;
                if call == with {
                    return Err("attendedTransfer: call and with are the same call".into());
                }
                Action::AttendedTransfer { call, with }
            }
            11 => {
                let to = target(name, &o, str("to"))?;
                Action::Message { to, text: str("text") }
            }
            12 => Action::Register,
            13 => Action::Unregister,
            _ => {
                let call = str("call");
                match i {
                    1 => Action::Answer { call },
                    3 => Action::Hangup { call },
                    4 => Action::Hold { call },
                    5 => Action::Unhold { call },
                    6 => Action::Mute { call },
                    _ => Action::Unmute { call },
                }
            }
        };
        read_ok(name, &o)?;
        Ok(action)
    }

    /// The call the action is about, if any (`call`, not `with`).
    pub fn call(&self) -> Option<&str> {
        match self {
            Action::Answer { call }
            | Action::Decline { call, .. }
            | Action::Hangup { call }
            | Action::Hold { call }
            | Action::Unhold { call }
            | Action::Mute { call }
            | Action::Unmute { call }
            | Action::Dtmf { call, .. }
            | Action::Transfer { call, .. }
            | Action::AttendedTransfer { call, .. } => Some(call),
            Action::Call { .. } | Action::Message { .. } | Action::Register | Action::Unregister => None,
        }
    }
}

/// A target: non-empty, no white space or control characters (the phone
/// checks the URI itself against the account's domain); first, the first
/// error the arguments read so far met ([`read_ok`]).
fn target(name: &str, o: &Object<'_>, to: String) -> Result<String, Bad> {
    read_ok(name, o)?;
    let to = tabphone_json::trim(&to).to_string();
    if to.is_empty() || to.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{name}: target {} is empty or has spaces", quote(&to)));
    }
    Ok(to)
}

/// The `headers` argument: an object of strings (not `null`), in its order.
fn headers(raw: Option<&str>) -> Result<Vec<(String, String)>, Bad> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let fields = tabphone_json::fields(raw).map_err(|_| "call: headers is not an object".to_string())?;
    let mut headers = Vec::new();
    // By reference: no `IntoIter` copy for the fields' type.
    for (name, value) in &fields {
        let Some(value) = tabphone_json::as_str(value) else {
            return Err(format!("call: header {name} is not a string"));
        };
        tabphone_sip::ua::check_extra_header(name, &value).map_err(|e| format!("call: {e}"))?;
        headers.push((name.to_string(), value.into_owned()));
    }
    Ok(headers)
}

fn dtmf(o: &Object<'_>) -> Result<Action, Bad> {
    let name = "dtmf";
    let via = match o.keep(o.name_at("via", &["rtp", "info"], false)) {
        Some(1) => DtmfVia::Info,
        _ => DtmfVia::Rtp,
    };
    let duration_ms = opt_num_field::<u32>(o, "duration").unwrap_or(100);
    read_ok(name, o)?;
    if !(40..=6000).contains(&duration_ms) {
        return Err(format!("dtmf: duration {duration_ms} is not 40-6000 ms"));
    }
    let call = str_field(o, "call");
    let mut tones = str_field(o, "tones");
    tones.make_ascii_uppercase();
    read_ok(name, o)?;
    let allowed = match via {
        DtmfVia::Rtp => "0123456789ABCD*#,",
        DtmfVia::Info => "0123456789ABCD*#",
    };
    if tones.is_empty() || tones.len() > 64 {
        return Err("dtmf: tones must be 1 to 64 characters".into());
    }
    // Bytes, not `str::contains::<char>` (which brings a substring searcher).
    if let Some(c) = tones.chars().find(|&c| !c.is_ascii() || !allowed.as_bytes().contains(&(c as u8))) {
        return Err(format!(
            "dtmf: {} is not a tone for {}",
            quote(c.encode_utf8(&mut [0; 4])),
            if via == DtmfVia::Rtp { "rtp" } else { "info" }
        ));
    }
    Ok(Action::Dtmf { call, tones, via, duration_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(name: &str, args: &str) -> ErrorCode {
        Action::parse(name, args).unwrap_err().code
    }

    #[test]
    fn parses_every_action() {
        let a = Action::parse("call", r#"{"to":"bob","headers":{"X-App":"1"}}"#).unwrap();
        assert_eq!(a, Action::Call { to: "bob".into(), headers: vec![("X-App".into(), "1".into())] });
        assert_eq!(
            Action::parse("decline", r#"{"call":"c"}"#).unwrap(),
            Action::Decline { call: "c".into(), status: 603 }
        );
        let d = Action::parse("dtmf", r#"{"call":"c","tones":"12a#","via":"info","duration":160}"#).unwrap();
        assert_eq!(
            d,
            Action::Dtmf { call: "c".into(), tones: "12A#".into(), via: DtmfVia::Info, duration_ms: 160 }
        );
        let at = Action::parse("attendedTransfer", r#"{"call":"a","with":"b"}"#).unwrap();
        assert_eq!(at.call(), Some("a"));
        for name in ["register", "unregister"] {
            for args in ["", "null", "{}", " "] {
                assert!(Action::parse(name, args).is_ok(), "{name} {args:?}");
            }
        }
        for name in ["answer", "hangup", "hold", "unhold", "mute", "unmute"] {
            assert_eq!(Action::parse(name, r#"{"call":"x"}"#).unwrap().call(), Some("x"));
        }
    }

    #[test]
    fn refuses_bad_input_with_codes() {
        assert_eq!(code("dial", "{}"), ErrorCode::UnknownAction);
        assert_eq!(code("call", "{"), ErrorCode::BadArguments);
        assert_eq!(code("call", "{}"), ErrorCode::BadArguments);
        assert_eq!(code("call", r#"{"to":"bob","extra":1}"#), ErrorCode::BadArguments);
        assert_eq!(code("call", r#"{"to":"b ob"}"#), ErrorCode::BadArguments);
        assert_eq!(code("call", r#"{"to":"bob","headers":{"X y":"1"}}"#), ErrorCode::BadArguments);
        assert_eq!(code("call", r#"{"to":"bob","headers":{"X":"1\r\nVia: x"}}"#), ErrorCode::BadArguments);
        assert_eq!(code("call", r#"{"to":"bob","headers":{"X":1}}"#), ErrorCode::BadArguments);
        assert_eq!(
            code("call", r#"{"to":"bob","headers":{"Contact":"<sip:x@y>"}}"#),
            ErrorCode::BadArguments
        );
        assert_eq!(code("decline", r#"{"call":"c","status":200}"#), ErrorCode::BadArguments);
        assert_eq!(code("dtmf", r#"{"call":"c","tones":"1,2","via":"info"}"#), ErrorCode::BadArguments);
        assert_eq!(code("dtmf", r#"{"call":"c","tones":"x"}"#), ErrorCode::BadArguments);
        assert_eq!(code("dtmf", r#"{"call":"c","tones":""}"#), ErrorCode::BadArguments);
        assert_eq!(code("dtmf", r#"{"call":"c","tones":"1","duration":10}"#), ErrorCode::BadArguments);
        assert_eq!(code("dtmf", r#"{"call":"c","tones":"1","via":"smoke"}"#), ErrorCode::BadArguments);
        assert_eq!(code("attendedTransfer", r#"{"call":"a","with":"a"}"#), ErrorCode::BadArguments);
        assert_eq!(code("register", r#"{"x":1}"#), ErrorCode::BadArguments);
        assert_eq!(code("hangup", "[1]"), ErrorCode::BadArguments);
        assert_eq!(code("hangup", ""), ErrorCode::BadArguments);
    }
}
