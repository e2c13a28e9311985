//! rsip as an independent oracle. Where rsip 0.4 accepts a message, both
//! parsers must agree on its start line, Call-ID, CSeq, header count and body;
//! and every message this agent sends in a full set of call flows must be
//! accepted by rsip with the same fields (what we send, others can read).
//!
//! rsip is not the product's parser: on RFC 4475 it rejects 6 of the 13
//! valid messages and accepts 11 of the 19 invalid ones (measured; see the
//! crate docs), so it serves as a second opinion only.
#![allow(clippy::unwrap_used)]

mod common;

use common::harness::*;
use rsip::prelude::*;
use tabphone_sip::msg::{self, Message};
use tabphone_sip::ua::{Command, Input};

#[derive(Debug, PartialEq, Eq)]
struct View {
    start: String,
    call_id: String,
    cseq: (u32, String),
    headers: usize,
    body: Vec<u8>,
}

fn rsip_view(bytes: &[u8]) -> Option<View> {
    let m = rsip::SipMessage::try_from(bytes).ok()?;
    let start = match &m {
        rsip::SipMessage::Request(r) => r.method.to_string(),
        rsip::SipMessage::Response(r) => u16::from(r.status_code.clone()).to_string(),
    };
    let call_id = m.call_id_header().ok()?.value().to_string();
    let cseq = m.cseq_header().ok()?.typed().ok()?;
    let headers = m.headers().iter().count();
    Some(View { start, call_id, cseq: (cseq.seq, cseq.method.to_string()), headers, body: m.body().clone() })
}

fn our_view(bytes: &[u8]) -> View {
    let m = msg::parse(bytes).unwrap();
    let h = m.headers();
    let start = match &m {
        Message::Request(r) => r.method.as_str().to_string(),
        Message::Response(r) => r.status.to_string(),
    };
    let cseq = msg::CSeq::parse(h.get("CSeq").unwrap()).unwrap();
    // Content-Length is kept apart from the fields: count it back.
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let has_length = head.lines().skip(1).any(|l| {
        let name = l.split(':').next().unwrap_or("").trim();
        name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l")
    });
    View {
        start,
        call_id: h.get("Call-ID").unwrap().to_string(),
        cseq: (cseq.seq, cseq.method.as_str().to_string()),
        headers: h.0.len() + usize::from(has_length),
        body: m.body().to_vec(),
    }
}

#[test]
fn agrees_with_rsip_where_rsip_accepts() {
    let mut compared = 0;
    for (name, class, bytes) in common::corpus() {
        if class != "valid" {
            continue;
        }
        let Some(theirs) = rsip_view(&bytes) else { continue };
        assert_eq!(our_view(&bytes), theirs, "{name}");
        compared += 1;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bench/sip");
    for name in ["register.sip", "401.sip", "invite-webrtc.sip", "200-ok.sip"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let theirs = rsip_view(&bytes).unwrap_or_else(|| panic!("rsip refuses {name}"));
        assert_eq!(our_view(&bytes), theirs, "{name}");
        compared += 1;
    }
    assert!(compared >= 10, "compared {compared}");
}

#[test]
fn rsip_reads_everything_we_send() {
    let mut h = Harness::registered();
    // Outgoing call with auth, early media, answer, hold, DTMF, transfer, BYE.
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
    let inv = h.take_request("INVITE");
    h.reply(
        &inv,
        407,
        &[("Proxy-Authenticate", "Digest realm=\"example.com\", nonce=\"n\", qop=\"auth\"")],
        "",
    );
    let inv = h.take_request("INVITE");
    h.reply(&inv, 183, &[], ANSWER);
    h.reply(&inv, 200, &[("Record-Route", "<sip:127.0.0.1;lr>"), ("Contact", "<sip:bob@10.0.0.2>")], ANSWER);
    h.command(Command::Hold { call, sdp: OFFER.into() });
    h.command(Command::Dtmf { call, digits: "5".into(), duration_ms: 100 });
    h.command(Command::Refer { call, target: "carol".into(), replaces: None });
    h.command(Command::Message {
        id: 1,
        target: "bob".into(),
        content_type: "text/plain".into(),
        body: "hi".into(),
    });
    h.command(Command::Hangup { call });
    // Incoming call answered, a refused one, an OPTIONS, a bad request.
    h.receive(&incoming_invite("in-1", "z9hG4bKin1"));
    h.command(Command::Answer { call: tabphone_sip::ua::CallId(2), sdp: ANSWER.into() });
    h.receive(&incoming_invite("in-2", "z9hG4bKin2"));
    h.command(Command::Reject { call: tabphone_sip::ua::CallId(3), status: 603 });
    h.receive(
        "OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKo\r\n\
From: <sip:mon@example.com>;tag=m\r\nTo: <sip:alice@example.com>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\r\n",
    );
    h.command(Command::Unregister);
    h.input(Input::Timeout);
    let sent: Vec<String> = h.raw.iter().filter(|t| !t.trim().is_empty()).cloned().collect();
    assert!(sent.len() >= 18, "{}", sent.len());
    for text in &sent {
        let theirs =
            rsip_view(text.as_bytes()).unwrap_or_else(|| panic!("rsip refuses what we sent:\n{text}"));
        assert_eq!(our_view(text.as_bytes()), theirs, "{text}");
    }
}
