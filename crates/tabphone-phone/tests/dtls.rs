//! The DTLS role on the wire (`crate::sdp`): our offers claim `active` in a
//! call's first offer and then the role this side has, the browser's own
//! `actpass` left to the media layer; the role follows the answers, is
//! published, and a successor's resume offer claims it again.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{CallState, EndCause};
use tabphone_phone::{DtlsRole, Inherited, PhoneEvent, PhoneInput};

/// A DTLS-SRTP SDP as a browser makes it, with this `a=setup` value.
fn dtls_sdp(setup: &str, direction: &str, version: u32) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 AB:CD\r\na=setup:{setup}\r\n\
a=rtpmap:111 opus/48000/2\r\na={direction}\r\n"
    )
}

fn setup_of(body: &[u8]) -> Option<DtlsRole> {
    DtlsRole::of(&String::from_utf8_lossy(body))
}

/// alice calls bob, whose answer claims `bob_setup`: (world, call id).
fn call_answered(bob_setup: &str) -> (World, String) {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendrecv", 1)));
    let invite = w.take_request("INVITE");
    assert_eq!(
        String::from_utf8_lossy(&invite.body),
        dtls_sdp("active", "sendrecv", 1),
        "the first offer claims active, nothing else changed"
    );
    assert_eq!(w.call_view(&call).dtls, None, "no role before the answer");
    w.reply(&invite, 200, &[], &dtls_sdp(bob_setup, "sendrecv", 100));
    w.take_request("ACK");
    // The media layer gets the answer as the peer wrote it.
    let applied = w.media_reply("apply", Ok(String::new()));
    assert_eq!(
        applied.kind,
        MediaKind::ApplyAnswer { answer: dtls_sdp(bob_setup, "sendrecv", 100), provisional: false }
    );
    assert_eq!(w.call_view(&call).state, CallState::Established);
    (w, call)
}

/// A hold re-INVITE from the media layer's `actpass` offer: its `a=setup`.
fn hold_offer_setup(w: &mut World, call: &str) -> Option<DtlsRole> {
    let hold = w.action("hold", &call_args(call));
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendonly", 2)));
    let reinvite = w.take_request("INVITE");
    assert_eq!(direction_of(&reinvite.body), "sendonly");
    w.reply(&reinvite, 200, &[], &dtls_sdp("passive", "recvonly", 101));
    w.take_request("ACK");
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(hold).is_ok());
    setup_of(&reinvite.body)
}

#[test]
fn an_outgoing_call_keeps_the_peer_the_dtls_server() {
    let (mut w, call) = call_answered("passive");
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Active));
    assert!(w.state_texts.last().unwrap().contains(r#""dtls":"active""#));
    assert_eq!(hold_offer_setup(&mut w, &call), Some(DtlsRole::Active));
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Active));
}

#[test]
fn a_peer_answering_active_anyway_makes_us_the_server_and_the_call_goes_on() {
    let (mut w, call) = call_answered("active");
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Passive));
    // Re-offers claim the role we have now (RFC 8842 5.3).
    assert_eq!(hold_offer_setup(&mut w, &call), Some(DtlsRole::Passive));
    assert_eq!(w.call_view(&call).state, CallState::Established);
}

#[test]
fn an_incoming_call_takes_the_role_of_our_answer() {
    let mut w = World::registered();
    w.auto_media = false;
    w.receive(&invite_from_bob("in1", Some(&dtls_sdp("actpass", "sendrecv", 1))));
    let call = w.state().calls[0].id.clone();
    w.action("answer", &call_args(&call));
    w.media_reply("answer", Ok(dtls_sdp("active", "sendrecv", 2)));
    let ok = w.take_responses().into_iter().find(|(s, _)| *s == 200).unwrap();
    assert_eq!(ok.1, dtls_sdp("active", "sendrecv", 2), "our answer goes as the media layer made it");
    let tag = w.our_tag();
    w.receive(&from_bob("ACK", "in1", "bobtag", &tag, 10, "", ""));
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Active));
    // The peer re-offers actpass: our answer says passive now.
    w.receive(&from_bob("INVITE", "in1", "bobtag", &tag, 11, "", &dtls_sdp("actpass", "sendrecv", 3)));
    w.media_reply("answer", Ok(dtls_sdp("passive", "sendrecv", 4)));
    w.receive(&from_bob("ACK", "in1", "bobtag", &tag, 11, "", ""));
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Passive));
}

/// The peer's re-offer on call `in1`: the media request it gives.
fn reoffer(w: &mut World, tag: &str, cseq: u32, sdp: &str) -> MediaKind {
    w.receive(&from_bob("INVITE", "in1", "bobtag", tag, cseq, "", sdp));
    let answer = w.media_reply("answer", Ok(dtls_sdp("passive", "sendrecv", cseq)));
    w.receive(&from_bob("ACK", "in1", "bobtag", tag, cseq, "", ""));
    answer.kind
}

#[test]
fn a_reoffer_from_a_new_dtls_endpoint_is_answered_from_a_fresh_connection() {
    let mut w = World::registered();
    w.auto_media = false;
    w.receive(&invite_from_bob("in1", Some(&dtls_sdp("actpass", "sendrecv", 1))));
    let call = w.state().calls[0].id.clone();
    w.action("answer", &call_args(&call));
    let first = w.media_reply("answer", Ok(dtls_sdp("active", "sendrecv", 2)));
    assert!(
        matches!(first.kind, MediaKind::Answer { fresh: false, .. }),
        "a first answer makes its connection"
    );
    let tag = w.our_tag();
    w.receive(&from_bob("ACK", "in1", "bobtag", &tag, 10, "", ""));
    // The same endpoint re-offers (hold, ICE restart): the connection stays.
    let same = reoffer(&mut w, &tag, 11, &dtls_sdp("passive", "sendonly", 3));
    assert!(matches!(same, MediaKind::Answer { fresh: false, .. }), "{same:?}");
    // Another certificate: the peer moved (e.g. to its next real tab).
    let moved = dtls_sdp("passive", "sendrecv", 4).replace("AB:CD", "EF:01");
    assert!(matches!(reoffer(&mut w, &tag, 12, &moved), MediaKind::Answer { fresh: true, .. }));
    // ...and from there on it is the one known.
    let again = dtls_sdp("passive", "sendrecv", 5).replace("AB:CD", "EF:01");
    assert!(matches!(reoffer(&mut w, &tag, 13, &again), MediaKind::Answer { fresh: false, .. }));
    // Plain RTP (no fingerprint) never asks for a fresh connection.
    let plain = "v=0\r\no=- 1 6 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
    assert!(matches!(reoffer(&mut w, &tag, 14, plain), MediaKind::Answer { fresh: false, .. }));
    assert_eq!(w.call_view(&call).state, CallState::Established);
}

#[test]
fn an_offerless_invite_gets_an_active_offer() {
    let mut w = World::registered();
    w.auto_media = false;
    w.receive(&invite_from_bob("in2", None));
    let call = w.state().calls[0].id.clone();
    w.action("answer", &call_args(&call));
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendrecv", 2)));
    let ok = w.take_responses().into_iter().find(|(s, _)| *s == 200).unwrap();
    assert_eq!(DtlsRole::of(&ok.1), Some(DtlsRole::Active));
    let tag = w.our_tag();
    let ack = from_bob(
        "ACK",
        "in2",
        "bobtag",
        &tag,
        10,
        "Content-Type: application/sdp\r\n",
        &dtls_sdp("passive", "sendrecv", 3),
    );
    w.receive(&ack);
    assert_eq!(w.call_view(&call).dtls, Some(DtlsRole::Active));
}

/// A successor takes the call over from `state`; the `a=setup` of its
/// re-INVITE, made from the fresh media's `actpass` offer.
fn resume_offer_setup(state: &str) -> Option<DtlsRole> {
    let mut c = config();
    c.sip.seed = 4242;
    let mut w = World::new(c);
    w.auto_media = false;
    let inherit = Some(Inherited { state, as_of_unix_ms: T0_UNIX_MS });
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS + 500, inherit });
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendrecv", 50)));
    w.input(PhoneInput::Opened);
    let inv = w.take_request("INVITE");
    w.reply(&inv, 200, &[], &dtls_sdp("passive", "sendrecv", 102));
    w.media_reply("apply", Ok(String::new()));
    let call = w.state().calls[0].clone();
    assert!(!call.resuming && call.state == CallState::Established, "{call:?}");
    setup_of(&inv.body)
}

#[test]
fn a_successor_claims_the_inherited_role() {
    for (bob, ours) in [("passive", DtlsRole::Active), ("active", DtlsRole::Passive)] {
        let (w, _) = call_answered(bob);
        assert_eq!(resume_offer_setup(w.state_texts.last().unwrap()), Some(ours), "bob {bob}");
    }
}

#[test]
fn a_state_without_the_role_resumes_with_the_offer_as_made() {
    let (w, _) = call_answered("passive");
    let old = w.state_texts.last().unwrap().replace(r#","dtls":"active""#, "");
    assert!(!old.contains("dtls"));
    assert_eq!(resume_offer_setup(&old), None, "actpass: the role is not known");
}

#[test]
fn a_reinvite_refused_for_its_role_is_offered_again_as_the_media_layer_made_it() {
    let (mut w, call) = call_answered("passive");
    let hold = w.action("hold", &call_args(&call));
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendonly", 2)));
    let first = w.take_request("INVITE");
    assert_eq!(setup_of(&first.body), Some(DtlsRole::Active));
    w.reply(&first, 488, &[], "");
    w.take_request("ACK");
    assert!(!w.has_result(hold), "tried again, not failed");
    assert!(w
        .events
        .iter()
        .any(|e| matches!(e, PhoneEvent::Error { message, .. } if message.contains("a=setup:active"))));
    // The rollback of the refused offer, then a fresh one, sent as made.
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendonly", 3)));
    let again = w.take_request("INVITE");
    assert_eq!(String::from_utf8_lossy(&again.body), dtls_sdp("actpass", "sendonly", 3));
    // A second refusal is the hold's answer (no more tries).
    w.reply(&again, 488, &[], "");
    w.take_request("ACK");
    assert_eq!(w.result(hold).unwrap_err().status, Some(488));
    assert_eq!(w.call_view(&call).state, CallState::Established, "the call goes on");
    // Later offers of this call go as made too.
    let hold_again = w.action("hold", &call_args(&call));
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendonly", 4)));
    let third = w.take_request("INVITE");
    assert_eq!(setup_of(&third.body), None);
    w.reply(&third, 200, &[], &dtls_sdp("passive", "recvonly", 102));
    w.take_request("ACK");
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(hold_again).is_ok());
}

#[test]
fn a_first_invite_refused_with_488_says_what_it_claimed() {
    let mut w = World::registered();
    w.auto_media = false;
    let call = w.call("bob");
    w.media_reply("offer", Ok(dtls_sdp("actpass", "sendrecv", 1)));
    let invite = w.take_request("INVITE");
    w.reply(&invite, 488, &[], "");
    assert_eq!(w.state().ended.last().unwrap().cause, EndCause::Failed { status: 488 });
    let said = w.events.iter().any(|e| {
        matches!(e, PhoneEvent::Error { call: Some(c), message } if *c == call && message.contains("a=setup:active"))
    });
    assert!(said, "{:?}", w.events);
}
