//! Traces, bad input from the server, commands that cannot run.

use super::*;

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
        assert!(matches!(h.take_events()[..], [Event::Error { call: Some(c), .. }] if c == ghost));
    }
    assert!(h.sent.is_empty());
    // Errors about no call in particular name none.
    h.receive("\u{0}garbage");
    assert!(matches!(h.take_events()[..], [Event::Error { call: None, .. }]));
}

#[test]
fn debug_leaves_the_password_and_digest_answers_out() {
    let (mut h, reg) = Harness::connected(config());
    h.reply(&reg, 401, &[("WWW-Authenticate", "Digest realm=\"example.com\", nonce=\"a\"")], "");
    let reg = h.take_request("REGISTER");
    let authz = reg.headers.get("Authorization").unwrap().to_string();
    let text = format!("{:?}", h.ua);
    assert!(!text.contains("secret") && !text.contains(&authz), "{text}");
    assert!(text.contains("sip:alice@example.com"), "{text}");
}
