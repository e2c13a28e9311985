//! Handing the real over while it lives: `takeover`, and the gate that keeps
//! a frozen, replaced real silent when it thaws.
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

const CALLS: &str = r#"{"calls":["c1"]}"#;

#[test]
fn a_dummy_takes_over_and_the_calls_follow() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    s.publish(a, CALLS);
    let pending = s.dispatch(c, "hold", "{}"); // in flight at a, not answered
    let id = s.take_over(b);
    assert_eq!(s.active_reals(), vec![b]);
    assert_eq!(s.answers(b, id), &[Ok(String::from(r#"{"epoch":2}"#))], "one answer, once b holds the lock");
    assert_eq!((s.tabs[b].core.epoch(), s.tabs[a].core.epoch()), (2, 2));
    assert_eq!(s.tabs[a].stops, [false], "the old real stops without unregistering");
    assert_eq!(s.role(a), TabRole::Dummy);
    assert_eq!(s.tabs[a].core.state(), CALLS, "it keeps showing the calls");
    assert_eq!(s.tabs[b].inherited, [Some(String::from(CALLS))]);
    let ans = s.answers(c, pending);
    assert!(ans.len() == 1 && ans[0].as_ref().unwrap_err().contains("real_gone"), "{ans:?}");
    s.check_safety();
}

#[test]
fn the_real_taking_over_is_answered_at_once() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let id = s.take_over(a);
    assert_eq!(s.answers(a, id), &[Ok(String::from(r#"{"epoch":1}"#))]);
    assert_eq!(s.tabs[a].stops, Vec::<bool>::new());
}

#[test]
fn competing_takeovers_the_last_wins_and_each_gets_one_answer() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    let c = s.open(0, true, false);
    let ids = s.take_over_all(&[b, c]);
    assert_eq!(s.active_reals(), vec![c]);
    let lost = s.answers(b, ids[0]);
    assert!(lost.len() == 1 && lost[0].as_ref().unwrap_err().contains("real_gone"), "{lost:?}");
    assert_eq!(s.answers(c, ids[1]).len(), 1);
    assert!(s.answers(c, ids[1])[0].is_ok());
    assert_eq!(s.tabs[a].stops, [false]);
    assert!(s.tabs[b].inherited.is_empty(), "b never started the real phone");
    s.check_safety();
}

#[test]
fn a_takeover_from_a_frozen_real_steals_after_the_ping_timeout() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.publish(a, CALLS);
    s.freeze(a);
    let id = s.take_over(b);
    assert!(s.answers(b, id).is_empty(), "a holds the lock: b waits");
    s.advance(ms(3100));
    assert_eq!(s.active_reals(), vec![b], "the frozen holder is stolen from");
    assert_eq!(s.answers(b, id).len(), 1);
    assert!(s.answers(b, id)[0].is_ok());
    s.thaw_ordered(a, true);
    assert_eq!(s.tabs[a].acts, 0, "the thawed ex-real never acts");
    assert_eq!(s.role(a), TabRole::Dummy);
    assert_eq!(s.tabs[a].stops, [false]);
    s.check_safety();
}

#[test]
fn a_frozen_real_replaced_then_thawed_stays_silent() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(0, true, false);
    s.publish(a, CALLS);
    s.freeze(a);
    s.advance(ms(3100));
    assert_eq!(s.active_reals(), vec![b]);
    // Its phone's timer runs before the lock's loss and the worker's messages.
    s.thaw_ordered(a, true);
    assert!(!s.act(a), "no longer real");
    assert_eq!(s.tabs[a].acts, 0);
    assert_eq!(s.tabs[a].stops, [false], "stopped without unregistering");
    assert_eq!(s.tabs[b].inherited, [Some(String::from(CALLS))]);
    s.check_safety();
}

#[test]
fn a_frozen_real_not_replaced_goes_on_after_the_check() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let id = s.dispatch(a, "hold", "{}");
    s.freeze(a);
    s.advance(Duration::from_secs(10));
    s.thaw_ordered(a, true);
    assert_eq!(s.tabs[a].acts, 0, "held until the worker confirmed it");
    assert!(!s.tabs[a].held, "the worker's answer came: resumed");
    assert!(s.act(a));
    assert_eq!(s.role(a), TabRole::Real);
    s.respond(a);
    assert_eq!(s.answers(a, id).len(), 1);
    s.check_safety();
}

#[test]
fn a_short_pause_does_not_hold_the_real() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let _b = s.open(0, true, false);
    s.freeze(a);
    s.advance(ms(1200));
    s.thaw_ordered(a, true);
    assert_eq!(s.tabs[a].acts, 1, "within the tolerance: acts at once");
    s.advance(Duration::from_secs(10));
    assert!(s.act(a));
    s.check_safety();
}
