//! The user agent against a scripted server: registration, calls, in-dialog
//! requests, recovery and bad input. Exact messages and timings. One module
//! per concern; the flows they share (a call set up either way) are here.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod calls;
mod diagnostics;
mod dialog;
mod in_dialog;
mod recovery;
mod register;

use std::time::Duration;

use common::harness::*;
use tabphone_sip::auth::{self, Credentials};
use tabphone_sip::msg::NameAddr;
use tabphone_sip::transport::Cause;
use tabphone_sip::ua::{Command, EndCause, Event, Input, SessionState};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Call bob, get 407, 180 with early SDP, then 200 through two Record-Routes.
fn establish_outgoing(h: &mut Harness) -> tabphone_sip::ua::CallId {
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
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
