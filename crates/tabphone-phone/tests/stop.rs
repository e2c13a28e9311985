//! Stop: the last tab (hang up, unregister, close) and a handover (close at
//! once, leave the binding and the calls to a successor); restart.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{Connection, DisconnectCause, EndCause, Registration};
use tabphone_phone::{ErrorCode, PhoneEvent, PhoneInput};

#[test]
fn stop_hangs_up_unregisters_and_fails_what_is_pending() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    w.auto_media = false;
    let mute = w.action("mute", &call_args(&call));
    let message = w.action("message", r#"{"to":"bob","text":"hi"}"#);
    w.input(PhoneInput::Stop { unregister: true, hang_up: true });
    for id in [mute, message] {
        assert_eq!(w.result(id).unwrap_err().code, ErrorCode::Stopped);
    }
    // Late replies give no second result.
    w.media_reply("mute", Ok(String::new()));
    let msg = w.take_request("MESSAGE");
    w.reply(&msg, 200, &[], "");
    assert_eq!(w.results.iter().filter(|(id, _)| *id == mute || *id == message).count(), 2);
    // Actions while stopping.
    let late = w.action("register", "");
    assert_eq!(w.result(late).unwrap_err().code, ErrorCode::Stopped);
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    let unreg = w.take_request("REGISTER");
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
    w.reply(&unreg, 200, &[], "");
    assert!(w.events.contains(&PhoneEvent::Stopped));
    let s = w.state();
    assert_eq!(s.connection, Connection::Disconnected { cause: DisconnectCause::Stopped });
    assert_eq!(s.registration, Registration::Unregistered);
    assert_eq!(s.ended.last().map(|e| (e.id.clone(), e.cause)), Some((call, EndCause::Local)));
    assert!(w.closes >= 1);
    assert_eq!(w.phone.poll_timeout(), None, "a stopped phone has no timers");
}

#[test]
fn a_handover_closes_at_once_and_leaves_binding_and_calls() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let before = w.call_view(&call);
    let closes = w.closes;
    w.take_events();
    w.input(PhoneInput::Stop { unregister: false, hang_up: false });
    assert!(w.sent.is_empty(), "no BYE, no REGISTER: {:?}", w.summary());
    assert_eq!(w.closes, closes + 1);
    let s = w.state();
    assert_eq!(s.connection, Connection::Disconnected { cause: DisconnectCause::HandedOver });
    // The call stays in the state, dialog and all, for the successor to take
    // over; no tab is told it ended.
    assert_eq!(s.calls, vec![before]);
    assert!(s.ended.is_empty());
    assert!(!w.events.iter().any(|e| matches!(e, PhoneEvent::CallEnded { .. })), "{:?}", w.events);
    assert!(w.events.contains(&PhoneEvent::Stopped));
    // Its media are closed here.
    assert!(w.media_log.last().is_some_and(|r| r.call == call && r.kind == MediaKind::Close));
    // Frames from the old socket are ignored.
    w.receive("SIP/2.0 200 OK\r\n\r\n");
    assert!(w.sent.is_empty());
    // Started again without inheriting it: the call ends, handed over.
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS + 1_000, inherit: None });
    assert!(w.state().calls.is_empty());
    assert_eq!(
        w.state().ended.last().map(|e| (e.id.clone(), e.cause)),
        Some((call.clone(), EndCause::HandedOver))
    );
    assert!(w.events.contains(&PhoneEvent::CallEnded { call, cause: EndCause::HandedOver }));
}

#[test]
fn a_restarted_phone_registers_afresh() {
    let mut w = World::registered();
    let first = w.wire.iter().find(|t| t.starts_with("REGISTER")).unwrap().clone();
    w.input(PhoneInput::Stop { unregister: false, hang_up: false });
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS + 60_000, inherit: None });
    w.input(PhoneInput::Opened);
    let reg = w.take_request("REGISTER");
    let call_id = |text: &str| text.lines().find(|l| l.starts_with("Call-ID")).unwrap().to_string();
    assert_ne!(call_id(&first), format!("Call-ID: {}", reg.headers.get("Call-ID").unwrap()));
    // The same instance: the registrar replaces the binding.
    assert!(reg.headers.get("Contact").unwrap().contains("6c1f1c9e-1111-4a4a-8b8b-000000000001"));
    w.reply(&reg, 200, &[], "");
    assert!(matches!(w.state().registration, Registration::Registered { .. }));
}

#[test]
fn actions_before_start_are_refused() {
    let mut w = World::new(config());
    let id = w.action("register", "");
    assert_eq!(w.result(id).unwrap_err().code, ErrorCode::Stopped);
    // Bad input is still bad input.
    let id = w.action("dial", "");
    assert_eq!(w.result(id).unwrap_err().code, ErrorCode::UnknownAction);
}
