//! Messages from a tab to the worker: the type, its parser (the worker's side)
//! and its serializer (the tab's side).
use std::borrow::Cow;

use super::fields::{Bad, Fields, WRONG_TYPE};
use super::{action_fields, result_fields, ParseError};
use crate::json::{self, Obj};

/// A message from a tab to the worker. Text fields borrow from the parsed
/// message; JSON values (`state`, `args`, `ok`, `error`) are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum FromTab<'a> {
    /// Join the worker.
    Hello(Hello<'a>),
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
        /// Any JSON value, verbatim.
        state: &'a str,
    },
    /// An event of the real for every other tab (one its state does not carry).
    Event {
        /// The epoch the sender believes it is real in.
        epoch: u64,
        /// Any JSON value, verbatim.
        event: &'a str,
    },
    /// An action for the real.
    Action {
        /// The sender's id for it; the answer carries it back.
        id: u64,
        /// Action name.
        name: Cow<'a, str>,
        /// Arguments, any JSON, verbatim.
        args: Option<&'a str>,
    },
    /// The real's answer to a forwarded action.
    Result {
        /// The worker's id from the `action` message.
        id: u64,
        /// Success value.
        ok: Option<&'a str>,
        /// Failure value.
        error: Option<&'a str>,
    },
    /// The tab is closing.
    Close {
        /// The tab was the real and stopped its phone as the last tab
        /// ([`crate::TabOutput::StopReal`] with `last`): its calls ended, so
        /// the worker drops the cached state rather than hand it to a successor.
        last: bool,
    },
    /// Ask to become the real (the app's `takeOver`); answered with `result`
    /// (`ok: {"epoch": n}` once this tab holds the real lock) or `error`, both with `id`.
    Takeover {
        /// The tab's own id for the request (the same space as action ids).
        id: u64,
    },
    /// Probe: the worker answers `checked` with the same `seq` after it has
    /// handled this message (and so everything the tab sent before).
    Check {
        /// Echoed in `checked`.
        seq: u64,
    },
    /// Liveness answer.
    Pong {
        /// The `seq` of the ping.
        seq: u64,
    },
}

/// The `hello` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello<'a> {
    /// Protocol version the tab speaks.
    pub v: u32,
    /// The tab's id; the tab holds a Web Lock named [`super::tab_lock_name`] of it.
    pub tab: Cow<'a, str>,
    /// `document.visibilityState == "visible"`.
    pub visible: bool,
    /// `document.hasFocus()`.
    pub focused: bool,
    /// Set by a tab that was real before the worker restarted.
    pub claim: Option<Claim<'a>>,
    /// Set when the tab rejoins a worker that was restarted.
    pub rejoin: bool,
    /// The highest epoch the tab has seen (0 for a new tab): a restarted
    /// worker goes on from there, so epochs never go back.
    pub epoch: u64,
    /// A rejoining dummy's last state, verbatim: a restarted worker with no
    /// state yet takes it, so the next real resumes the calls from it.
    pub state: Option<&'a str>,
}

/// What a rejoining real tab brings to a restarted worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim<'a> {
    /// The epoch the tab was real in.
    pub epoch: u64,
    /// Its latest state, verbatim.
    pub state: &'a str,
}

/// Parse a tab's message. Unknown `t` values give
/// [`super::ErrorCode::UnknownType`], anything else unreadable
/// [`super::ErrorCode::Malformed`]; when the text is an `action` whose `id`
/// can be read, the error carries it so the sender's promise can be failed
/// rather than left waiting.
pub fn parse_from_tab(text: &str) -> Result<FromTab<'_>, ParseError> {
    let f = Fields::parse(text)?;
    from_fields(&f).map_err(|_| f.error())
}

fn from_fields<'a>(f: &Fields<'a>) -> Result<FromTab<'a>, Bad> {
    Ok(match &*f.t {
        "hello" => FromTab::Hello(Hello {
            v: u32::try_from(f.need("v", json::as_u64)?).map_err(|_| f.bad("v", WRONG_TYPE))?,
            tab: f.need("tab", json::as_str)?,
            visible: f.flag("visible")?,
            focused: f.flag("focused")?,
            claim: f.any("claim").map(|c| parse_claim(f, c)).transpose()?,
            rejoin: f.flag("rejoin")?,
            epoch: f.count("epoch")?,
            state: f.any("state"),
        }),
        "focus" => FromTab::Focus { visible: f.flag("visible")?, focused: f.flag("focused")? },
        "claimed" => FromTab::Claimed { epoch: f.need("epoch", json::as_u64)? },
        "demoted" => FromTab::Demoted { epoch: f.need("epoch", json::as_u64)? },
        // `"state": null` is a valid state.
        "sync" => FromTab::Sync { epoch: f.need("epoch", json::as_u64)?, state: f.value("state") },
        "event" => FromTab::Event { epoch: f.need("epoch", json::as_u64)?, event: f.value("event") },
        "action" => FromTab::Action {
            id: f.need("id", json::as_u64)?,
            name: f.need("name", json::as_str)?,
            args: f.any("args"),
        },
        "result" => {
            FromTab::Result { id: f.need("id", json::as_u64)?, ok: f.any("ok"), error: f.any("error") }
        }
        "close" => FromTab::Close { last: f.flag("last")? },
        "takeover" => FromTab::Takeover { id: f.need("id", json::as_u64)? },
        "check" => FromTab::Check { seq: f.count("seq")? },
        "pong" => FromTab::Pong { seq: f.count("seq")? },
        _ => return Err(f.unknown()),
    })
}

/// The `claim` of a `hello` (`f`), an object, its errors kept in `f`.
fn parse_claim<'a>(f: &Fields<'a>, text: &'a str) -> Result<Claim<'a>, Bad> {
    if !text.starts_with('{') {
        return Err(f.bad("claim", WRONG_TYPE));
    }
    let c = Fields::nested(text, "claim").map_err(|e| f.fail(e))?;
    let epoch = c.need("epoch", json::as_u64).map_err(|_| f.fail(c.error()))?;
    // `"state": null` is a valid state (a real with no calls).
    Ok(Claim { epoch, state: c.value("state") })
}

impl FromTab<'_> {
    /// The message as JSON text (the tab's side). JSON values are written
    /// verbatim: the tab validates them before it builds the message.
    pub fn to_text(&self) -> String {
        let o = &mut Obj::new();
        match self {
            FromTab::Hello(h) => {
                let o = o
                    .str("t", "hello")
                    .num("v", u64::from(h.v))
                    .str("tab", &h.tab)
                    .bool("visible", h.visible)
                    .bool("focused", h.focused)
                    .bool("rejoin", h.rejoin)
                    .num("epoch", h.epoch);
                let o = match h.state {
                    Some(state) => o.raw("state", state),
                    None => o,
                };
                match &h.claim {
                    Some(c) => o.raw("claim", &Obj::new().num("epoch", c.epoch).raw("state", c.state).end()),
                    None => o,
                }
            }
            FromTab::Focus { visible, focused } => {
                o.str("t", "focus").bool("visible", *visible).bool("focused", *focused)
            }
            FromTab::Claimed { epoch } => o.str("t", "claimed").num("epoch", *epoch),
            FromTab::Demoted { epoch } => o.str("t", "demoted").num("epoch", *epoch),
            FromTab::Sync { epoch, state } => o.str("t", "sync").num("epoch", *epoch).raw("state", state),
            FromTab::Event { epoch, event } => o.str("t", "event").num("epoch", *epoch).raw("event", event),
            FromTab::Action { id, name, args } => action_fields(o, *id, name, *args),
            FromTab::Result { id, ok, error } => result_fields(o, *id, *ok, *error),
            FromTab::Close { last: false } => o.str("t", "close"),
            FromTab::Close { last: true } => o.str("t", "close").bool("last", true),
            FromTab::Takeover { id } => o.str("t", "takeover").num("id", *id),
            FromTab::Check { seq } => o.str("t", "check").num("seq", *seq),
            FromTab::Pong { seq } => o.str("t", "pong").num("seq", *seq),
        }
        .end()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ErrorCode;
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
            r#"{"t":"event","epoch":1,"event":{"event":"dtmf"}}"#,
            r#"{"t":"action","id":7,"name":"dial","args":{"to":"bob"}}"#,
            r#"{"t":"action","id":7,"name":"hangup"}"#,
            r#"{"t":"result","id":7,"ok":true}"#,
            r#"{"t":"result","id":7,"error":{"code":"x"}}"#,
            r#"{"t":"close"}"#,
            r#"{"t":"close","last":true}"#,
            r#"{"t":"takeover","id":3}"#,
            r#"{"t":"check","seq":2}"#,
            r#"{"t":"pong","seq":9}"#,
        ];
        for c in cases {
            parse_from_tab(c).unwrap_or_else(|e| panic!("{c}: {e:?}"));
        }
        let Ok(FromTab::Hello(Hello { claim: Some(claim), .. })) = parse_from_tab(cases[1]) else {
            panic!("claim")
        };
        assert_eq!((claim.epoch, claim.state), (3, "[1]"));
        let null_claim = r#"{"t":"hello","v":1,"tab":"a","claim":{"epoch":2,"state":null}}"#;
        let Ok(FromTab::Hello(Hello { claim: Some(claim), .. })) = parse_from_tab(null_claim) else {
            panic!("null")
        };
        assert_eq!(claim.state, "null");
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
        let e = parse_from_tab(r#"{"t":"hello","v":1,"tab":"a","claim":{"state":1}}"#).unwrap_err();
        assert!(e.message.contains("\"claim\"") && e.message.contains("epoch"), "{}", e.message);
    }

    #[test]
    fn state_is_kept_verbatim() {
        let text = r#"{"t":"sync","epoch":1,"state":{"b":1,  "a":[2]}}"#;
        let FromTab::Sync { state, .. } = parse_from_tab(text).unwrap() else { panic!("not a sync") };
        assert_eq!(state, r#"{"b":1,  "a":[2]}"#);
    }

    #[test]
    fn every_tab_message_round_trips() {
        let hello = Hello {
            v: 1,
            tab: "t\"1".into(),
            visible: true,
            focused: false,
            claim: Some(Claim { epoch: 4, state: r#"{"calls":[1]}"# }),
            rejoin: true,
            epoch: 4,
            state: None,
        };
        let msgs = [
            FromTab::Hello(hello.clone()),
            FromTab::Hello(Hello { claim: None, rejoin: false, epoch: 0, ..hello.clone() }),
            FromTab::Hello(Hello { claim: None, state: Some(r#"{"calls":[2]}"#), ..hello }),
            FromTab::Focus { visible: false, focused: true },
            FromTab::Claimed { epoch: 2 },
            FromTab::Demoted { epoch: 3 },
            FromTab::Sync { epoch: 5, state: "null" },
            FromTab::Event { epoch: 5, event: r#"{"event":"error","message":"x"}"# },
            FromTab::Action { id: 6, name: "dial".into(), args: Some(r#"{"to":"bob"}"#) },
            FromTab::Action { id: 7, name: "hangup".into(), args: None },
            FromTab::Result { id: 8, ok: Some("true"), error: None },
            FromTab::Result { id: 9, ok: None, error: Some(r#"{"code":"x"}"#) },
            FromTab::Close { last: false },
            FromTab::Close { last: true },
            FromTab::Takeover { id: 11 },
            FromTab::Check { seq: 12 },
            FromTab::Pong { seq: 10 },
        ];
        for m in &msgs {
            let text = m.to_text();
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(&parse_from_tab(&text).unwrap_or_else(|e| panic!("{text}: {e:?}")), m);
        }
    }
}
