//! Offer/answer after setup: hold and unhold, refusals, the peer's re-offers
//! (RFC 3264 6.1 answers, remote hold), and the two crossing.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::Held;
use tabphone_phone::{Direction, ErrorCode};

#[test]
fn hold_and_unhold_resolve_when_the_answer_is_applied() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    w.auto_media = false;
    let hold = w.action("hold", &call_args(&call));
    let r = w.media_reply("offer", Ok(sdp("sendonly", 2)));
    assert_eq!(r.kind, MediaKind::Offer { direction: Direction::SendOnly, ice_restart: false });
    let reinvite = w.take_request("INVITE");
    assert_eq!(direction_of(&reinvite.body), "sendonly");
    assert_eq!(reinvite.headers.get("To").map(tag_of_header), Some("peer1".to_string()));
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 101));
    w.take_request("ACK");
    assert!(!w.has_result(hold), "waits for the answer to be applied");
    assert!(!w.call_view(&call).held.local);
    w.media_reply("apply", Ok(String::new()));
    assert_eq!(w.result(hold).unwrap(), json!({}));
    assert_eq!(w.call_view(&call).held, Held { local: true, remote: false });
    // Already held: at once.
    let again = w.action("hold", &call_args(&call));
    assert_eq!(w.result(again).unwrap(), json!({}));

    let unhold = w.action("unhold", &call_args(&call));
    let r = w.media_reply("offer", Ok(sdp("sendrecv", 3)));
    assert_eq!(r.kind, MediaKind::Offer { direction: Direction::SendRecv, ice_restart: false });
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("sendrecv", 102));
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(unhold).is_ok());
    assert!(!w.call_view(&call).held.local);
}

fn tag_of_header(v: &str) -> String {
    tag_of(Some(v))
}

#[test]
fn a_refused_hold_rolls_back_and_reports_the_status() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let hold = w.action("hold", &call_args(&call));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 488, &[], "");
    let e = w.result(hold).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::RequestFailed, Some(488)));
    assert_eq!(w.media_log.last().map(|r| &r.kind), Some(&MediaKind::Rollback));
    assert!(!w.call_view(&call).held.local);
    // The call goes on and can hold again.
    let hold = w.action("hold", &call_args(&call));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 5));
    assert!(w.result(hold).is_ok());
}

#[test]
fn hold_then_unhold_run_in_turn() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let hold = w.action("hold", &call_args(&call));
    let unhold = w.action("unhold", &call_args(&call));
    let first = w.take_request("INVITE");
    assert!(w.try_take_request("INVITE").is_none(), "one re-INVITE at a time");
    w.reply(&first, 200, &[], &sdp("recvonly", 5));
    assert!(w.result(hold).is_ok());
    let second = w.take_request("INVITE");
    assert_eq!(direction_of(&second.body), "sendrecv");
    w.reply(&second, 200, &[], &sdp("sendrecv", 6));
    assert!(w.result(unhold).is_ok());
    assert!(!w.call_view(&call).held.local);
}

#[test]
fn the_peer_holds_and_is_answered_recvonly() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    let ct = "Content-Type: application/sdp\r\n";
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, ct, &sdp("sendonly", 7)));
    let answer = w.media_log.iter().rev().find(|r| kind_name(&r.kind) == "answer").unwrap();
    assert!(matches!(&answer.kind, MediaKind::Answer { direction: Direction::RecvOnly, .. }));
    let (status, body) = w.take_responses().remove(0);
    assert_eq!((status, direction_of(body.as_bytes())), (200, "recvonly".to_string()));
    assert_eq!(w.call_view(&call).held, Held { local: false, remote: true });
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 20, "", ""));
    // Taken off hold.
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 21, ct, &sdp("sendrecv", 8)));
    let (_, body) = w.take_responses().remove(0);
    assert_eq!(direction_of(body.as_bytes()), "sendrecv");
    assert!(!w.call_view(&call).held.remote);
}

#[test]
fn while_holding_a_sendrecv_reoffer_is_answered_sendonly() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    let hold = w.action("hold", &call_args(&call));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 5));
    assert!(w.result(hold).is_ok());
    let ct = "Content-Type: application/sdp\r\n";
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, ct, &sdp("sendrecv", 9)));
    let (_, body) = w.take_responses().remove(0);
    assert_eq!(direction_of(body.as_bytes()), "sendonly");
}

#[test]
fn the_peers_offer_during_ours_is_answered_first() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    w.auto_media = false;
    let hold = w.action("hold", &call_args(&call));
    // bob re-offers while the media layer makes our hold offer.
    let ct = "Content-Type: application/sdp\r\n";
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, ct, &sdp("sendrecv", 9)));
    assert!(w.media_pending.iter().all(|r| kind_name(&r.kind) == "offer"), "no answer while offering");
    w.media_reply("offer", Ok(sdp("sendonly", 2)));
    assert!(w.try_take_request("INVITE").is_none());
    let kinds: Vec<&str> = w.media_log.iter().rev().take(2).map(|r| kind_name(&r.kind)).collect();
    assert_eq!(kinds, ["answer", "rollback"]);
    w.media_reply("answer", Ok(sdp("sendrecv", 3)));
    assert_eq!(w.take_responses()[0].0, 200);
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 20, "", ""));
    // Then our hold again, from a new offer.
    w.media_reply("offer", Ok(sdp("sendonly", 4)));
    let reinvite = w.take_request("INVITE");
    assert_eq!(String::from_utf8_lossy(&reinvite.body), sdp("sendonly", 4));
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 10));
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(hold).is_ok());
}

#[test]
fn an_offerless_reinvite_gets_our_offer() {
    let mut w = World::registered();
    let (_call, sip_call_id, tag) = established(&mut w);
    w.auto_media = false;
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, "", ""));
    w.media_reply("offer", Ok(sdp("sendrecv", 3)));
    assert_eq!(w.take_responses()[0], (200, sdp("sendrecv", 3)));
    let ack_sdp = sdp("sendrecv", 11);
    w.receive(&from_bob(
        "ACK",
        &sip_call_id,
        "peer1",
        &tag,
        20,
        "Content-Type: application/sdp\r\n",
        &ack_sdp,
    ));
    let r = w.media_reply("apply", Ok(String::new()));
    assert_eq!(r.kind, MediaKind::ApplyAnswer { answer: ack_sdp, provisional: false });
}

#[test]
fn a_reoffer_the_media_layer_cannot_answer_is_refused_with_488_and_the_call_goes_on() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    w.auto_media = false;
    let ct = "Content-Type: application/sdp\r\n";
    let video = "v=0\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\n";
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, ct, video));
    w.media_reply("answer", Err("no video here".into()));
    assert_eq!(w.take_responses(), [(488, String::new())]);
    assert!(w.try_take_request("BYE").is_none());
    let v = w.call_view(&call);
    assert_eq!((v.state, v.held.remote), (tabphone_phone::state::CallState::Established, false));
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, tabphone_phone::PhoneEvent::Error { call: Some(c), .. } if *c == call)));
    // bob ACKs the 488; his next offer is answered as usual.
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 20, "", ""));
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 21, ct, &sdp("sendonly", 8)));
    w.media_reply("answer", Ok(sdp("recvonly", 9)));
    assert_eq!(w.take_responses()[0].0, 200);
    assert!(w.call_view(&call).held.remote);
    // Hold still works: nothing was left half done.
    let hold = w.action("hold", &call_args(&call));
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 21, "", ""));
    w.media_reply("offer", Ok(sdp("sendonly", 10)));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 11));
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(hold).is_ok());
}

#[test]
fn hold_needs_an_established_call() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    let hold = w.action("hold", &call_args(&call));
    assert_eq!(w.result(hold).unwrap_err().code, ErrorCode::WrongState);
    let hold = w.action("hold", &call_args("nope"));
    assert_eq!(w.result(hold).unwrap_err().code, ErrorCode::NoSuchCall);
}

#[test]
fn an_ack_without_the_answer_does_not_block_the_call() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, "", ""));
    assert_eq!(w.take_responses()[0].0, 200, "our offer in the 200");
    let hold = w.action("hold", &call_args(&call));
    assert!(w.try_take_request("INVITE").is_none(), "waits for the answer in the ACK");
    // A broken peer: the ACK has no answer. Our offer is rolled back at once.
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 20, "", ""));
    assert_eq!(w.media_log.iter().rev().nth(1).map(|r| &r.kind), Some(&MediaKind::Rollback));
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, tabphone_phone::PhoneEvent::Error { call: Some(c), .. } if *c == call)));
    let reinvite = w.take_request("INVITE");
    w.reply(&reinvite, 200, &[], &sdp("recvonly", 5));
    assert!(w.result(hold).is_ok());
}

#[test]
fn an_error_of_the_sip_core_names_its_call() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let hold = w.action("hold", &call_args(&call));
    let reinvite = w.take_request("INVITE");
    // A challenge the SIP core cannot answer: its error is about this call.
    w.reply(&reinvite, 407, &[], "");
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, tabphone_phone::PhoneEvent::Error { call: Some(c), .. } if *c == call)));
    assert_eq!(w.result(hold).unwrap_err().status, Some(407));
}

#[test]
fn after_glare_the_hold_is_offered_afresh() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    let hold = w.action("hold", &call_args(&call));
    let ours = w.take_request("INVITE");
    // bob's re-INVITE crosses ours: the SIP core answers it 491; ours gets 491 too.
    let ct = "Content-Type: application/sdp\r\n";
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 20, ct, &sdp("sendrecv", 30)));
    assert_eq!(w.take_responses()[0].0, 491);
    w.reply(&ours, 491, &[], "");
    w.take_request("ACK");
    assert_eq!(w.media_log.last().map(|r| &r.kind), Some(&MediaKind::Rollback), "the stale offer is void");
    assert!(!w.has_result(hold), "glare is not the end of the hold");
    // bob retries first (we own the Call-ID: our wait is the longer one).
    w.receive(&from_bob("INVITE", &sip_call_id, "peer1", &tag, 21, ct, &sdp("sendrecv", 31)));
    assert_eq!(w.take_responses()[0].0, 200);
    w.receive(&from_bob("ACK", &sip_call_id, "peer1", &tag, 21, "", ""));
    let offers_before = w.media_log.iter().filter(|r| kind_name(&r.kind) == "offer").count();
    w.advance(std::time::Duration::from_secs(4));
    let offers: Vec<_> = w.media_log.iter().filter(|r| kind_name(&r.kind) == "offer").collect();
    assert_eq!(offers.len(), offers_before + 1, "a fresh offer");
    assert_eq!(
        offers.last().unwrap().kind,
        MediaKind::Offer { direction: Direction::SendOnly, ice_restart: false }
    );
    let retry = w.take_request("INVITE");
    assert_ne!(retry.body, ours.body);
    assert_eq!(direction_of(&retry.body), "sendonly");
    w.reply(&retry, 200, &[], &sdp("recvonly", 32));
    w.take_request("ACK");
    assert!(w.result(hold).is_ok());
    assert!(w.call_view(&call).held.local);
}
