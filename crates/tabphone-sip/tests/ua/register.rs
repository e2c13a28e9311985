//! Registration: digest, instance id, refresh, 423, failures, no answer.

use super::*;

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

/// Register through a digest challenge; returns the harness and the challenge.
fn registered_with_digest() -> (Harness, &'static str) {
    let challenge = "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";
    let (mut h, reg) = Harness::connected(config());
    h.reply(&reg, 401, &[("WWW-Authenticate", challenge)], "");
    let reg = h.take_request("REGISTER");
    assert_eq!(digest_params(reg.headers.get("Authorization").unwrap())["nc"], "00000001");
    h.reply(&reg, 200, &[], "");
    h.take_events();
    (h, challenge)
}

#[test]
fn refreshes_and_unregisters_carry_credentials_for_the_last_challenge() {
    let (mut h, _) = registered_with_digest();
    h.advance(secs(570));
    let refresh = h.take_request("REGISTER");
    let p = digest_params(refresh.headers.get("Authorization").expect("credentials on the refresh"));
    assert_eq!((p["nonce"].as_str(), p["nc"].as_str()), ("n1", "00000002"));
    h.reply(&refresh, 200, &[], "");
    assert!(h.try_take_request("REGISTER").is_none(), "one round trip");
    h.command(Command::Unregister);
    let unreg = h.take_request("REGISTER");
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
    let p = digest_params(unreg.headers.get("Authorization").expect("credentials on the un-REGISTER"));
    assert_eq!(p["nc"], "00000003");
}

#[test]
fn a_stale_nonce_on_a_refresh_is_answered_once() {
    let (mut h, _) = registered_with_digest();
    h.advance(secs(570));
    let refresh = h.take_request("REGISTER");
    let stale = "Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\", stale=true";
    h.reply(&refresh, 401, &[("WWW-Authenticate", stale)], "");
    let again = h.take_request("REGISTER");
    let p = digest_params(again.headers.get("Authorization").unwrap());
    assert_eq!((p["nonce"].as_str(), p["nc"].as_str()), ("n2", "00000001"));
    h.reply(&again, 200, &[], "");
    assert_eq!(h.take_events(), vec![Event::Registered { expires: 600, bindings: 0 }]);
    // A second 401 to a challenged REGISTER still fails: no loop.
    h.advance(secs(570));
    let refresh = h.take_request("REGISTER");
    h.reply(&refresh, 401, &[("WWW-Authenticate", stale)], "");
    let again = h.take_request("REGISTER");
    h.reply(&again, 401, &[("WWW-Authenticate", stale)], "");
    assert!(h.try_take_request("REGISTER").is_none());
    assert_eq!(h.take_events().last(), Some(&Event::RegistrationFailed { status: Some(401) }));
}
