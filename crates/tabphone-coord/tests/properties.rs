//! Property tests: random sequences of open / close / crash / freeze / thaw
//! (with the real phone's timer first or not) / action / sync / takeover /
//! real phone activity / worker death / stall / time, checking the
//! coordinator's invariants at every step (in the simulation: at most one
//! active real, one answer per action and takeover, epochs that never go
//! back in any tab and that every joined tab agrees on, a real phone acts
//! only while its tab holds the real lock: a thawed ex-real never does) and,
//! with one worker script, its liveness: a live, unfrozen tab has an active
//! real within [`Bounds`].
//!
//! Crashes and freezes are aimed at the real and at the worker's host as
//! often as at any tab, so that the paths where the worker dies with the real
//! (or while the real is frozen) are walked in many cases; the tests count
//! and print how many, and fail if too few.
mod sim;

use std::cell::Cell;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunConfig, FileFailurePersistence, TestRunner};
use sim::{Bounds, Sim};
use tabphone_coord::Config;

#[derive(Debug, Clone)]
enum Op {
    Open {
        url: usize,
        visible: bool,
        focused: bool,
    },
    Close(usize),
    /// Crash tab `i`; `bool`: the lock manager hears of a hosted worker's death first.
    Crash(usize, bool),
    /// Crash the tab holding the real lock.
    CrashReal(bool),
    /// Crash the tab that hosts a live worker (the worker dies with it).
    CrashHost(bool),
    Freeze(usize),
    /// Freeze the tab holding the real lock.
    FreezeReal,
    Thaw(usize),
    /// Thaw tab `i` with its real phone's timer running first.
    ThawActing(usize),
    /// Tab `i`'s real phone wants to act (a timer, a socket frame).
    Act(usize),
    /// The app's `takeOver` in tab `i`.
    TakeOver(usize),
    Dispatch(usize),
    Publish(usize),
    Respond(usize),
    Focus(usize, bool),
    Advance(u64),
    /// The workers do not run for this many ms.
    Stall(u64),
    KillWorker,
}

fn op(second_script: f64) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::bool::weighted(second_script), any::<bool>(), any::<bool>())
            .prop_map(|(u, visible, focused)| Op::Open { url: usize::from(u), visible, focused }),
        1 => any::<usize>().prop_map(Op::Close),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, w)| Op::Crash(i, w)),
        1 => any::<bool>().prop_map(Op::CrashReal),
        1 => any::<bool>().prop_map(Op::CrashHost),
        1 => any::<usize>().prop_map(Op::Freeze),
        1 => Just(Op::FreezeReal),
        1 => any::<usize>().prop_map(Op::Thaw),
        1 => any::<usize>().prop_map(Op::ThawActing),
        2 => any::<usize>().prop_map(Op::Act),
        1 => any::<usize>().prop_map(Op::TakeOver),
        4 => any::<usize>().prop_map(Op::Dispatch),
        2 => any::<usize>().prop_map(Op::Publish),
        3 => any::<usize>().prop_map(Op::Respond),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, v)| Op::Focus(i, v)),
        4 => (0u64..5000).prop_map(Op::Advance),
        1 => prop_oneof![Just(0u64), 2000u64..30_000].prop_map(Op::Stall),
        1 => Just(Op::KillWorker),
    ]
}

fn apply(s: &mut Sim, op: &Op, n: &mut u64) {
    let pick = |i: usize, s: &Sim| if s.tabs.is_empty() { None } else { Some(i % s.tabs.len()) };
    let acting = |i: usize, s: &Sim| pick(i, s).filter(|i| s.tabs[*i].can_act());
    match *op {
        Op::Open { url, visible, focused } => {
            s.open(url, visible, focused);
        }
        Op::Close(i) => pick(i, s).into_iter().for_each(|i| s.close(i)),
        Op::Crash(i, order) => pick(i, s).into_iter().for_each(|i| s.crash_ordered(i, order)),
        Op::CrashReal(order) => s.real_lock_holder().into_iter().for_each(|i| s.crash_ordered(i, order)),
        Op::CrashHost(order) => {
            let host = s.workers.iter().filter(|w| w.alive).map(|w| w.host).find(|h| s.tabs[*h].alive);
            host.into_iter().for_each(|i| s.crash_ordered(i, order));
        }
        Op::Freeze(i) => pick(i, s).into_iter().for_each(|i| s.freeze(i)),
        Op::FreezeReal => s.real_lock_holder().into_iter().for_each(|i| s.freeze(i)),
        Op::Thaw(i) => pick(i, s).into_iter().for_each(|i| s.thaw(i)),
        Op::ThawActing(i) => pick(i, s).into_iter().for_each(|i| s.thaw_ordered(i, true)),
        Op::Act(i) => {
            // The sim asserts that a phone acting holds the real lock.
            acting(i, s).into_iter().for_each(|i| {
                s.act(i);
            })
        }
        Op::TakeOver(i) => {
            if let Some(i) = acting(i, s) {
                s.take_over(i);
            }
        }
        Op::Dispatch(i) => {
            if let Some(i) = acting(i, s) {
                *n += 1;
                s.dispatch(i, "act", &n.to_string());
            }
        }
        Op::Publish(i) => {
            if let Some(i) = acting(i, s) {
                *n += 1;
                s.publish(i, &format!("{{\"n\":{n}}}"));
            }
        }
        Op::Respond(i) => acting(i, s).into_iter().for_each(|i| s.respond(i)),
        Op::Focus(i, v) => acting(i, s).into_iter().for_each(|i| s.focus(i, v, v)),
        Op::Advance(ms) => s.advance(Duration::from_millis(ms)),
        Op::Stall(ms) => s.stall(Duration::from_millis(ms)),
        Op::KillWorker => {
            if let Some(w) = (0..s.workers.len()).find(|w| s.workers[*w].alive) {
                s.kill_worker(w);
            }
        }
    }
}

/// Let every tab run, let timers settle, let every real answer.
fn settle(s: &mut Sim) {
    for i in 0..s.tabs.len() {
        s.thaw(i);
    }
    s.advance(Duration::from_secs(5));
    for round in 0..3 {
        for i in 0..s.tabs.len() {
            if s.tabs[i].can_act() {
                s.respond(i);
            }
        }
        s.advance(Duration::from_secs(if round == 0 { 1 } else { 11 }));
    }
}

/// The invariants at the end, once everything has settled.
fn check_settled(s: &Sim) -> Result<(), TestCaseError> {
    s.check_safety();
    // A real exists whenever a live tab exists.
    let live = s.tabs.iter().filter(|t| t.can_act()).count();
    let reals = s.active_reals();
    prop_assert_eq!(reals.len(), usize::from(live > 0), "live tabs {} reals {:?}", live, reals);
    // Every action of a live tab got exactly one answer.
    for (i, t) in s.tabs.iter().enumerate().filter(|(_, t)| t.can_act()) {
        for (id, answers) in &t.answers {
            prop_assert_eq!(answers.len(), 1, "tab{} action {:?}", i, id);
        }
    }
    // Dummies of the real's script mirror its state once things are quiet
    // (tabs of another worker script have no real to mirror).
    if let Some(&r) = reals.first() {
        let state = s.tabs[r].core.state().to_owned();
        for t in s.tabs.iter().filter(|t| t.can_act() && t.url == s.tabs[r].url) {
            prop_assert_eq!(t.core.state(), state.as_str());
        }
    }
    Ok(())
}

/// Cases run per test, and how many must reach each of the two restart
/// scenarios (about a fifth of the cases reach each, see the printed counts).
const CASES: u32 = 512;
const AT_LEAST: usize = CASES as usize / 20;

/// Run the property over random sequences; return how many cases reached
/// (a crash of the real that hosts the worker, a worker death while the real is frozen).
fn run(second_script: f64, bounds: Option<Bounds>) -> (usize, usize) {
    let config = RunConfig {
        cases: CASES,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..RunConfig::default()
    };
    let (host, frozen, gated) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let result = TestRunner::new(config).run(&prop::collection::vec(op(second_script), 1..60), |ops| {
        let mut s = Sim::new(Config::default());
        s.monitor.bounds = bounds;
        let mut n = 0;
        for op in &ops {
            apply(&mut s, op, &mut n);
            // Never two reals (checked inside the sim for every epoch too),
            // never an answer twice.
            s.check_safety();
        }
        settle(&mut s);
        let stats = s.monitor.stats;
        host.set(host.get() + usize::from(stats.host_real_crashes > 0));
        frozen.set(frozen.get() + usize::from(stats.frozen_real_worker_deaths > 0));
        gated.set(gated.get() + usize::from(stats.held_then_stopped > 0));
        check_settled(&s)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!("{} cases stopped a real the gate held (a replaced real, thawed)", gated.get());
    assert!(gated.get() >= AT_LEAST, "too few cases reach the gate");
    (host.get(), frozen.get())
}

fn report(what: &str, (host, frozen): (usize, usize)) {
    println!(
        "{what}: of {CASES} cases, {host} crashed the real that hosts the worker, \
         {frozen} lost the worker while the real was frozen"
    );
    assert!(host >= AT_LEAST && frozen >= AT_LEAST, "too few restart scenarios: {host}, {frozen}");
}

#[test]
fn invariants_and_liveness_hold_with_one_worker_script() {
    let config = Config::default();
    // No tab frozen: a real at once, give or take one look at the locks.
    let prompt = config.lock_poll + Duration::from_millis(1);
    // A tab frozen: within the ping timeout of the last freeze, worker death or stall.
    let frozen = config.ping_timeout + Duration::from_millis(100);
    report("one script", run(0.0, Some(Bounds { prompt, frozen })));
}

#[test]
fn invariants_hold_with_two_worker_scripts() {
    report("two scripts", run(0.15, None));
}
