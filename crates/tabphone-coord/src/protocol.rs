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
//! | `welcome` | `v`, `worker`, `tabs` | joined; `worker` names the lock the worker holds for its life |
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

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

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
        state: Box<RawValue>,
    },
    /// An action for the real.
    Action {
        /// The sender's id for it; the answer carries it back.
        id: u64,
        /// Action name.
        name: String,
        /// Arguments, any JSON, kept verbatim.
        args: Option<Box<RawValue>>,
    },
    /// The real's answer to a forwarded action.
    Result {
        /// The worker's id from the `action` message.
        id: u64,
        /// Success value.
        ok: Option<Box<RawValue>>,
        /// Failure value.
        error: Option<Box<RawValue>>,
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
#[derive(Debug, Deserialize, Serialize)]
pub struct Claim {
    /// The epoch the tab was real in.
    pub epoch: u64,
    /// Its latest state, verbatim.
    pub state: Box<RawValue>,
}

/// Role of a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the real phone.
    Real,
    /// Mirrors the real and forwards actions.
    Dummy,
}

/// A message from the worker to a tab.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToTab<'a> {
    /// Joined.
    Welcome {
        /// Protocol version.
        v: u32,
        /// Name of the lock the worker holds while it lives.
        #[serde(borrow)]
        worker: Cow<'a, str>,
        /// Number of live tabs.
        tabs: usize,
    },
    /// Role assignment.
    Role {
        /// The role.
        role: Role,
        /// Epoch of the current real.
        epoch: u64,
        /// Take the real lock with `steal: true`.
        #[serde(default)]
        steal: bool,
    },
    /// The real's state.
    Sync {
        /// Epoch it came from.
        epoch: u64,
        /// The state, verbatim.
        #[serde(borrow)]
        state: &'a RawValue,
        /// True when the real went away and the state was cleared.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reset: bool,
    },
    /// An action to perform (to the real).
    Action {
        /// The worker's id.
        id: u64,
        /// Action name.
        #[serde(borrow)]
        name: Cow<'a, str>,
        /// Arguments.
        #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
        args: Option<&'a RawValue>,
    },
    /// The answer to the tab's own action.
    Result {
        /// The tab's id for the action.
        id: u64,
        /// Success value.
        #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
        ok: Option<&'a RawValue>,
        /// Failure value.
        #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
        error: Option<&'a RawValue>,
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
        #[serde(borrow)]
        message: Cow<'a, str>,
        /// The tab's action id when this answers an action.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
}

/// Why the worker refused a message or failed an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ErrorCode {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Version => "version",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::NotReal => "not_real",
            ErrorCode::Timeout => "timeout",
            ErrorCode::RealGone => "real_gone",
            ErrorCode::QueueFull => "queue_full",
            ErrorCode::WorkerGone => "worker_gone",
        }
    }
}

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// [`ErrorCode::Malformed`] or [`ErrorCode::UnknownType`].
    pub code: ErrorCode,
    /// Detail from the JSON parser.
    pub message: String,
    /// The action id, when the text was an action with a readable id.
    pub id: Option<u64>,
}

/// Every field of every message, for parsing both directions in one pass
/// (serde cannot keep raw JSON inside internally tagged enums).
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    t: Cow<'a, str>,
    v: Option<u32>,
    #[serde(borrow)]
    tab: Option<Cow<'a, str>>,
    visible: Option<bool>,
    focused: Option<bool>,
    claim: Option<Claim>,
    rejoin: Option<bool>,
    epoch: Option<u64>,
    #[serde(borrow)]
    state: Option<&'a RawValue>,
    id: Option<u64>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    args: Option<&'a RawValue>,
    #[serde(borrow)]
    ok: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    seq: Option<u64>,
    #[serde(borrow)]
    worker: Option<Cow<'a, str>>,
    tabs: Option<usize>,
    role: Option<Role>,
    steal: Option<bool>,
    reset: Option<bool>,
    count: Option<usize>,
    code: Option<ErrorCode>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

fn need<T>(field: Option<T>, t: &str, name: &str, id: Option<u64>) -> Result<T, ParseError> {
    field.ok_or_else(|| ParseError {
        code: ErrorCode::Malformed,
        message: format!("{t:?} message without {name:?}"),
        id,
    })
}

fn parse_wire(text: &str) -> Result<Wire<'_>, ParseError> {
    serde_json::from_str(text).map_err(|e| {
        // Error path only: read the id, if any, so an action's sender can be answered.
        #[derive(Deserialize)]
        struct Id {
            id: Option<u64>,
        }
        let id = serde_json::from_str::<Id>(text).ok().and_then(|e| e.id);
        ParseError { code: ErrorCode::Malformed, message: e.to_string(), id }
    })
}

/// Parse a tab's message. Unknown `t` values give [`ErrorCode::UnknownType`],
/// anything else unreadable [`ErrorCode::Malformed`]; when the text is an
/// `action` whose `id` can be read, the error carries it so the sender's
/// promise can be failed rather than left waiting.
pub fn parse_from_tab(text: &str) -> Result<FromTab, ParseError> {
    let w = parse_wire(text)?;
    let t = &*w.t;
    let owned = |r: &RawValue| r.to_owned();
    Ok(match t {
        "hello" => FromTab::Hello {
            v: need(w.v, t, "v", None)?,
            tab: need(w.tab, t, "tab", None)?.into_owned(),
            visible: w.visible.unwrap_or(false),
            focused: w.focused.unwrap_or(false),
            claim: w.claim,
            rejoin: w.rejoin.unwrap_or(false),
        },
        "focus" => {
            FromTab::Focus { visible: w.visible.unwrap_or(false), focused: w.focused.unwrap_or(false) }
        }
        "claimed" => FromTab::Claimed { epoch: need(w.epoch, t, "epoch", None)? },
        "demoted" => FromTab::Demoted { epoch: need(w.epoch, t, "epoch", None)? },
        "sync" => FromTab::Sync {
            epoch: need(w.epoch, t, "epoch", None)?,
            state: w.state.map_or_else(null_value, owned),
        },
        "action" => {
            let id = need(w.id, t, "id", None)?;
            FromTab::Action {
                id,
                name: need(w.name, t, "name", Some(id))?.into_owned(),
                args: w.args.map(owned),
            }
        }
        "result" => {
            FromTab::Result { id: need(w.id, t, "id", None)?, ok: w.ok.map(owned), error: w.error.map(owned) }
        }
        "close" => FromTab::Close,
        "pong" => FromTab::Pong { seq: w.seq.unwrap_or(0) },
        other => {
            return Err(ParseError {
                code: ErrorCode::UnknownType,
                message: format!("unknown message type {other:?}"),
                id: None,
            })
        }
    })
}

/// Parse a worker's message (the tab side).
pub fn parse_to_tab(text: &str) -> Result<ToTab<'_>, ParseError> {
    let w = parse_wire(text)?;
    let t = &*w.t;
    Ok(match t {
        "welcome" => ToTab::Welcome {
            v: w.v.unwrap_or(PROTOCOL_VERSION),
            worker: need(w.worker, t, "worker", None)?,
            tabs: w.tabs.unwrap_or(0),
        },
        "role" => ToTab::Role {
            role: need(w.role, t, "role", None)?,
            epoch: need(w.epoch, t, "epoch", None)?,
            steal: w.steal.unwrap_or(false),
        },
        "sync" => ToTab::Sync {
            epoch: w.epoch.unwrap_or(0),
            // `"state": null` reads as None: null is a valid state.
            state: w.state.unwrap_or(NULL),
            reset: w.reset.unwrap_or(false),
        },
        "action" => {
            let id = need(w.id, t, "id", None)?;
            ToTab::Action { id, name: need(w.name, t, "name", None)?, args: w.args }
        }
        "result" => ToTab::Result { id: need(w.id, t, "id", None)?, ok: w.ok, error: w.error },
        "tabs" => ToTab::Tabs { count: need(w.count, t, "count", None)? },
        "ping" => ToTab::Ping { seq: w.seq.unwrap_or(0) },
        "error" => ToTab::Error {
            code: need(w.code, t, "code", None)?,
            message: w.message.unwrap_or_default(),
            id: w.id,
        },
        other => {
            return Err(ParseError {
                code: ErrorCode::UnknownType,
                message: format!("unknown message type {other:?}"),
                id: None,
            })
        }
    })
}

/// Serialize a worker message. Infallible for these types: every field is a
/// string, number, bool or already-valid raw JSON.
pub fn to_text(msg: &ToTab<'_>) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| {
        // Unreachable: ToTab holds only plain fields and pre-validated RawValues.
        format!(r#"{{"t":"error","code":"malformed","message":{:?}}}"#, e.to_string())
    })
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
pub fn error_value(code: ErrorCode, message: &str) -> Box<RawValue> {
    let text = serde_json::json!({ "code": code.as_str(), "message": message }).to_string();
    RawValue::from_string(text).unwrap_or_else(|_| null_value())
}

/// The JSON `null`, borrowed.
// SAFETY-free: RawValue::NULL is a public constant of serde_json.
const NULL: &RawValue = RawValue::NULL;

/// The JSON `null` as a raw value.
pub fn null_value() -> Box<RawValue> {
    // "null" is valid JSON.
    RawValue::from_string("null".to_owned()).expect("null is valid JSON")
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
    }

    #[test]
    fn state_is_kept_verbatim() {
        let FromTab::Sync { state, .. } =
            parse_from_tab(r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#).unwrap()
        else {
            panic!("not a sync")
        };
        assert_eq!(state.get(), r#"{"b":1,  "a":[2]}"#);
        let text = to_text(&ToTab::Sync { epoch: 1, state: &state, reset: false });
        assert_eq!(text, r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#);
    }
}
