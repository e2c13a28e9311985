//! The wire protocol between tabs and the worker: JSON text, one object per
//! `postMessage`, discriminated by the field `"t"`.
//!
//! Version [`PROTOCOL_VERSION`]. A tab announces the version it speaks in
//! `hello`; the worker refuses another with an `error` of code `version`.
//!
//! ## Tab to worker ([`FromTab`])
//! | `t` | fields | meaning |
//! |---|---|---|
//! | `hello` | `v`, `tab`, `visible`, `focused`, `rejoin?`, `claim?` | join; `rejoin: true` after the worker died; `claim: {epoch, state}` when the tab was real |
//! | `focus` | `visible`, `focused` | visibility or focus changed (promotion policy) |
//! | `claimed` | `epoch` | the tab now holds the app's real lock for that epoch |
//! | `demoted` | `epoch` | the tab lost the real lock (stolen) and stopped being real |
//! | `sync` | `epoch`, `state` | the real's latest state (any JSON) |
//! | `action` | `id`, `name`, `args?` | a dummy asks the real to do something; `id` is the tab's own |
//! | `result` | `id`, `ok` or `error` | the real answers a forwarded action (`id` is the worker's) |
//! | `close` | | the tab is going away (`pagehide`) |
//! | `pong` | `seq` | answer to `ping` |
//!
//! ## Worker to tab ([`ToTab`])
//! | `t` | fields | meaning |
//! |---|---|---|
//! | `welcome` | `v`, `worker`, `tabs`, `max` | joined; `worker` names the lock the worker holds for its life; `max` is the largest message it accepts, in bytes |
//! | `role` | `role` (`real`/`dummy`), `epoch`, `steal` | become real (take the app lock, with `steal` if the old real is frozen, answer `claimed`) or dummy; repeated after `claimed` to confirm |
//! | `sync` | `epoch`, `state`, `reset?` | the real's state; `reset: true` with `state: null` when the real went away |
//! | `action` | `id`, `name`, `args?` | to the real: perform this, answer with `result` and the same `id` |
//! | `result` | `id`, `ok` or `error` | to the tab that asked: the answer to its action `id` |
//! | `tabs` | `count` | number of live tabs changed |
//! | `ping` | `seq` | answer with `pong` |
//! | `error` | `code`, `message`, `id?` | a message was refused; `id` set when it answers an action |
//!
//! Error codes are the [`ErrorCode`] variants in snake case.
use std::borrow::Cow;

use crate::json::{self, JsonError, Obj};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Validated JSON text, kept verbatim (states, arguments, results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(Box<str>);

impl Raw {
    /// Check that `text` is one JSON value.
    pub fn new(text: &str) -> Result<Raw, JsonError> {
        json::validate(text)?;
        Ok(Raw(text.trim().into()))
    }

    /// `null`.
    pub fn null() -> Raw {
        Raw("null".into())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// Text already validated by the codec.
    fn trusted(text: &str) -> Raw {
        Raw(text.into())
    }
}

/// A message from a tab to the worker, as parsed by [`parse_from_tab`].
#[derive(Debug)]
#[non_exhaustive]
pub enum FromTab {
    /// Join the worker.
    Hello {
        /// Protocol version the tab speaks.
        v: u32,
        /// The tab's id; the tab holds a Web Lock named [`tab_lock_name`] of it.
        tab: String,
        /// `document.visibilityState == "visible"`.
        visible: bool,
        /// `document.hasFocus()`.
        focused: bool,
        /// Set by a tab that was real before the worker restarted.
        claim: Option<Claim>,
        /// Set when the tab rejoins a worker that was restarted.
        rejoin: bool,
    },
    /// Visibility or focus changed.
    Focus {
        /// Visible now.
        visible: bool,
        /// Focused now.
        focused: bool,
    },
    /// The tab acquired the real lock for `epoch`.
    Claimed {
        /// The epoch of the `role` message it answers.
        epoch: u64,
    },
    /// The tab lost the real lock and demoted itself.
    Demoted {
        /// The epoch it was real in.
        epoch: u64,
    },
    /// The real's latest state.
    Sync {
        /// The epoch the sender believes it is real in.
        epoch: u64,
        /// Any JSON value, kept verbatim.
        state: Raw,
    },
    /// An action for the real.
    Action {
        /// The sender's id for it; the answer carries it back.
        id: u64,
        /// Action name.
        name: String,
        /// Arguments, any JSON, kept verbatim.
        args: Option<Raw>,
    },
    /// The real's answer to a forwarded action.
    Result {
        /// The worker's id from the `action` message.
        id: u64,
        /// Success value.
        ok: Option<Raw>,
        /// Failure value.
        error: Option<Raw>,
    },
    /// The tab is closing.
    Close,
    /// Liveness answer.
    Pong {
        /// The `seq` of the ping.
        seq: u64,
    },
}

/// What a rejoining real tab brings to a restarted worker.
#[derive(Debug)]
pub struct Claim {
    /// The epoch the tab was real in.
    pub epoch: u64,
    /// Its latest state, verbatim.
    pub state: Raw,
}

/// Role of a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs the real phone.
    Real,
    /// Mirrors the real and forwards actions.
    Dummy,
}

impl Role {
    /// `"real"` or `"dummy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Real => "real",
            Role::Dummy => "dummy",
        }
    }
}

/// A message from the worker to a tab.
#[derive(Debug)]
#[non_exhaustive]
pub enum ToTab<'a> {
    /// Joined.
    Welcome {
        /// Protocol version.
        v: u32,
        /// Name of the lock the worker holds while it lives.
        worker: Cow<'a, str>,
        /// Number of live tabs.
        tabs: usize,
        /// Largest message accepted, in bytes.
        max: usize,
    },
    /// Role assignment.
    Role {
        /// The role.
        role: Role,
        /// Epoch of the current real.
        epoch: u64,
        /// Take the real lock with `steal: true`.
        steal: bool,
    },
    /// The real's state.
    Sync {
        /// Epoch it came from.
        epoch: u64,
        /// The state, JSON text.
        state: &'a str,
        /// True when the real went away and the state was cleared.
        reset: bool,
    },
    /// An action to perform (to the real).
    Action {
        /// The worker's id.
        id: u64,
        /// Action name.
        name: Cow<'a, str>,
        /// Arguments, JSON text.
        args: Option<&'a str>,
    },
    /// The answer to the tab's own action.
    Result {
        /// The tab's id for the action.
        id: u64,
        /// Success value, JSON text.
        ok: Option<&'a str>,
        /// Failure value, JSON text.
        error: Option<&'a str>,
    },
    /// Live tab count.
    Tabs {
        /// How many.
        count: usize,
    },
    /// Liveness probe.
    Ping {
        /// Echo it in `pong`.
        seq: u64,
    },
    /// A refusal.
    Error {
        /// Machine-readable code.
        code: ErrorCode,
        /// Human-readable detail.
        message: Cow<'a, str>,
        /// The tab's action id when this answers an action.
        id: Option<u64>,
    },
}

/// Why the worker refused a message or failed an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Not JSON, or not an object of a known shape.
    Malformed,
    /// A `t` the worker does not know.
    UnknownType,
    /// Over the size limit.
    TooLarge,
    /// Protocol version not spoken.
    Version,
    /// A message other than `hello` before `hello`.
    NotJoined,
    /// `sync` or `result` from a tab that is not the current real.
    NotReal,
    /// The action waited longer than the action timeout.
    Timeout,
    /// The real went away before answering.
    RealGone,
    /// Too many actions waiting for a real.
    QueueFull,
    /// The worker restarted before the action was answered (tab side).
    WorkerGone,
}

const CODES: [(ErrorCode, &str); 10] = [
    (ErrorCode::Malformed, "malformed"),
    (ErrorCode::UnknownType, "unknown_type"),
    (ErrorCode::TooLarge, "too_large"),
    (ErrorCode::Version, "version"),
    (ErrorCode::NotJoined, "not_joined"),
    (ErrorCode::NotReal, "not_real"),
    (ErrorCode::Timeout, "timeout"),
    (ErrorCode::RealGone, "real_gone"),
    (ErrorCode::QueueFull, "queue_full"),
    (ErrorCode::WorkerGone, "worker_gone"),
];

impl ErrorCode {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        CODES.iter().find(|(c, _)| *c == self).map_or("malformed", |(_, s)| s)
    }

    /// The code named `s`.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        CODES.iter().find(|(_, name)| *name == s).map(|(c, _)| *c)
    }
}

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// [`ErrorCode::Malformed`] or [`ErrorCode::UnknownType`].
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// The action id, when the text was an action with a readable id.
    pub id: Option<u64>,
}

/// The fields of one message, by name.
struct Fields<'a> {
    t: Cow<'a, str>,
    all: Vec<(Cow<'a, str>, &'a str)>,
    id: Option<u64>,
}

impl<'a> Fields<'a> {
    fn parse(text: &'a str) -> Result<Fields<'a>, ParseError> {
        let all = json::fields(text).map_err(|e| ParseError {
            code: ErrorCode::Malformed,
            message: e.message(),
            id: None,
        })?;
        let raw = |k: &str| all.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
        let id = raw("id").and_then(json::as_u64);
        let t = raw("t").and_then(json::as_str).ok_or_else(|| ParseError {
            code: ErrorCode::Malformed,
            message: String::from("no string field \"t\""),
            id,
        })?;
        Ok(Fields { t, all, id })
    }

    fn raw(&self, k: &str) -> Option<&'a str> {
        self.all.iter().find(|(key, _)| key == k).map(|(_, v)| *v)
    }

    /// A field that must be there and have the right type.
    fn need<T>(&self, k: &str, read: impl Fn(&'a str) -> Option<T>) -> Result<T, ParseError> {
        self.opt(k, read)?.ok_or_else(|| self.bad(k, "missing"))
    }

    /// A field that may be missing or null, but not of the wrong type.
    fn opt<T>(&self, k: &str, read: impl Fn(&'a str) -> Option<T>) -> Result<Option<T>, ParseError> {
        match self.raw(k) {
            None | Some("null") => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| self.bad(k, "of the wrong type")),
        }
    }

    fn flag(&self, k: &str) -> Result<bool, ParseError> {
        Ok(self.opt(k, json::as_bool)?.unwrap_or(false))
    }

    fn bad(&self, k: &str, what: &str) -> ParseError {
        ParseError {
            code: ErrorCode::Malformed,
            message: format!("\"{}\" message with field \"{k}\" {what}", self.t),
            id: self.id,
        }
    }

    fn unknown(&self) -> ParseError {
        ParseError {
            code: ErrorCode::UnknownType,
            message: format!("unknown message type \"{}\"", self.t),
            id: None,
        }
    }
}

fn string(raw: &str) -> Option<String> {
    json::as_str(raw).map(Cow::into_owned)
}

fn raw_value(raw: &str) -> Option<Raw> {
    Some(Raw::trusted(raw))
}

fn object(raw: &str) -> Option<&str> {
    raw.starts_with('{').then_some(raw)
}

/// Parse a tab's message. Unknown `t` values give [`ErrorCode::UnknownType`],
/// anything else unreadable [`ErrorCode::Malformed`]; when the text is an
/// `action` whose `id` can be read, the error carries it so the sender's
/// promise can be failed rather than left waiting.
pub fn parse_from_tab(text: &str) -> Result<FromTab, ParseError> {
    let f = Fields::parse(text)?;
    Ok(match &*f.t {
        "hello" => FromTab::Hello {
            v: f.need("v", |r| json::as_u64(r).and_then(|v| u32::try_from(v).ok()))?,
            tab: f.need("tab", string)?,
            visible: f.flag("visible")?,
            focused: f.flag("focused")?,
            claim: f.opt("claim", object)?.map(Fields::parse_claim).transpose()?,
            rejoin: f.flag("rejoin")?,
        },
        "focus" => FromTab::Focus { visible: f.flag("visible")?, focused: f.flag("focused")? },
        "claimed" => FromTab::Claimed { epoch: f.need("epoch", json::as_u64)? },
        "demoted" => FromTab::Demoted { epoch: f.need("epoch", json::as_u64)? },
        "sync" => FromTab::Sync {
            epoch: f.need("epoch", json::as_u64)?,
            state: f.raw("state").map_or_else(Raw::null, Raw::trusted),
        },
        "action" => FromTab::Action {
            id: f.need("id", json::as_u64)?,
            name: f.need("name", string)?,
            args: f.opt("args", raw_value)?,
        },
        "result" => FromTab::Result {
            id: f.need("id", json::as_u64)?,
            ok: f.opt("ok", raw_value)?,
            error: f.opt("error", raw_value)?,
        },
        "close" => FromTab::Close,
        "pong" => FromTab::Pong { seq: f.opt("seq", json::as_u64)?.unwrap_or(0) },
        _ => return Err(f.unknown()),
    })
}

impl Fields<'_> {
    fn parse_claim(text: &str) -> Result<Claim, ParseError> {
        let all = json::fields(text).map_err(|e| ParseError {
            code: ErrorCode::Malformed,
            message: e.message(),
            id: None,
        })?;
        // A claim has no "t": name it for the field helpers' messages.
        let f = Fields { t: Cow::Borrowed("claim"), all, id: None };
        // `"state": null` is a valid state (a real with no calls).
        let state = f.raw("state").map_or_else(Raw::null, Raw::trusted);
        Ok(Claim { epoch: f.need("epoch", json::as_u64)?, state })
    }
}

/// Parse a worker's message (the tab side).
pub fn parse_to_tab(text: &str) -> Result<ToTab<'_>, ParseError> {
    let f = Fields::parse(text)?;
    Ok(match &*f.t {
        "welcome" => ToTab::Welcome {
            v: f.opt("v", json::as_u64)?.map_or(PROTOCOL_VERSION, |v| v as u32),
            worker: f.need("worker", json::as_str)?,
            tabs: f.opt("tabs", json::as_u64)?.unwrap_or(0) as usize,
            max: f.opt("max", json::as_u64)?.map_or(usize::MAX, |m| m as usize),
        },
        "role" => ToTab::Role {
            role: f.need("role", |r| match json::as_str(r)?.as_ref() {
                "real" => Some(Role::Real),
                "dummy" => Some(Role::Dummy),
                _ => None,
            })?,
            epoch: f.need("epoch", json::as_u64)?,
            steal: f.flag("steal")?,
        },
        // `"state": null` is a valid state.
        "sync" => ToTab::Sync {
            epoch: f.opt("epoch", json::as_u64)?.unwrap_or(0),
            state: f.raw("state").unwrap_or("null"),
            reset: f.flag("reset")?,
        },
        "action" => ToTab::Action {
            id: f.need("id", json::as_u64)?,
            name: f.need("name", json::as_str)?,
            args: f.opt("args", Some)?,
        },
        "result" => ToTab::Result {
            id: f.need("id", json::as_u64)?,
            ok: f.opt("ok", Some)?,
            error: f.opt("error", Some)?,
        },
        "tabs" => ToTab::Tabs { count: f.need("count", json::as_u64)? as usize },
        "ping" => ToTab::Ping { seq: f.opt("seq", json::as_u64)?.unwrap_or(0) },
        "error" => ToTab::Error {
            code: f.need("code", |r| ErrorCode::parse(&json::as_str(r)?))?,
            message: f.opt("message", json::as_str)?.unwrap_or_default(),
            id: f.opt("id", json::as_u64)?,
        },
        _ => return Err(f.unknown()),
    })
}

/// Serialize a worker message.
pub fn to_text(msg: &ToTab<'_>) -> String {
    let o = Obj::new();
    match msg {
        ToTab::Welcome { v, worker, tabs, max } => o
            .str("t", "welcome")
            .num("v", u64::from(*v))
            .str("worker", worker)
            .num("tabs", *tabs as u64)
            .num("max", *max as u64),
        ToTab::Role { role, epoch, steal } => {
            o.str("t", "role").str("role", role.as_str()).num("epoch", *epoch).bool("steal", *steal)
        }
        ToTab::Sync { epoch, state, reset } => {
            let o = o.str("t", "sync").num("epoch", *epoch).raw("state", state);
            if *reset {
                o.bool("reset", true)
            } else {
                o
            }
        }
        ToTab::Action { id, name, args } => {
            let o = o.str("t", "action").num("id", *id).str("name", name);
            match args {
                Some(a) => o.raw("args", a),
                None => o,
            }
        }
        ToTab::Result { id, ok, error } => {
            let o = o.str("t", "result").num("id", *id);
            match (ok, error) {
                (_, Some(e)) => o.raw("error", e),
                (Some(v), None) => o.raw("ok", v),
                (None, None) => o.raw("ok", "null"),
            }
        }
        ToTab::Tabs { count } => o.str("t", "tabs").num("count", *count as u64),
        ToTab::Ping { seq } => o.str("t", "ping").num("seq", *seq),
        ToTab::Error { code, message, id } => {
            let o = o.str("t", "error").str("code", code.as_str()).str("message", message);
            match id {
                Some(id) => o.num("id", *id),
                None => o,
            }
        }
    }
    .end()
}

/// Name of the Web Lock a tab holds for its whole life.
pub fn tab_lock_name(tab: &str) -> String {
    format!("tabphone:tab:{tab}")
}

/// Name of the Web Lock a tab must hold to be real for `app`.
pub fn real_lock_name(app: &str) -> String {
    format!("tabphone:real:{app}")
}

/// Name of the Web Lock a worker holds for its whole life.
pub fn worker_lock_name(worker_id: &str) -> String {
    format!("tabphone:worker:{worker_id}")
}

/// A JSON error value `{"code": .., "message": ..}` for action results.
pub fn error_value(code: ErrorCode, message: &str) -> Raw {
    Raw::trusted(&Obj::new().str("code", code.as_str()).str("message", message).end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_tab_message() {
        let cases = [
            r#"{"t":"hello","v":1,"tab":"a","visible":true,"focused":false}"#,
            r#"{"t":"hello","v":1,"tab":"a","claim":{"epoch":3,"state":[1]}}"#,
            r#"{"t":"focus","visible":true,"focused":true}"#,
            r#"{"t":"claimed","epoch":1}"#,
            r#"{"t":"demoted","epoch":1}"#,
            r#"{"t":"sync","epoch":1,"state":{"calls":[]}}"#,
            r#"{"t":"action","id":7,"name":"dial","args":{"to":"bob"}}"#,
            r#"{"t":"action","id":7,"name":"hangup"}"#,
            r#"{"t":"result","id":7,"ok":true}"#,
            r#"{"t":"result","id":7,"error":{"code":"x"}}"#,
            r#"{"t":"close"}"#,
            r#"{"t":"pong","seq":9}"#,
        ];
        for c in cases {
            parse_from_tab(c).unwrap_or_else(|e| panic!("{c}: {e:?}"));
        }
        let Ok(FromTab::Hello { claim: Some(claim), .. }) = parse_from_tab(cases[1]) else { panic!("claim") };
        assert_eq!((claim.epoch, claim.state.get()), (3, "[1]"));
        let null_claim = r#"{"t":"hello","v":1,"tab":"a","claim":{"epoch":2,"state":null}}"#;
        let Ok(FromTab::Hello { claim: Some(claim), .. }) = parse_from_tab(null_claim) else {
            panic!("null")
        };
        assert_eq!(claim.state.get(), "null");
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(parse_from_tab("not json").unwrap_err().code, ErrorCode::Malformed);
        assert_eq!(parse_from_tab("[]").unwrap_err().code, ErrorCode::Malformed);
        assert_eq!(parse_from_tab(r#"{"t":5}"#).unwrap_err().code, ErrorCode::Malformed);
        assert_eq!(parse_from_tab(r#"{"t":"sync"}"#).unwrap_err().code, ErrorCode::Malformed);
        let e = parse_from_tab(r#"{"t":"teleport"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownType);
        assert!(e.message.contains("teleport"));
        let e = parse_from_tab(r#"{"t":"action","id":4,"name":7}"#).unwrap_err();
        assert_eq!((e.code, e.id), (ErrorCode::Malformed, Some(4)));
        let e = parse_from_tab(r#"{"t":"hello","v":1,"tab":"a","visible":"yes"}"#).unwrap_err();
        assert!(e.message.contains("visible"), "{}", e.message);
    }

    #[test]
    fn state_is_kept_verbatim() {
        let FromTab::Sync { state, .. } =
            parse_from_tab(r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#).unwrap()
        else {
            panic!("not a sync")
        };
        assert_eq!(state.get(), r#"{"b":1,  "a":[2]}"#);
        let text = to_text(&ToTab::Sync { epoch: 1, state: state.get(), reset: false });
        assert_eq!(text, r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#);
    }

    #[test]
    fn worker_messages_round_trip() {
        let msgs = [
            ToTab::Welcome { v: 1, worker: "w\"1".into(), tabs: 2, max: 1000 },
            ToTab::Role { role: Role::Real, epoch: 3, steal: true },
            ToTab::Sync { epoch: 1, state: "null", reset: true },
            ToTab::Action { id: 4, name: "dial".into(), args: Some(r#"{"to":"bob"}"#) },
            ToTab::Result { id: 5, ok: None, error: Some(r#"{"code":"x"}"#) },
            ToTab::Tabs { count: 7 },
            ToTab::Ping { seq: 8 },
            ToTab::Error { code: ErrorCode::QueueFull, message: "full \n".into(), id: Some(9) },
        ];
        for m in &msgs {
            let text = to_text(m);
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let back = parse_to_tab(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(to_text(&back), text);
        }
    }
}
