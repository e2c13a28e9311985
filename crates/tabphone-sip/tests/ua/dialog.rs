//! The dialog state the app keeps ([`UserAgent::dialog`]): when it appears,
//! and that it is current when a request leaves.

use super::*;
use tabphone_sip::ua::DialogSnapshot;

#[test]
fn an_outgoing_dialog_appears_with_the_peers_tag_and_stays_current() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
    let inv = h.take_request("INVITE");
    assert_eq!(h.ua.dialog(call), None, "no peer tag yet");
    h.reply(&inv, 180, &[], "");
    let early = h.ua.dialog(call).unwrap();
    assert_eq!((early.remote_tag.as_str(), early.local_cseq), ("srvtag", 1));
    assert!(early.route_set.is_empty(), "an early dialog has no route set yet");
    let rr = [
        ("Record-Route", "<sip:p1;lr>"),
        ("Record-Route", "<sip:p2;lr>"),
        ("Contact", "<sip:bob@10.0.0.2;transport=ws>"),
    ];
    h.reply(&inv, 200, &rr, ANSWER);
    h.take_request("ACK");
    let expect = DialogSnapshot {
        call_id: inv.headers.get("Call-ID").unwrap().to_string(),
        local_tag: tag_of(inv.headers.get("From")),
        remote_tag: "srvtag".into(),
        local_uri: "sip:alice@example.com".into(),
        remote_uri: "sip:bob@example.com".into(),
        local_cseq: 1,
        remote_cseq: None,
        remote_target: "sip:bob@10.0.0.2;transport=ws".into(),
        route_set: vec!["<sip:p2;lr>".into(), "<sip:p1;lr>".into()],
        outgoing: true,
    };
    assert_eq!(h.ua.dialog(call), Some(expect.clone()));
    // Requests queued by one input count at once, before they leave.
    h.command(Command::Dtmf { call, digits: "12".into(), duration_ms: 100 });
    assert_eq!(h.ua.dialog(call).unwrap().local_cseq, 3);
    let last = h.requests("INFO").last().unwrap().cseq().unwrap().seq;
    assert_eq!(last, 3);
    // A request from the peer moves remote_cseq.
    let info = format!(
        "INFO sip:x@x.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKi7\r\n\
From: <sip:bob@example.com>;tag=srvtag\r\nTo: <sip:alice@example.com>;tag={}\r\n\
Call-ID: {}\r\nCSeq: 7 INFO\r\nContent-Length: 0\r\n\r\n",
        expect.local_tag, expect.call_id
    );
    h.receive(&info);
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(h.ua.dialog(call).unwrap().remote_cseq, Some(7));
    // Gone with the call.
    h.command(Command::Hangup { call });
    let bye = h.take_request("BYE");
    assert_eq!(h.ua.dialog(call).unwrap().local_cseq, bye.cseq().unwrap().seq);
    h.reply(&bye, 200, &[], "");
    assert_eq!(h.ua.dialog(call), None);
}

#[test]
fn an_incoming_dialog_takes_the_invites_to_and_record_routes() {
    let mut h = Harness::registered();
    let (call, tag) = answer_incoming(&mut h);
    let d = h.ua.dialog(call).unwrap();
    assert_eq!(
        d,
        DialogSnapshot {
            call_id: "in-1".into(),
            local_tag: tag.clone(),
            remote_tag: "bobtag".into(),
            local_uri: "sip:alice@example.com".into(),
            remote_uri: "sip:bob@example.com".into(),
            local_cseq: 0,
            remote_cseq: Some(10),
            remote_target: "sip:bob@bob.invalid;transport=ws;alias=127.0.0.1~5000~6".into(),
            route_set: vec![
                "<sip:127.0.0.1:5066;transport=ws;r2=on;lr>".into(),
                "<sip:127.0.0.1;r2=on;lr>".into()
            ],
            outgoing: false,
        }
    );
    // Our requests say From with the INVITE's To (here the AOR, as Kamailio relays it).
    h.command(Command::Hangup { call });
    let bye = h.take_request("BYE");
    assert_eq!(bye.headers.get("From"), Some(format!("<sip:alice@example.com>;tag={tag}").as_str()));
}

#[test]
fn our_uri_in_an_incoming_dialog_is_the_to_we_were_called_at() {
    let mut h = Harness::registered();
    let invite = incoming_invite("in-9", "z9hG4bKin9")
        .replace("To: <sip:alice@example.com>", "To: <sip:alice@127.0.0.1:5060>");
    h.receive(&invite);
    let Some(Event::Incoming { call, .. }) = h.take_events().first().cloned() else { panic!() };
    assert_eq!(h.ua.dialog(call).unwrap().local_uri, "sip:alice@127.0.0.1:5060");
    h.command(Command::Answer { call, sdp: ANSWER.into() });
    let tag = tag_of(h.take_response(200).headers.get("To"));
    h.receive(&bob_request("ACK", "in-9", &tag, 10, "", ""));
    h.command(Command::Hangup { call });
    let bye = h.take_request("BYE");
    assert_eq!(bye.headers.get("From"), Some(format!("<sip:alice@127.0.0.1:5060>;tag={tag}").as_str()));
}
