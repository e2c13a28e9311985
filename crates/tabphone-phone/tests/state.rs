//! The state publication: only on change, once per input, first among the
//! input's outputs, `rev` one more each time; times; no credentials.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tabphone_phone::state::{Connection, DisconnectCause, Registration, ENDED_KEPT, STATE_VERSION};
use tabphone_phone::{Phone, PhoneInput, PhoneOutput, PhoneState};

fn outputs(phone: &mut Phone, now: tabphone_phone::Instant, input: PhoneInput<'_>) -> Vec<PhoneOutput> {
    phone.handle_input(now, input);
    std::iter::from_fn(|| phone.poll_output()).collect()
}

#[test]
fn published_once_per_changing_input_and_first() {
    let mut phone = Phone::new(config());
    let now = tabphone_phone::Instant::now();
    let out = outputs(&mut phone, now, PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None });
    let PhoneOutput::State(text) = &out[0] else { panic!("state first: {out:?}") };
    let s = PhoneState::parse(text).unwrap();
    assert_eq!((s.v, s.rev), (STATE_VERSION, 1));
    assert_eq!(s.connection, Connection::Connecting { url: SERVER.into() });
    assert_eq!(out.iter().filter(|o| matches!(o, PhoneOutput::State(_))).count(), 1);
    // The REGISTER goes out after the state that says we are connected.
    let out = outputs(&mut phone, now, PhoneInput::Opened);
    let kinds: Vec<&str> = out
        .iter()
        .map(|o| match o {
            PhoneOutput::State(_) => "state",
            PhoneOutput::Send(_) => "send",
            PhoneOutput::Event(_) => "event",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["state", "event", "send"]);
    assert_eq!(phone.state().unwrap().rev, 2);
    // A CRLF pong changes nothing: no state.
    let out = outputs(&mut phone, now, PhoneInput::Received(b"\r\n"));
    assert!(out.is_empty(), "{out:?}");
    // Nor does a refused action.
    let out = outputs(&mut phone, now, PhoneInput::Action { id: 1, name: "hold", args: r#"{"call":"x"}"# });
    assert!(matches!(&out[..], [PhoneOutput::Result { id: 1, result: Err(_) }]), "{out:?}");
    assert_eq!(phone.state().unwrap().rev, 2);
}

#[test]
fn the_initial_state_and_its_json() {
    let mut w = World::new(config());
    w.input(PhoneInput::Offline);
    let text = w.state_texts.last().unwrap().clone();
    let s = PhoneState::parse(&text).unwrap();
    assert_eq!(s.connection, Connection::Disconnected { cause: DisconnectCause::NotStarted });
    assert_eq!(s.registration, Registration::Unregistered);
    assert_eq!(
        text,
        r#"{"v":1,"rev":1,"aor":"sip:alice@example.com","online":false,"audioBlocked":false,"connection":{"state":"disconnected","cause":"not_started"},"registration":{"state":"unregistered"},"calls":[],"ended":[]}"#
    );
    assert_eq!(s.to_json(), text);
    assert!(PhoneState::parse(&text.replace(r#""v":1"#, r#""v":2"#)).is_err());
}

#[test]
fn a_call_in_json() {
    let mut w = World::registered();
    let (call, call_id, tag) = established(&mut w);
    let text = w.state_texts.last().unwrap();
    let expect = format!(
        r#""calls":[{{"id":"{call}","direction":"outgoing","peer":{{"uri":"sip:bob@example.com","name":null}},"state":"established","held":{{"local":false,"remote":false}},"muted":false,"startedAt":{T0_UNIX_MS},"answeredAt":{T0_UNIX_MS},"replaces":null,"dialog":{{"callId":"{call_id}","localTag":"{tag}","remoteTag":"peer1","localUri":"sip:alice@example.com","remoteUri":"sip:bob@example.com","localCseq":1,"remoteCseq":null,"remoteTarget":"sip:bob@192.0.2.9;transport=ws","routeSet":["<sip:127.0.0.1:5066;transport=ws;lr>"]}},"handovers":0,"resuming":false,"dtls":null}}]"#
    );
    assert!(text.contains(&expect), "{text}");
}

#[test]
fn the_dialog_in_the_state_counts_a_request_before_it_leaves() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let now = w.now;
    let hangup = format!(r#"{{"call":"{call}"}}"#);
    let out = outputs(&mut w.phone, now, PhoneInput::Action { id: 77, name: "hangup", args: &hangup });
    let PhoneOutput::State(text) = &out[0] else { panic!("state first: {out:?}") };
    let state = PhoneState::parse(text).unwrap();
    let bye = out.iter().find_map(|o| match o {
        PhoneOutput::Send(t) if t.starts_with("BYE ") => Some(t.clone()),
        _ => None,
    });
    let bye = bye.expect("a BYE");
    let cseq = bye.lines().find_map(|l| l.strip_prefix("CSeq: ")).unwrap();
    let d = state.call(&call).unwrap().dialog.clone().unwrap();
    assert_eq!(cseq, format!("{} BYE", d.local_cseq));
}

#[test]
fn ended_keeps_the_last_few() {
    let mut w = World::registered();
    for _ in 0..ENDED_KEPT + 3 {
        let call = w.call("bob");
        let invite = w.take_request("INVITE");
        w.reply(&invite, 486, &[], "");
        w.take_request("ACK");
        assert_eq!(w.state().ended.last().unwrap().id, call);
    }
    assert_eq!(w.state().ended.len(), ENDED_KEPT);
}

#[test]
fn credentials_never_appear() {
    let mut w = World::new(config());
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None });
    w.input(PhoneInput::Opened);
    let reg = w.take_request("REGISTER");
    let challenge = "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";
    w.reply(&reg, 401, &[("WWW-Authenticate", challenge)], "");
    let reg = w.take_request("REGISTER");
    let authz = reg.headers.get("Authorization").unwrap().to_string();
    let response = authz.split("response=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    w.reply(&reg, 200, &[], "");
    established(&mut w);
    let published = w.state_texts.join("\n") + &format!("{:?}{:?}", w.events, w.results);
    for secret in [PASSWORD, response.as_str()] {
        assert!(!published.contains(secret), "{secret} leaked");
    }
    assert!(w.wire.iter().any(|t| t.contains(&response)), "the digest answer was sent");
}
