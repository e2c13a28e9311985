//! Worker restarts, one scenario per behaviour: the worker dies with the tab
//! that hosts it (or on its own), the tabs start a new one and rejoin.
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

/// A host `h` (it created the worker) and a real `r` that is not the host:
/// the host froze until `r` took over, then thawed as a dummy. Then `more`
/// dummies. The epoch is 2.
fn host_and_real(s: &mut Sim, more: usize) -> (usize, usize, Vec<usize>) {
    let h = s.open(0, true, true);
    let r = s.open(0, true, false);
    let dummies = (0..more).map(|_| s.open(0, true, false)).collect();
    s.freeze(h);
    s.advance(ms(3100));
    s.thaw(h);
    assert_eq!(reals(s), vec![r]);
    assert_eq!(s.role(h), TabRole::Dummy);
    assert_eq!(s.tabs[r].core.epoch(), 2);
    (h, r, dummies)
}

#[test]
fn a_live_real_rejoins_and_stays_real_in_its_epoch() {
    let mut s = sim();
    let (h, r, d) = host_and_real(&mut s, 1);
    s.publish(r, r#"{"calls":["c1"]}"#);
    s.crash(h);
    assert_eq!(reals(&s), vec![r], "the real stays real: no re-registration");
    assert_eq!(s.workers.len(), 2, "one new worker");
    assert_eq!(s.tabs[r].core.epoch(), 2, "same epoch: no promotion");
    assert_eq!(s.tabs[d[0]].core.epoch(), 2);
    assert_eq!(s.tabs[d[0]].core.state(), r#"{"calls":["c1"]}"#, "the claim carried the state");
    s.advance(Duration::from_secs(10));
    assert_eq!(reals(&s), vec![r]);
    let id = s.dispatch(d[0], "hangup", "{}");
    s.respond(r);
    assert_eq!(s.answers(d[0], id).len(), 1);
    s.check_safety();
}

#[test]
fn the_real_that_hosts_the_worker_crashes_and_the_next_is_promoted_at_once() {
    for worker_first in [true, false] {
        let mut s = sim();
        let a = s.open(0, true, true);
        let b = s.open(0, true, false);
        let c = s.open(0, true, false);
        assert_eq!(s.workers[0].host, a);
        s.publish(a, r#"{"calls":["c1"]}"#);
        s.crash_ordered(a, worker_first);
        if worker_first {
            // The tabs rejoined and the new worker looked while the dead
            // real's lock was not yet released: it looks again a poll later.
            assert_eq!(reals(&s), Vec::<usize>::new());
            s.advance(ms(50));
        }
        assert_eq!(reals(&s), vec![b], "no grace to wait out: nobody holds the real lock");
        assert_eq!(s.tabs[b].core.epoch(), 2, "the epoch goes on from the tabs' 1");
        assert_eq!(s.tabs[c].core.epoch(), 2);
        let state = Some(String::from(r#"{"calls":["c1"]}"#));
        assert_eq!(s.tabs[b].inherited, [state], "the new worker has no cache: b resumes from what it saw");
        assert_eq!(s.tabs[c].core.state(), r#"{"calls":["c1"]}"#);
        s.check_safety();
    }
}

#[test]
fn a_new_tab_promoted_by_a_restarted_worker_resumes_from_a_rejoining_tabs_state() {
    let mut s = sim();
    let a = s.open(0, false, false);
    s.publish(a, r#"{"calls":["c1"]}"#);
    let b = s.open(0, false, false);
    s.crash(a); // a hosts the worker: it dies too; b rejoins a new one
    let c = s.open(0, false, true); // focused: promoted before b
    s.advance(ms(100));
    assert_eq!(reals(&s), vec![c]);
    let state = Some(String::from(r#"{"calls":["c1"]}"#));
    assert_eq!(s.tabs[c].inherited, [state], "b's hello gave the new worker the state it saw");
    assert_eq!(s.tabs[b].core.state(), r#"{"calls":["c1"]}"#);
    s.check_safety();
}

#[test]
fn a_frozen_real_is_stolen_from_when_the_worker_dies_before_noticing() {
    let mut s = sim();
    let (h, r, d) = host_and_real(&mut s, 1);
    s.freeze(r);
    s.advance(ms(1000));
    s.crash(h); // within the ping timeout: the old worker never saw r go silent
    s.advance(ms(2999));
    assert_eq!(reals(&s), Vec::<usize>::new(), "not before the ping timeout: r might be rejoining");
    s.advance(ms(1));
    assert_eq!(reals(&s), vec![d[0]], "a frozen holder that never joined is stolen from");
    assert!(s.tabs[r].running_real, "frozen: it has not run anything yet");
    s.thaw(r);
    assert_eq!(s.role(r), TabRole::Dummy, "it demotes itself on thaw");
    assert!(s.tabs[r].core.epoch() >= s.tabs[d[0]].core.epoch());
    s.advance(Duration::from_secs(5));
    assert_eq!(reals(&s), vec![d[0]]);
    s.check_safety();
}

#[test]
fn a_new_tab_alone_with_a_frozen_real_of_a_dead_worker_steals_in_time() {
    let mut s = sim();
    let (h, r, _) = host_and_real(&mut s, 0);
    s.freeze(r);
    s.crash(h); // nobody rejoins: no tab is left to
    let n = s.open(0, true, true);
    assert_eq!(s.role(n), TabRole::Claiming, "promoted at once, waiting for the lock");
    s.advance(ms(3000));
    assert_eq!(reals(&s), vec![n], "the candidate's lock holder never joined: steal");
    s.thaw(r);
    assert_eq!(reals(&s), vec![n]);
    assert_eq!(s.role(r), TabRole::Dummy);
    s.check_safety();
}

#[test]
fn a_tab_joining_while_the_worker_waits_shows_the_current_epoch() {
    let mut s = sim();
    let (h, r, d) = host_and_real(&mut s, 1);
    s.freeze(r);
    s.crash(h);
    let n = s.open(0, true, false);
    assert_eq!(s.role(n), TabRole::Dummy);
    assert_eq!(s.tabs[n].core.epoch(), 2, "the epoch the rejoining tabs saw, not 0");
    assert_eq!(s.tabs[n].epochs, [2], "and never anything lower");
    s.advance(ms(3000));
    let next = reals(&s);
    assert_eq!(next.len(), 1);
    assert!(next[0] == d[0] || next[0] == n);
    assert_eq!(s.tabs[next[0]].core.epoch(), 3);
    s.check_safety();
}

/// A worker started by a new tab knows no epoch: it hands out 1. When the old
/// real (frozen meanwhile) rejoins with its claim, it stays real, and every
/// tab goes on past the epochs it saw.
#[test]
fn a_live_real_rejoining_a_worker_started_by_a_new_tab_keeps_its_place() {
    let mut s = sim();
    let (h, r, d) = host_and_real(&mut s, 1);
    s.focus(h, false, false);
    s.close(r); // epoch 3: d real
    assert_eq!(reals(&s), vec![d[0]]);
    s.freeze(d[0]);
    s.crash(h);
    let n = s.open(0, true, true);
    assert_eq!(s.tabs[n].epochs, [1], "nobody who knows an epoch has joined yet");
    s.thaw(d[0]); // the old real rejoins with its claim of epoch 3
    assert_eq!(reals(&s), vec![d[0]], "a live real keeps its place");
    assert_eq!(s.tabs[d[0]].core.epoch(), 3, "and its epoch: the worker's own 1 is below it");
    assert_eq!(s.tabs[n].epochs, [1, 3]);
    s.check_safety();
}

#[test]
fn a_real_of_another_script_is_waited_for_not_stolen_from() {
    let mut s = sim();
    let a = s.open(0, true, true);
    let b = s.open(1, true, true);
    assert_eq!(s.role(b), TabRole::Claiming, "the second script's candidate waits for the lock");
    let w1 = s.workers.iter().position(|w| w.url == 1).expect("a worker for script 1");
    s.kill_worker(w1);
    s.advance(Duration::from_secs(20));
    assert_eq!(reals(&s), vec![a], "a live real of another script keeps the lock");
    assert_eq!(s.role(b), TabRole::Claiming);
    s.close(a);
    assert_eq!(reals(&s), vec![b]);
    s.check_safety();
}
