//! Every RFC 4475 message fed to a registered user agent: the responses it
//! sends are those INDEX.tsv asks of an endpoint, and it stays usable.

#![allow(clippy::unwrap_used)]

mod common;

use common::corpus;
use common::harness::Harness;
use tabphone_sip::ua::Event;

/// What a user agent (not a proxy or registrar) answers. Notes:
/// - REGISTER to a UA is 405 (regaut01 says so of a non-registrar UA; the same
///   goes for escnull, dblreq, unksm2, cparam01, cparam02 and regescrt, whose
///   INDEX lines describe a registrar).
/// - wsinv is an INVITE with a To tag: a request inside a dialog this agent
///   does not have, so 481 (RFC 3261 12.2.2).
/// - Responses that match no transaction are dropped (unreason, noreason, bcast),
///   as are invalid responses (scalarlg, bigcode).
const EXPECT: &[(&str, &[u16])] = &[
    ("wsinv", &[481]),
    ("intmeth", &[501]),
    ("esc01", &[100, 180]),
    ("escnull", &[405]),
    ("esc02", &[501]),
    ("lwsdisp", &[200]),
    ("longreq", &[100, 180]),
    ("dblreq", &[405]),
    ("semiuri", &[200]),
    ("transports", &[200]),
    ("mpart01", &[200]),
    ("unreason", &[]),
    ("noreason", &[]),
    ("badinv01", &[400]),
    ("clerr", &[400]),
    ("ncl", &[400]),
    ("scalar02", &[400]),
    ("scalarlg", &[]),
    ("quotbal", &[400]),
    ("ltgtruri", &[400]),
    ("lwsruri", &[400]),
    ("lwsstart", &[400]),
    ("trws", &[400]),
    ("escruri", &[400]),
    ("baddate", &[400]),
    ("regbadct", &[400]),
    ("badaspec", &[400]),
    ("baddn", &[400]),
    ("badvers", &[505]),
    ("mismatch01", &[400]),
    ("mismatch02", &[400]),
    ("bigcode", &[]),
    ("badbranch", &[200]),
    ("insuf", &[400]),
    ("unkscm", &[416]),
    ("novelsc", &[416]),
    ("unksm2", &[405]),
    ("bext01", &[420]),
    ("invut", &[415]),
    ("regaut01", &[405]),
    ("sdp01", &[406]),
    ("bcast", &[]),
    ("zeromf", &[200]),
    ("cparam01", &[405]),
    ("cparam02", &[405]),
    ("regescrt", &[405]),
    ("inv2543", &[100, 180]),
    ("multi01", &[400]),
    ("mcl01", &[400]),
];

#[test]
fn each_message_gets_the_rfc_answer() {
    let all = corpus();
    assert_eq!(all.len(), EXPECT.len());
    let mut wrong = Vec::new();
    for (name, class, bytes) in &all {
        let want = EXPECT.iter().find(|(n, _)| n == name).map(|(_, w)| *w).expect("listed");
        let mut h = Harness::registered();
        h.input(tabphone_sip::ua::Input::Received(bytes));
        let got = h.take_statuses();
        if got != want {
            wrong.push(format!("{name}: sent {got:?}, want {want:?}"));
        }
        let errors = h.take_events().iter().filter(|e| matches!(e, Event::Error { .. })).count();
        // Invalid messages are reported to the app; valid ones are not.
        let want_error = class == "invalid" || matches!(name.as_str(), "insuf" | "multi01" | "mcl01");
        if (errors > 0) != want_error {
            wrong.push(format!("{name}: {errors} error events"));
        }
        // Still working: an OPTIONS gets its 200.
        h.receive(
            "OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKo\r\n\
From: <sip:mon@example.com>;tag=m\r\nTo: <sip:alice@example.com>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\r\n",
        );
        assert_eq!(h.take_statuses(), vec![200], "{name}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn unsupported_extensions_are_listed() {
    let all = corpus();
    let bytes = &all.iter().find(|(n, ..)| n == "bext01").expect("bext01").2;
    let mut h = Harness::registered();
    h.input(tabphone_sip::ua::Input::Received(bytes));
    let r = h.take_response(420);
    assert_eq!(r.headers.get("Unsupported"), Some("nothingSupportsThis, nothingSupportsThisEither"));
}
