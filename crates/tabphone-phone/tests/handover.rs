//! Handover: a new real tab takes the calls of the previous one over from
//! its last published state (target-refresh re-INVITEs, RFC 3261 12.2), and
//! the stop modes that leave calls to a successor.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use tabphone_phone::media::MediaKind;
use tabphone_phone::state::{CallState, EndCause};
use tabphone_phone::{Direction, ErrorCode, Inherited, PhoneEvent, PhoneInput, PhoneState};
use tabphone_sip::msg::NameAddr;
use tabphone_sip::ua::RESUME_CSEQ_JUMP;

/// When the successor starts.
const LATER: u64 = T0_UNIX_MS + 10_000;

/// The old real: registered, with `n` established calls; its last state.
fn old_real(n: usize) -> (World, Vec<String>) {
    let mut w = World::registered();
    let calls = (0..n).map(|_| established(&mut w).0).collect();
    (w, calls)
}

/// A new tab (another seed) starting `age_ms` after the old real was last
/// seen, inheriting `state`.
fn successor(state: &str, age_ms: u64) -> World {
    let mut c = config();
    c.sip.seed = 4242;
    let mut w = World::new(c);
    w.auto_media = false;
    let inherit = Some(Inherited { state, as_of_unix_ms: LATER - age_ms });
    w.input(PhoneInput::Start { unix_ms: LATER, inherit });
    w
}

fn offers(w: &World) -> Vec<(String, MediaKind)> {
    let offer = |r: &&tabphone_phone::MediaRequest| matches!(r.kind, MediaKind::Offer { .. });
    w.media_log.iter().filter(offer).map(|r| (r.call.clone(), r.kind.clone())).collect()
}

fn plain_offer(direction: Direction) -> MediaKind {
    MediaKind::Offer { direction, ice_restart: false }
}

#[test]
fn an_established_call_is_resumed_with_a_target_refresh() {
    let (old, calls) = old_real(1);
    let call = &calls[0];
    let text = old.state_texts.last().unwrap().clone();
    let before = PhoneState::parse(&text).unwrap();
    let dialog = before.calls[0].dialog.clone().unwrap();

    let mut w = successor(&text, 500);
    // The first state continues the old real's revisions.
    assert_eq!(w.state().rev, before.rev + 1);
    let v = w.call_view(call);
    assert_eq!((v.state, v.handovers, v.resuming), (CallState::Established, 1, true));
    assert_eq!(
        (v.started_at, v.answered_at, &v.peer),
        (before.calls[0].started_at, before.calls[0].answered_at, &before.calls[0].peer)
    );
    assert_eq!(
        v.dialog.as_ref(),
        Some(&dialog),
        "the inherited dialog is published until the SIP core has it"
    );
    assert_eq!(offers(&w), [(call.clone(), plain_offer(Direction::SendRecv))]);
    w.media_reply("offer", Ok(sdp("sendrecv", 50)));
    assert!(w.sent.is_empty(), "nothing before the socket opens");
    w.input(PhoneInput::Opened);
    // The REGISTER and the re-INVITE leave back to back.
    let register = w.take_request("REGISTER");
    let inv = w.take_request("INVITE");
    assert_eq!(inv.uri, dialog.remote_target);
    assert_eq!(inv.headers.get_all("Route").collect::<Vec<_>>(), dialog.route_set);
    assert_eq!(inv.headers.get("Call-ID"), Some(dialog.call_id.as_str()));
    assert_eq!(tag_of(inv.headers.get("From")), dialog.local_tag);
    assert_eq!(tag_of(inv.headers.get("To")), dialog.remote_tag);
    assert_eq!(inv.cseq().unwrap().seq, dialog.local_cseq + RESUME_CSEQ_JUMP + 1);
    // Our Contact, as registered from this connection (the proxy aliases it
    // to this connection: the peer's requests follow it here).
    let contact = NameAddr::parse(inv.headers.get("Contact").unwrap()).unwrap().uri;
    assert!(register.headers.get("Contact").unwrap().contains(&contact), "{contact}");
    assert_eq!(String::from_utf8_lossy(&inv.body), sdp("sendrecv", 50));
    // Actions that need an offer wait for the call to be back: refused.
    let hold = w.action("hold", &call_args(call));
    assert_eq!(w.result(hold).unwrap_err().code, ErrorCode::WrongState);

    w.reply(&inv, 200, &[], &sdp("sendrecv", 101));
    w.take_request("ACK");
    assert!(w.call_view(call).resuming, "until the answer is applied");
    let applied = w.media_reply("apply", Ok(String::new()));
    assert_eq!(applied.kind, MediaKind::ApplyAnswer { answer: sdp("sendrecv", 101), provisional: false });
    let v = w.call_view(call);
    assert_eq!((v.state, v.handovers, v.resuming), (CallState::Established, 1, false));
    assert_eq!(v.dialog.unwrap().local_cseq, dialog.local_cseq + RESUME_CSEQ_JUMP + 1);
    assert!(!w
        .events
        .iter()
        .any(|e| matches!(e, PhoneEvent::CallEnded { .. } | PhoneEvent::Incoming { .. })));
    // The call works as any other: hang up with a BYE in the dialog.
    let hangup = w.action("hangup", &call_args(call));
    assert!(w.result(hangup).is_ok());
    let bye = w.take_request("BYE");
    assert_eq!(bye.headers.get("Call-ID"), Some(dialog.call_id.as_str()));
    for text in &w.state_texts {
        assert!(!text.contains(PASSWORD));
    }
}

#[test]
fn a_held_and_muted_call_stays_so_and_two_calls_both_move() {
    let (mut old, calls) = old_real(2);
    let hold = old.action("hold", &call_args(&calls[0]));
    let reinvite = old.take_request("INVITE");
    old.reply(&reinvite, 200, &[], &sdp("recvonly", 5));
    assert!(old.result(hold).is_ok());
    let mute = old.action("mute", &call_args(&calls[1]));
    assert!(old.result(mute).is_ok());
    let text = old.state_texts.last().unwrap().clone();

    let mut w = successor(&text, 0);
    assert_eq!(
        offers(&w),
        [
            (calls[0].clone(), plain_offer(Direction::SendOnly)),
            (calls[1].clone(), plain_offer(Direction::SendRecv))
        ]
    );
    // The mute is carried to the new media, after its offer.
    let last = w.media_log.last().unwrap();
    assert_eq!((&last.call, &last.kind), (&calls[1], &MediaKind::Mute { muted: true }));
    w.input(PhoneInput::Opened);
    w.media_reply("offer", Ok(sdp("sendonly", 60)));
    w.media_reply("offer", Ok(sdp("sendrecv", 61)));
    w.media_reply("mute", Ok(String::new()));
    for _ in 0..2 {
        let inv = w.take_request("INVITE");
        w.reply(&inv, 200, &[], &sdp("recvonly", 102));
        w.media_reply("apply", Ok(String::new()));
    }
    let held = w.call_view(&calls[0]);
    assert!(held.held.local && !held.resuming && held.handovers == 1, "{held:?}");
    let muted = w.call_view(&calls[1]);
    assert!(muted.muted && !muted.resuming && muted.handovers == 1, "{muted:?}");
    // Unhold works on the resumed call.
    let unhold = w.action("unhold", &call_args(&calls[0]));
    assert_eq!(offers(&w).last().unwrap().1, plain_offer(Direction::SendRecv));
    w.media_reply("offer", Ok(sdp("sendrecv", 62)));
    let inv = w.take_request("INVITE");
    w.reply(&inv, 200, &[], &sdp("sendrecv", 103));
    w.media_reply("apply", Ok(String::new()));
    assert!(w.result(unhold).is_ok());
}

fn resumed_then(status: Option<u16>) -> (World, String) {
    let (old, calls) = old_real(1);
    let mut w = successor(old.state_texts.last().unwrap(), 0);
    w.auto_media = true;
    w.media_reply("offer", Ok(sdp("sendrecv", 50)));
    w.input(PhoneInput::Opened);
    let reg = w.take_request("REGISTER");
    w.reply(&reg, 200, &[("Expires", "600")], "");
    let inv = w.take_request("INVITE");
    match status {
        Some(status) => w.reply(&inv, status, &[], ""),
        None => w.advance(Duration::from_secs(40)),
    }
    (w, calls[0].clone())
}

#[test]
fn a_refused_or_unanswered_resume_ends_the_call_with_its_status() {
    for (status, expect) in [(Some(481), 481), (Some(500), 500), (None, 408)] {
        let (mut w, call) = resumed_then(status);
        let cause = EndCause::ResumeFailed { status: expect };
        assert!(w.state().call(&call).is_none(), "{status:?}");
        assert_eq!(w.state().ended.last().map(|e| (e.id.clone(), e.cause)), Some((call.clone(), cause)));
        assert!(w.events.contains(&PhoneEvent::CallEnded { call: call.clone(), cause }));
        assert!(w.media_log.iter().any(|r| r.call == call && r.kind == MediaKind::Close));
        if status.is_some() {
            // The peer is told when it can be.
            w.take_request("BYE");
        }
    }
}

#[test]
fn a_stale_state_revives_nothing() {
    let (old, calls) = old_real(1);
    let mut w = successor(old.state_texts.last().unwrap(), 31_000);
    assert_eq!(
        w.state().ended.last().map(|e| (e.id.clone(), e.cause)),
        Some((calls[0].clone(), EndCause::Expired))
    );
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: calls[0].clone(), cause: EndCause::Expired }));
    assert!(offers(&w).is_empty());
    w.input(PhoneInput::Opened);
    assert!(w.try_take_request("INVITE").is_none());

    // Fresh, but the socket does not open before the state is too old.
    let mut w = successor(old.state_texts.last().unwrap(), 25_000);
    w.media_reply("offer", Ok(sdp("sendrecv", 50)));
    w.advance(Duration::from_secs(6));
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: calls[0].clone(), cause: EndCause::Expired }));
    w.input(PhoneInput::Opened);
    assert!(w.try_take_request("INVITE").is_none());
}

#[test]
fn calls_not_established_end_not_resumable_and_nothing_is_sent() {
    let mut old = World::registered();
    old.receive(&invite_from_bob("ring1", Some(&sdp("sendrecv", 1))));
    let ringing = old.state().calls[0].id.clone();
    old.auto_media = false;
    let placing = old.call("carol");
    let mut w = successor(old.state_texts.last().unwrap(), 0);
    for call in [&ringing, &placing] {
        let cause = EndCause::NotResumable;
        assert!(w.events.contains(&PhoneEvent::CallEnded { call: call.clone(), cause }), "{:?}", w.events);
    }
    assert!(w.state().calls.is_empty());
    w.input(PhoneInput::Opened);
    assert!(w.try_take_request("INVITE").is_none() && w.try_take_request("CANCEL").is_none());
}

#[test]
fn a_bad_inherited_state_is_an_error_and_the_phone_starts() {
    for bad in ["{not json", r#"{"v":9}"#] {
        let w = successor(bad, 0);
        assert!(w.events.iter().any(|e| matches!(e, PhoneEvent::Error { call: None, .. })), "{:?}", w.events);
        assert_eq!(w.connects.len(), 1);
        assert!(w.state().calls.is_empty());
    }
}

#[test]
fn hanging_up_while_resuming_sends_the_bye_after_the_reinvite() {
    let (old, calls) = old_real(1);
    let mut w = successor(old.state_texts.last().unwrap(), 0);
    let hangup = w.action("hangup", &call_args(&calls[0]));
    assert!(w.result(hangup).is_ok());
    assert_eq!(w.call_view(&calls[0]).state, CallState::Terminating);
    w.media_reply("offer", Ok(sdp("sendrecv", 50)));
    w.input(PhoneInput::Opened);
    let inv = w.take_request("INVITE");
    let bye = w.take_request("BYE");
    assert!(bye.cseq().unwrap().seq > inv.cseq().unwrap().seq);
    w.reply(&inv, 200, &[], &sdp("sendrecv", 101));
    w.reply(&bye, 200, &[], "");
    assert_eq!(
        w.state().ended.last().map(|e| (e.id.clone(), e.cause)),
        Some((calls[0].clone(), EndCause::Local))
    );
}

#[test]
fn a_failed_offer_ends_the_resume() {
    let (old, calls) = old_real(1);
    let mut w = successor(old.state_texts.last().unwrap(), 0);
    w.media_reply("offer", Err("no microphone".into()));
    let cause = EndCause::MediaFailed;
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: calls[0].clone(), cause }));
}

#[test]
fn the_last_tab_keeps_its_calls_for_a_reload_and_unregisters_without_any() {
    // With a call: no un-REGISTER, no BYE; the call stays in the state.
    let (mut w, calls) = old_real(1);
    w.input(PhoneInput::Stop { unregister: true, hang_up: false });
    assert!(w.sent.is_empty(), "{:?}", w.summary());
    assert_eq!(w.state().calls.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), calls);
    assert!(w.phone.has_calls(), "kept for the reload: the glue stores the state");
    assert!(w.events.contains(&PhoneEvent::Stopped));
    // The reloaded page takes it from there.
    let mut next = successor(w.state_texts.last().unwrap(), 800);
    assert_eq!(next.call_view(&calls[0]).handovers, 1);
    next.input(PhoneInput::Opened);
    next.media_reply("offer", Ok(sdp("sendrecv", 50)));
    next.take_request("INVITE");

    // Without a call: unregister.
    let mut w = World::registered();
    w.receive(&invite_from_bob("ring2", Some(&sdp("sendrecv", 1))));
    w.input(PhoneInput::Stop { unregister: true, hang_up: false });
    let unreg = w.take_request("REGISTER");
    assert_eq!(unreg.headers.get("Expires"), Some("0"));
}

#[test]
fn a_handover_refuses_the_calls_it_cannot_leave() {
    let (mut w, calls) = old_real(1);
    w.receive(&invite_from_bob("ring3", Some(&sdp("sendrecv", 1))));
    let ringing = w.state().calls[1].id.clone();
    w.input(PhoneInput::Stop { unregister: false, hang_up: false });
    assert_eq!(w.take_responses().iter().map(|r| r.0).collect::<Vec<_>>(), vec![100, 180, 480]);
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: ringing, cause: EndCause::NotResumable }));
    assert_eq!(w.state().calls.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), calls);
    // Hang up without unregistering: BYE, no REGISTER, closed.
    let (mut w, calls) = old_real(1);
    w.input(PhoneInput::Stop { unregister: false, hang_up: true });
    w.take_request("BYE");
    assert!(w.try_take_request("REGISTER").is_none());
    assert!(w.events.contains(&PhoneEvent::CallEnded { call: calls[0].clone(), cause: EndCause::Local }));
    assert!(w.state().calls.is_empty());
    assert!(!w.phone.has_calls(), "nothing to keep once hung up");
}
