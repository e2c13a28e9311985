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

/// Another agent (a new tab: another seed and instance), connected, not registered.
fn successor() -> Harness {
    let mut c = config();
    c.seed = 4242;
    c.register = false;
    c.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000002".into();
    let mut h = Harness::new(c);
    h.command(Command::Start);
    h.input(Input::Opened);
    h.take_events();
    h
}

/// A call set up on one agent, its dialog snapshot taken after a DTMF (CSeq 2).
fn snapshot_of_an_outgoing_call() -> DialogSnapshot {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Dtmf { call, digits: "5".into(), duration_ms: 100 });
    h.ua.dialog(call).unwrap()
}

#[test]
fn a_dialog_resumed_from_its_snapshot_is_refreshed_by_a_reinvite_from_the_new_agent() {
    let snap = snapshot_of_an_outgoing_call();
    assert_eq!(snap.local_cseq, 3);
    let mut h = successor();
    let call = h.ua.new_call_id();
    let offer = OFFER.replace("a=sendrecv", "a=sendrecv\r\na=ice-options:ice2");
    h.command(Command::Resume { call, dialog: snap.clone(), sdp: offer.clone() });
    let inv = h.take_request("INVITE");
    assert_eq!(inv.uri, snap.remote_target);
    let routes: Vec<&str> = inv.headers.get_all("Route").collect();
    assert_eq!(routes, snap.route_set);
    assert_eq!(inv.headers.get("Call-ID"), Some(snap.call_id.as_str()));
    assert_eq!(tag_of(inv.headers.get("From")), snap.local_tag);
    assert_eq!(tag_of(inv.headers.get("To")), snap.remote_tag);
    assert_eq!(inv.cseq().unwrap().seq, snap.local_cseq + tabphone_sip::ua::RESUME_CSEQ_JUMP + 1);
    // Our own Contact, not the old agent's (the target refresh).
    let contact = NameAddr::parse(inv.headers.get("Contact").unwrap()).unwrap().uri;
    let (_, old_register) = Harness::connected(config());
    let old = NameAddr::parse(old_register.headers.get("Contact").unwrap()).unwrap().uri;
    assert!(contact.ends_with(".invalid;transport=ws;ob") && contact != old, "{contact} {old}");
    assert_eq!(String::from_utf8_lossy(&inv.body), offer);
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established));
    // The peer takes it (a target refresh): ACK along the route set.
    h.reply(&inv, 200, &[("Contact", "<sip:bob@10.0.0.3;transport=ws>")], ANSWER);
    let ack = h.take_request("ACK");
    assert_eq!(ack.uri, "sip:bob@10.0.0.3;transport=ws");
    assert_eq!(ack.headers.get_all("Route").collect::<Vec<_>>(), snap.route_set);
    assert_eq!(h.take_events(), vec![Event::ReinviteAnswered { call, sdp: Some(ANSWER.into()) }]);
    // Requests from the peer reach the call; an old CSeq is still old.
    let bye = |cseq: u32| {
        format!(
            "BYE sip:x@x.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKb{cseq}\r\n\
From: <sip:bob@example.com>;tag={}\r\nTo: <sip:alice@example.com>;tag={}\r\n\
Call-ID: {}\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n",
            snap.remote_tag, snap.local_tag, snap.call_id
        )
    };
    h.receive(&bye(7));
    assert_eq!(h.take_statuses(), vec![200]);
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Remote }]);
}

#[test]
fn an_incoming_calls_dialog_resumes_with_its_uris_and_the_peers_cseq() {
    let mut old = Harness::registered();
    let (call, _) = answer_incoming(&mut old);
    let snap = old.ua.dialog(call).unwrap();
    let mut h = successor();
    let call = h.ua.new_call_id();
    h.command(Command::Resume { call, dialog: snap.clone(), sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    assert_eq!(
        inv.headers.get("From"),
        Some(format!("<sip:alice@example.com>;tag={}", snap.local_tag).as_str())
    );
    assert_eq!(inv.headers.get("To"), Some("<sip:bob@example.com>;tag=bobtag"));
    assert_eq!(inv.headers.get_all("Route").collect::<Vec<_>>(), snap.route_set, "UAS order kept");
    h.reply(&inv, 200, &[], ANSWER);
    h.take_request("ACK");
    // bob's CSeq was 10: a request with 10 again is out of order (RFC 3261 12.2.2).
    h.receive(&bob_request("INFO", "in-1", &snap.local_tag, 10, "", ""));
    assert_eq!(h.take_statuses(), vec![500]);
    h.receive(&bob_request("INFO", "in-1", &snap.local_tag, 11, "", ""));
    assert_eq!(h.take_statuses(), vec![200]);
}

#[test]
fn a_peer_refusing_the_resume_ends_the_call() {
    for status in [481, 500, 488] {
        let snap = snapshot_of_an_outgoing_call();
        let mut h = successor();
        let call = h.ua.new_call_id();
        h.command(Command::Resume { call, dialog: snap, sdp: OFFER.into() });
        let inv = h.take_request("INVITE");
        h.reply(&inv, status, &[], "");
        h.take_request("ACK");
        let bye = h.take_request("BYE");
        let ev = h.take_events();
        let ended = Event::Ended { call, cause: EndCause::Failed(status) };
        assert_eq!(ev, vec![Event::ReinviteFailed { call, status }, ended], "{status}");
        assert!(bye.cseq().unwrap().seq > inv.cseq().unwrap().seq);
    }
    // Glare is no refusal: a fresh offer is asked for, and its failure ends the call.
    let snap = snapshot_of_an_outgoing_call();
    let mut h = successor();
    let call = h.ua.new_call_id();
    h.command(Command::Resume { call, dialog: snap, sdp: OFFER.into() });
    let inv = h.take_request("INVITE");
    h.reply(&inv, 491, &[], "");
    assert_eq!(h.take_events(), vec![Event::Glare { call }]);
    h.advance(secs(4));
    assert_eq!(h.take_events(), vec![Event::GlareRetry { call }]);
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    let again = h.take_request("INVITE");
    h.reply(&again, 480, &[], "");
    assert!(h.take_events().contains(&Event::Ended { call, cause: EndCause::Failed(480) }));
}

#[test]
fn a_bad_snapshot_or_no_connection_refuses_the_resume() {
    let good = snapshot_of_an_outgoing_call();
    let mut h = successor();
    let mut bad = good.clone();
    bad.route_set.push("<sip:p3;lr".into());
    let call = h.ua.new_call_id();
    h.command(Command::Resume { call, dialog: bad, sdp: OFFER.into() });
    let ev = h.take_events();
    assert!(
        matches!(&ev[..], [Event::Error { call: Some(c), .. }, Event::Ended { cause: EndCause::Failed(400), .. }] if *c == call),
        "{ev:?}"
    );
    let mut bad = good.clone();
    bad.remote_tag = "a b".into();
    let call = h.ua.new_call_id();
    h.command(Command::Resume { call, dialog: bad, sdp: OFFER.into() });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }, Event::Ended { .. }]));
    assert!(h.sent.is_empty());
    h.input(Input::Closed);
    h.take_events();
    let call = h.ua.new_call_id();
    h.command(Command::Resume { call, dialog: good, sdp: OFFER.into() });
    assert_eq!(h.take_events(), vec![Event::Ended { call, cause: EndCause::Transport }]);
}
