//! Property tests: random sequences of join / close / crash / freeze / thaw /
//! action / sync / worker death / time, checking the coordinator's invariants.
mod sim;

use std::time::Duration;

use proptest::prelude::*;
use sim::Sim;
use tabphone_coord::Config;

#[derive(Debug, Clone)]
enum Op {
    Open { url: usize, visible: bool, focused: bool },
    Close(usize),
    Crash(usize),
    Freeze(usize),
    Thaw(usize),
    Dispatch(usize),
    Publish(usize),
    Respond(usize),
    Focus(usize, bool),
    Advance(u64),
    KillWorker,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::bool::weighted(0.15), any::<bool>(), any::<bool>())
            .prop_map(|(u, visible, focused)| Op::Open { url: usize::from(u), visible, focused }),
        1 => any::<usize>().prop_map(Op::Close),
        1 => any::<usize>().prop_map(Op::Crash),
        1 => any::<usize>().prop_map(Op::Freeze),
        1 => any::<usize>().prop_map(Op::Thaw),
        4 => any::<usize>().prop_map(Op::Dispatch),
        2 => any::<usize>().prop_map(Op::Publish),
        3 => any::<usize>().prop_map(Op::Respond),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, v)| Op::Focus(i, v)),
        3 => (0u64..5000).prop_map(Op::Advance),
        1 => Just(Op::KillWorker),
    ]
}

fn apply(s: &mut Sim, op: &Op, n: &mut u64) {
    let pick = |i: usize, s: &Sim| if s.tabs.is_empty() { None } else { Some(i % s.tabs.len()) };
    match *op {
        Op::Open { url, visible, focused } => {
            s.open(url, visible, focused);
        }
        Op::Close(i) => pick(i, s).into_iter().for_each(|i| s.close(i)),
        Op::Crash(i) => pick(i, s).into_iter().for_each(|i| s.crash(i)),
        Op::Freeze(i) => pick(i, s).into_iter().for_each(|i| s.freeze(i)),
        Op::Thaw(i) => pick(i, s).into_iter().for_each(|i| s.thaw(i)),
        Op::Dispatch(i) => {
            if let Some(i) = pick(i, s).filter(|i| s.tabs[*i].can_act()) {
                *n += 1;
                s.dispatch(i, "act", &n.to_string());
            }
        }
        Op::Publish(i) => {
            if let Some(i) = pick(i, s).filter(|i| s.tabs[*i].can_act()) {
                *n += 1;
                s.publish(i, &format!("{{\"n\":{n}}}"));
            }
        }
        Op::Respond(i) => {
            if let Some(i) = pick(i, s).filter(|i| s.tabs[*i].can_act()) {
                s.respond(i);
            }
        }
        Op::Focus(i, v) => {
            if let Some(i) = pick(i, s).filter(|i| s.tabs[*i].can_act()) {
                s.focus(i, v, v);
            }
        }
        Op::Advance(ms) => s.advance(Duration::from_millis(ms)),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(ops in prop::collection::vec(op(), 1..60)) {
        let mut s = Sim::new(Config::default());
        let mut n = 0;
        for op in &ops {
            apply(&mut s, op, &mut n);
            // Never two reals (checked inside the sim for every epoch too),
            // never an answer twice.
            s.check_safety();
        }
        settle(&mut s);
        s.check_safety();
        // A real exists whenever a live tab exists (after the grace time).
        let live = s.tabs.iter().filter(|t| t.can_act()).count();
        let reals = s.active_reals();
        prop_assert_eq!(reals.len(), usize::from(live > 0), "live tabs {} reals {:?}", live, reals);
        // Every action of a live tab got exactly one answer.
        for (i, t) in s.tabs.iter().enumerate().filter(|(_, t)| t.can_act()) {
            for (id, answers) in &t.answers {
                prop_assert_eq!(answers.len(), 1, "tab{} action {:?}", i, id);
            }
        }
        // Dummies of the real's worker mirror its state once things are quiet
        // (tabs of another worker script have no real to mirror).
        if let Some(&r) = reals.first() {
            let state = s.tabs[r].core.state().to_owned();
            for t in s.tabs.iter().filter(|t| t.can_act() && t.url == s.tabs[r].url) {
                prop_assert_eq!(t.core.state(), state.as_str());
            }
        }
    }
}
