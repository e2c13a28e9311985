//! The wire protocol between tabs and the worker: JSON text, one object per
//! `postMessage`, discriminated by the field `"t"`.
//!
//! Version [`PROTOCOL_VERSION`]. A tab announces the version it speaks in
//! `hello`; the worker refuses another with an `error` of code `version`.
//! Fields marked `?` may be absent (a missing flag is `false`, a missing
//! number 0). Within a version, fields and messages are only ever added as
//! optional ones, so tabs and workers of one version but different builds
//! still understand each other: `hello`'s `epoch`, the `failed` message, and
//! the takeover and check messages with `welcome`'s `ping` and `timeout`,
//! and `event` with `welcome`'s `relay`, were added that way. A worker that
//! announces `timeout` in `welcome` knows `takeover` and `check`, one that
//! announces `relay` knows `event`; a tab does not rely on them with an older
//! worker (a takeover fails with `unknown_type`, the real is not gated, no
//! event is relayed).
//!
//! ## Tab to worker ([`FromTab`])
//! | `t` | fields | meaning |
//! |---|---|---|
//! | `hello` | `v`, `tab`, `visible`, `focused`, `rejoin?`, `epoch?`, `claim?`, `state?` | join; `rejoin: true` after the worker died; `epoch`: the highest epoch the tab has seen; `claim: {epoch, state}` when the tab was real; `state`: a rejoining dummy's last state (a restarted worker with none takes it) |
//! | `focus` | `visible`, `focused` | visibility or focus changed (promotion policy) |
//! | `claimed` | `epoch` | the tab now holds the app's real lock for that epoch |
//! | `demoted` | `epoch` | the tab lost the real lock (stolen) and stopped being real |
//! | `sync` | `epoch`, `state` | the real's latest state (any JSON) |
//! | `event` | `epoch`, `event` | an event of the real that its state does not carry (any JSON), for every other tab; not kept |
//! | `action` | `id`, `name`, `args?` | a dummy asks the real to do something; `id` is the tab's own |
//! | `result` | `id`, `ok` or `error` | the real answers a forwarded action (`id` is the worker's) |
//! | `close` | `last?` | the tab is going away (`pagehide`); `last: true` from a real that stopped its phone as the last tab (its calls ended: the worker clears the state) |
//! | `takeover` | `id` | make this tab the real (the app's `takeOver`); answered with `result {id, ok: {epoch}}` once it holds the real lock, or `error {code, id}` |
//! | `check` | `seq` | probe: answered with `checked` after the worker has handled everything this tab sent before |
//! | `pong` | `seq` | answer to `ping` |
//!
//! ## Worker to tab ([`ToTab`])
//! | `t` | fields | meaning |
//! |---|---|---|
//! | `welcome` | `v`, `worker`, `tabs`, `max`, `ping?`, `timeout?`, `relay?` | joined; `worker` names the lock the worker holds for its life; `max` is the largest message it accepts, in bytes; `ping` and `timeout` its ping interval and timeout in ms (a tab silent for `timeout` may be replaced); `relay: true`: it relays `event` |
//! | `role` | `role` (`real`/`dummy`), `epoch`, `steal` | become real (take the app lock, with `steal` if the old real is frozen, answer `claimed`) or dummy; repeated after `claimed` to confirm; sent again with a new `epoch` when the reign is renumbered (the real or candidate keeps the lock or its place in the lock's queue), or with `steal: true` when the lock's holder never joined |
//! | `sync` | `epoch`, `state`, `reset?` | the real's latest state; kept when the real goes away (the successor resumes its calls from it) until the next real publishes; `reset: true` with `state: null` when the real closed as the last tab (its calls ended) |
//! | `event` | `event` | the real's event (its `event` message), as it sent it |
//! | `action` | `id`, `name`, `args?` | to the real: perform this, answer with `result` and the same `id` |
//! | `result` | `id`, `ok` or `error` | to the tab that asked: the answer to its action `id` |
//! | `tabs` | `count` | number of live tabs changed |
//! | `checked` | `seq` | answer to `check` |
//! | `ping` | `seq` | answer with `pong` |
//! | `error` | `code`, `message`, `id?` | a message was refused; `id` set when it answers an action or a takeover |
//! | `failed` | `message` | the worker could not start; sent by its JavaScript loader when wasm fails to load |
//!
//! Error codes are the [`ErrorCode`] variants in snake case. Messages are at
//! most [`MAX_MESSAGE_BYTES`] unless the worker's `welcome` says otherwise.
mod error;
mod fields;
mod from_tab;
mod to_tab;

pub use error::{ErrorCode, ParseError};
pub use from_tab::{parse_from_tab, Claim, FromTab, Hello};
pub use to_tab::{parse_to_tab, ToTab};

use crate::json::{self, JsonError, Obj};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest message either side sends or accepts by default, in bytes
/// (1 MiB). The worker announces its own limit in `welcome`.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Validated JSON text, kept verbatim (states, arguments, results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(Box<str>);

impl Raw {
    /// Check that `text` is one JSON value.
    pub fn new(text: &str) -> Result<Raw, JsonError> {
        json::validate(text)?;
        // Around a valid value there is only JSON whitespace, all ASCII.
        Ok(Raw(text.trim_ascii().into()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// The JSON text, owned (no copy).
    pub(crate) fn into_string(self) -> String {
        self.0.into()
    }
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

/// The fields of an `action` message (the same both ways).
fn action_fields<'a>(o: &'a mut Obj, id: u64, name: &str, args: Option<&str>) -> &'a mut Obj {
    let o = o.str("t", "action").num("id", id).str("name", name);
    match args {
        Some(a) => o.raw("args", a),
        None => o,
    }
}

/// The fields of a `result` message (the same both ways): `error` when set,
/// else `ok` (`null` when neither is).
fn result_fields<'a>(o: &'a mut Obj, id: u64, ok: Option<&str>, error: Option<&str>) -> &'a mut Obj {
    let o = o.str("t", "result").num("id", id);
    match (ok, error) {
        (_, Some(e)) => o.raw("error", e),
        (Some(v), None) => o.raw("ok", v),
        (None, None) => o.raw("ok", "null"),
    }
}

/// Name of the Web Lock a tab holds for its whole life.
pub fn tab_lock_name(tab: &str) -> String {
    prefixed(TAB_LOCK_PREFIX, tab)
}

/// Name of the Web Lock a tab must hold to be real for `app`.
pub fn real_lock_name(app: &str) -> String {
    prefixed("tabphone:real:", app)
}

/// Name of the Web Lock a worker holds for its whole life.
pub fn worker_lock_name(worker_id: &str) -> String {
    prefixed(WORKER_LOCK_PREFIX, worker_id)
}

/// `name` after `prefix`: lock and worker names, and messages that end in
/// a text (pushes: a `format!` site costs the wasm more).
pub(crate) fn prefixed(prefix: &str, name: &str) -> String {
    let mut s = String::from(prefix);
    s.push_str(name);
    s
}

const TAB_LOCK_PREFIX: &str = "tabphone:tab:";
const WORKER_LOCK_PREFIX: &str = "tabphone:worker:";

/// The tab id in a tab's life-lock name ([`tab_lock_name`]), if it is one.
pub fn tab_of_lock(name: &str) -> Option<&str> {
    name.strip_prefix(TAB_LOCK_PREFIX)
}

/// Whether `name` is a worker's life lock ([`worker_lock_name`]).
pub fn is_worker_lock(name: &str) -> bool {
    name.starts_with(WORKER_LOCK_PREFIX)
}

/// The SharedWorker name tabs of `app` use: one worker per app and script URL.
pub fn worker_name(app: &str) -> String {
    prefixed("tabphone:", app)
}

/// The app a SharedWorker serves, from its name ([`worker_name`]).
pub fn app_of_worker(name: &str) -> Option<&str> {
    name.strip_prefix("tabphone:")
}

/// A JSON error value `{"code": .., "message": ..}` for action results.
pub fn error_value(code: ErrorCode, message: &str) -> Raw {
    // Written valid: kept as is, no copy.
    Raw(Obj::new().str("code", code.as_str()).str("message", message).end().into())
}
