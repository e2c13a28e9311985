//! Inside a call: re-INVITE and glare, hold, transfer, DTMF; OPTIONS and MESSAGE.

use super::*;

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
    assert_eq!(h.take_events(), vec![Event::Glare { call }], "our offer is void");
    // Bob's retry comes first; ours (the callee's, within 0-2 s) waits until
    // his re-INVITE is answered and acknowledged.
    h.receive(&bob_request("INVITE", "in-1", &tag, 13, "Content-Type: application/sdp\r\n", OFFER));
    assert_eq!(h.take_events(), vec![Event::Reoffer { call, sdp: Some(OFFER.into()) }]);
    h.advance(Duration::from_millis(2000));
    assert!(h.take_events().is_empty() && h.try_take_request("INVITE").is_none());
    h.command(Command::AnswerReoffer { call, sdp: ANSWER.into() });
    h.take_response(200);
    h.receive(&bob_request("ACK", "in-1", &tag, 13, "", ""));
    h.advance(Duration::from_millis(500));
    // Nothing is resent: the app is asked for a fresh offer (bob's changed the session).
    assert!(h.try_take_request("INVITE").is_none());
    assert_eq!(h.take_events(), vec![Event::GlareRetry { call }]);
    let fresh = OFFER.replace("a=sendrecv", "a=sendrecv\r\na=label:fresh");
    h.command(Command::Reinvite { call, sdp: fresh.clone() });
    let retry = h.take_request("INVITE");
    assert_eq!(String::from_utf8_lossy(&retry.body), fresh);
    assert!(retry.cseq().unwrap().seq > ours.cseq().unwrap().seq);
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
}

#[test]
fn a_glare_retry_after_the_connection_dropped_fails_with_491() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    let ours = h.take_request("INVITE");
    h.reply(&ours, 491, &[], "");
    assert_eq!(h.take_events(), vec![Event::Glare { call }]);
    h.input(Input::Closed);
    h.take_events();
    // The caller owns the Call-ID: its wait is 2.1-4 s.
    h.advance(Duration::from_millis(2099));
    assert!(h.take_events().iter().all(|e| !matches!(e, Event::ReinviteFailed { .. })));
    h.advance(Duration::from_millis(1901));
    let ev = h.take_events();
    assert!(ev.contains(&Event::ReinviteFailed { call, status: 491 }), "{ev:?}");
    assert!(!ev.contains(&Event::GlareRetry { call }), "{ev:?}");
}

#[test]
fn a_reinvite_before_the_call_is_answered_is_refused() {
    // Ringing here: our final answer to the INVITE is not sent (RFC 3261 14.2: 500, Retry-After).
    let mut h = Harness::registered();
    let call = incoming(&mut h);
    let tag = h.ua.dialog(call).unwrap().local_tag;
    h.receive(&bob_request("INVITE", "in-1", &tag, 11, "", ""));
    let refused = h.take_response(500);
    let retry: u32 = refused.headers.get("Retry-After").unwrap().parse().unwrap();
    assert!(retry <= 10);
    assert!(h.take_events().is_empty());
    // Our INVITE pending (an early dialog from a 180): 491.
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
    let inv = h.take_request("INVITE");
    h.reply(&inv, 180, &[], "");
    h.take_events();
    let d = h.ua.dialog(call).unwrap();
    let reinvite = format!(
        "INVITE sip:x@x.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKe1\r\n\
From: <sip:bob@example.com>;tag=srvtag\r\nTo: <sip:alice@example.com>;tag={}\r\n\
Call-ID: {}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        d.local_tag, d.call_id
    );
    h.receive(&reinvite);
    assert_eq!(h.take_statuses(), vec![491]);
    assert!(h.take_events().is_empty());
}

#[test]
fn a_reoffer_refused_with_488_keeps_the_call() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    let ct = "Content-Type: application/sdp\r\n";
    h.receive(&bob_request("INVITE", "in-1", &tag, 11, ct, "v=0\r\nm=video 9 RTP/AVP 96\r\n"));
    assert!(matches!(h.take_events()[..], [Event::Reoffer { .. }]));
    h.command(Command::RejectReoffer { call, status: 200 });
    assert!(matches!(h.take_events()[..], [Event::Error { call: Some(c), .. }] if c == call));
    h.command(Command::RejectReoffer { call, status: 488 });
    let refused = h.take_response(488);
    assert_eq!(tag_of(refused.headers.get("To")), tag);
    assert!(h.sent.is_empty(), "no 200 to resend: {:?}", h.summary());
    // Its ACK (hop by hop, same CSeq) ends the transaction; nothing else happens.
    h.receive(&bob_request("ACK", "in-1", &tag, 11, "", ""));
    h.advance(secs(40));
    assert!(h.take_events().is_empty());
    assert!(h.sent.is_empty(), "{:?}", h.summary());
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
    // Nothing left to refuse; the next re-offer is taken as usual.
    h.command(Command::RejectReoffer { call, status: 488 });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    h.receive(&bob_request("INVITE", "in-1", &tag, 12, ct, OFFER));
    assert_eq!(h.take_events(), vec![Event::Reoffer { call, sdp: Some(OFFER.into()) }]);
    h.command(Command::AnswerReoffer { call, sdp: ANSWER.into() });
    h.take_response(200);
}

#[test]
fn an_ack_without_the_answer_to_our_offer_is_reported() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    // An offerless re-INVITE: our 200 carries the offer, the ACK the answer.
    h.receive(&bob_request("INVITE", "in-1", &tag, 11, "", ""));
    assert_eq!(h.take_events(), vec![Event::Reoffer { call, sdp: None }]);
    h.command(Command::AnswerReoffer { call, sdp: OFFER.into() });
    h.take_response(200);
    let ct = "Content-Type: application/sdp\r\n";
    h.receive(&bob_request("ACK", "in-1", &tag, 11, ct, ANSWER));
    assert_eq!(h.take_events(), vec![Event::ReinviteAnswered { call, sdp: Some(ANSWER.into()) }]);
    // Again, and this time the ACK has no answer.
    h.receive(&bob_request("INVITE", "in-1", &tag, 12, "", ""));
    h.command(Command::AnswerReoffer { call, sdp: OFFER.into() });
    h.take_response(200);
    h.take_events();
    h.receive(&bob_request("ACK", "in-1", &tag, 12, "", ""));
    assert_eq!(h.take_events(), vec![Event::AckWithoutAnswer { call }]);
    // An ACK without SDP after our answer is the normal case: nothing to report.
    h.receive(&bob_request("INVITE", "in-1", &tag, 13, ct, OFFER));
    h.command(Command::AnswerReoffer { call, sdp: ANSWER.into() });
    h.take_response(200);
    h.take_events();
    h.receive(&bob_request("ACK", "in-1", &tag, 13, "", ""));
    assert!(h.take_events().is_empty());
    // An offerless INVITE whose ACK brings no answer: established, without a session.
    let offerless = incoming_invite("in-2", "z9hG4bKin2").split("Content-Type").next().unwrap().to_string();
    h.receive(&(offerless + "Content-Length: 0\r\n\r\n"));
    let ev = h.take_events();
    let Some(Event::Incoming { call: second, sdp: None, .. }) = ev.first().cloned() else { panic!("{ev:?}") };
    h.command(Command::Answer { call: second, sdp: OFFER.into() });
    let tag2 = tag_of(h.take_response(200).headers.get("To"));
    h.receive(&bob_request("ACK", "in-2", &tag2, 10, "", ""));
    assert_eq!(
        h.take_events(),
        vec![Event::Established { call: second, sdp: None }, Event::AckWithoutAnswer { call: second }]
    );
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
