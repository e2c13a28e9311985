//! Unit tests of the tab core.
use super::*;

/// The tests' clock: inputs all at one instant unless a test moves on.
static T0: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// A tab that holds its life lock and was told to connect.
fn core() -> TabCore {
    let mut c = TabCore::new(TabConfig::new("t1", "app"), true, true);
    assert_eq!(c.poll_output(), Some(TabOutput::HoldTabLock("tabphone:tab:t1".into())));
    assert_eq!(c.poll_output(), None, "nothing before the life lock is held");
    c.handle_input(*T0, TabInput::TabLockHeld);
    assert_eq!(c.poll_output(), Some(TabOutput::Connect));
    c
}

fn drain(c: &mut TabCore) -> Vec<TabOutput> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn sent(outs: &[TabOutput]) -> Vec<&str> {
    outs.iter().filter_map(|o| if let TabOutput::Send(t) = o { Some(t.as_str()) } else { None }).collect()
}

/// Connected, welcomed, told to be real, lock granted, confirmed.
fn real() -> TabCore {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":1,"max":1000}"#));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":4,"steal":false}"#));
    c.handle_input(*T0, TabInput::RealLockGranted);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":4,"steal":false}"#));
    drain(&mut c);
    assert_eq!(c.role(), TabRole::Real);
    c
}

#[test]
fn messages_wait_for_the_connection() {
    let mut c = core();
    let id = c.dispatch(*T0, "dial", r#"{"to":"bob"}"#);
    assert!(drain(&mut c).is_empty(), "nothing is sent before the port is open");
    c.handle_input(*T0, TabInput::Connected);
    let outs = drain(&mut c);
    let texts = sent(&outs);
    assert!(texts[0].starts_with(r#"{"t":"hello","v":1,"tab":"t1""#), "{texts:?}");
    assert_eq!(texts[1], format!(r#"{{"t":"action","id":{},"name":"dial","args":{{"to":"bob"}}}}"#, id.0));
}

#[test]
fn becomes_real_only_with_the_lock_and_the_workers_confirmation() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":true}"#));
    let outs = drain(&mut c);
    let lock = TabOutput::AcquireRealLock { lock: "tabphone:real:app".into(), steal: true };
    assert!(outs.contains(&lock), "{outs:?}");
    assert_eq!(c.role().as_str(), "dummy", "claiming is not real");
    c.handle_input(*T0, TabInput::RealLockGranted);
    let outs = drain(&mut c);
    assert_eq!(sent(&outs), vec![r#"{"t":"claimed","epoch":2}"#]);
    assert!(!outs.contains(&TabOutput::StartReal { inherit: None }), "not before the worker confirms");
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    assert!(drain(&mut c).contains(&TabOutput::StartReal { inherit: None }));
    assert_eq!(c.role(), TabRole::Real);
}

#[test]
fn a_stolen_lock_stops_the_real_before_anything_else() {
    let mut c = real();
    c.handle_input(*T0, TabInput::RealLockLost);
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::StopReal { last: false });
    assert_eq!(sent(&outs), vec![r#"{"t":"demoted","epoch":4}"#]);
    assert_eq!(c.role(), TabRole::Dummy);
    assert!(c.publish("{}").is_err(), "a dummy cannot publish");
}

#[test]
fn worker_death_fails_waiting_actions_and_the_real_rejoins_with_a_claim() {
    let mut c = real();
    c.publish(r#"{"calls":[1]}"#).unwrap();
    // A real performs its own actions; a dummy's wait on the worker.
    let mut d = core();
    d.handle_input(*T0, TabInput::Connected);
    let id = d.dispatch(*T0, "x", "1");
    drain(&mut d);
    d.handle_input(*T0, TabInput::WorkerDied);
    let outs = drain(&mut d);
    assert!(
        matches!(&outs[0], TabOutput::Resolve { id: i, result: Err(e) } if *i == id && e.contains("worker_gone"))
    );
    assert!(outs.contains(&TabOutput::Connect));
    c.handle_input(*T0, TabInput::WorkerDied);
    drain(&mut c);
    c.handle_input(*T0, TabInput::Connected);
    let outs = drain(&mut c);
    let hello = sent(&outs)[0];
    assert!(
        hello.contains(r#""rejoin":true"#) && hello.contains(r#""claim":{"epoch":4,"state":{"calls":[1]}}"#),
        "{hello}"
    );
    assert_eq!(c.role(), TabRole::Real, "still real: no re-registration");
}

#[test]
fn answers_pings_and_reports_bad_worker_messages() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    drain(&mut c);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"ping","seq":7}"#));
    assert_eq!(sent(&drain(&mut c)), vec![r#"{"t":"pong","seq":7}"#]);
    c.handle_input(*T0, TabInput::WorkerMessage("garbage"));
    assert!(
        matches!(&drain(&mut c)[..], [TabOutput::Event(TabEvent::Error { code, .. })] if code == "bad_worker_message")
    );
}

#[test]
fn bad_args_fail_at_once() {
    let mut c = core();
    let id = c.dispatch(*T0, "x", "{not json");
    let outs = drain(&mut c);
    assert!(
        matches!(&outs[..], [TabOutput::Resolve { id: i, result: Err(e) }] if *i == id && e.contains("malformed"))
    );
}

#[test]
fn a_failed_worker_answers_waiting_and_later_actions() {
    for failure in [
        TabInput::WorkerFailed { message: "cannot start the SharedWorker" },
        TabInput::WorkerMessage(r#"{"t":"failed","message":"wasm did not load"}"#),
    ] {
        let mut c = core();
        c.handle_input(*T0, TabInput::Connected);
        let waiting = c.dispatch(*T0, "x", "1");
        drain(&mut c);
        c.handle_input(*T0, failure);
        let outs = drain(&mut c);
        assert!(
            matches!(&outs[0], TabOutput::Resolve { id, result: Err(e) } if *id == waiting && e.contains("worker_gone")),
            "{outs:?}"
        );
        assert!(
            matches!(&outs[1], TabOutput::Event(TabEvent::Error { code, .. }) if code == "worker_gone"),
            "{outs:?}"
        );
        let later = c.dispatch(*T0, "y", "2");
        let outs = drain(&mut c);
        assert!(
            matches!(&outs[..], [TabOutput::Resolve { id, result: Err(e) }] if *id == later && e.contains("worker_gone")),
            "refused at once, not left waiting: {outs:?}"
        );
    }
}

#[test]
fn the_tab_count_is_the_workers_latest() {
    let mut c = core();
    assert_eq!(c.tabs(), 0);
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":3,"max":1000}"#));
    assert_eq!(c.tabs(), 3);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"tabs","count":2}"#));
    assert_eq!(c.tabs(), 2);
    assert!(drain(&mut c).contains(&TabOutput::Event(TabEvent::Tabs { count: 2 })));
}

#[test]
fn hello_says_the_highest_epoch_seen() {
    let mut c = real();
    c.handle_input(*T0, TabInput::WorkerDied);
    drain(&mut c);
    c.handle_input(*T0, TabInput::Connected);
    let outs = drain(&mut c);
    assert!(sent(&outs)[0].contains(r#""rejoin":true,"epoch":4"#), "{outs:?}");
}

#[test]
fn a_candidate_promoted_again_keeps_its_place_or_steals_when_told() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    drain(&mut c);
    // Renumbered: the request keeps its place in the lock's queue.
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":3,"steal":false}"#));
    let outs = drain(&mut c);
    assert!(!outs.iter().any(|o| matches!(o, TabOutput::AcquireRealLock { .. })), "{outs:?}");
    assert_eq!((c.role(), c.epoch()), (TabRole::Claiming, 3));
    // The holder never joined the worker: it says to steal.
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":4,"steal":true}"#));
    let lock = TabOutput::AcquireRealLock { lock: "tabphone:real:app".into(), steal: true };
    assert!(drain(&mut c).contains(&lock));
    c.handle_input(*T0, TabInput::RealLockGranted);
    assert_eq!(sent(&drain(&mut c)), vec![r#"{"t":"claimed","epoch":4}"#]);
    // Renumbered while holding the lock: it claims the new number, keeping the lock.
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":5,"steal":false}"#));
    let outs = drain(&mut c);
    assert_eq!(sent(&outs), vec![r#"{"t":"claimed","epoch":5}"#]);
    assert!(
        !outs.contains(&TabOutput::ReleaseRealLock)
            && !outs.contains(&TabOutput::StartReal { inherit: None })
    );
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":5,"steal":false}"#));
    assert!(drain(&mut c).contains(&TabOutput::StartReal { inherit: None }));
}

#[test]
fn role_events_only_when_the_role_or_epoch_changes() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":2,"max":1000}"#));
    let roles = |outs: Vec<TabOutput>| {
        outs.into_iter().filter(|o| matches!(o, TabOutput::Event(TabEvent::Role { .. }))).count()
    };
    assert_eq!(roles(drain(&mut c)), 0, "the role comes with the worker's next message, and its epoch");
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":3,"steal":false}"#));
    assert!(drain(&mut c).contains(&TabOutput::Event(TabEvent::Role { role: TabRole::Dummy, epoch: 3 })));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":3,"steal":false}"#));
    assert_eq!(roles(drain(&mut c)), 0);
}

#[test]
fn the_last_tab_to_close_stops_the_real_as_last() {
    let mut c = real();
    c.handle_input(*T0, TabInput::PageHide);
    assert!(drain(&mut c).contains(&TabOutput::StopReal { last: true }));
    assert_eq!(c.role(), TabRole::Closed);
}

#[test]
fn a_real_closing_with_other_tabs_left_hands_over() {
    let mut c = real();
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"tabs","count":2}"#));
    c.handle_input(*T0, TabInput::PageHide);
    assert!(drain(&mut c).contains(&TabOutput::StopReal { last: false }));
}

#[test]
fn a_new_real_inherits_the_last_state_and_a_demoted_one_keeps_it() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"sync","epoch":1,"state":{"calls":[1]}}"#));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    c.handle_input(*T0, TabInput::RealLockGranted);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    let start = TabOutput::StartReal { inherit: Some(String::from(r#"{"calls":[1]}"#)) };
    assert!(drain(&mut c).contains(&start));
    c.publish(r#"{"calls":[2]}"#).unwrap();
    drain(&mut c);
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":3,"steal":false}"#));
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::StopReal { last: false });
    assert!(
        c.publish(r#"{"calls":[],"ended":"handed_over"}"#).is_err(),
        "the stopping phone's publish is refused"
    );
    assert_eq!(c.state(), r#"{"calls":[2]}"#, "kept for the app and for a later reign");
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"sync","epoch":3,"state":null,"reset":true}"#));
    assert_eq!(c.state(), "null", "a reset clears it");
}

#[test]
fn the_last_real_to_close_says_so() {
    let mut c = real();
    c.handle_input(*T0, TabInput::PageHide);
    assert!(sent(&drain(&mut c)).contains(&r#"{"t":"close","last":true}"#));
}

/// A real that heard the worker's timing (ping 1 s, timeout 3 s: held after 2 s of silence).
fn timed_real() -> TabCore {
    let mut c = real();
    let welcome = r#"{"t":"welcome","v":1,"worker":"w","tabs":2,"max":1000,"ping":1000,"timeout":3000}"#;
    c.handle_input(*T0, TabInput::WorkerMessage(welcome));
    drain(&mut c);
    c
}

#[test]
fn a_silent_real_is_held_until_the_worker_answers_its_check() {
    let mut c = timed_real();
    let t = *T0 + std::time::Duration::from_millis(1900);
    assert!(c.real_may_act(t), "within the tolerance");
    let t = *T0 + std::time::Duration::from_secs(5);
    // A ping queued while frozen: it is answered, but does not confirm.
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"ping","seq":3}"#));
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::HoldReal);
    assert_eq!(sent(&outs), vec![r#"{"t":"check","seq":1}"#, r#"{"t":"pong","seq":3}"#]);
    assert!(!c.real_may_act(t));
    let id = c.dispatch(t, "hold", "{}");
    assert!(drain(&mut c).is_empty(), "performs wait while held");
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"checked","seq":1}"#));
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::ResumeReal);
    assert!(matches!(&outs[1], TabOutput::Perform { job: Job::Local(i), .. } if *i == id));
    assert!(c.real_may_act(t));
}

#[test]
fn a_held_real_told_it_was_replaced_stops_without_sip_and_fails_what_it_held() {
    let mut c = timed_real();
    let t = *T0 + std::time::Duration::from_secs(5);
    assert!(!c.real_may_act(t));
    let id = c.dispatch(t, "hold", "{}");
    drain(&mut c);
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":5,"steal":false}"#));
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::StopReal { last: false });
    assert!(
        outs.iter().any(|o| matches!(o, TabOutput::Resolve { id: i, result: Err(e) } if *i == id && e.contains("real_gone"))),
        "{outs:?}"
    );
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"checked","seq":1}"#));
    assert!(!drain(&mut c).contains(&TabOutput::ResumeReal), "too late: it is a dummy");
}

#[test]
fn a_stolen_lock_while_held_stops_without_last() {
    let mut c = timed_real();
    let t = *T0 + std::time::Duration::from_secs(5);
    c.handle_input(t, TabInput::RealLockLost);
    let outs = drain(&mut c);
    assert_eq!(outs[0], TabOutput::HoldReal);
    assert!(outs.contains(&TabOutput::StopReal { last: false }));
    assert!(!c.real_may_act(t));
}

#[test]
fn a_stale_confirmation_starts_the_real_only_after_the_check() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    let welcome = r#"{"t":"welcome","v":1,"worker":"w","tabs":2,"max":1000,"ping":1000,"timeout":3000}"#;
    c.handle_input(*T0, TabInput::WorkerMessage(welcome));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    c.handle_input(*T0, TabInput::RealLockGranted);
    drain(&mut c);
    let t = *T0 + std::time::Duration::from_secs(5); // frozen with the confirmation queued
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
    let outs = drain(&mut c);
    assert_eq!(sent(&outs), vec![r#"{"t":"check","seq":1}"#]);
    assert_eq!(c.role(), TabRole::Confirming);
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"checked","seq":1}"#));
    assert!(drain(&mut c).contains(&TabOutput::StartReal { inherit: None }));
}

#[test]
fn answering_stale_pings_does_not_make_a_stale_steal_order_fresh() {
    let mut c = core();
    c.handle_input(*T0, TabInput::Connected);
    let welcome = r#"{"t":"welcome","v":1,"worker":"w","tabs":2,"max":1000,"ping":1000,"timeout":3000}"#;
    c.handle_input(*T0, TabInput::WorkerMessage(welcome));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":1,"steal":false}"#));
    drain(&mut c);
    // Frozen with a ping and a steal order queued (the worker may have died,
    // or promoted another tab since): the pong does not vouch for the order.
    let t = *T0 + std::time::Duration::from_secs(5);
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"ping","seq":1}"#));
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":true}"#));
    let outs = drain(&mut c);
    assert_eq!(sent(&outs), vec![r#"{"t":"check","seq":1}"#, r#"{"t":"pong","seq":1}"#]);
    let acquire = |outs: &[TabOutput], steal: bool| {
        outs.iter().any(|o| matches!(o, TabOutput::AcquireRealLock { steal: s, .. } if *s == steal))
    };
    assert!(acquire(&outs, false) && !acquire(&outs, true), "waits without stealing: {outs:?}");
    c.handle_input(t, TabInput::WorkerMessage(r#"{"t":"checked","seq":1}"#));
    assert!(acquire(&drain(&mut c), true), "the order stands: steal");
}

#[test]
fn take_over_goes_through_the_worker_or_answers_at_once() {
    let mut r = real();
    let id = r.take_over();
    assert_eq!(drain(&mut r), vec![TabOutput::Resolve { id, result: Ok(String::from(r#"{"epoch":4}"#)) }]);
    let mut d = core();
    d.handle_input(*T0, TabInput::Connected);
    drain(&mut d);
    let id = d.take_over();
    assert_eq!(sent(&drain(&mut d)), vec![format!(r#"{{"t":"takeover","id":{}}}"#, id.0)]);
    d.handle_input(
        *T0,
        TabInput::WorkerMessage(&format!(r#"{{"t":"result","id":{},"ok":{{"epoch":5}}}}"#, id.0)),
    );
    assert_eq!(drain(&mut d), vec![TabOutput::Resolve { id, result: Ok(String::from(r#"{"epoch":5}"#)) }]);
}

#[test]
fn an_older_worker_fails_takeovers_and_does_not_gate() {
    let mut d = core();
    d.handle_input(*T0, TabInput::Connected);
    d.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":1,"max":1000}"#));
    let id = d.take_over();
    drain(&mut d);
    d.handle_input(
        *T0,
        TabInput::WorkerMessage(r#"{"t":"error","code":"unknown_type","message":"takeover"}"#),
    );
    let outs = drain(&mut d);
    assert!(
        matches!(&outs[..], [TabOutput::Resolve { id: i, result: Err(e) }] if *i == id && e.contains("unknown_type")),
        "{outs:?}"
    );
    let mut r = real(); // its welcome said no timing
    assert!(r.real_may_act(*T0 + std::time::Duration::from_secs(60)));
}

#[test]
fn events_are_relayed_only_through_a_worker_that_says_it_relays() {
    let mut c = real(); // welcomed by a worker that did not say `relay`
    let event = r#"{"event":"dtmf","call":"c","tone":"1","durationMs":100}"#;
    assert_eq!(c.relay(event).unwrap_err().0, ErrorCode::UnknownType);
    assert!(sent(&drain(&mut c)).is_empty(), "nothing an older worker would refuse");
    c.handle_input(
        *T0,
        TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":1,"max":1000,"relay":true}"#),
    );
    drain(&mut c);
    c.relay(event).unwrap();
    assert_eq!(sent(&drain(&mut c)), [format!(r#"{{"t":"event","epoch":4,"event":{event}}}"#)]);
    assert_eq!(c.relay("{no").unwrap_err().0, ErrorCode::Malformed);
    // A relayed event reaches a dummy's app, never the real's own.
    c.handle_input(*T0, TabInput::WorkerMessage(&format!(r#"{{"t":"event","event":{event}}}"#)));
    assert!(!drain(&mut c).iter().any(|o| matches!(o, TabOutput::Event(TabEvent::Relayed { .. }))));
    c.handle_input(*T0, TabInput::WorkerMessage(r#"{"t":"role","role":"dummy","epoch":5,"steal":false}"#));
    drain(&mut c);
    assert_eq!(c.relay(event).unwrap_err().0, ErrorCode::NotReal);
    c.handle_input(*T0, TabInput::WorkerMessage(&format!(r#"{{"t":"event","event":{event}}}"#)));
    let relayed = TabOutput::Event(TabEvent::Relayed { event: event.to_owned() });
    assert!(drain(&mut c).contains(&relayed));
}
