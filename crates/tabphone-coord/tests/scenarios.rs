//! One scenario per behaviour, on the deterministic simulation in `sim/`.
mod sim;

use std::time::Duration;

use sim::Sim;
use tabphone_coord::{Config, TabRole};

fn sim() -> Sim {
    Sim::new(Config::default())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn reals(s: &Sim) -> Vec<usize> {
    s.active_reals()
}

#[test]
fn one_tab_becomes_real_at_once() {
    let mut s = sim();
    let a = s.open(0, true, true);
    assert_eq!(s.role(a), TabRole::Real);
    assert_eq!(s.tabs[a].core.epoch(), 1);
    s.check_safety();
}

#[test]
fn ten_tabs_one_real() {
    let mut s = sim();
    let tabs: Vec<usize> = (0..10).map(|_| s.open(0, true, false)).collect();
    assert_eq!(reals(&s), vec![tabs[0]]);
    for &t in &tabs[1..] {
        assert_eq!(s.role(t), TabRole::Dummy);
    }
    s.advance(Duration::from_secs(30));
    assert_eq!(reals(&s), vec![tabs[0]], "pings keep everyone alive");
    s.check_safety();
}

#[test]
fn late_tab_gets_the_cached_state() {
    let mut s = sim();
    let a = s.open(0, true, true);
    assert!(s.publish(a, r#"{"calls":[{"id":"c1"}]}"#));
    let b = s.open(0, true, false);
    assert_eq!(s.tabs[b].core.state(), r#"{"calls":[{"id":"c1"}]}"#);
    assert!(!s.publish(b, "{}"), "a dummy cannot publish");
}

#[test]
fn the_reals_events_reach_every_other_tab_and_are_not_kept() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    let event = r#"{"event":"message","from":"sip:bob@x","contentType":"text/plain","body":"hi"}"#;
    assert!(s.relay(a, event));
    assert_eq!(s.tabs[b].relayed, [event]);
    assert_eq!(s.tabs[c].relayed, [event]);
    assert!(s.tabs[a].relayed.is_empty(), "not back to the real");
    assert!(!s.relay(b, event), "a dummy cannot relay");
    assert!(!s.relay(a, "{not json"), "malformed");
    let d = s.open(0, true, false);
    assert!(s.tabs[d].relayed.is_empty(), "a tab that joins later gets the state, not past events");
    assert_eq!(s.tabs[b].relayed.len(), 1);
}

#[test]
fn action_from_dummy_gets_the_reals_answer() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    let id = s.dispatch(b, "dial", r#"{"to":"bob"}"#);
    assert_eq!(s.tabs[a].jobs.len(), 1);
    assert_eq!(s.tabs[a].jobs[0].2, r#"{"to":"bob"}"#);
    s.respond(a);
    assert_eq!(s.answers(b, id), &[Ok("\"done dial by tab0\"".to_string())]);
    assert!(s.tabs[c].answers.is_empty(), "answers go only to the tab that asked");
}

#[test]
fn real_dispatches_locally() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let id = s.dispatch(a, "mute", "true");
    s.respond(a);
    assert_eq!(s.answers(a, id).len(), 1);
}

#[test]
fn graceful_close_hands_the_state_to_the_successor() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    s.publish(a, r#"{"calls":[1]}"#);
    s.close(a);
    assert_eq!(reals(&s), vec![b]);
    assert_eq!(s.tabs[b].core.epoch(), 2);
    assert_eq!(s.tabs[a].stops, [false], "other tabs are left: no unregistration");
    assert_eq!(s.tabs[b].inherited, [Some(String::from(r#"{"calls":[1]}"#))]);
    assert!(
        s.tabs[c].states.iter().skip_while(|x| *x == "null").all(|x| x != "null"),
        "never cleared once shown: {:?}",
        s.tabs[c].states
    );
    assert_eq!(s.tabs[c].core.state(), r#"{"calls":[1]}"#);
    let d = s.open(0, true, false);
    assert_eq!(s.tabs[d].core.state(), r#"{"calls":[1]}"#, "a joiner gets it before the new real publishes");
}

#[test]
fn the_last_tab_closing_ends_the_calls() {
    let mut s = sim();
    let h = s.open(0, true, true); // hosts the worker, which outlives it here
    let a = s.open(0, true, true);
    s.close(h);
    s.publish(a, r#"{"calls":[1]}"#);
    s.close(a);
    assert_eq!(s.tabs[a].stops, [true]);
    let b = s.open(0, true, true);
    assert_eq!(reals(&s), vec![b]);
    assert_eq!(s.tabs[b].inherited, [None], "the last real's calls ended: nothing to resume");
    assert_eq!(s.tabs[b].core.state(), "null");
}

#[test]
fn a_crashed_real_leaves_its_state_to_the_successor() {
    let mut s = sim();
    let (a, b) = real_off_the_host(&mut s);
    s.publish(a, r#"{"calls":[2]}"#);
    s.crash(a);
    assert_eq!(reals(&s), vec![b]);
    assert_eq!(s.tabs[b].inherited, [Some(String::from(r#"{"calls":[2]}"#))]);
}

/// A host tab (it created the worker, which runs in its process), then two
/// tabs; the host closes, so the first of the two is a real that does not
/// host the worker: crashing it leaves the worker up.
fn real_off_the_host(s: &mut Sim) -> (usize, usize) {
    let host = s.open(0, true, true);
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.close(host);
    assert_eq!(reals(s), vec![a]);
    (a, b)
}

#[test]
fn crash_promotes_through_the_tab_lock() {
    let mut s = sim();
    let (a, b) = real_off_the_host(&mut s);
    s.crash(a);
    assert_eq!(reals(&s), vec![b]);
    assert_eq!(s.workers.len(), 1, "the worker lives on");
    s.check_safety();
}

#[test]
fn in_flight_action_fails_when_the_real_dies() {
    let mut s = sim();
    let (a, b) = real_off_the_host(&mut s);
    let id = s.dispatch(b, "dial", "{}");
    s.crash(a);
    let ans = s.answers(b, id);
    assert_eq!(ans.len(), 1);
    assert!(ans[0].as_ref().unwrap_err().contains("real_gone"), "{ans:?}");
}

#[test]
fn frozen_real_is_replaced_with_steal_and_demotes_on_thaw() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.freeze(a);
    s.advance(ms(2900));
    assert_eq!(reals(&s), Vec::<usize>::new(), "not yet: under the ping timeout");
    s.advance(ms(200));
    assert_eq!(reals(&s), vec![b], "the promoted tab stole the real lock");
    assert!(s.tabs[a].running_real, "frozen: cannot run any code yet");
    s.thaw(a);
    assert!(!s.tabs[a].running_real, "stopped on thaw, before anything else");
    assert_eq!(s.role(a), TabRole::Dummy);
    s.advance(Duration::from_secs(5));
    assert_eq!(reals(&s), vec![b]);
    s.check_safety();
}

#[test]
fn actions_during_promotion_wait_and_are_answered() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    s.freeze(a);
    let id = s.dispatch(c, "dial", "{}");
    assert_eq!(s.answers(c, id).len(), 0, "queued while the real is frozen");
    s.advance(ms(3100));
    assert_eq!(reals(&s), vec![b]);
    // The first real received it before freezing? No: frozen tabs receive nothing.
    s.respond(b);
    assert_eq!(s.answers(c, id).len(), 1);
}

#[test]
fn queued_action_times_out_without_a_real() {
    let mut s = Sim::new(Config { action_timeout: ms(1000), ..Config::default() });
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let id = s.dispatch(b, "dial", "{}");
    s.advance(ms(1001));
    let ans = s.answers(b, id);
    assert!(ans[0].as_ref().unwrap_err().contains("timeout"), "{ans:?}");
    s.respond(a); // the late answer goes nowhere and changes nothing
    assert_eq!(s.answers(b, id).len(), 1);
}

#[test]
fn queue_is_bounded() {
    let mut s = Sim::new(Config { max_queued: 2, ..Config::default() });
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.freeze(a);
    s.advance(ms(2500));
    let ids: Vec<_> = (0..3).map(|_| s.dispatch(b, "x", "1")).collect();
    // The first two were forwarded to the frozen real (in flight), so the queue has room.
    assert!(ids.iter().all(|id| s.answers(b, *id).is_empty()));
    s.advance(ms(600));
    s.respond(b);
    for id in ids {
        assert_eq!(s.answers(b, id).len(), 1);
    }
}

#[test]
fn two_worker_urls_still_one_real() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(1, true, true);
    let c = s.open(1, true, false);
    assert_eq!(reals(&s), vec![a], "the second worker's candidate waits for the lock");
    assert_eq!(s.role(b).as_str(), "dummy");
    assert_eq!(s.role(b), TabRole::Claiming);
    s.close(a);
    assert_eq!(reals(&s), vec![b], "and gets it when the first real leaves");
    s.advance(Duration::from_secs(10));
    assert_eq!(reals(&s), vec![b]);
    let _ = c;
    s.check_safety();
}

#[test]
fn promotion_prefers_visible_then_recently_focused_then_oldest() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let hidden_old = s.open(0, false, false);
    let vis1 = s.open(0, true, false);
    let vis2 = s.open(0, true, false);
    s.focus(vis1, true, true);
    s.focus(vis2, true, true);
    s.focus(vis1, true, true);
    s.close(a);
    assert_eq!(reals(&s), vec![vis1], "most recently focused visible tab");
    s.close(vis1);
    assert_eq!(reals(&s), vec![vis2]);
    s.close(vis2);
    assert_eq!(reals(&s), vec![hidden_old], "else the oldest");
}

#[test]
fn close_and_lock_grant_are_handled_once() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    s.close(a); // close message, then the lock grant
    assert_eq!(reals(&s), vec![b]);
    assert_eq!(s.tabs[b].core.epoch(), 2, "one promotion, not two");
    assert_eq!(s.tabs[c].core.epoch(), 2);
}

#[test]
fn silent_dummy_comes_back_as_dummy() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.publish(a, "[1]");
    s.freeze(b);
    s.advance(ms(4000));
    s.thaw(b);
    assert_eq!(s.role(b), TabRole::Dummy);
    assert_eq!(s.tabs[b].core.state(), "[1]");
    let id = s.dispatch(b, "x", "null");
    s.respond(a);
    assert_eq!(s.answers(b, id).len(), 1);
}

/// Found by the property test: a tab promoted while frozen, skipped over, and
/// promoted again on thaw must end up real (a stale `claimed` must not demote it).
#[test]
fn tab_promoted_while_frozen_becomes_real_after_thaw() {
    let mut s = sim();
    let t0 = s.open(0, false, false);
    let t1 = s.open(0, false, false);
    s.freeze(t1);
    s.close(t0); // promotes the frozen t1
    let t2 = s.open(0, false, false);
    s.advance(ms(3000)); // t1 silent: t2 promoted instead
    let t3 = s.open(0, false, false);
    s.crash(t2);
    s.close(t3); // nobody live is left but the frozen t1
    s.thaw(t1);
    s.advance(Duration::from_secs(5));
    assert_eq!(reals(&s), vec![t1]);
    s.check_safety();
}

/// Found by the property test: two worker URLs, frozen tabs, a worker restart.
/// A real demoted by a steal must not carry its old state into a later reign.
#[test]
fn stale_state_does_not_survive_demotion() {
    let mut s = sim();
    let t0 = s.open(1, false, false);
    s.publish(t0, r#"{"n":1}"#);
    s.freeze(t0);
    s.open(0, false, false);
    let t2 = s.open(1, false, false);
    s.kill_worker(0);
    s.freeze(t2);
    s.open(0, false, false);
    s.freeze(1);
    s.advance(ms(3000));
    for i in 0..4 {
        s.thaw(i);
    }
    s.advance(Duration::from_secs(5));
    let real = reals(&s)[0];
    for i in (0..4).filter(|i| s.tabs[*i].url == s.tabs[real].url) {
        assert_eq!(s.tabs[i].core.state(), s.tabs[real].core.state(), "tab{i}");
    }
    s.check_safety();
}

#[test]
fn a_stalled_worker_does_not_declare_its_tabs_silent() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.stall(Duration::from_secs(30)); // every deadline passed while the worker slept
    assert_eq!(reals(&s), vec![a], "nobody was silent: the worker was");
    s.advance(Duration::from_secs(10));
    assert_eq!(reals(&s), vec![a]);
    // A tab that really froze during the stall is still found, one window later.
    s.freeze(a);
    s.stall(Duration::from_secs(30));
    assert_eq!(s.role(b), TabRole::Dummy, "not yet: a fresh window after the stall");
    s.advance(ms(3100));
    assert_eq!(reals(&s), vec![b]);
    s.check_safety();
}

#[test]
fn an_action_over_the_workers_limit_fails_locally_with_too_large() {
    let mut s = Sim::new(Config { max_message_bytes: 200, ..Config::default() });
    s.open(0, true, true);
    let b = s.open(0, true, false);
    let id = s.dispatch(b, "note", &format!("\"{}\"", "x".repeat(300)));
    let ans = s.answers(b, id);
    assert!(ans[0].as_ref().unwrap_err().contains("too_large"), "{ans:?}");
}

#[test]
fn a_tab_silent_since_the_last_ping_round_is_not_promoted_first() {
    let mut s = sim();
    let (a, b) = real_off_the_host(&mut s);
    let c = s.open(0, true, true); // focused last: the first choice while it answers
    s.freeze(c);
    s.advance(ms(2000)); // c missed a ping round, but is not declared silent yet
    s.crash(a);
    assert_eq!(reals(&s), vec![b], "the tab that answers is promoted, not the frozen one");
    s.check_safety();
}
