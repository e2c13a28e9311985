//! The user agent against a scripted server: registration, calls, in-dialog
//! requests, recovery and bad input. Exact messages and timings.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::harness::*;
use tabphone_sip::auth::{self, Credentials};
use tabphone_sip::msg::NameAddr;
use tabphone_sip::transport::Cause;
use tabphone_sip::ua::{Command, EndCause, Event, Input, SessionState};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn digest_params(v: &str) -> std::collections::HashMap<String, String> {
    v.trim_start_matches("Digest ")
        .split(", ")
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

#[test]
fn registers_with_sha256_digest_and_instance_id() {
    let mut h = Harness::new(config());
    h.command(Command::Start);
    assert_eq!(h.connects, vec![SERVER.to_string()]);
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.uri, "sip:example.com");
    let contact = reg.headers.get("Contact").unwrap();
    assert!(
        contact.contains("+sip.instance=\"<urn:uuid:6c1f1c9e-1111-4a4a-8b8b-000000000001>\""),
        "{contact}"
    );
    assert!(contact.contains(";reg-id=1"), "{contact}");
    assert_eq!(reg.headers.get("Expires"), Some("600"));
    assert!(reg.headers.get("Via").unwrap().starts_with("SIP/2.0/WS "));
    let challenge =
        "Digest realm=\"example.com\", nonce=\"n0nce\", qop=\"auth\", algorithm=SHA-256, opaque=\"op\"";
    h.reply(&reg, 401, &[("WWW-Authenticate", challenge)], "");
    let reg2 = h.take_request("REGISTER");
    assert_eq!(reg2.cseq().unwrap().seq, reg.cseq().unwrap().seq + 1);
    assert_eq!(reg2.headers.get("Call-ID"), reg.headers.get("Call-ID"));
    assert_ne!(reg2.headers.get("Via"), reg.headers.get("Via"), "a new branch");
    let authz = reg2.headers.get("Authorization").unwrap();
    let p = digest_params(authz);
    assert_eq!(p["algorithm"], "SHA-256");
    assert_eq!(p["nc"], "00000001");
    assert_eq!(p["opaque"], "op");
    // Recompute the answer from its own cnonce: the password was used right.
    let c = auth::parse_challenge(challenge).unwrap();
    let expect = auth::answer(
        &c,
        &Credentials { username: "alice", password: "secret" },
        "REGISTER",
        "sip:example.com",
        1,
        &p["cnonce"],
    );
    assert_eq!(digest_params(&expect)["response"], p["response"]);
    h.reply(&reg2, 200, &[("Contact", &format!("{contact};expires=600"))], "");
    assert_eq!(h.take_events().last(), Some(&Event::Registered { expires: 600, bindings: 1 }));
    assert!(h.ua.is_registered());
}

#[test]
fn refreshes_with_a_sane_margin() {
    let mut h = Harness::registered();
    // expires=600: refresh 30 s before expiry.
    h.advance(secs(569));
    assert!(h.try_take_request("REGISTER").is_none());
    h.advance(secs(1));
    let reg = h.take_request("REGISTER");
    // The server grants only 60 s this time: refresh at half, 30 s.
    let contact = reg.headers.get("Contact").unwrap().replace("expires=600", "expires=60");
    h.reply(&reg, 200, &[("Contact", &contact)], "");
    assert_eq!(h.take_events(), vec![Event::Registered { expires: 60, bindings: 1 }]);
    h.advance(secs(29));
    assert!(h.try_take_request("REGISTER").is_none());
    h.advance(secs(1));
    h.take_request("REGISTER");
}

#[test]
fn interval_too_brief_raises_expires() {
    let (mut h, reg) = Harness::connected(config());
    h.reply(&reg, 423, &[("Min-Expires", "1800")], "");
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.headers.get("Expires"), Some("1800"));
    assert!(reg.headers.get("Contact").unwrap().ends_with("expires=1800"));
    h.reply(&reg, 200, &[], "");
    assert_eq!(h.take_events().last(), Some(&Event::Registered { expires: 1800, bindings: 0 }));
}

#[test]
fn wrong_password_fails_after_one_retry() {
    let challenge = [("WWW-Authenticate", "Digest realm=\"example.com\", nonce=\"a\", qop=\"auth\"")];
    let (mut h, reg) = Harness::connected(config());
    h.reply(&reg, 401, &challenge, "");
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 401, &challenge, "");
    assert!(h.try_take_request("REGISTER").is_none(), "no loop on a wrong password");
    assert_eq!(h.take_events().last(), Some(&Event::RegistrationFailed { status: Some(401) }));
}

#[test]
fn a_server_error_on_register_is_retried_later() {
    let (mut h, reg) = Harness::connected(config());
    h.reply(&reg, 503, &[("Retry-After", "5")], "");
    assert_eq!(h.take_events().last(), Some(&Event::RegistrationFailed { status: Some(503) }));
    h.advance(Duration::from_millis(4999));
    assert!(h.try_take_request("REGISTER").is_none());
    h.advance(Duration::from_millis(1));
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 500, &[], "");
    h.advance(secs(29));
    assert!(h.try_take_request("REGISTER").is_none());
    h.advance(secs(1));
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    assert!(h.ua.is_registered());
}

#[test]
fn unanswered_register_closes_and_recovers() {
    let (mut h, _) = Harness::connected(config());
    h.take_events();
    h.advance(Duration::from_millis(4999));
    assert_eq!(h.closes, 0);
    h.advance(Duration::from_millis(1));
    assert_eq!(h.closes, 1);
    let ev = h.take_events();
    assert!(ev.contains(&Event::RegistrationFailed { status: None }), "{ev:?}");
    assert!(ev.contains(&Event::Disconnected { cause: Cause::Requested }), "{ev:?}");
    assert_eq!(h.connects.len(), 2, "reconnects at once");
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    let ev = h.take_events();
    assert!(ev.contains(&Event::Registered { expires: 600, bindings: 0 }), "{ev:?}");
    assert!(ev.contains(&Event::Recovered), "{ev:?}");
}

#[test]
fn unregister_and_stop() {
    let mut h = Harness::registered();
    h.command(Command::Unregister);
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.headers.get("Expires"), Some("0"));
    assert!(reg.headers.get("Contact").unwrap().ends_with(";expires=0"));
    h.reply(&reg, 200, &[], "");
    assert_eq!(h.take_events(), vec![Event::Unregistered]);
    // No refresh after an unregister.
    h.advance(secs(3600));
    assert!(h.try_take_request("REGISTER").is_none());

    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Stop);
    let bye = h.take_request("BYE");
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.headers.get("Expires"), Some("0"));
    h.reply(&bye, 200, &[], "");
    assert_eq!(h.closes, 0, "waits for the unregister");
    h.reply(&reg, 200, &[], "");
    assert_eq!(h.closes, 1);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Ended { call, cause: EndCause::Local }), "{ev:?}");
    assert_eq!(ev.last(), Some(&Event::Stopped), "{ev:?}");
    // A stopped agent never reconnects on its own.
    h.input(Input::Closed);
    h.advance(secs(600));
    assert_eq!(h.connects.len(), 1);
}

#[test]
fn stop_does_not_wait_forever_for_a_silent_server() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Stop);
    h.take_request("BYE");
    h.take_request("REGISTER");
    h.advance(secs(2));
    assert_eq!(h.closes, 1);
    // The BYE was never answered: the call still ends with its event (the
    // property test found it vanishing silently here).
    let ev = h.take_events();
    assert_eq!(ev[ev.len() - 2..], [Event::Ended { call, cause: EndCause::Local }, Event::Stopped], "{ev:?}");
}

#[test]
fn messages_pending_or_sent_while_stopping_get_a_result() {
    let mut h = Harness::registered();
    let msg = |id| Command::Message {
        id,
        target: "bob".into(),
        content_type: "text/plain".into(),
        body: "x".into(),
    };
    h.command(msg(1));
    h.take_request("MESSAGE");
    h.command(Command::Stop);
    h.command(msg(2));
    h.advance(secs(2));
    let results: Vec<Event> =
        h.take_events().into_iter().filter(|e| matches!(e, Event::MessageResult { .. })).collect();
    assert_eq!(
        results,
        vec![Event::MessageResult { id: 2, status: 503 }, Event::MessageResult { id: 1, status: 503 }]
    );
}

/// Call bob, get 407, 180 with early SDP, then 200 through two Record-Routes.
fn establish_outgoing(h: &mut Harness) -> tabphone_sip::ua::CallId {
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    assert_eq!(inv.uri, "sip:bob@example.com");
    assert_eq!(String::from_utf8_lossy(&inv.body), OFFER);
    h.reply(
        &inv,
        407,
        &[("Proxy-Authenticate", "Digest realm=\"example.com\", nonce=\"p\", qop=\"auth\"")],
        "",
    );
    let ack = h.take_request("ACK");
    assert_eq!(ack.headers.get("Via"), inv.headers.get("Via"), "ACK of a failure: same branch");
    assert_eq!(ack.cseq().unwrap().seq, inv.cseq().unwrap().seq);
    let inv2 = h.take_request("INVITE");
    assert!(inv2.headers.get("Proxy-Authorization").unwrap().contains("uri=\"sip:bob@example.com\""));
    assert_eq!(inv2.cseq().unwrap().seq, 2);
    assert_eq!(inv2.headers.get("From"), inv.headers.get("From"));
    h.reply(&inv2, 100, &[], "");
    h.reply(&inv2, 180, &[], ANSWER);
    assert_eq!(h.take_events(), vec![Event::Progress { call, status: 180, sdp: Some(ANSWER.into()) }]);
    h.reply(
        &inv2,
        200,
        &[
            ("Record-Route", "<sip:127.0.0.1;r2=on;lr>"),
            ("Record-Route", "<sip:127.0.0.1:5066;transport=ws;r2=on;lr>"),
            ("Contact", "<sip:bob@10.0.0.2;transport=ws>"),
            ("Content-Type", "application/sdp"),
        ],
        ANSWER,
    );
    let ack = h.take_request("ACK");
    assert_eq!(ack.uri, "sip:bob@10.0.0.2;transport=ws");
    let routes: Vec<&str> = ack.headers.get_all("Route").collect();
    assert_eq!(routes, vec!["<sip:127.0.0.1:5066;transport=ws;r2=on;lr>", "<sip:127.0.0.1;r2=on;lr>"]);
    assert_eq!(ack.headers.get("CSeq"), Some("2 ACK"));
    assert_eq!(tag_of(ack.headers.get("To")), "srvtag");
    assert_eq!(h.take_events(), vec![Event::Established { call, sdp: Some(ANSWER.into()) }]);
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
    call
}

#[test]
fn outgoing_call_with_auth_progress_answer_and_bye() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    let before = h.raw.len();
    h.command(Command::Hangup { call });
    let bye = h.take_request("BYE");
    assert_eq!(bye.headers.get("CSeq"), Some("3 BYE"));
    assert_eq!(bye.headers.get_all("Route").count(), 2);
    assert_eq!(h.ua.call_state(call), Some(SessionState::Terminating));
    h.reply(&bye, 200, &[], "");
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Local }]);
    assert_eq!(h.ua.call_state(call), None);
    assert_eq!(h.raw.len(), before + 1, "the BYE and nothing else");
}

#[test]
fn a_second_2xx_from_another_fork_is_acked_and_ended() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    let inv = h.raw.iter().rev().find(|t| t.starts_with("INVITE ")).unwrap().clone();
    let Ok(tabphone_sip::msg::Message::Request(inv)) = tabphone_sip::msg::parse(inv.as_bytes()) else {
        panic!()
    };
    let fork = response_text(
        &inv,
        200,
        Some("fork2"),
        &[("Contact", "<sip:bob@10.0.0.9;transport=ws>"), ("Record-Route", "<sip:127.0.0.1;lr>")],
        ANSWER,
    );
    h.receive(&fork);
    let ack = h.take_request("ACK");
    let bye = h.take_request("BYE");
    for r in [&ack, &bye] {
        assert_eq!(r.uri, "sip:bob@10.0.0.9;transport=ws");
        assert_eq!(tag_of(r.headers.get("To")), "fork2");
        assert_eq!(r.headers.get("Route"), Some("<sip:127.0.0.1;lr>"));
    }
    assert_eq!(bye.cseq().unwrap().seq, ack.cseq().unwrap().seq + 1);
    assert!(h.take_events().is_empty(), "the call is not disturbed");
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
    // A retransmission of the first answer is ACKed in its own dialog.
    let first =
        response_text(&inv, 200, Some("srvtag"), &[("Contact", "<sip:bob@10.0.0.2;transport=ws>")], ANSWER);
    h.receive(&first);
    let ack = h.take_request("ACK");
    assert_eq!(tag_of(ack.headers.get("To")), "srvtag");
    assert!(h.try_take_request("BYE").is_none());
}

#[test]
fn failed_call_is_acked_and_reported() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "sip:carol@example.com".into(), sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    h.reply(&inv, 486, &[], "");
    h.take_request("ACK");
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Failed(486) }]);
}

#[test]
fn unanswered_invite_times_out_after_64_t1() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into() });
    h.take_request("INVITE");
    h.advance(Duration::from_millis(31_999));
    assert!(h.take_events().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Timeout }]);
}

#[test]
fn hangup_before_a_provisional_cancels_once_one_arrives() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    h.command(Command::Hangup { call });
    assert!(h.try_take_request("CANCEL").is_none(), "no CANCEL before a provisional (RFC 3261 9.1)");
    h.reply(&inv, 180, &[], "");
    let cancel = h.take_request("CANCEL");
    assert_eq!(cancel.headers.get("Via"), inv.headers.get("Via"));
    assert_eq!(cancel.headers.get("CSeq"), Some("1 CANCEL"));
    assert_eq!(cancel.uri, inv.uri);
    h.reply(&cancel, 200, &[], "");
    h.reply(&inv, 487, &[], "");
    h.take_request("ACK");
    let ev = h.take_events();
    assert_eq!(ev.last(), Some(&Event::Ended { call, cause: EndCause::Local }), "{ev:?}");
}

#[test]
fn a_200_racing_a_cancel_is_acked_then_byed() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    h.reply(&inv, 180, &[], "");
    h.command(Command::Hangup { call });
    h.take_request("CANCEL");
    h.reply(&inv, 200, &[("Contact", "<sip:bob@10.0.0.2>")], ANSWER);
    h.take_request("ACK");
    let bye = h.take_request("BYE");
    assert_eq!(bye.uri, "sip:bob@10.0.0.2");
    assert!(h.take_events().contains(&Event::Ended { call, cause: EndCause::Local }));
}

fn incoming(h: &mut Harness) -> tabphone_sip::ua::CallId {
    h.receive(&incoming_invite("in-1", "z9hG4bKin1"));
    assert_eq!(h.take_statuses(), vec![100, 180]);
    let ev = h.take_events();
    let Some(Event::Incoming { call, from, sdp, replaces }) = ev.first().cloned() else { panic!("{ev:?}") };
    assert_eq!(from, "\"Bob\" <sip:bob@example.com>;tag=bobtag");
    assert_eq!(sdp.as_deref(), Some(OFFER));
    assert_eq!(replaces, None);
    call
}

fn answer_incoming(h: &mut Harness) -> (tabphone_sip::ua::CallId, String) {
    let call = incoming(h);
    h.command(Command::Answer { call, sdp: ANSWER.into() });
    let ok = h.take_response(200);
    assert_eq!(String::from_utf8_lossy(&ok.body), ANSWER);
    assert_eq!(ok.headers.get_all("Record-Route").count(), 2);
    assert!(ok.headers.get("Contact").is_some());
    let tag = tag_of(ok.headers.get("To"));
    h.receive(&bob_request("ACK", "in-1", &tag, 10, "", ""));
    assert_eq!(h.take_events(), vec![Event::Established { call, sdp: None }]);
    (call, tag)
}

#[test]
fn incoming_call_answered_acked_and_ended_by_the_peer() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    h.advance(secs(10));
    assert!(h.sent.is_empty(), "no retransmission after the ACK: {:?}", h.summary());
    h.receive(&bob_request("BYE", "in-1", &tag, 11, "", ""));
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Remote }]);
    // A BYE for a dialog that is gone: 481.
    h.receive(&bob_request("BYE", "in-1", &tag, 12, "", ""));
    assert_eq!(h.take_statuses(), vec![481]);
}

#[test]
fn our_2xx_is_resent_until_the_ack_and_the_call_ends_without_one() {
    let mut h = Harness::registered();
    let call = incoming(&mut h);
    h.command(Command::Answer { call, sdp: ANSWER.into() });
    assert_eq!(h.take_statuses(), vec![200]);
    // T1 doubling to T2: 0.5, 1, 2, 4, 4, ... s.
    let mut at = Vec::new();
    let start = h.now;
    for _ in 0..320 {
        h.advance(Duration::from_millis(100));
        for s in h.take_statuses() {
            assert_eq!(s, 200);
            at.push((h.now - start).as_millis());
        }
        if !h.events.is_empty() {
            break;
        }
    }
    assert_eq!(&at[..5], &[500, 1500, 3500, 7500, 11500]);
    h.take_request("BYE");
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Timeout }]);
    assert_eq!((h.now - start).as_millis(), 32_000);
}

#[test]
fn incoming_call_rejected_or_cancelled() {
    let mut h = Harness::registered();
    let call = incoming(&mut h);
    h.command(Command::Reject { call, status: 486 });
    assert_eq!(h.take_statuses(), vec![486]);
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Failed(486) }]);

    let mut h = Harness::registered();
    let call = incoming(&mut h);
    let cancel = incoming_invite("in-1", "z9hG4bKin1")
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 10 INVITE", "CSeq: 10 CANCEL");
    let cancel = cancel.split("Content-Type").next().unwrap().to_string() + "Content-Length: 0\r\n\r\n";
    h.receive(&cancel);
    assert_eq!(h.take_statuses(), vec![200, 487]);
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Remote }]);
    // An answer for a cancelled call is an error, not a 200.
    h.command(Command::Answer { call, sdp: ANSWER.into() });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    assert!(h.sent.is_empty());
}

#[test]
fn reinvite_received_answered_and_glare_gets_491() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    let reoffer = OFFER.replace("a=sendrecv", "a=sendonly");
    h.receive(&bob_request("INVITE", "in-1", &tag, 11, "Content-Type: application/sdp\r\n", &reoffer));
    assert_eq!(h.take_events(), vec![Event::Reoffer { call, sdp: Some(reoffer.clone()) }]);
    // Our own re-INVITE now would be glare: refused locally.
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    h.command(Command::AnswerReoffer { call, sdp: ANSWER.replace("a=sendrecv", "a=recvonly") });
    let ok = h.take_response(200);
    assert!(String::from_utf8_lossy(&ok.body).contains("a=recvonly"));
    h.receive(&bob_request("ACK", "in-1", &tag, 11, "", ""));
    assert!(h.take_events().is_empty());
    // Our re-INVITE crossing theirs: they get 491.
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    let ours = h.take_request("INVITE");
    assert_eq!(ours.uri, "sip:bob@bob.invalid;transport=ws;alias=127.0.0.1~5000~6");
    assert_eq!(ours.headers.get_all("Route").count(), 2);
    h.receive(&bob_request("INVITE", "in-1", &tag, 12, "Content-Type: application/sdp\r\n", OFFER));
    assert_eq!(h.take_statuses(), vec![491]);
    h.reply(&ours, 491, &[], "");
    h.take_request("ACK");
    assert!(h.take_events().is_empty(), "glare is retried, not reported");
    // Bob's retry comes first; ours (the callee's, within 0-2 s) waits until
    // his re-INVITE is answered and acknowledged.
    h.receive(&bob_request("INVITE", "in-1", &tag, 13, "Content-Type: application/sdp\r\n", OFFER));
    assert_eq!(h.take_events(), vec![Event::Reoffer { call, sdp: Some(OFFER.into()) }]);
    h.advance(Duration::from_millis(2000));
    assert!(h.try_take_request("INVITE").is_none());
    h.command(Command::AnswerReoffer { call, sdp: ANSWER.into() });
    h.take_response(200);
    h.receive(&bob_request("ACK", "in-1", &tag, 13, "", ""));
    h.advance(Duration::from_millis(500));
    let retry = h.take_request("INVITE");
    assert_eq!(retry.body, ours.body, "the same offer again");
    assert!(retry.cseq().unwrap().seq > ours.cseq().unwrap().seq);
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
}

#[test]
fn a_challenged_in_dialog_request_takes_the_next_cseq() {
    let mut h = Harness::registered();
    let (call, _) = answer_incoming(&mut h);
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    assert_eq!(inv.cseq().unwrap().seq, 1);
    h.reply(&inv, 407, &[("Proxy-Authenticate", "Digest realm=\"example.com\", nonce=\"d\"")], "");
    h.take_request("ACK");
    let inv2 = h.take_request("INVITE");
    assert_eq!(inv2.cseq().unwrap().seq, 2);
    assert!(inv2.headers.get("Proxy-Authorization").is_some());
    h.reply(&inv2, 200, &[("Content-Type", "application/sdp")], ANSWER);
    assert_eq!(h.take_request("ACK").headers.get("CSeq"), Some("2 ACK"));
    h.command(Command::Dtmf { call, digits: "1".into(), duration_ms: 100 });
    assert_eq!(h.take_request("INFO").cseq().unwrap().seq, 3, "no CSeq reused in the dialog");
}

#[test]
fn hold_and_unhold_set_the_direction() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Hold { call, sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    let body = String::from_utf8_lossy(&inv.body).into_owned();
    assert!(body.contains("a=sendonly\r\n") && !body.contains("a=sendrecv"), "{body}");
    assert!(h.ua.is_held(call));
    h.reply(&inv, 200, &[("Content-Type", "application/sdp")], &ANSWER.replace("sendrecv", "recvonly"));
    let ack = h.take_request("ACK");
    assert_eq!(ack.cseq().unwrap().seq, inv.cseq().unwrap().seq);
    assert!(matches!(h.take_events()[..], [Event::ReinviteAnswered { .. }]));
    h.command(Command::Unhold { call, sdp: OFFER.replace("a=sendrecv", "a=sendonly") });
    let inv = h.take_request("INVITE");
    assert!(String::from_utf8_lossy(&inv.body).contains("a=sendrecv\r\n"));
    assert!(!h.ua.is_held(call));
}

#[test]
fn recovery_keeps_calls_reregisters_and_reinvites() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.take_events();
    h.input(Input::Closed);
    let ev = h.take_events();
    assert_eq!(ev[0], Event::Disconnected { cause: Cause::SocketClosed });
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established), "the dialog stays");
    // The server is down: the retries fail, then recovery rounds with backoff.
    for _ in 0..3 {
        h.advance(secs(4));
        h.input(Input::Closed);
    }
    let ev = h.take_events();
    let retry = ev.iter().find_map(|e| match e {
        Event::RecoveryError { retry_in } => Some(*retry_in),
        _ => None,
    });
    let retry = retry.unwrap_or_else(|| panic!("{ev:?}"));
    assert!(retry <= secs(2) && retry >= secs(1), "{retry:?}");
    // A re-INVITE while disconnected is refused with a reason.
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    h.advance(retry);
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    let ev = h.take_events();
    assert_eq!(
        ev,
        vec![
            Event::Connecting { url: SERVER.into() },
            Event::Connected { url: SERVER.into() },
            Event::Registered { expires: 600, bindings: 0 },
            Event::Recovered,
            Event::RecoveryOfferNeeded { call }
        ]
    );
    let restart_offer = OFFER.replace("a=sendrecv", "a=sendrecv\r\na=ice-options:trickle");
    h.command(Command::Reinvite { call, sdp: restart_offer.clone() });
    let inv = h.take_request("INVITE");
    assert_eq!(String::from_utf8_lossy(&inv.body), restart_offer);
    assert_eq!(inv.headers.get_all("Route").count(), 2, "the route set survived");
    assert_eq!(tag_of(inv.headers.get("To")), "srvtag");
    h.reply(&inv, 200, &[("Content-Type", "application/sdp")], ANSWER);
    h.take_request("ACK");
    assert_eq!(h.take_events(), vec![Event::ReinviteAnswered { call, sdp: Some(ANSWER.into()) }]);
}

#[test]
fn a_network_change_reconnects_reregisters_and_asks_for_ice_restart_offers() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Reconnect);
    assert_eq!(h.closes, 1);
    assert_eq!(h.connects.len(), 2, "a new connection at once");
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    let ev = h.take_events();
    assert!(ev.contains(&Event::Disconnected { cause: Cause::Requested }), "{ev:?}");
    assert_eq!(ev[ev.len() - 2..], [Event::Recovered, Event::RecoveryOfferNeeded { call }]);
    // A switch to the backup proxy takes effect on the next connect.
    h.command(Command::SetBackupProxy(Some("wss://backup.example.com".into())));
    h.command(Command::UseBackupProxy(true));
    assert_eq!(h.connects.len(), 2);
    h.command(Command::Reconnect);
    assert_eq!(h.connects.last().map(String::as_str), Some("wss://backup.example.com"));
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    assert!(reg.headers.get("Via").unwrap().starts_with("SIP/2.0/WSS "), "wss: Via says WSS");
}

#[test]
fn a_call_being_set_up_ends_when_the_connection_drops() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into() });
    h.take_request("INVITE");
    h.input(Input::Closed);
    assert!(h.take_events().contains(&Event::Ended { call, cause: EndCause::Transport }));
}

#[test]
fn blind_and_attended_transfer() {
    let mut h = Harness::registered();
    let a = establish_outgoing(&mut h);
    h.command(Command::Refer { call: a, target: "carol".into(), replaces: None });
    let refer = h.take_request("REFER");
    assert_eq!(refer.headers.get("Refer-To"), Some("<sip:carol@example.com>"));
    assert_eq!(refer.headers.get("Referred-By"), Some("<sip:alice@example.com>"));
    h.reply(&refer, 202, &[], "");
    assert_eq!(h.take_events(), vec![Event::ReferProgress { call: a, status: 202 }]);
    let from_tag = tag_of(refer.headers.get("From"));
    let call_id = refer.headers.get("Call-ID").unwrap().to_string();
    // The peer reports progress with NOTIFY (sipfrag); from bob's side the tags swap.
    let notify = format!(
        "NOTIFY sip:x@x.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKn1\r\n\
From: <sip:bob@example.com>;tag=srvtag\r\nTo: <sip:alice@example.com>;tag={from_tag}\r\n\
Call-ID: {call_id}\r\nCSeq: 1 NOTIFY\r\nEvent: refer\r\nSubscription-State: terminated\r\n\
Content-Type: message/sipfrag\r\nContent-Length: 16\r\n\r\nSIP/2.0 200 OK\r\n"
    );
    h.receive(&notify);
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(h.take_events(), vec![Event::ReferProgress { call: a, status: 200 }]);

    // Attended: b is the consultation call; a's peer is told to replace b.
    let b = establish_outgoing(&mut h);
    h.command(Command::Refer { call: a, target: String::new(), replaces: Some(b) });
    let refer = h.take_request("REFER");
    let refer_to = refer.headers.get("Refer-To").unwrap();
    assert!(refer_to.starts_with("<sip:bob@example.com?Replaces="), "{refer_to}");
    assert!(refer_to.contains("%3Bto-tag%3Dsrvtag%3Bfrom-tag%3D"), "{refer_to}");
    assert!(NameAddr::parse(refer_to).is_ok());
}

#[test]
fn an_invite_with_replaces_names_the_call_it_replaces() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    // Carol, told by bob to replace his call with us (RFC 3891: to-tag is our tag).
    let replacing = incoming_invite("carol-1", "z9hG4bKc1").replace("tag=bobtag", "tag=caroltag").replace(
        "Call-ID: carol-1\r\n",
        &format!("Call-ID: carol-1\r\nReplaces: in-1;to-tag={tag};from-tag=bobtag\r\n"),
    );
    h.receive(&replacing);
    let ev = h.take_events();
    assert!(matches!(ev[..], [Event::Incoming { replaces: Some(c), .. }] if c == call), "{ev:?}");
    // Tags the other way round name no call of ours.
    let wrong = incoming_invite("carol-2", "z9hG4bKc2").replace("tag=bobtag", "tag=caroltag").replace(
        "Call-ID: carol-2\r\n",
        &format!("Call-ID: carol-2\r\nReplaces: in-1;to-tag=bobtag;from-tag={tag}\r\n"),
    );
    h.receive(&wrong);
    let ev = h.take_events();
    assert!(matches!(ev[..], [Event::Incoming { replaces: None, .. }]), "{ev:?}");
}

#[test]
fn incoming_refer_is_accepted_and_reported_with_notify() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    h.receive(&bob_request("REFER", "in-1", &tag, 11, "Refer-To: <sip:carol@example.com>\r\n", ""));
    assert_eq!(h.take_statuses(), vec![202]);
    assert_eq!(h.take_events(), vec![Event::Refer { call, target: "sip:carol@example.com".into() }]);
    let n1 = h.take_request("NOTIFY");
    assert_eq!(n1.headers.get("Event"), Some("refer;id=11"));
    assert_eq!(String::from_utf8_lossy(&n1.body), "SIP/2.0 100 Trying\r\n");
    h.command(Command::NotifyRefer { call, status: 200 });
    let n2 = h.take_request("NOTIFY");
    assert!(n2.headers.get("Subscription-State").unwrap().starts_with("terminated"));
    assert_eq!(String::from_utf8_lossy(&n2.body), "SIP/2.0 200 OK\r\n");
    assert!(n2.cseq().unwrap().seq > n1.cseq().unwrap().seq);
}

#[test]
fn dtmf_by_info_both_ways() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    h.command(Command::Dtmf { call, digits: "1#".into(), duration_ms: 160 });
    let infos: Vec<String> =
        h.requests("INFO").iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert_eq!(infos, vec!["Signal=1\r\nDuration=160\r\n", "Signal=#\r\nDuration=160\r\n"]);
    h.command(Command::Dtmf { call, digits: "x".into(), duration_ms: 160 });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    h.receive(&bob_request(
        "INFO",
        "in-1",
        &tag,
        11,
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=5\r\nDuration=250\r\n",
    ));
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(h.take_events(), vec![Event::Dtmf { call, digit: '5', duration_ms: 250 }]);
    // An old CSeq in the dialog: 500 (RFC 3261 12.2.2).
    h.receive(&bob_request("INFO", "in-1", &tag, 5, "", ""));
    assert_eq!(h.take_statuses(), vec![500]);
}

#[test]
fn options_message_and_keepalive() {
    let mut h = Harness::registered();
    h.receive(
        "OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKo\r\n\
From: <sip:mon@example.com>;tag=m\r\nTo: <sip:alice@example.com>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\r\n",
    );
    let ok = h.take_response(200);
    assert!(ok.headers.get("Allow").unwrap().contains("INVITE"));
    h.receive(
        "MESSAGE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKm\r\n\
From: <sip:bob@example.com>;tag=m\r\nTo: <sip:alice@example.com>\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(
        h.take_events(),
        vec![Event::MessageReceived {
            from: "sip:bob@example.com".into(),
            content_type: "text/plain".into(),
            body: "hi".into()
        }]
    );
    h.command(Command::Message {
        id: 7,
        target: "bob".into(),
        content_type: "text/plain".into(),
        body: "yo".into(),
    });
    let m = h.take_request("MESSAGE");
    assert_eq!(String::from_utf8_lossy(&m.body), "yo");
    h.reply(&m, 202, &[], "");
    assert_eq!(h.take_events(), vec![Event::MessageResult { id: 7, status: 202 }]);
    // A server ping gets a pong.
    h.raw.clear();
    h.receive("\r\n\r\n");
    assert_eq!(h.raw, vec!["\r\n".to_string()]);
}

#[test]
fn trace_redacts_credentials() {
    let mut c = config();
    c.trace = true;
    let (mut h, reg) = Harness::connected(c);
    h.reply(
        &reg,
        401,
        &[("WWW-Authenticate", "Digest realm=\"example.com\", nonce=\"a\", qop=\"auth\"")],
        "",
    );
    let traces: Vec<String> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Trace { line } => Some(line),
            _ => None,
        })
        .collect();
    assert_eq!(traces.len(), 3, "REGISTER out, 401 in, REGISTER out");
    assert!(traces[2].contains("Authorization: <redacted>"), "{}", traces[2]);
    assert!(!traces[2].contains("response="));
}

#[test]
fn garbage_gets_an_error_and_bad_requests_a_400() {
    let mut h = Harness::registered();
    h.receive("\u{0}\u{1}garbage");
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    assert!(h.sent.is_empty());
    // A request with a broken Contact: 400 with the headers copied.
    h.receive(
        "INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKb\r\n\
From: <sip:bob@example.com>;tag=b\r\nTo: <sip:alice@example.com>\r\nCall-ID: bad1\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:bob@x;;>\r\n\r\n",
    );
    let r = h.take_response(400);
    assert_eq!(r.headers.get("Call-ID"), Some("bad1"));
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    // Still registered and working.
    assert!(h.ua.is_registered());
    establish_outgoing(&mut h);
}

#[test]
fn commands_on_unknown_calls_get_errors() {
    let mut h = Harness::registered();
    let ghost = tabphone_sip::ua::CallId(999);
    for c in [
        Command::Answer { call: ghost, sdp: String::new() },
        Command::Hangup { call: ghost },
        Command::Reinvite { call: ghost, sdp: String::new() },
        Command::Dtmf { call: ghost, digits: "1".into(), duration_ms: 100 },
        Command::NotifyRefer { call: ghost, status: 200 },
    ] {
        h.command(c);
        assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    }
    assert!(h.sent.is_empty());
}
