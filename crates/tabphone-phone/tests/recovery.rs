//! The connection: recovery with ICE-restart re-INVITEs, the state while
//! recovering, online and offline.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{Connection, DisconnectCause, Registration};
use tabphone_phone::{Direction, ErrorCode, PhoneInput};

fn reconnect_and_register(w: &mut World) {
    // The first retry is at once, on the timer.
    w.advance(Duration::ZERO);
    assert!(!w.connects.is_empty());
    w.input(PhoneInput::Opened);
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 200, &[("Expires", "600")], "");
}

#[test]
fn after_recovery_each_call_is_reinvited_with_an_ice_restart() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let (held, ..) = established(&mut w);
    let hold = w.action("hold", &call_args(&held));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 5));
    assert!(w.result(hold).is_ok());

    w.connects.clear();
    w.input(PhoneInput::Closed);
    let s = w.state();
    assert_eq!(s.connection, Connection::Recovering { cause: DisconnectCause::SocketClosed, next_try: None });
    // While the connection is down, hold waits for nothing: refused.
    let h = w.action("hold", &call_args(&call));
    assert_eq!(w.result(h).unwrap_err().code, ErrorCode::NotConnected);
    let before = w.media_log.len();
    reconnect_and_register(&mut w);
    assert!(matches!(w.state().connection, Connection::Connected { .. }));
    let offers: Vec<_> = w
        .media_log
        .iter()
        .filter(|r| matches!(r.kind, MediaKind::Offer { ice_restart: true, .. }))
        .map(|r| (r.call.clone(), r.kind.clone()))
        .collect();
    assert_eq!(
        offers,
        [
            (call.clone(), MediaKind::Offer { direction: Direction::SendRecv, ice_restart: true }),
            (held.clone(), MediaKind::Offer { direction: Direction::SendOnly, ice_restart: true }),
        ]
    );
    for _ in 0..2 {
        let reinvite = w.take_request("INVITE");
        w.reply(&reinvite, 200, &[], &sdp("sendrecv", 7));
        w.take_request("ACK");
    }
    let applied = w.media_log[before..].iter().filter(|r| matches!(r.kind, MediaKind::ApplyAnswer { .. }));
    assert_eq!(applied.count(), 2);
    assert_eq!(w.state().calls.len(), 2);
}

#[test]
fn recovering_shows_when_the_next_round_starts() {
    let mut w = World::new(config());
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None });
    assert!(matches!(w.state().connection, Connection::Connecting { .. }));
    // The only server refuses every attempt: after its retries, a recovery round is scheduled.
    for _ in 0..10 {
        w.input(PhoneInput::Closed);
        if matches!(w.state().connection, Connection::Recovering { next_try: Some(_), .. }) {
            break;
        }
        w.advance(Duration::from_secs(4));
    }
    let Connection::Recovering { cause, next_try: Some(at) } = w.state().connection else {
        panic!("{:?}", w.state().connection)
    };
    assert_eq!(cause, DisconnectCause::SocketClosed);
    assert!(at > T0_UNIX_MS, "{at}");
    assert_eq!(w.state().registration, Registration::Unregistered);
}

#[test]
fn offline_is_noted_and_online_reconnects() {
    let mut w = World::registered();
    w.input(PhoneInput::Offline);
    assert!(!w.state().online);
    let (connects, closes) = (w.connects.len(), w.closes);
    w.input(PhoneInput::Online);
    assert!(w.state().online);
    assert_eq!((w.connects.len(), w.closes), (connects + 1, closes + 1), "a new connection");
    reconnect_and_register(&mut w);
    // Online again while connected and never offline: nothing to do.
    let connects = w.connects.len();
    w.input(PhoneInput::Online);
    assert_eq!(w.connects.len(), connects);
}
