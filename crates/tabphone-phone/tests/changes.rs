//! Events derived from consecutive states (`state::changes`): what every tab
//! reports. Checked against the events the phone itself emits, over
//! scenarios, and for the cases only a tab sees (its first state, the real
//! going away).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tabphone_phone::state::{changes, EndCause};
use tabphone_phone::{PhoneEvent, PhoneInput, PhoneState};

/// Fold `changes` over every state the world published after the first
/// (a tab's first state reports its connection and registration as they
/// are, which the phone did not emit as changes).
fn derived(w: &World) -> Vec<PhoneEvent> {
    let mut prev = Some(PhoneState::parse(&w.state_texts[0]).unwrap());
    let mut out = Vec::new();
    for text in &w.state_texts[1..] {
        let next = PhoneState::parse(text).unwrap();
        out.extend(changes(prev.as_ref(), Some(&next)));
        prev = Some(next);
    }
    out
}

/// The phone's own events of the kinds a state shows, after its first input.
fn emitted(w: &World) -> Vec<PhoneEvent> {
    w.events[w.marks[0].1..].iter().filter(|e| e.in_state()).cloned().collect()
}

#[test]
fn a_tab_derives_what_the_phone_emits_for_calls_both_ways() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let id = w.action("hangup", &call_args(&call));
    w.result(id).unwrap();
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    // bob calls; declined.
    w.receive(&invite_from_bob("in-1", Some(&sdp("sendrecv", 1))));
    let incoming = w.state().calls[0].id.clone();
    let id = w.action("decline", &format!(r#"{{"call":"{incoming}","status":486}}"#));
    assert!(w.result(id).is_ok(), "{:?}", w.result(id));
    w.input(PhoneInput::AudioBlocked(true));
    w.input(PhoneInput::AudioBlocked(false));
    let derived = derived(&w);
    assert_eq!(derived, emitted(&w));
    let names: Vec<&str> = derived.iter().map(PhoneEvent::name).collect();
    assert_eq!(
        names,
        ["connection", "registration", "callEnded", "incoming", "callEnded", "audioBlocked", "audioBlocked"]
    );
    assert!(derived
        .contains(&PhoneEvent::CallEnded { call: incoming, cause: EndCause::Declined { status: 486 } }));
}

#[test]
fn a_late_tab_is_told_of_a_ringing_call_but_not_of_history() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let id = w.action("hangup", &call_args(&call));
    w.result(id).unwrap();
    let bye = w.take_request("BYE");
    w.reply(&bye, 200, &[], "");
    w.receive(&invite_from_bob("in-2", Some(&sdp("sendrecv", 1))));
    let state = w.state();
    assert_eq!(state.ended.len(), 1);
    let events = changes(None, Some(&state));
    let names: Vec<&str> = events.iter().map(PhoneEvent::name).collect();
    assert_eq!(names, ["connection", "registration", "incoming"], "no callEnded for history");
    // Joining during an established call: no incoming.
    let mut w = World::registered();
    w.receive(&invite_from_bob("in-3", Some(&sdp("sendrecv", 1))));
    let incoming = w.state().calls[0].id.clone();
    let id = w.action("answer", &call_args(&incoming));
    w.receive(&from_bob("ACK", "in-3", "bobtag", &w.our_tag(), 10, "", ""));
    w.result(id).unwrap();
    assert!(changes(None, Some(&w.state())).iter().all(|e| e.name() != "incoming"));
}

#[test]
fn when_the_real_goes_away_its_live_calls_end_handed_over() {
    let mut w = World::registered();
    let (call, ..) = established(&mut w);
    let state = w.state();
    assert_eq!(
        changes(Some(&state), None),
        [PhoneEvent::CallEnded { call, cause: EndCause::HandedOver }],
        "nothing else: no state is no change of connection or registration"
    );
    assert!(changes(None, None).is_empty());
    // Nothing changed, nothing to say.
    assert!(changes(Some(&state), Some(&state)).is_empty());
}

#[test]
fn audio_blocked_is_published_and_cleared_by_a_stop() {
    let mut w = World::registered();
    w.input(PhoneInput::AudioBlocked(true));
    assert!(w.state().audio_blocked);
    assert!(w.state_texts.last().unwrap().contains(r#""audioBlocked":true"#));
    let n = w.state_texts.len();
    w.input(PhoneInput::AudioBlocked(true));
    assert_eq!(w.state_texts.len(), n, "no change, no state");
    w.input(PhoneInput::Stop { unregister: false, hang_up: false });
    assert!(!w.state().audio_blocked);
    let blocked: Vec<_> = w.events.iter().filter(|e| e.name() == "audioBlocked").collect();
    assert_eq!(
        blocked,
        [&PhoneEvent::AudioBlocked { blocked: true }, &PhoneEvent::AudioBlocked { blocked: false }]
    );
    // An older state without the field parses as not blocked.
    let old = w.state_texts[0].replace(r#","audioBlocked":false"#, "");
    assert!(!old.contains("audioBlocked"));
    assert!(!PhoneState::parse(&old).unwrap().audio_blocked);
}
