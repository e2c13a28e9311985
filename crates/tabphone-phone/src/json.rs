//! The phone's JSON, written and read with the small codec of
//! `tabphone-json` rather than serde (a quarter of the tab's wasm): the
//! state, format v1 both ways (see [`crate::state`]), and the parts events
//! share with it; action results ([`json!`]).
//!
//! The types also carry their serde description, in tests only: the tests
//! at the bottom check on random values that this code writes exactly what
//! serde writes and reads back what serde reads.

use tabphone_json::{Arr, Obj, Object, Read};

use crate::state::{
    CallDirection, CallState, CallView, Connection, DialogState, DisconnectCause, EndCause, EndedCall, Held,
    Peer, PhoneState, Registration,
};

/// An action's result, as JSON text: `json!({})`, `json!({ "call": call })`
/// (string and integer fields).
macro_rules! json {
    ({ $($k:literal : $v:expr),* $(,)? }) => {{
        let o = tabphone_json::Obj::new();
        $( let o = $crate::json::Field::put(&$v, o, $k); )*
        o.end()
    }};
}
pub(crate) use json;

/// A value [`json!`] can write.
pub(crate) trait Field {
    /// `o` with field `k` set to this value.
    fn put(&self, o: Obj, k: &str) -> Obj;
}

impl Field for String {
    fn put(&self, o: Obj, k: &str) -> Obj {
        o.str(k, self)
    }
}

impl Field for u16 {
    fn put(&self, o: Obj, k: &str) -> Obj {
        o.num(k, u64::from(*self))
    }
}

impl Field for u32 {
    fn put(&self, o: Obj, k: &str) -> Obj {
        o.num(k, u64::from(*self))
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
const END_CAUSES: [&str; 10] = [
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
];

fn cause_name(c: DisconnectCause) -> &'static str {
    let i = CAUSE_VALUES.iter().position(|v| *v == c).unwrap_or(CAUSES.len() - 1);
    CAUSES[i]
}

/// The state's JSON text.
pub(crate) fn write_state(s: &PhoneState) -> String {
    let mut calls = Arr::new();
    for c in &s.calls {
        calls = calls.raw(&write_call(c));
    }
    let mut ended = Arr::new();
    for e in &s.ended {
        ended = ended.raw(&end_cause(Obj::new().str("id", &e.id), &e.cause).num("at", e.at).end());
    }
    Obj::new()
        .num("v", u64::from(s.v))
        .num("rev", s.rev)
        .str("aor", &s.aor)
        .bool("online", s.online)
        .bool("audioBlocked", s.audio_blocked)
        .raw("connection", &write_connection(&s.connection))
        .raw("registration", &write_registration(&s.registration))
        .raw("calls", &calls.end())
        .raw("ended", &ended.end())
        .end()
}

/// A connection state, `{"state": ..., ...}`.
pub(crate) fn write_connection(c: &Connection) -> String {
    let o = Obj::new();
    match c {
        Connection::Connecting { url } => o.str("state", "connecting").str("url", url),
        Connection::Connected { url } => o.str("state", "connected").str("url", url),
        Connection::Recovering { cause, next_try } => {
            o.str("state", "recovering").str("cause", cause_name(*cause)).opt_num("nextTry", *next_try)
        }
        Connection::Disconnected { cause } => o.str("state", "disconnected").str("cause", cause_name(*cause)),
    }
    .end()
}

/// A registration state, `{"state": ..., ...}`.
pub(crate) fn write_registration(r: &Registration) -> String {
    let o = Obj::new();
    match r {
        Registration::Unregistered => o.str("state", "unregistered"),
        Registration::Registered { expires, bindings, at } => o
            .str("state", "registered")
            .num("expires", u64::from(*expires))
            .num("bindings", u64::from(*bindings))
            .num("at", *at),
        Registration::Failed { status } => o.str("state", "failed").opt_num("status", status.map(u64::from)),
    }
    .end()
}

/// `{"uri": ..., "name": ...}`.
pub(crate) fn write_peer(p: &Peer) -> String {
    Obj::new().str("uri", &p.uri).opt_str("name", p.name.as_deref()).end()
}

/// `o` with an end cause's fields: `cause`, and `status` for some.
pub(crate) fn end_cause(o: Obj, c: &EndCause) -> Obj {
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
    };
    let o = o.str("cause", END_CAUSES[i]);
    match status {
        Some(s) => o.num("status", u64::from(*s)),
        None => o,
    }
}

fn write_call(c: &CallView) -> String {
    let dialog = c.dialog.as_ref().map(write_dialog);
    Obj::new()
        .str("id", &c.id)
        .str("direction", DIRECTIONS[usize::from(c.direction == CallDirection::Outgoing)])
        .raw("peer", &write_peer(&c.peer))
        .str("state", CALL_STATES[CALL_STATE_VALUES.iter().position(|s| *s == c.state).unwrap_or(0)])
        .raw("held", &Obj::new().bool("local", c.held.local).bool("remote", c.held.remote).end())
        .bool("muted", c.muted)
        .num("startedAt", c.started_at)
        .opt_num("answeredAt", c.answered_at)
        .opt_str("replaces", c.replaces.as_deref())
        .raw("dialog", dialog.as_deref().unwrap_or("null"))
        .end()
}

fn write_dialog(d: &DialogState) -> String {
    let mut routes = Arr::new();
    for r in &d.route_set {
        routes = routes.str(r);
    }
    Obj::new()
        .str("callId", &d.call_id)
        .str("localTag", &d.local_tag)
        .str("remoteTag", &d.remote_tag)
        .str("localUri", &d.local_uri)
        .str("remoteUri", &d.remote_uri)
        .num("localCseq", u64::from(d.local_cseq))
        .opt_num("remoteCseq", d.remote_cseq.map(u64::from))
        .str("remoteTarget", &d.remote_target)
        .raw("routeSet", &routes.end())
        .end()
}

/// Read a state (any version: the caller checks `v`). Unknown fields are
/// ignored, so a newer writer may add some.
pub(crate) fn read_state(text: &str) -> Read<PhoneState> {
    let o = Object::parse(text)?;
    let mut calls = Vec::new();
    for c in o.objects("calls")? {
        calls.push(read_call(&c)?);
    }
    let mut ended = Vec::new();
    for e in o.objects("ended")? {
        ended.push(read_ended(&e)?);
    }
    Ok(PhoneState {
        v: o.num("v")?,
        rev: o.num("rev")?,
        aor: o.str("aor")?,
        online: o.bool("online")?,
        audio_blocked: o.bool_or("audioBlocked", false)?,
        connection: read_connection(&o.obj("connection")?)?,
        registration: read_registration(&o.obj("registration")?)?,
        calls,
        ended,
    })
}

fn read_connection(o: &Object<'_>) -> Read<Connection> {
    let cause = || o.name("cause", &CAUSES).map(|i| CAUSE_VALUES[i]);
    Ok(match o.name("state", &["connecting", "connected", "recovering", "disconnected"])? {
        0 => Connection::Connecting { url: o.str("url")? },
        1 => Connection::Connected { url: o.str("url")? },
        2 => Connection::Recovering { cause: cause()?, next_try: o.opt_num("nextTry")? },
        _ => Connection::Disconnected { cause: cause()? },
    })
}

fn read_registration(o: &Object<'_>) -> Read<Registration> {
    Ok(match o.name("state", &["unregistered", "registered", "failed"])? {
        0 => Registration::Unregistered,
        1 => Registration::Registered {
            expires: o.num("expires")?,
            bindings: o.num("bindings")?,
            at: o.num("at")?,
        },
        _ => Registration::Failed { status: o.opt_num("status")? },
    })
}

fn read_call(o: &Object<'_>) -> Read<CallView> {
    let peer = o.obj("peer")?;
    let held = o.obj("held")?;
    Ok(CallView {
        id: o.str("id")?,
        direction: match o.name("direction", &DIRECTIONS)? {
            0 => CallDirection::Incoming,
            _ => CallDirection::Outgoing,
        },
        peer: Peer { uri: peer.str("uri")?, name: peer.opt_str("name")? },
        state: CALL_STATE_VALUES[o.name("state", &CALL_STATES)?],
        held: Held { local: held.bool("local")?, remote: held.bool("remote")? },
        muted: o.bool("muted")?,
        started_at: o.num("startedAt")?,
        answered_at: o.opt_num("answeredAt")?,
        replaces: o.opt_str("replaces")?,
        dialog: match o.opt_obj("dialog")? {
            Some(d) => Some(read_dialog(&d)?),
            None => None,
        },
    })
}

fn read_dialog(o: &Object<'_>) -> Read<DialogState> {
    Ok(DialogState {
        call_id: o.str("callId")?,
        local_tag: o.str("localTag")?,
        remote_tag: o.str("remoteTag")?,
        local_uri: o.str("localUri")?,
        remote_uri: o.str("remoteUri")?,
        local_cseq: o.num("localCseq")?,
        remote_cseq: o.opt_num("remoteCseq")?,
        remote_target: o.str("remoteTarget")?,
        route_set: o.strings("routeSet")?,
    })
}

fn read_ended(o: &Object<'_>) -> Read<EndedCall> {
    let status = || o.num("status");
    let cause = match o.name("cause", &END_CAUSES)? {
        0 => EndCause::Local,
        1 => EndCause::Declined { status: status()? },
        2 => EndCause::Remote,
        3 => EndCause::Failed { status: status()? },
        4 => EndCause::Timeout,
        5 => EndCause::Transport,
        6 => EndCause::MediaFailed,
        7 => EndCause::Transferred,
        8 => EndCause::Replaced,
        _ => EndCause::HandedOver,
    };
    Ok(EndedCall { id: o.str("id")?, cause, at: o.num("at")? })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::error::{ErrorCode, PhoneError};
    use crate::event::PhoneEvent;
    use crate::media::{MediaKind, MediaRequest};
    use crate::sdp::Direction;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-z\"\\\\]{0,8}"]
    }

    fn cause() -> impl Strategy<Value = DisconnectCause> {
        prop::sample::select(CAUSE_VALUES.to_vec())
    }

    fn connection() -> impl Strategy<Value = Connection> {
        prop_oneof![
            text().prop_map(|url| Connection::Connecting { url }),
            text().prop_map(|url| Connection::Connected { url }),
            (cause(), any::<Option<u64>>())
                .prop_map(|(cause, next_try)| Connection::Recovering { cause, next_try }),
            cause().prop_map(|cause| Connection::Disconnected { cause }),
        ]
    }

    fn registration() -> impl Strategy<Value = Registration> {
        prop_oneof![
            Just(Registration::Unregistered),
            (any::<u32>(), any::<u32>(), any::<u64>())
                .prop_map(|(expires, bindings, at)| Registration::Registered { expires, bindings, at }),
            any::<Option<u16>>().prop_map(|status| Registration::Failed { status }),
        ]
    }

    fn peer() -> impl Strategy<Value = Peer> {
        (text(), prop::option::of(text())).prop_map(|(uri, name)| Peer { uri, name })
    }

    fn end_cause() -> impl Strategy<Value = EndCause> {
        prop_oneof![
            prop::sample::select(vec![
                EndCause::Local,
                EndCause::Remote,
                EndCause::Timeout,
                EndCause::Transport,
                EndCause::MediaFailed,
                EndCause::Transferred,
                EndCause::Replaced,
                EndCause::HandedOver,
            ]),
            any::<u16>().prop_map(|status| EndCause::Declined { status }),
            any::<u16>().prop_map(|status| EndCause::Failed { status }),
        ]
    }

    fn dialog() -> impl Strategy<Value = DialogState> {
        let ids = (text(), text(), text(), text(), text());
        let rest = (any::<u32>(), any::<Option<u32>>(), text(), prop::collection::vec(text(), 0..3));
        (ids, rest).prop_map(
            |((call_id, local_tag, remote_tag, local_uri, remote_uri), (lc, rc, target, routes))| {
                DialogState {
                    call_id,
                    local_tag,
                    remote_tag,
                    local_uri,
                    remote_uri,
                    local_cseq: lc,
                    remote_cseq: rc,
                    remote_target: target,
                    route_set: routes,
                }
            },
        )
    }

    fn call() -> impl Strategy<Value = CallView> {
        let who = (text(), any::<bool>(), peer(), prop::sample::select(CALL_STATE_VALUES.to_vec()));
        let flags = (any::<bool>(), any::<bool>(), any::<bool>());
        let times =
            (any::<u64>(), any::<Option<u64>>(), prop::option::of(text()), prop::option::of(dialog()));
        (who, flags, times).prop_map(
            |((id, out, peer, state), (local, remote, muted), (started, answered, r, d))| CallView {
                id,
                direction: if out { CallDirection::Outgoing } else { CallDirection::Incoming },
                peer,
                state,
                held: Held { local, remote },
                muted,
                started_at: started,
                answered_at: answered,
                replaces: r,
                dialog: d,
            },
        )
    }

    fn state() -> impl Strategy<Value = PhoneState> {
        let head = (any::<u32>(), any::<u64>(), text(), any::<bool>(), any::<bool>());
        let ended =
            (text(), end_cause(), any::<u64>()).prop_map(|(id, cause, at)| EndedCall { id, cause, at });
        let parts = (
            connection(),
            registration(),
            prop::collection::vec(call(), 0..3),
            prop::collection::vec(ended, 0..3),
        );
        (head, parts).prop_map(
            |((v, rev, aor, online, audio_blocked), (connection, registration, calls, ended))| PhoneState {
                v,
                rev,
                aor,
                online,
                audio_blocked,
                connection,
                registration,
                calls,
                ended,
            },
        )
    }

    fn event() -> impl Strategy<Value = PhoneEvent> {
        prop_oneof![
            (text(), peer(), prop::option::of(text()))
                .prop_map(|(call, peer, replaces)| PhoneEvent::Incoming { call, peer, replaces }),
            (text(), end_cause()).prop_map(|(call, cause)| PhoneEvent::CallEnded { call, cause }),
            connection().prop_map(|connection| PhoneEvent::Connection { connection }),
            registration().prop_map(|registration| PhoneEvent::Registration { registration }),
            (text(), text(), prop::option::of(text()))
                .prop_map(|(call, to, new_call)| PhoneEvent::TransferRequested { call, to, new_call }),
            (text(), any::<u16>()).prop_map(|(call, status)| PhoneEvent::TransferProgress { call, status }),
            (text(), any::<char>(), any::<u32>()).prop_map(|(call, tone, duration_ms)| PhoneEvent::Dtmf {
                call,
                tone,
                duration_ms
            }),
            (text(), text(), text()).prop_map(|(from, content_type, body)| PhoneEvent::Message {
                from,
                content_type,
                body
            }),
            (prop::option::of(text()), text())
                .prop_map(|(call, message)| PhoneEvent::Error { call, message }),
            text().prop_map(|line| PhoneEvent::Trace { line }),
            any::<bool>().prop_map(|blocked| PhoneEvent::AudioBlocked { blocked }),
            Just(PhoneEvent::Stopped),
        ]
    }

    fn media() -> impl Strategy<Value = MediaRequest> {
        let direction = prop::sample::select(vec![
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]);
        let kind =
            prop_oneof![
                (direction.clone(), any::<bool>())
                    .prop_map(|(direction, ice_restart)| MediaKind::Offer { direction, ice_restart }),
                (text(), direction).prop_map(|(offer, direction)| MediaKind::Answer { offer, direction }),
                (text(), any::<bool>())
                    .prop_map(|(answer, provisional)| MediaKind::ApplyAnswer { answer, provisional }),
                Just(MediaKind::Rollback),
                any::<bool>().prop_map(|muted| MediaKind::Mute { muted }),
                (text(), any::<u32>(), any::<u32>())
                    .prop_map(|(tones, duration_ms, gap_ms)| MediaKind::Dtmf { tones, duration_ms, gap_ms }),
                Just(MediaKind::Close),
            ];
        (any::<u64>(), text(), kind).prop_map(|(id, call, kind)| MediaRequest { id, call, kind })
    }

    fn error() -> impl Strategy<Value = PhoneError> {
        let code = prop::sample::select(vec![
            ErrorCode::UnknownAction,
            ErrorCode::BadArguments,
            ErrorCode::NoSuchCall,
            ErrorCode::WrongState,
            ErrorCode::NotRegistered,
            ErrorCode::NotConnected,
            ErrorCode::RequestFailed,
            ErrorCode::MediaFailed,
            ErrorCode::CallEnded,
            ErrorCode::Timeout,
            ErrorCode::Stopped,
            ErrorCode::Unsupported,
        ]);
        (code, text(), any::<Option<u16>>()).prop_map(|(code, message, status)| PhoneError {
            code,
            message,
            status,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// The state: written as serde writes it; what serde writes (with
        /// or without white space) read back; the two readers agree on
        /// texts serde accepts.
        #[test]
        fn state_as_serde_describes_it(s in state()) {
            let text = write_state(&s);
            prop_assert_eq!(&text, &serde_json::to_string(&s).unwrap());
            prop_assert_eq!(read_state(&text).unwrap(), s.clone());
            let pretty = serde_json::to_string_pretty(&s).unwrap();
            prop_assert_eq!(read_state(&pretty).unwrap(), s);
        }

        /// Events, media requests and errors: written as serde writes them.
        #[test]
        fn events_requests_and_errors_as_serde_describes_them(e in event(), m in media(), x in error()) {
            prop_assert_eq!(e.to_json(), serde_json::to_string(&e).unwrap());
            prop_assert_eq!(m.to_json(), serde_json::to_string(&m).unwrap());
            prop_assert_eq!(x.to_json(), serde_json::to_string(&x).unwrap());
        }

        /// A state with a field dropped, nulled, or of the wrong type or range: read
        /// exactly when serde reads it, to the same value.
        #[test]
        fn damaged_states_as_serde_reads_them(s in state(), pick in any::<prop::sample::Index>(), how in 0..5u8) {
            let mut v = serde_json::to_value(&s).unwrap();
            let mut objects = Vec::new();
            collect_objects(&mut v, &mut objects);
            let target = pick.get(&objects).clone();
            damage(&mut v, &target, how);
            let text = serde_json::to_string(&v).unwrap();
            let ours = read_state(&text).ok();
            let theirs = serde_json::from_str::<PhoneState>(&text).ok();
            prop_assert_eq!(ours, theirs, "{}", text);
        }
    }

    /// JSON pointers of every object field in `v`.
    fn collect_objects(v: &mut serde_json::Value, out: &mut Vec<String>) {
        fn walk(v: &serde_json::Value, path: String, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        let p = format!("{path}/{k}");
                        out.push(p.clone());
                        walk(x, p, out);
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        walk(x, format!("{path}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        walk(v, String::new(), out);
    }

    /// Remove the field at `pointer`, or set it to null, a string, a
    /// fraction or a number too large for a `u16`.
    fn damage(v: &mut serde_json::Value, pointer: &str, how: u8) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let Some(serde_json::Value::Object(m)) = v.pointer_mut(parent) else { return };
        match how {
            0 => {
                m.remove(key);
            }
            1 => {
                m.insert(key.to_owned(), serde_json::Value::Null);
            }
            2 => {
                m.insert(key.to_owned(), serde_json::Value::String("x".into()));
            }
            3 => {
                m.insert(key.to_owned(), serde_json::json!(1.5));
            }
            _ => {
                m.insert(key.to_owned(), serde_json::json!(70000));
            }
        }
    }
}
