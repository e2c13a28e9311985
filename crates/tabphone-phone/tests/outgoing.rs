//! Outgoing calls: from `call` to established and back, cancel, refusal,
//! media failure. Exact messages, states and results.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{CallDirection, CallState, EndCause, EndedCall, Peer};
use tabphone_phone::{Direction, ErrorCode, PhoneEvent};

#[test]
fn a_call_from_dial_to_hang_up() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    // The call exists before anything is sent: the media layer makes the offer.
    let v = w.call_view(&call);
    assert_eq!((v.state, v.direction), (CallState::Initial, CallDirection::Outgoing));
    assert_eq!(v.peer, Peer { uri: "sip:bob@example.com".into(), name: None });
    assert_eq!(v.started_at, T0_UNIX_MS);
    assert!(w.try_take_request("INVITE").is_none());
    let r = w.media_reply("offer", Ok(sdp("sendrecv", 1)));
    assert_eq!(r.kind, MediaKind::Offer { direction: Direction::SendRecv, ice_restart: false });
    assert_eq!(r.call, call);
    let invite = w.take_request("INVITE");
    assert_eq!(invite.uri, "sip:bob@example.com");
    assert_eq!(String::from_utf8_lossy(&invite.body), sdp("sendrecv", 1));
    assert_eq!(w.call_view(&call).state, CallState::Establishing);

    assert_eq!(w.call_view(&call).dialog, None, "no peer tag yet");
    w.reply(&invite, 180, &[], "");
    assert_eq!(w.call_view(&call).state, CallState::Ringing);
    w.now += std::time::Duration::from_millis(1500);
    let answer = sdp("sendrecv", 9);
    w.reply(&invite, 200, &[], &answer);
    w.take_request("ACK");
    let v = w.call_view(&call);
    assert_eq!(v.state, CallState::Established);
    assert_eq!(v.answered_at, Some(T0_UNIX_MS + 1500));
    let d = v.dialog.expect("the dialog, once the peer's tag is known");
    assert_eq!(d.call_id, invite.headers.get("Call-ID").unwrap());
    assert_eq!((d.local_tag, d.remote_tag), (tag_of(invite.headers.get("From")), "peer1".to_string()));
    assert_eq!(
        (d.local_uri.as_str(), d.remote_uri.as_str()),
        ("sip:alice@example.com", "sip:bob@example.com")
    );
    assert_eq!((d.local_cseq, d.remote_cseq), (1, None));
    assert_eq!(d.remote_target, "sip:bob@192.0.2.9;transport=ws");
    assert_eq!(d.route_set, ["<sip:127.0.0.1:5066;transport=ws;lr>"]);
    let apply = w.media_reply("apply", Ok(String::new()));
    assert_eq!(apply.kind, MediaKind::ApplyAnswer { answer, provisional: false });

    let hangup = w.action("hangup", &format!(r#"{{"call":"{call}"}}"#));
    assert_eq!(w.result(hangup).unwrap(), json!({}));
    assert_eq!(w.call_view(&call).state, CallState::Terminating);
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    let s = w.state();
    assert!(s.calls.is_empty());
    assert_eq!(s.ended.last().unwrap().cause, EndCause::Local);
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: call.clone(), cause: EndCause::Local }));
    assert_eq!(w.media_log.last().map(|r| (&r.kind, &r.call)), Some((&MediaKind::Close, &call)));
}

#[test]
fn the_apps_headers_go_into_the_invite() {
    let mut w = World::registered();
    let id = w.action("call", r#"{"to":"bob","headers":{"X-Ticket":"T-42","Subject":"support"}}"#);
    assert!(w.result(id).is_ok());
    let invite = w.take_request("INVITE");
    assert_eq!(invite.headers.get("X-Ticket"), Some("T-42"));
    assert_eq!(invite.headers.get("Subject"), Some("support"));
}

#[test]
fn an_early_answer_is_applied_once() {
    let mut w = World::registered();
    let call = w.call("bob");
    let invite = w.take_request("INVITE");
    let early = sdp("sendrecv", 5);
    w.reply(&invite, 183, &[], &early);
    w.reply(&invite, 200, &[], &early);
    let applied: Vec<_> = w.media_log.iter().filter(|r| kind_name(&r.kind) == "apply").collect();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].kind, MediaKind::ApplyAnswer { answer: early, provisional: true });
    assert_eq!(w.call_view(&call).state, CallState::Established);
}

#[test]
fn hang_up_while_ringing_cancels() {
    let mut w = World::registered();
    let call = w.call("bob");
    let invite = w.take_request("INVITE");
    w.reply(&invite, 180, &[], "");
    let hangup = w.action("hangup", &format!(r#"{{"call":"{call}"}}"#));
    assert!(w.result(hangup).is_ok());
    let cancel = w.take_request("CANCEL");
    w.reply(&cancel, 200, &[], "");
    w.reply(&invite, 487, &[], "");
    assert!(w.try_take_request("ACK").is_some());
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Local);
    // A second hangup: the call is gone.
    let again = w.action("hangup", &format!(r#"{{"call":"{call}"}}"#));
    assert_eq!(w.result(again).unwrap_err().code, ErrorCode::NoSuchCall);
}

#[test]
fn hang_up_while_the_offer_is_made_sends_nothing() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    let hangup = w.action("hangup", &format!(r#"{{"call":"{call}"}}"#));
    assert!(w.result(hangup).is_ok());
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Local);
    // The late offer is ignored.
    w.media_reply("offer", Ok(sdp("sendrecv", 1)));
    assert!(w.try_take_request("INVITE").is_none());
}

#[test]
fn a_refused_call_ends_with_its_status() {
    let mut w = World::registered();
    let call = w.call("sip:carol@example.org");
    let invite = w.take_request("INVITE");
    assert_eq!(invite.uri, "sip:carol@example.org");
    w.reply(&invite, 486, &[], "");
    let ended = w.state().ended.last().cloned().unwrap();
    assert_eq!(ended, EndedCall { id: call, cause: EndCause::Failed { status: 486 }, at: T0_UNIX_MS });
    let text = w.state_texts.last().unwrap();
    assert!(text.contains(r#""cause":"failed","status":486"#), "{text}");
}

#[test]
fn no_microphone_ends_the_call_before_the_invite() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    w.media_reply("offer", Err("NotAllowedError: permission denied".into()));
    assert!(w.try_take_request("INVITE").is_none());
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::MediaFailed);
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, PhoneEvent::Error { call: Some(c), message } if *c == call && message.contains("permission"))));
}

#[test]
fn a_wrong_answer_sdp_hangs_up() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    w.media_reply("offer", Ok(sdp("sendrecv", 1)));
    let invite = w.take_request("INVITE");
    w.reply(&invite, 200, &[], &sdp("sendrecv", 2));
    w.take_request("ACK");
    w.media_reply("apply", Err("InvalidAccessError".into()));
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    assert_eq!(w.state().ended.last().map(|e| (e.id.clone(), e.cause)), Some((call, EndCause::MediaFailed)));
}
