//! The phone's JSON against its serde description (the attributes on the
//! types, compiled in tests only): on random values, the same text written,
//! the same values read, the same texts refused.
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
            EndCause::Expired,
            EndCause::NotResumable,
        ]),
        any::<u16>().prop_map(|status| EndCause::Declined { status }),
        any::<u16>().prop_map(|status| EndCause::Failed { status }),
        any::<u16>().prop_map(|status| EndCause::ResumeFailed { status }),
    ]
}

fn dialog() -> impl Strategy<Value = DialogState> {
    let ids = (text(), text(), text(), text(), text());
    let rest = (any::<u32>(), any::<Option<u32>>(), text(), prop::collection::vec(text(), 0..3));
    (ids, rest).prop_map(
        |((call_id, local_tag, remote_tag, local_uri, remote_uri), (lc, rc, target, routes))| DialogState {
            call_id,
            local_tag,
            remote_tag,
            local_uri,
            remote_uri,
            local_cseq: lc,
            remote_cseq: rc,
            remote_target: target,
            route_set: routes,
        },
    )
}

fn call() -> impl Strategy<Value = CallView> {
    let who = (text(), any::<bool>(), peer(), prop::sample::select(CALL_STATE_VALUES.to_vec()));
    let dtls = prop::option::of(prop::sample::select(vec![DtlsRole::Active, DtlsRole::Passive]));
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<u32>(), any::<bool>(), dtls);
    let times = (any::<u64>(), any::<Option<u64>>(), prop::option::of(text()), prop::option::of(dialog()));
    (who, flags, times).prop_map(
        |(
            (id, out, peer, state),
            (local, remote, muted, handovers, resuming, dtls),
            (started, answered, r, d),
        )| {
            CallView {
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
                handovers,
                resuming,
                dtls,
            }
        },
    )
}

fn state() -> impl Strategy<Value = PhoneState> {
    let head = (any::<u32>(), any::<u64>(), text(), any::<bool>(), any::<bool>());
    let ended = (text(), end_cause(), any::<u64>()).prop_map(|(id, cause, at)| EndedCall { id, cause, at });
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
        (text(), peer(), prop::option::of(text())).prop_map(|(call, peer, replaces)| PhoneEvent::Incoming {
            call,
            peer,
            replaces
        }),
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
        (prop::option::of(text()), text()).prop_map(|(call, message)| PhoneEvent::Error { call, message }),
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
    let kind = prop_oneof![
        (direction.clone(), any::<bool>())
            .prop_map(|(direction, ice_restart)| MediaKind::Offer { direction, ice_restart }),
        (text(), direction, any::<bool>()).prop_map(|(offer, direction, fresh)| MediaKind::Answer {
            offer,
            direction,
            fresh
        }),
        (text(), any::<bool>())
            .prop_map(|(answer, provisional)| MediaKind::ApplyAnswer { answer, provisional }),
        Just(MediaKind::Rollback),
        any::<bool>().prop_map(|muted| MediaKind::Mute { muted }),
        (text(), any::<u32>(), any::<u32>()).prop_map(|(tones, duration_ms, gap_ms)| MediaKind::Dtmf {
            tones,
            duration_ms,
            gap_ms
        }),
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
        let text = write_state_of(&s);
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

    /// Relayed events: read back from what was written; the others refused.
    #[test]
    fn relayed_events_read_back(e in event()) {
        let read = PhoneEvent::parse_relayed(&e.to_json());
        prop_assert_eq!(read, e.relayed().then(|| e.clone()));
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
