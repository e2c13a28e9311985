//! Incoming calls: ringing, answer (RFC 3264 directions), decline, hangup
//! while ringing, the caller giving up, a media failure, an offerless INVITE.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{CallDirection, CallState, EndCause, Peer};
use tabphone_phone::{Direction, ErrorCode, PhoneEvent};

/// bob calls with `offer`; the call id.
fn ringing(w: &mut World, call_id: &str, offer: Option<&str>) -> String {
    w.receive(&invite_from_bob(call_id, offer));
    let statuses: Vec<u16> = w.take_responses().into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses, [100, 180]);
    let Some(PhoneEvent::Incoming { call, peer, replaces: None }) =
        w.events.iter().rev().find(|e| matches!(e, PhoneEvent::Incoming { .. })).cloned()
    else {
        panic!("no incoming event: {:?}", w.events)
    };
    assert_eq!(peer, Peer { uri: "sip:bob@example.com".into(), name: Some("Bob".into()) });
    call
}

fn args(call: &str) -> String {
    format!(r#"{{"call":"{call}"}}"#)
}

#[test]
fn answered_with_the_media_layers_answer() {
    let mut w = World::registered();
    w.auto_media = false;
    let offer = sdp("sendrecv", 1);
    let call = ringing(&mut w, "in1", Some(&offer));
    let v = w.call_view(&call);
    assert_eq!((v.state, v.direction, v.held.remote), (CallState::Ringing, CallDirection::Incoming, false));
    let answer = w.action("answer", &args(&call));
    let r = w.media_reply("answer", Ok(sdp("sendrecv", 2)));
    assert_eq!(r.kind, MediaKind::Answer { offer, direction: Direction::SendRecv, fresh: false });
    let sent = w.take_responses();
    assert_eq!(sent, [(200, sdp("sendrecv", 2))]);
    assert_eq!(w.call_view(&call).state, CallState::Establishing);
    assert!(!w.has_result(answer), "the answer action waits for the ACK");
    let tag = w.our_tag();
    w.receive(&from_bob("ACK", "in1", "bobtag", &tag, 10, "", ""));
    assert_eq!(w.result(answer).unwrap(), json!({}));
    assert_eq!(w.call_view(&call).state, CallState::Established);
    // bob hangs up.
    w.receive(&from_bob("BYE", "in1", "bobtag", &tag, 11, "", ""));
    assert_eq!(w.take_responses()[0].0, 200);
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Remote);
}

#[test]
fn a_call_on_hold_from_the_start_is_answered_recvonly() {
    // RFC 3264 6.1: a sendonly offer gets a recvonly answer (the interop bug of the CLI).
    let mut w = World::registered();
    let call = ringing(&mut w, "in2", Some(&sdp("sendonly", 1)));
    assert!(w.call_view(&call).held.remote);
    w.action("answer", &args(&call));
    let (status, body) = w.take_responses().remove(0);
    assert_eq!((status, direction_of(body.as_bytes())), (200, "recvonly".to_string()));
}

#[test]
fn decline_sends_603_or_the_status_given() {
    let mut w = World::registered();
    let call = ringing(&mut w, "in3", Some(&sdp("sendrecv", 1)));
    let d = w.action("decline", &args(&call));
    assert_eq!(w.result(d).unwrap(), json!({}));
    assert_eq!(w.take_responses()[0].0, 603);
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Declined { status: 603 });

    let call = ringing(&mut w, "in4", Some(&sdp("sendrecv", 1)));
    w.action("decline", &format!(r#"{{"call":"{call}","status":486}}"#));
    assert_eq!(w.take_responses()[0].0, 486);
    // Declining twice, or an unknown call.
    let again = w.action("decline", &args(&call));
    assert_eq!(w.result(again).unwrap_err().code, ErrorCode::NoSuchCall);
}

#[test]
fn hangup_of_a_ringing_call_refuses_it() {
    let mut w = World::registered();
    let call = ringing(&mut w, "in5", Some(&sdp("sendrecv", 1)));
    let h = w.action("hangup", &args(&call));
    assert!(w.result(h).is_ok());
    assert_eq!(w.take_responses()[0].0, 480);
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Declined { status: 480 });
}

#[test]
fn the_caller_gives_up_while_the_answer_is_made() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = ringing(&mut w, "in6", Some(&sdp("sendrecv", 1)));
    let answer = w.action("answer", &args(&call));
    // A second answer while the first is under way.
    let twice = w.action("answer", &args(&call));
    assert_eq!(w.result(twice).unwrap_err().code, ErrorCode::WrongState);
    let cancel = invite_from_bob("in6", Some(&sdp("sendrecv", 1)))
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 10 INVITE", "CSeq: 10 CANCEL");
    let cancel = cancel.split("Content-Type").next().unwrap().to_string() + "Content-Length: 0\r\n\r\n";
    w.receive(&cancel);
    let statuses: Vec<u16> = w.take_responses().into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses, [200, 487]);
    assert_eq!(w.result(answer).unwrap_err().code, ErrorCode::CallEnded);
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Remote);
    // The late answer from the media layer goes nowhere.
    w.media_reply("answer", Ok(sdp("sendrecv", 2)));
    assert!(w.take_responses().is_empty());
}

#[test]
fn an_offer_the_media_layer_cannot_answer_gets_488() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = ringing(&mut w, "in7", Some("v=0\r\nm=video 9 RTP/AVP 96\r\n"));
    let answer = w.action("answer", &args(&call));
    w.media_reply("answer", Err("no common codec".into()));
    assert_eq!(w.result(answer).unwrap_err().code, ErrorCode::MediaFailed);
    assert_eq!(w.take_responses()[0].0, 488);
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::MediaFailed);
}

#[test]
fn an_offerless_invite_gets_our_offer_and_the_ack_brings_the_answer() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = ringing(&mut w, "in8", None);
    let answer = w.action("answer", &args(&call));
    let r = w.media_reply("offer", Ok(sdp("sendrecv", 3)));
    assert_eq!(r.kind, MediaKind::Offer { direction: Direction::SendRecv, ice_restart: false });
    let (status, body) = w.take_responses().remove(0);
    assert_eq!((status, body), (200, sdp("sendrecv", 3)));
    let ack_sdp = sdp("sendrecv", 4);
    let ack =
        from_bob("ACK", "in8", "bobtag", &w.our_tag(), 10, "Content-Type: application/sdp\r\n", &ack_sdp);
    w.receive(&ack);
    assert_eq!(w.result(answer).unwrap(), json!({}));
    let apply = w.media_reply("apply", Ok(String::new()));
    assert_eq!(apply.kind, MediaKind::ApplyAnswer { answer: ack_sdp, provisional: false });
}

#[test]
fn an_offerless_invite_whose_ack_brings_no_answer_ends() {
    let mut w = World::registered();
    let call = ringing(&mut w, "in9", None);
    let answer = w.action("answer", &args(&call));
    assert_eq!(w.take_responses()[0].0, 200);
    w.receive(&from_bob("ACK", "in9", "bobtag", &w.our_tag(), 10, "", ""));
    assert!(w.result(answer).is_ok(), "answered");
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    assert_eq!(w.state().ended.last().map(|e| (e.id.clone(), e.cause)), Some((call, EndCause::MediaFailed)));
}

#[test]
fn answer_and_decline_need_an_incoming_ringing_call() {
    let mut w = World::registered();
    let out = w.call("bob");
    for name in ["answer", "decline"] {
        let id = w.action(name, &args(&out));
        assert_eq!(w.result(id).unwrap_err().code, ErrorCode::WrongState, "{name}");
    }
}
