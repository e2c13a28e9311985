//! Actions that are not about call setup: registration, messages, mute,
//! DTMF, and the coded refusals and timeouts every action may get.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::Registration;
use tabphone_phone::{ErrorCode, PhoneEvent, PhoneInput};

#[test]
fn register_and_unregister_answer_with_the_outcome() {
    let mut w = World::registered();
    let r = w.action("register", "");
    assert!(!w.has_result(r));
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 200, &[("Expires", "300")], "");
    assert_eq!(w.result(r).unwrap(), json!({ "expires": 300 }));
    let u = w.action("unregister", "{}");
    let unreg = w.take_request("REGISTER");
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
    w.reply(&unreg, 200, &[], "");
    assert_eq!(w.result(u).unwrap(), json!({}));
    assert_eq!(w.state().registration, Registration::Unregistered);
    assert!(w.events.contains(&PhoneEvent::Registration { registration: Registration::Unregistered }));
    // Not registered: calls and messages are refused; unregister answers at once.
    let c = w.action("call", r#"{"to":"bob"}"#);
    assert_eq!(w.result(c).unwrap_err().code, ErrorCode::NotRegistered);
    let u = w.action("unregister", "");
    assert!(w.result(u).is_ok());
    let r = w.action("register", "");
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 403, &[], "");
    let e = w.result(r).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::RequestFailed, Some(403)));
    assert_eq!(w.state().registration, Registration::Failed { status: Some(403) });
}

#[test]
fn messages_report_the_final_status() {
    let mut w = World::registered();
    let m = w.action("message", r#"{"to":"bob","text":"hello"}"#);
    let msg = w.take_request("MESSAGE");
    assert_eq!(String::from_utf8_lossy(&msg.body), "hello");
    assert_eq!(msg.headers.get("Content-Type"), Some("text/plain;charset=UTF-8"));
    w.reply(&msg, 202, &[], "");
    assert_eq!(w.result(m).unwrap(), json!({ "status": 202 }));
    let m = w.action("message", r#"{"to":"nobody","text":"hello"}"#);
    let msg = w.take_request("MESSAGE");
    w.reply(&msg, 404, &[], "");
    assert_eq!(w.result(m).unwrap_err().status, Some(404));
    // Received ones are events.
    let incoming =
        "MESSAGE sip:alice@x.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1:5066;branch=z9hG4bKm1\r\n\
Max-Forwards: 69\r\nFrom: <sip:bob@example.com>;tag=b\r\nTo: <sip:alice@example.com>\r\nCall-ID: m1\r\n\
CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nyo";
    w.receive(incoming);
    assert!(w.events.contains(&PhoneEvent::Message {
        from: "sip:bob@example.com".into(),
        content_type: "text/plain".into(),
        body: "yo".into()
    }));
}

#[test]
fn mute_is_done_by_the_media_layer() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    w.auto_media = false;
    let m = w.action("mute", &call_args(&call));
    let r = w.media_reply("mute", Ok(String::new()));
    assert_eq!(r.kind, MediaKind::Mute { muted: true });
    assert!(w.result(m).is_ok());
    assert!(w.call_view(&call).muted);
    let u = w.action("unmute", &call_args(&call));
    w.media_reply("mute", Err("no track".into()));
    assert_eq!(w.result(u).unwrap_err().code, ErrorCode::MediaFailed);
    assert!(w.call_view(&call).muted, "still muted: unmute failed");
}

#[test]
fn dtmf_by_rtp_or_by_info() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let d = w.action("dtmf", &format!(r#"{{"call":"{call}","tones":"1#,9"}}"#));
    assert!(w.result(d).is_ok());
    let last = w.media_log.last().unwrap();
    assert_eq!(last.kind, MediaKind::Dtmf { tones: "1#,9".into(), duration_ms: 100, gap_ms: 70 });
    let d = w.action("dtmf", &format!(r#"{{"call":"{call}","tones":"4*","via":"info","duration":160}}"#));
    assert!(w.result(d).is_ok());
    let bodies: Vec<String> =
        (0..2).map(|_| String::from_utf8_lossy(&w.take_request("INFO").body).into_owned()).collect();
    assert_eq!(bodies, ["Signal=4\r\nDuration=160\r\n", "Signal=*\r\nDuration=160\r\n"]);
    // Not on a ringing call.
    let out = w.call("carol");
    let d = w.action("dtmf", &format!(r#"{{"call":"{out}","tones":"1"}}"#));
    assert_eq!(w.result(d).unwrap_err().code, ErrorCode::WrongState);
}

#[test]
fn an_action_without_outcome_times_out_once() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    w.auto_media = false;
    let m = w.action("mute", &call_args(&call));
    w.advance(Duration::from_secs(59));
    assert!(!w.has_result(m));
    w.advance(Duration::from_secs(1));
    assert_eq!(w.result(m).unwrap_err().code, ErrorCode::Timeout);
    w.media_reply("mute", Ok(String::new()));
    assert_eq!(w.results.iter().filter(|(id, _)| *id == m).count(), 1, "no second result");
}

#[test]
fn refusals_are_coded() {
    let mut w = World::registered();
    let cases = [
        ("dial", r#"{}"#, ErrorCode::UnknownAction),
        ("call", r#"{"to":""}"#, ErrorCode::BadArguments),
        ("call", r#"{"to":"tel:+15551234"}"#, ErrorCode::BadArguments),
        ("call", r#"{"to":"sip:"}"#, ErrorCode::BadArguments),
        ("call", r#"{"to":"bob","headers":{"Call-ID":"mine"}}"#, ErrorCode::BadArguments),
        ("hangup", r#"{"call":"nope"}"#, ErrorCode::NoSuchCall),
        ("mute", r#"{"call":"nope"}"#, ErrorCode::NoSuchCall),
        ("transfer", r#"{"call":"nope","to":"carol"}"#, ErrorCode::NoSuchCall),
        ("message", r#"{"to":"bob"}"#, ErrorCode::BadArguments),
    ];
    for (name, args, code) in cases {
        let id = w.action(name, args);
        assert_eq!(w.result(id).unwrap_err().code, code, "{name} {args}");
    }
    // A duplicate id while the first is pending.
    let (call, ..) = established(&mut w);
    w.auto_media = false;
    w.input(PhoneInput::Action { id: 900, name: "mute", args: &call_args(&call) });
    w.input(PhoneInput::Action { id: 900, name: "unmute", args: &call_args(&call) });
    let dup: Vec<_> = w.results.iter().filter(|(id, _)| *id == 900).collect();
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].1.as_ref().unwrap_err().code, ErrorCode::BadArguments);
}

#[test]
fn a_later_unregister_supersedes_a_register_and_a_lost_unregister_fails() {
    let mut w = World::registered();
    w.input(PhoneInput::Closed);
    // Not connected: the register waits for the reconnection...
    let r = w.action("register", "");
    assert!(!w.has_result(r));
    // ...until an unregister makes it moot.
    let u = w.action("unregister", "");
    assert_eq!(w.result(r).unwrap_err().code, ErrorCode::WrongState);
    assert!(w.result(u).is_ok());
    // An un-REGISTER whose connection drops is not sent again.
    w.advance(Duration::ZERO);
    w.input(PhoneInput::Opened);
    let r = w.action("register", "");
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 200, &[], "");
    assert!(w.result(r).is_ok());
    let u = w.action("unregister", "");
    w.take_request("REGISTER");
    w.input(PhoneInput::Closed);
    assert_eq!(w.result(u).unwrap_err().code, ErrorCode::NotConnected);
    assert_eq!(w.state().registration, Registration::Unregistered);
}

#[test]
fn an_unregister_the_registrar_refuses_fails_with_its_status() {
    let mut w = World::registered();
    let u = w.action("unregister", "");
    let unreg = w.take_request("REGISTER");
    w.reply(&unreg, 500, &[], "");
    let e = w.result(u).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::RequestFailed, Some(500)));
    assert_eq!(w.state().registration, Registration::Unregistered, "no refreshes any more");
}
