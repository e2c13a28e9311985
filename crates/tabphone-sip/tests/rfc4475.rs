//! Every RFC 4475 torture message through the parser, as `tests/rfc4475/INDEX.tsv`
//! classifies it. The application-layer answers (416, 420, 501, ...) are checked
//! on the user agent in `ua_rfc4475.rs`.

#![allow(clippy::unwrap_used)]

use tabphone_sip::msg::{parse, Message};

mod common;
use common::corpus;

#[test]
fn valid_messages_parse_and_invalid_ones_are_errors() {
    let all = corpus();
    assert_eq!(all.len(), 49);
    let mut wrong = Vec::new();
    for (name, class, bytes) in &all {
        let got = parse(bytes);
        let ok = match class.as_str() {
            "valid" => got.is_ok(),
            "invalid" => got.is_err(),
            // Parse must not break; the checks of what the UA answers are in ua_rfc4475.rs.
            _ => true,
        };
        if !ok {
            wrong.push(format!("{name} ({class}): {:?}", got.map(|_| "parsed")));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn invalid_requests_carry_the_rfc_answer() {
    let expect = [
        ("badinv01", 400),
        ("clerr", 400),
        ("ncl", 400),
        ("scalar02", 400),
        ("quotbal", 400),
        ("ltgtruri", 400),
        ("lwsruri", 400),
        ("lwsstart", 400),
        ("trws", 400),
        ("escruri", 400),
        ("baddate", 400),
        ("regbadct", 400),
        ("badaspec", 400),
        ("baddn", 400),
        ("badvers", 505),
        ("mismatch01", 400),
        ("mismatch02", 400),
        ("insuf", 400),
        ("multi01", 400),
        ("mcl01", 400),
    ];
    let all = corpus();
    for (name, status) in expect {
        let bytes = &all.iter().find(|(n, ..)| n == name).expect("file").2;
        let e = parse(bytes).expect_err(name);
        assert_eq!(e.answer.as_ref().map(|a| a.0), Some(status), "{name}: {}", e.reason);
    }
    // Invalid responses are dropped: no answer.
    for name in ["scalarlg", "bigcode"] {
        let bytes = &all.iter().find(|(n, ..)| n == name).expect("file").2;
        assert!(parse(bytes).expect_err(name).answer.is_none());
    }
}

#[test]
fn details_of_valid_messages() {
    let all = corpus();
    let get = |name: &str| parse(&all.iter().find(|(n, ..)| n == name).expect("file").2).expect(name);
    // wsinv: folding, compact forms, odd spacing; body framed by Content-Length.
    let Message::Request(r) = get("wsinv") else { panic!("request") };
    assert_eq!(r.body.len(), 150);
    assert_eq!(r.headers.list("Via").count(), 3);
    assert_eq!(r.headers.get("To"), Some("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n"));
    let to = tabphone_sip::msg::NameAddr::parse(r.headers.get("To").unwrap()).unwrap();
    assert_eq!(to.tag(), Some("1918181833n"));
    // dblreq: the trailing INVITE is not part of the REGISTER.
    let Message::Request(r) = get("dblreq") else { panic!("request") };
    assert!(r.body.is_empty());
    // mpart01: a binary body with NUL octets, framed exactly.
    let m = get("mpart01");
    assert!(m.body().contains(&0));
    // semiuri: the user part holds the semicolons.
    let Message::Request(r) = get("semiuri") else { panic!("request") };
    let u = tabphone_sip::msg::Uri::parse(&r.uri).unwrap();
    assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
    // noreason: an empty reason phrase.
    let Message::Response(r) = get("noreason") else { panic!("response") };
    assert_eq!((r.status, r.reason.as_str()), (100, ""));
    // esc02: an escaped unknown method is kept as its token.
    let Message::Request(r) = get("esc02") else { panic!("request") };
    assert_eq!(r.method.as_str(), "RE%47IST%45R");
}
