//! Transfers both ways: ours (blind and attended REFER, the NOTIFYs that
//! follow, hanging up after success) and the peer's (followed with a new
//! call whose progress goes back by NOTIFY), and a call that replaces another.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use tabphone_phone::state::{CallState, EndCause};
use tabphone_phone::{ErrorCode, PhoneEvent};

const SIPFRAG: &str =
    "Event: refer\r\nSubscription-State: active;expires=60\r\nContent-Type: message/sipfrag\r\n";

fn notify(w: &mut World, sip_call_id: &str, tag: &str, cseq: u32, status: u16) {
    let frag = format!("SIP/2.0 {status} {}\r\n", tabphone_sip::msg::reason_phrase(status));
    w.receive(&from_bob("NOTIFY", sip_call_id, "peer1", tag, cseq, SIPFRAG, &frag));
    assert_eq!(w.take_responses()[0].0, 200);
}

#[test]
fn blind_transfer_ends_our_call_when_the_target_answered() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    let t = w.action("transfer", &format!(r#"{{"call":"{call}","to":"carol"}}"#));
    let refer = w.take_request("REFER");
    assert_eq!(refer.headers.get("Refer-To"), Some("<sip:carol@example.com>"));
    // A second transfer before the first is accepted.
    let t2 = w.action("transfer", &format!(r#"{{"call":"{call}","to":"dave"}}"#));
    assert_eq!(w.result(t2).unwrap_err().code, ErrorCode::WrongState);
    w.reply(&refer, 202, &[], "");
    assert_eq!(w.result(t).unwrap(), json!({}));
    notify(&mut w, &sip_call_id, &tag, 30, 100);
    assert!(w.events.contains(&PhoneEvent::TransferProgress { call: call.clone(), status: 100 }));
    assert_eq!(w.call_view(&call).state, CallState::Established);
    notify(&mut w, &sip_call_id, &tag, 31, 200);
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    assert_eq!(w.state().ended.last().map(|e| e.cause), Some(EndCause::Transferred));
}

#[test]
fn a_refused_transfer_keeps_the_call() {
    let mut w = World::registered();
    let (call, sip_call_id, tag) = established(&mut w);
    let t = w.action("transfer", &format!(r#"{{"call":"{call}","to":"carol"}}"#));
    let refer = w.take_request("REFER");
    w.reply(&refer, 603, &[], "");
    let e = w.result(t).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::RequestFailed, Some(603)));
    // Accepted, but carol is busy: the call goes on.
    let t = w.action("transfer", &format!(r#"{{"call":"{call}","to":"carol"}}"#));
    let refer = w.take_request("REFER");
    w.reply(&refer, 202, &[], "");
    assert!(w.result(t).is_ok());
    notify(&mut w, &sip_call_id, &tag, 30, 486);
    assert!(w.try_take_request("BYE").is_none());
    assert_eq!(w.call_view(&call).state, CallState::Established);
}

#[test]
fn attended_transfer_refers_with_replaces() {
    let mut w = World::registered();
    let (bob, ..) = established(&mut w);
    let (carol, carol_call_id, carol_tag) = established(&mut w);
    let t = w.action("attendedTransfer", &format!(r#"{{"call":"{bob}","with":"{carol}"}}"#));
    let refer = w.take_request("REFER");
    let refer_to = refer.headers.get("Refer-To").unwrap();
    assert!(refer_to.contains(&format!("Replaces={carol_call_id}")), "{refer_to}");
    assert!(refer_to.contains(&format!("to-tag%3Dpeer1%3Bfrom-tag%3D{carol_tag}")), "{refer_to}");
    w.reply(&refer, 202, &[], "");
    assert!(w.result(t).is_ok());
    // The consultation call must be established too.
    let ringing = w.call("dave");
    let t = w.action("attendedTransfer", &format!(r#"{{"call":"{bob}","with":"{ringing}"}}"#));
    assert_eq!(w.result(t).unwrap_err().code, ErrorCode::WrongState);
}

#[test]
fn the_peers_transfer_is_followed_and_reported() {
    let mut w = World::registered();
    let (bob, sip_call_id, tag) = established(&mut w);
    let refer_to = "Refer-To: <sip:carol@example.com>\r\n";
    w.receive(&from_bob("REFER", &sip_call_id, "peer1", &tag, 40, refer_to, ""));
    assert_eq!(w.take_responses()[0].0, 202);
    let n100 = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n100.body).starts_with("SIP/2.0 100"));
    w.reply(&n100, 200, &[], "");
    let Some(PhoneEvent::TransferRequested { call, to, new_call: Some(new_call) }) =
        w.events.iter().find(|e| matches!(e, PhoneEvent::TransferRequested { .. })).cloned()
    else {
        panic!("no transfer event: {:?}", w.events)
    };
    assert_eq!((call.as_str(), to.as_str()), (bob.as_str(), "sip:carol@example.com"));
    let invite = w.take_request("INVITE");
    assert_eq!(invite.uri, "sip:carol@example.com");
    w.reply(&invite, 180, &[], "");
    let n180 = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n180.body).starts_with("SIP/2.0 180"));
    w.reply(&n180, 200, &[], "");
    w.reply(&invite, 200, &[], &sdp("sendrecv", 50));
    w.take_request("ACK");
    let n200 = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n200.body).starts_with("SIP/2.0 200"));
    assert!(n200.headers.get("Subscription-State").unwrap().starts_with("terminated"));
    assert_eq!(w.call_view(&new_call).state, CallState::Established);
    // bob (the transferor) hangs up; carol's call stays.
    w.receive(&from_bob("BYE", &sip_call_id, "peer1", &tag, 41, "", ""));
    assert_eq!(w.state().calls.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), [new_call]);
}

#[test]
fn a_failed_followed_transfer_reports_its_status() {
    let mut w = World::registered();
    let (_bob, sip_call_id, tag) = established(&mut w);
    w.receive(&from_bob(
        "REFER",
        &sip_call_id,
        "peer1",
        &tag,
        40,
        "Refer-To: <sip:carol@example.com>\r\n",
        "",
    ));
    w.take_request("NOTIFY");
    let invite = w.take_request("INVITE");
    w.reply(&invite, 486, &[], "");
    let n = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n.body).starts_with("SIP/2.0 486"));
}

#[test]
fn an_attended_transfer_as_the_transferee_invites_with_replaces() {
    let mut w = World::registered();
    let (_bob, sip_call_id, tag) = established(&mut w);
    let refer_to = "Refer-To: <sip:carol@example.com?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n";
    w.receive(&from_bob("REFER", &sip_call_id, "peer1", &tag, 40, refer_to, ""));
    w.take_request("NOTIFY"); // 100
    let invite = w.take_request("INVITE");
    assert_eq!(invite.uri, "sip:carol@example.com");
    assert_eq!(invite.headers.get("Replaces"), Some("abc;to-tag=1;from-tag=2"));
    w.reply(&invite, 200, &[], &sdp("sendrecv", 60));
    let n = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n.body).starts_with("SIP/2.0 200"));
}

#[test]
fn a_transfer_whose_refer_to_carries_a_header_we_write_is_refused() {
    let mut w = World::registered();
    let (bob, sip_call_id, tag) = established(&mut w);
    let refer_to = "Refer-To: <sip:carol@example.com?Call-ID=stolen>\r\n";
    w.receive(&from_bob("REFER", &sip_call_id, "peer1", &tag, 40, refer_to, ""));
    w.take_request("NOTIFY"); // 100
    let n = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n.body).starts_with("SIP/2.0 400"));
    assert!(w.try_take_request("INVITE").is_none());
    assert!(w.events.iter().any(|e| matches!(e, PhoneEvent::Error { call: Some(c), .. } if *c == bob)));
}

#[test]
fn transfers_are_refused_when_not_followed() {
    let mut config = config();
    config.follow_transfers = false;
    let mut w = World::new(config);
    w.input(tabphone_phone::PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None });
    w.input(tabphone_phone::PhoneInput::Opened);
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 200, &[], "");
    let (_bob, sip_call_id, tag) = established(&mut w);
    w.receive(&from_bob(
        "REFER",
        &sip_call_id,
        "peer1",
        &tag,
        40,
        "Refer-To: <sip:carol@example.com>\r\n",
        "",
    ));
    w.take_request("NOTIFY");
    let n = w.take_request("NOTIFY");
    assert!(String::from_utf8_lossy(&n.body).starts_with("SIP/2.0 603"));
    assert!(w.try_take_request("INVITE").is_none());
}

#[test]
fn a_call_that_replaces_ours_is_answered_and_ours_ends() {
    // We are carol in an attended transfer: bob's INVITE replaces our call with alice.
    let mut w = World::registered();
    let (old, sip_call_id, tag) = established(&mut w);
    let replaces = format!("Replaces: {sip_call_id};to-tag={tag};from-tag=peer1\r\n");
    let invite = invite_from_bob("rep1", Some(&sdp("sendrecv", 1))).replacen(
        "Max-Forwards",
        &format!("{replaces}Max-Forwards"),
        1,
    );
    w.receive(&invite);
    let Some(PhoneEvent::Incoming { call: new, replaces: Some(r), .. }) =
        w.events.iter().find(|e| matches!(e, PhoneEvent::Incoming { .. })).cloned()
    else {
        panic!("no incoming: {:?}", w.events)
    };
    assert_eq!(r, old);
    let statuses: Vec<u16> = w.take_responses().into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses, [100, 180, 200], "answered without an action");
    w.receive(&from_bob("ACK", "rep1", "bobtag", &w.our_tag(), 10, "", ""));
    let bye = w.take_request("BYE");
    assert_eq!(bye.headers.get("Call-ID"), Some(sip_call_id.as_str()));
    w.reply(&bye, 200, &[], "");
    assert_eq!(w.state().ended.last().map(|e| (e.id.clone(), e.cause)), Some((old, EndCause::Replaced)));
    assert_eq!(w.call_view(&new).state, CallState::Established);
}
