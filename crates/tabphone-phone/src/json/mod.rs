//! The phone's JSON, written and read with the small codec of
//! `tabphone-json` rather than serde (a quarter of the tab's wasm): the
//! state, format v1 both ways (see [`crate::state`]), and the parts events
//! share with it; action results ([`json!`]).
//!
//! The types also carry their serde description, in tests only: `oracle.rs`
//! checks on random values that this code writes exactly what serde writes
//! and reads back what serde reads.

use tabphone_json::{fit, Bounded, Obj, Object, Read, ReadError};

use crate::event::PhoneEvent;
use crate::sdp::DtlsRole;
use crate::state::{
    CallDirection, CallState, CallView, Connection, DialogState, DisconnectCause, EndCause, EndedCall, Held,
    Peer, PhoneState, Registration,
};

/// An action's result, as JSON text: `json!({})`, `json!({ "call": call })`
/// (string and integer fields).
macro_rules! json {
    ({}) => {
        String::from("{}")
    };
    ({ $($k:literal : $v:expr),* $(,)? }) => {{
        let mut o = tabphone_json::Obj::new();
        $( $crate::json::Field::put(&$v, &mut o, $k); )*
        o.end()
    }};
}
pub(crate) use json;

/// The string field `k` of `o`, or `""` after noting the error
/// ([`Object::keep`]): one out-of-line copy for the readers' many string
/// fields (the phone's state, events and actions). The readers here go
/// through the `Option` readers of `tabphone-json` (`string_at`, ...), so
/// that required and optional fields share one copy of `keep` per type.
#[inline(never)]
pub(crate) fn str_field(o: &Object<'_>, k: &str) -> String {
    o.keep(o.string_at(k, true)).unwrap_or_default()
}

/// The index in `names` of the name in field `k` of `o`, or 0 after noting
/// the error: one out-of-line copy, as [`str_field`].
#[inline(never)]
fn name_field(o: &Object<'_>, k: &str, names: &[&str]) -> usize {
    o.keep(o.name_at(k, names, true)).unwrap_or_default()
}

/// The object in field `k` of `o`, or an empty one after noting the
/// error: one out-of-line copy, as [`str_field`].
#[inline(never)]
fn obj_field<'a>(o: &Object<'a>, k: &str) -> Object<'a> {
    o.keep(o.obj_at(k, true)).unwrap_or_default()
}

/// The unsigned integer field `k` of `o` (at most `max`), or 0 after
/// noting the error: one out-of-line copy for every integer type.
#[inline(never)]
fn uint_field(o: &Object<'_>, k: &str, max: u64) -> u64 {
    opt_uint_field(o, k, max, true).unwrap_or_default()
}

/// [`uint_field`] for `Option`s: missing or `null` is `None` (an error if `required`).
#[inline(never)]
fn opt_uint_field(o: &Object<'_>, k: &str, max: u64, required: bool) -> Option<u64> {
    o.keep(o.uint_at(k, max, required))
}

/// The unsigned integer field `k` of `o` as a `T`, or 0 after noting the
/// error (the generic part is the conversion only).
fn num_field<T: TryFrom<u64> + Into<u64> + Bounded>(o: &Object<'_>, k: &str) -> T {
    fit(uint_field(o, k, T::MAX.into()))
}

/// The unsigned integer field `k` of `o` as a `T`, `None` when missing or
/// `null`, or `None` after noting the error (inlined: the generic part is
/// the conversion only, not worth a copy per type).
#[inline(always)]
pub(crate) fn opt_num_field<T: TryFrom<u64> + Into<u64> + Bounded>(o: &Object<'_>, k: &str) -> Option<T> {
    opt_uint_field(o, k, T::MAX.into(), false).map(fit)
}

/// A value [`json!`] can write.
pub(crate) trait Field {
    /// `o` with field `k` set to this value.
    fn put(&self, o: &mut Obj, k: &str);
}

impl Field for String {
    fn put(&self, o: &mut Obj, k: &str) {
        o.str(k, self);
    }
}

impl Field for u16 {
    fn put(&self, o: &mut Obj, k: &str) {
        o.num(k, u64::from(*self));
    }
}

impl Field for u32 {
    fn put(&self, o: &mut Obj, k: &str) {
        o.num(k, u64::from(*self));
    }
}

const CAUSES: [&str; 9] = [
    "not_started",
    "socket_closed",
    "connect_timeout",
    "no_pong",
    "requested",
    "recovery_failed",
    "stopped",
    "handed_over",
    "other",
];
const CAUSE_VALUES: [DisconnectCause; 9] = [
    DisconnectCause::NotStarted,
    DisconnectCause::SocketClosed,
    DisconnectCause::ConnectTimeout,
    DisconnectCause::NoPong,
    DisconnectCause::Requested,
    DisconnectCause::RecoveryFailed,
    DisconnectCause::Stopped,
    DisconnectCause::HandedOver,
    DisconnectCause::Other,
];
const DIRECTIONS: [&str; 2] = ["incoming", "outgoing"];
const CALL_STATES: [&str; 5] = ["initial", "establishing", "ringing", "established", "terminating"];
const CALL_STATE_VALUES: [CallState; 5] = [
    CallState::Initial,
    CallState::Establishing,
    CallState::Ringing,
    CallState::Established,
    CallState::Terminating,
];
const END_CAUSES: [&str; 13] = [
    "local",
    "declined",
    "remote",
    "failed",
    "timeout",
    "transport",
    "media_failed",
    "transferred",
    "replaced",
    "handed_over",
    "resume_failed",
    "expired",
    "not_resumable",
];

fn cause_name(c: DisconnectCause) -> &'static str {
    // CAUSES is in the enum's declaration order.
    CAUSES[c as usize]
}

/// What the state's text is written from: a [`PhoneState`]'s fields, or
/// the phone's own (its live calls' views, then the calls kept for a
/// successor) without copying them into one.
pub(crate) struct StateParts<'a> {
    pub v: u32,
    pub rev: u64,
    pub aor: &'a str,
    pub online: bool,
    pub audio_blocked: bool,
    pub connection: &'a Connection,
    pub registration: &'a Registration,
    /// The live calls (their views), then those kept for a successor.
    pub live: &'a [crate::call::Call],
    pub kept: &'a [CallView],
    pub ended: &'a [EndedCall],
}

/// A state's JSON text.
pub(crate) fn write_state_of(s: &PhoneState) -> String {
    write_state(&StateParts {
        v: s.v,
        rev: s.rev,
        aor: &s.aor,
        online: s.online,
        audio_blocked: s.audio_blocked,
        connection: &s.connection,
        registration: &s.registration,
        live: &[],
        kept: &s.calls,
        ended: &s.ended,
    })
}

/// The state's JSON text, written in one buffer (the objects and arrays
/// inside it in place, [`Obj::open`]).
pub(crate) fn write_state(s: &StateParts<'_>) -> String {
    let o = &mut Obj::new();
    o.num("v", u64::from(s.v))
        .num("rev", s.rev)
        .str("aor", s.aor)
        .bool("online", s.online)
        .bool("audioBlocked", s.audio_blocked);
    connection_fields(o.open("connection", '{'), s.connection).close('}');
    registration_fields(o.open("registration", '{'), s.registration).close('}');
    o.open("calls", '[');
    for c in s.live {
        call_fields(o.item('{'), c).close('}');
    }
    for c in s.kept {
        call_fields(o.item('{'), c).close('}');
    }
    o.close(']').open("ended", '[');
    for e in s.ended {
        end_cause(o.item('{').str("id", &e.id), &e.cause).num("at", e.at).close('}');
    }
    o.close(']').end()
}

/// A connection state, `{"state": ..., ...}`.
pub(crate) fn write_connection(c: &Connection) -> String {
    connection_fields(&mut Obj::new(), c).end()
}

/// `o` with a connection state's fields: `state`, ...
pub(crate) fn connection_fields<'a>(o: &'a mut Obj, c: &Connection) -> &'a mut Obj {
    match c {
        Connection::Connecting { url } => o.str("state", "connecting").str("url", url),
        Connection::Connected { url } => o.str("state", "connected").str("url", url),
        Connection::Recovering { cause, next_try } => {
            o.str("state", "recovering").str("cause", cause_name(*cause)).opt_num("nextTry", *next_try)
        }
        Connection::Disconnected { cause } => o.str("state", "disconnected").str("cause", cause_name(*cause)),
    }
}

/// A registration state, `{"state": ..., ...}`.
pub(crate) fn write_registration(r: &Registration) -> String {
    registration_fields(&mut Obj::new(), r).end()
}

/// `o` with a registration state's fields: `state`, ...
pub(crate) fn registration_fields<'a>(o: &'a mut Obj, r: &Registration) -> &'a mut Obj {
    match r {
        Registration::Unregistered => o.str("state", "unregistered"),
        Registration::Registered { expires, bindings, at } => o
            .str("state", "registered")
            .num("expires", u64::from(*expires))
            .num("bindings", u64::from(*bindings))
            .num("at", *at),
        Registration::Failed { status } => o.str("state", "failed").opt_num("status", status.map(u64::from)),
    }
}

/// `o` with field `peer`: `{"uri": ..., "name": ...}`.
pub(crate) fn peer_field<'a>(o: &'a mut Obj, p: &Peer) -> &'a mut Obj {
    o.open("peer", '{').str("uri", &p.uri).opt_str("name", p.name.as_deref()).close('}')
}

/// `o` with an end cause's fields: `cause`, and `status` for some.
pub(crate) fn end_cause<'a>(o: &'a mut Obj, c: &EndCause) -> &'a mut Obj {
    let (i, status) = match c {
        EndCause::Local => (0, None),
        EndCause::Declined { status } => (1, Some(status)),
        EndCause::Remote => (2, None),
        EndCause::Failed { status } => (3, Some(status)),
        EndCause::Timeout => (4, None),
        EndCause::Transport => (5, None),
        EndCause::MediaFailed => (6, None),
        EndCause::Transferred => (7, None),
        EndCause::Replaced => (8, None),
        EndCause::HandedOver => (9, None),
        EndCause::ResumeFailed { status } => (10, Some(status)),
        EndCause::Expired => (11, None),
        EndCause::NotResumable => (12, None),
    };
    let o = o.str("cause", END_CAUSES[i]);
    match status {
        Some(s) => o.num("status", u64::from(*s)),
        None => o,
    }
}

/// `o` with a call's fields.
fn call_fields<'a>(o: &'a mut Obj, c: &CallView) -> &'a mut Obj {
    o.str("id", &c.id).str("direction", DIRECTIONS[usize::from(c.direction == CallDirection::Outgoing)]);
    peer_field(o, &c.peer)
        .str("state", CALL_STATES[c.state as usize]) // in the enum's declaration order
        .open("held", '{')
        .bool("local", c.held.local)
        .bool("remote", c.held.remote)
        .close('}')
        .bool("muted", c.muted)
        .num("startedAt", c.started_at)
        .opt_num("answeredAt", c.answered_at)
        .opt_str("replaces", c.replaces.as_deref());
    match &c.dialog {
        Some(d) => dialog_fields(o.open("dialog", '{'), d).close('}'),
        None => o.raw("dialog", "null"),
    }
    .num("handovers", u64::from(c.handovers))
    .bool("resuming", c.resuming)
    .opt_str("dtls", c.dtls.map(DtlsRole::as_str))
}

/// `o` with a dialog's fields.
fn dialog_fields<'a>(o: &'a mut Obj, d: &DialogState) -> &'a mut Obj {
    o.str("callId", &d.call_id)
        .str("localTag", &d.local_tag)
        .str("remoteTag", &d.remote_tag)
        .str("localUri", &d.local_uri)
        .str("remoteUri", &d.remote_uri)
        .num("localCseq", u64::from(d.local_cseq))
        .opt_num("remoteCseq", d.remote_cseq.map(u64::from))
        .str("remoteTarget", &d.remote_target)
        .open("routeSet", '[');
    for r in &d.route_set {
        o.str_item(r);
    }
    o.close(']')
}

/// Read an event that [`PhoneEvent::relayed`] (written by `to_json`).
pub(crate) fn read_relayed(text: &str) -> Read<PhoneEvent> {
    let o = Object::parse(text)?;
    const NAMES: [&str; 5] = ["transferRequested", "transferProgress", "dtmf", "message", "error"];
    let event = match name_field(&o, "event", &NAMES) {
        0 => PhoneEvent::TransferRequested {
            call: str_field(&o, "call"),
            to: str_field(&o, "to"),
            new_call: o.keep(o.opt_str("newCall")),
        },
        1 => PhoneEvent::TransferProgress { call: str_field(&o, "call"), status: num_field(&o, "status") },
        2 => {
            let tone = str_field(&o, "tone");
            let mut chars = tone.chars();
            let tone = match (chars.next(), chars.next()) {
                (Some(tone), None) => tone,
                _ => {
                    o.fail(ReadError { field: "tone".into(), what: "not one character".into() });
                    ' '
                }
            };
            PhoneEvent::Dtmf { call: str_field(&o, "call"), tone, duration_ms: num_field(&o, "durationMs") }
        }
        3 => PhoneEvent::Message {
            from: str_field(&o, "from"),
            content_type: str_field(&o, "contentType"),
            body: str_field(&o, "body"),
        },
        _ => PhoneEvent::Error { call: o.keep(o.opt_str("call")), message: str_field(&o, "message") },
    };
    // `done(())` for every reader: one copy of it, not one per type.
    o.done(())?;
    Ok(event)
}

/// Read a state (any version: the caller checks `v`). Unknown fields are
/// ignored, so a newer writer may add some. The readers keep the first
/// error ([`Object::keep`]): one call per field.
pub(crate) fn read_state(text: &str) -> Read<PhoneState> {
    let o = Object::parse(text)?;
    // Plain loops: `collect` adds a from-iterator copy per element type.
    let mut calls = Vec::new();
    for c in &o.keep(o.objects("calls")) {
        calls.push(read_call(c));
    }
    let mut ended = Vec::new();
    for e in &o.keep(o.objects("ended")) {
        ended.push(read_ended(e));
    }
    let state = PhoneState {
        v: num_field(&o, "v"),
        rev: num_field(&o, "rev"),
        aor: str_field(&o, "aor"),
        online: o.keep(o.bool("online")),
        audio_blocked: o.keep(o.bool_or("audioBlocked", false)),
        connection: read_connection(&obj_field(&o, "connection")),
        registration: read_registration(&obj_field(&o, "registration")),
        calls,
        ended,
    };
    o.done(())?;
    Ok(state)
}

fn read_connection(o: &Object<'_>) -> Connection {
    let cause = || CAUSE_VALUES[name_field(o, "cause", &CAUSES)];
    match name_field(o, "state", &["connecting", "connected", "recovering", "disconnected"]) {
        0 => Connection::Connecting { url: str_field(o, "url") },
        1 => Connection::Connected { url: str_field(o, "url") },
        2 => Connection::Recovering { cause: cause(), next_try: opt_num_field(o, "nextTry") },
        _ => Connection::Disconnected { cause: cause() },
    }
}

fn read_registration(o: &Object<'_>) -> Registration {
    match name_field(o, "state", &["unregistered", "registered", "failed"]) {
        0 => Registration::Unregistered,
        1 => Registration::Registered {
            expires: num_field(o, "expires"),
            bindings: num_field(o, "bindings"),
            at: num_field(o, "at"),
        },
        _ => Registration::Failed { status: opt_num_field(o, "status") },
    }
}

fn read_call(o: &Object<'_>) -> CallView {
    let peer = obj_field(o, "peer");
    let held = obj_field(o, "held");
    CallView {
        id: str_field(o, "id"),
        direction: match name_field(o, "direction", &DIRECTIONS) {
            0 => CallDirection::Incoming,
            _ => CallDirection::Outgoing,
        },
        peer: Peer { uri: str_field(&peer, "uri"), name: peer.keep(peer.opt_str("name")) },
        state: CALL_STATE_VALUES[name_field(o, "state", &CALL_STATES)],
        held: Held { local: held.keep(held.bool("local")), remote: held.keep(held.bool("remote")) },
        muted: o.keep(o.bool("muted")),
        started_at: num_field(o, "startedAt"),
        answered_at: opt_num_field(o, "answeredAt"),
        replaces: o.keep(o.opt_str("replaces")),
        dialog: o.keep(o.obj_at("dialog", false)).as_ref().map(read_dialog),
        handovers: match o.raw("handovers") {
            None => 0,
            Some(_) => num_field(o, "handovers"),
        },
        resuming: o.keep(o.bool_or("resuming", false)),
        dtls: match o.keep(o.name_at("dtls", &["active", "passive"], false)) {
            Some(0) => Some(DtlsRole::Active),
            Some(_) => Some(DtlsRole::Passive),
            None => None,
        },
    }
}

fn read_dialog(o: &Object<'_>) -> DialogState {
    DialogState {
        call_id: str_field(o, "callId"),
        local_tag: str_field(o, "localTag"),
        remote_tag: str_field(o, "remoteTag"),
        local_uri: str_field(o, "localUri"),
        remote_uri: str_field(o, "remoteUri"),
        local_cseq: num_field(o, "localCseq"),
        remote_cseq: opt_num_field(o, "remoteCseq"),
        remote_target: str_field(o, "remoteTarget"),
        route_set: o.keep(o.strings("routeSet")),
    }
}

fn read_ended(o: &Object<'_>) -> EndedCall {
    let status = || num_field(o, "status");
    let cause = match name_field(o, "cause", &END_CAUSES) {
        0 => EndCause::Local,
        1 => EndCause::Declined { status: status() },
        2 => EndCause::Remote,
        3 => EndCause::Failed { status: status() },
        4 => EndCause::Timeout,
        5 => EndCause::Transport,
        6 => EndCause::MediaFailed,
        7 => EndCause::Transferred,
        8 => EndCause::Replaced,
        9 => EndCause::HandedOver,
        10 => EndCause::ResumeFailed { status: status() },
        11 => EndCause::Expired,
        _ => EndCause::NotResumable,
    };
    EndedCall { id: str_field(o, "id"), cause, at: num_field(o, "at") }
}

#[cfg(test)]
mod oracle;

#[cfg(test)]
mod tests {
    use super::*;

    /// The writers index the name tables by the enums' discriminants.
    #[test]
    fn name_tables_follow_the_declaration_order() {
        for (i, c) in CAUSE_VALUES.iter().enumerate() {
            assert_eq!(*c as usize, i, "{}", CAUSES[i]);
        }
        for (i, s) in CALL_STATE_VALUES.iter().enumerate() {
            assert_eq!(*s as usize, i, "{}", CALL_STATES[i]);
        }
    }
}
