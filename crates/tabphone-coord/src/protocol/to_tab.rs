//! Messages from the worker to a tab: the type, its serializer (the worker's
//! side) and its parser (the tab's side).
use std::borrow::Cow;

use super::fields::{Bad, Fields, WRONG_TYPE};
use super::{action_fields, result_fields, ErrorCode, ParseError, Role, PROTOCOL_VERSION};
use crate::json::{self, Obj};

/// A message from the worker to a tab.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The worker's ping interval, in ms (0: not said, an older worker).
        ping: u64,
        /// The worker's ping timeout, in ms: a tab silent this long may be
        /// replaced. 0: not said, by a worker that knows neither `check` nor
        /// `takeover` (they came with this field).
        timeout: u64,
        /// The worker relays the real's `event` messages (false: an older
        /// worker, which would refuse them).
        relay: bool,
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
        /// True when the real closed as the last tab (its calls ended) and
        /// the state was cleared (`state` is `null`).
        reset: bool,
    },
    /// The real's event, as it sent it.
    Event {
        /// Any JSON value.
        event: &'a str,
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
    /// The answer to the tab's `check`, sent after handling it.
    Checked {
        /// The `seq` of the check.
        seq: u64,
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
    /// The worker could not start (sent by its JavaScript loader when the
    /// wasm module fails to load); nothing else will come from it.
    Failed {
        /// Why.
        message: Cow<'a, str>,
    },
}

/// Parse a worker's message (the tab side).
pub fn parse_to_tab(text: &str) -> Result<ToTab<'_>, ParseError> {
    let f = Fields::parse(text)?;
    to_tab(&f).map_err(|_| f.error())
}

fn to_tab<'a>(f: &Fields<'a>) -> Result<ToTab<'a>, Bad> {
    Ok(match &*f.t {
        "welcome" => ToTab::Welcome {
            v: f.opt("v", json::as_u64)?.map_or(PROTOCOL_VERSION, |v| v as u32),
            worker: f.need("worker", json::as_str)?,
            tabs: f.count("tabs")? as usize,
            max: f.opt("max", json::as_u64)?.map_or(usize::MAX, |m| m as usize),
            ping: f.count("ping")?,
            timeout: f.count("timeout")?,
            relay: f.flag("relay")?,
        },
        "role" => ToTab::Role {
            role: match &*f.need("role", json::as_str)? {
                "real" => Role::Real,
                "dummy" => Role::Dummy,
                _ => return Err(f.bad("role", WRONG_TYPE)),
            },
            epoch: f.need("epoch", json::as_u64)?,
            steal: f.flag("steal")?,
        },
        // `"state": null` is a valid state.
        "sync" => ToTab::Sync { epoch: f.count("epoch")?, state: f.value("state"), reset: f.flag("reset")? },
        "event" => ToTab::Event { event: f.value("event") },
        "action" => ToTab::Action {
            id: f.need("id", json::as_u64)?,
            name: f.need("name", json::as_str)?,
            args: f.any("args"),
        },
        "result" => ToTab::Result { id: f.need("id", json::as_u64)?, ok: f.any("ok"), error: f.any("error") },
        "tabs" => ToTab::Tabs { count: f.need("count", json::as_u64)? as usize },
        "ping" => ToTab::Ping { seq: f.count("seq")? },
        "checked" => ToTab::Checked { seq: f.count("seq")? },
        "error" => ToTab::Error {
            code: ErrorCode::parse(&f.need("code", json::as_str)?)
                .ok_or_else(|| f.bad("code", WRONG_TYPE))?,
            message: f.opt("message", json::as_str)?.unwrap_or_default(),
            id: f.opt("id", json::as_u64)?,
        },
        "failed" => ToTab::Failed { message: f.opt("message", json::as_str)?.unwrap_or_default() },
        _ => return Err(f.unknown()),
    })
}

impl ToTab<'_> {
    /// The message as JSON text (the worker's side).
    pub fn to_text(&self) -> String {
        let o = &mut Obj::new();
        match self {
            ToTab::Welcome { v, worker, tabs, max, ping, timeout, relay } => o
                .str("t", "welcome")
                .num("v", u64::from(*v))
                .str("worker", worker)
                .num("tabs", *tabs as u64)
                .num("max", *max as u64)
                .num("ping", *ping)
                .num("timeout", *timeout)
                .bool("relay", *relay),
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
            ToTab::Event { event } => o.str("t", "event").raw("event", event),
            ToTab::Action { id, name, args } => action_fields(o, *id, name, *args),
            ToTab::Result { id, ok, error } => result_fields(o, *id, *ok, *error),
            ToTab::Tabs { count } => o.str("t", "tabs").num("count", *count as u64),
            ToTab::Ping { seq } => o.str("t", "ping").num("seq", *seq),
            ToTab::Checked { seq } => o.str("t", "checked").num("seq", *seq),
            ToTab::Error { code, message, id } => {
                let o = o.str("t", "error").str("code", code.as_str()).str("message", message);
                match id {
                    Some(id) => o.num("id", *id),
                    None => o,
                }
            }
            ToTab::Failed { message } => o.str("t", "failed").str("message", message),
        }
        .end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_written_verbatim() {
        let text = ToTab::Sync { epoch: 1, state: r#"{"b":1,  "a":[2]}"#, reset: false }.to_text();
        assert_eq!(text, r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#);
    }

    #[test]
    fn worker_messages_round_trip() {
        let msgs = [
            ToTab::Welcome {
                v: 1,
                worker: "w\"1".into(),
                tabs: 2,
                max: 1000,
                ping: 1000,
                timeout: 3000,
                relay: true,
            },
            ToTab::Role { role: Role::Real, epoch: 3, steal: true },
            ToTab::Sync { epoch: 1, state: "null", reset: true },
            ToTab::Event { event: r#"{"event":"dtmf","tone":"1"}"# },
            ToTab::Action { id: 4, name: "dial".into(), args: Some(r#"{"to":"bob"}"#) },
            ToTab::Result { id: 5, ok: None, error: Some(r#"{"code":"x"}"#) },
            ToTab::Tabs { count: 7 },
            ToTab::Ping { seq: 8 },
            ToTab::Checked { seq: 10 },
            ToTab::Error { code: ErrorCode::QueueFull, message: "full \n".into(), id: Some(9) },
            ToTab::Failed { message: "no wasm".into() },
        ];
        for m in &msgs {
            let text = m.to_text();
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(&parse_to_tab(&text).unwrap_or_else(|e| panic!("{text}: {e:?}")), m);
        }
    }
}
