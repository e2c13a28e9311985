//! Calls both ways: set up, answered, refused, cancelled, forked, timed out.

use super::*;

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
    h.command(Command::Call {
        call,
        target: "sip:carol@example.com".into(),
        sdp: OFFER.into(),
        headers: vec![],
    });
    let inv = h.take_request("INVITE");
    h.reply(&inv, 486, &[], "");
    h.take_request("ACK");
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Failed(486) }]);
}

#[test]
fn unanswered_invite_times_out_after_64_t1() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
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
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
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
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
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
fn extra_headers_go_into_the_invite_and_its_retry_and_bad_ones_refuse_the_call() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    let headers = vec![
        ("X-App".to_string(), "42".to_string()),
        ("Replaces".to_string(), "abc@x;to-tag=1;from-tag=2".to_string()),
    ];
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers });
    let inv = h.take_request("INVITE");
    assert_eq!(inv.headers.get("X-App"), Some("42"));
    assert_eq!(inv.headers.get("Replaces"), Some("abc@x;to-tag=1;from-tag=2"));
    h.reply(&inv, 407, &[("Proxy-Authenticate", "Digest realm=\"example.com\", nonce=\"p\"")], "");
    h.take_request("ACK");
    let retry = h.take_request("INVITE");
    assert_eq!(retry.headers.get("X-App"), Some("42"), "the retry with credentials keeps them");
    assert_eq!(retry.headers.get("Replaces"), inv.headers.get("Replaces"));
    h.take_events();
    for (name, value) in [("Call-ID", "x"), ("v", "SIP/2.0/WS x"), ("X-Bad", "a\r\nVia: x"), ("X Y", "1")] {
        let call = h.ua.new_call_id();
        let headers = vec![(name.to_string(), value.to_string())];
        h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers });
        let ev = h.take_events();
        assert!(
            matches!(&ev[..], [Event::Error { call: Some(c), .. }, Event::Ended { cause: EndCause::Failed(400), .. }] if *c == call),
            "{name}: {ev:?}"
        );
        assert!(h.try_take_request("INVITE").is_none(), "{name}");
    }
}
