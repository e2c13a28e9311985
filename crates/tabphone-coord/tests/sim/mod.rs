//! A deterministic simulation of one browser profile: workers running the
//! [`Coordinator`], tabs running [`TabCore`], Web Locks with the browser's
//! rules (exclusive, shared, steal, release on death), and a fake clock.
//! Messages are delivered in order through one event queue; a frozen tab
//! keeps its locks and receives nothing until thawed.
//!
//! Layout: `mod.rs` (the profile and what a test can do to it), `engine.rs`
//! (the event queue and the glue's part), `locks.rs` (Web Locks), `check.rs`
//! (observations and invariants).
#![allow(dead_code)]

mod check;
mod engine;
mod locks;

#[allow(unused_imports)] // the property tests use it
pub use check::{Bounds, Monitor};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use engine::{Ev, OwnedInput};
use locks::{Grant, Locks, Owner};
use tabphone_coord::protocol::{real_lock_name, worker_lock_name};
use tabphone_coord::{
    ActionId, Config, Coordinator, Input, Instant, Job, PortId, TabConfig, TabCore, TabInput,
};

pub const APP: &str = "app";

pub struct SimTab {
    pub core: TabCore,
    pub alive: bool,
    pub frozen: bool,
    /// The worker script URL it connects to (0 or 1).
    pub url: usize,
    port: Option<(usize, PortId)>,
    inbox: Vec<Ev>,
    /// Performs the real client has not answered yet.
    pub jobs: Vec<(Job, String, String)>,
    pub running_real: bool,
    /// The glue holds the real phone's inputs ([`TabOutput::HoldReal`]).
    pub held: bool,
    /// The `inherit` of each `StartReal`, in order.
    pub inherited: Vec<Option<String>>,
    /// The `last` of each `StopReal`, in order.
    pub stops: Vec<bool>,
    /// Times the real phone acted (the gate said it may).
    pub acts: usize,
    /// Answers per dispatch id.
    pub answers: BTreeMap<ActionId, Vec<Result<String, String>>>,
    pub states: Vec<String>,
    /// The events relayed to it by the real, in order.
    pub relayed: Vec<String>,
    pub errors: Vec<(String, String)>,
    /// The epochs of its role events, in order.
    pub epochs: Vec<u64>,
}

pub struct SimWorker {
    pub coord: Coordinator,
    pub alive: bool,
    pub url: usize,
    /// The tab that created it: the worker runs in that tab's process and
    /// dies when it crashes.
    pub host: usize,
    ports: BTreeMap<PortId, usize>,
}

pub struct Sim {
    pub now: Instant,
    pub config: Config,
    pub tabs: Vec<SimTab>,
    pub workers: Vec<SimWorker>,
    locks: Locks,
    queue: VecDeque<Ev>,
    /// Which tab started the real client in each epoch of each worker script.
    pub reals_by_epoch: BTreeMap<(usize, u64), usize>,
    pub monitor: Monitor,
}

impl Sim {
    pub fn new(config: Config) -> Self {
        Sim {
            now: Instant::now(),
            config,
            tabs: Vec::new(),
            workers: Vec::new(),
            locks: Locks::default(),
            queue: VecDeque::new(),
            reals_by_epoch: BTreeMap::new(),
            monitor: Monitor::default(),
        }
    }

    /// Open a tab on worker script `url` (0 or 1), visible and focused as given.
    pub fn open(&mut self, url: usize, visible: bool, focused: bool) -> usize {
        let i = self.tabs.len();
        self.tabs.push(SimTab {
            core: TabCore::new(TabConfig::new(format!("tab{i}"), APP), visible, focused),
            alive: true,
            frozen: false,
            url,
            port: None,
            inbox: Vec::new(),
            jobs: Vec::new(),
            running_real: false,
            held: false,
            inherited: Vec::new(),
            stops: Vec::new(),
            acts: 0,
            answers: BTreeMap::new(),
            states: Vec::new(),
            relayed: Vec::new(),
            errors: Vec::new(),
            epochs: Vec::new(),
        });
        self.drain_tab(i);
        self.run();
        i
    }

    /// The live worker of script `url`, or a new one hosted by tab `host`.
    fn worker_for(&mut self, url: usize, host: usize) -> usize {
        let live =
            (0..self.workers.len()).rev().find(|w| self.workers[*w].url == url && self.workers[*w].alive);
        if let Some(w) = live {
            return w;
        }
        let w = self.workers.len();
        let config = Config { worker_id: format!("w{w}"), app: APP.into(), ..self.config.clone() };
        let coord = Coordinator::new(self.now, config);
        self.workers.push(SimWorker { coord, alive: true, url, host, ports: BTreeMap::new() });
        self.request(&worker_lock_name(&format!("w{w}")), Owner::Worker(w), false, false, Grant::Held);
        w
    }

    // ---- tab actions ----

    pub fn dispatch(&mut self, i: usize, name: &str, args: &str) -> ActionId {
        let now = self.now;
        let id = self.tabs[i].core.dispatch(now, name, args);
        self.tabs[i].answers.entry(id).or_default();
        self.drain_tab(i);
        self.run();
        id
    }

    pub fn publish(&mut self, i: usize, state: &str) -> bool {
        let ok = self.tabs[i].core.publish(state).is_ok();
        self.drain_tab(i);
        self.run();
        ok
    }

    /// Tab `i`'s real phone relays `event`; `false` when refused.
    pub fn relay(&mut self, i: usize, event: &str) -> bool {
        let ok = self.tabs[i].core.relay(event).is_ok();
        self.drain_tab(i);
        self.run();
        ok
    }

    /// The app's `takeOver` in tab `i`.
    pub fn take_over(&mut self, i: usize) -> ActionId {
        self.take_over_all(&[i])[0]
    }

    /// `takeOver` in each of `tabs`, all sent before any is delivered.
    pub fn take_over_all(&mut self, tabs: &[usize]) -> Vec<ActionId> {
        let ids = tabs
            .iter()
            .map(|&i| {
                let id = self.tabs[i].core.take_over();
                self.tabs[i].answers.entry(id).or_default();
                self.drain_tab(i);
                id
            })
            .collect();
        self.run();
        ids
    }

    /// Tab `i`'s real phone wants to act (a timer fired, a socket frame came):
    /// it does if the gate says it may. It never may unless it holds the real
    /// lock: it would send SIP for calls another real now holds.
    pub fn act(&mut self, i: usize) -> bool {
        let acted = self.act_first(i);
        self.run();
        acted
    }

    /// [`Sim::act`] without delivering what follows.
    fn act_first(&mut self, i: usize) -> bool {
        if !self.tabs[i].can_act() || !self.tabs[i].running_real {
            return false;
        }
        let now = self.now;
        let may = self.tabs[i].core.real_may_act(now);
        self.drain_tab(i);
        if may {
            assert!(!self.tabs[i].held, "tab{i}: the gate says act while the glue holds");
            let holder = self.real_lock_holder();
            assert_eq!(
                holder,
                Some(i),
                "tab{i}'s real phone acts without the real lock (held by {holder:?})"
            );
            self.tabs[i].acts += 1;
        }
        may
    }

    /// The real client of tab `i` answers every pending perform with `ok`
    /// (a held real phone does nothing; a stopped one answers what it had).
    pub fn respond(&mut self, i: usize) {
        if self.tabs[i].running_real && !self.act_first(i) {
            return self.run();
        }
        let jobs = std::mem::take(&mut self.tabs[i].jobs);
        for (job, name, _) in jobs {
            let input = TabInput::Done { job, result: Ok(format!("\"done {name} by tab{i}\"")) };
            let now = self.now;
            self.tabs[i].core.handle_input(now, input);
            self.drain_tab(i);
        }
        self.run();
    }

    pub fn focus(&mut self, i: usize, visible: bool, focused: bool) {
        let now = self.now;
        self.tabs[i].core.handle_input(now, TabInput::Focus { visible, focused });
        self.drain_tab(i);
        self.run();
    }

    /// `pagehide` then the tab is gone (its locks released after it).
    pub fn close(&mut self, i: usize) {
        if !self.tabs[i].alive || self.tabs[i].frozen {
            return;
        }
        let now = self.now;
        self.tabs[i].core.handle_input(now, TabInput::PageHide);
        self.drain_tab(i);
        self.kill(i);
    }

    /// Crash, kill, or close without handlers: no message, locks released.
    /// A worker the tab hosts dies with it; the lock manager hears of the
    /// worker's death first.
    pub fn crash(&mut self, i: usize) {
        self.crash_ordered(i, true);
    }

    /// [`Sim::crash`], with the worker's locks released before the tab's or after.
    pub fn crash_ordered(&mut self, i: usize, worker_first: bool) {
        if !self.tabs[i].alive {
            return;
        }
        let hosted: Vec<usize> = (0..self.workers.len())
            .filter(|w| self.workers[*w].alive && self.workers[*w].host == i)
            .collect();
        if !hosted.is_empty() && self.holds_real(i) {
            self.monitor.stats.host_real_crashes += 1;
        }
        // The process is gone: nothing runs in the tab any more, whatever
        // the lock manager hears first.
        self.die(i);
        if worker_first {
            hosted.iter().for_each(|w| self.kill_worker(*w));
        }
        self.release_tab(i);
        hosted.iter().for_each(|w| self.kill_worker(*w));
    }

    /// Whether tab `i` is the real: running it, or holding the real lock.
    fn holds_real(&self, i: usize) -> bool {
        self.tabs[i].running_real || self.locks.holds(&real_lock_name(APP), Owner::Tab(i))
    }

    fn kill(&mut self, i: usize) {
        self.die(i);
        self.release_tab(i);
    }

    fn die(&mut self, i: usize) {
        if self.tabs[i].frozen {
            self.monitor.unfroze(self.now);
        }
        self.tabs[i].alive = false;
        self.tabs[i].running_real = false;
        self.tabs[i].jobs.clear();
        self.tabs[i].inbox.clear();
        self.run();
    }

    /// The lock manager sees the dead tab's client go.
    fn release_tab(&mut self, i: usize) {
        let effects = self.locks.release_all(Owner::Tab(i));
        self.apply(effects);
        self.run();
    }

    pub fn freeze(&mut self, i: usize) {
        if self.tabs[i].alive && !self.tabs[i].frozen {
            self.tabs[i].frozen = true;
            self.monitor.excuse(self.now);
        }
    }

    pub fn thaw(&mut self, i: usize) {
        self.thaw_ordered(i, false);
    }

    /// Thaw tab `i`; `phone_first`: its real phone's timer runs before any
    /// of the tasks queued while it was frozen (the browser runs task
    /// sources in no defined order).
    pub fn thaw_ordered(&mut self, i: usize, phone_first: bool) {
        if !self.tabs[i].alive || !self.tabs[i].frozen {
            return;
        }
        self.tabs[i].frozen = false;
        self.monitor.unfroze(self.now);
        if phone_first {
            self.act_first(i);
        }
        let inbox = std::mem::take(&mut self.tabs[i].inbox);
        self.queue.extend(inbox);
        self.drain_tab(i);
        self.run();
    }

    /// The worker process dies (the tab hosting it crashed).
    pub fn kill_worker(&mut self, w: usize) {
        if !self.workers[w].alive {
            return;
        }
        let url = self.workers[w].url;
        if (0..self.tabs.len()).any(|i| self.tabs[i].url == url && self.tabs[i].frozen && self.holds_real(i))
        {
            self.monitor.stats.frozen_real_worker_deaths += 1;
        }
        self.monitor.excuse(self.now);
        self.workers[w].alive = false;
        let effects = self.locks.release_all(Owner::Worker(w));
        self.apply(effects);
        self.run();
    }

    /// Advance the clock by `d`, firing worker timers on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next = (0..self.workers.len())
                .filter(|w| self.workers[*w].alive)
                .filter_map(|w| self.workers[w].coord.poll_timeout().map(|t| (t, w)))
                .min();
            match next {
                Some((t, w)) if t <= end => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    self.workers[w].coord.handle_input(now, Input::Timeout);
                    self.drain_worker(w);
                    self.run();
                }
                _ => break,
            }
        }
        self.now = end;
        self.observe();
    }

    /// The workers do not run for `d` (a long task, the machine asleep): the
    /// clock jumps, then whatever is due runs.
    pub fn stall(&mut self, d: Duration) {
        self.now += d;
        self.monitor.excuse(self.now);
        self.advance(Duration::ZERO);
    }

    /// Ask for a lock and deliver what follows at once.
    fn request(&mut self, name: &str, who: Owner, shared: bool, steal: bool, grant: Grant) {
        let effects = self.locks.request(name, who, shared, steal, grant);
        self.apply(effects);
    }

    /// Release tab `i`'s real lock or request. Like the glue's `Lock` drop,
    /// no grant or loss of it is reported afterwards.
    fn release_real(&mut self, i: usize) {
        let stale = |e: &Ev| match e {
            Ev::Granted(Grant::RealLock { tab }) => *tab == i,
            Ev::Tab { tab, input: OwnedInput::LockGranted | OwnedInput::LockLost } => *tab == i,
            _ => false,
        };
        self.queue.retain(|e| !stale(e));
        self.tabs[i].inbox.retain(|e| !stale(e));
        let effects = self.locks.release(&real_lock_name(APP), Owner::Tab(i));
        self.apply(effects);
    }
}

impl SimTab {
    pub fn can_act(&self) -> bool {
        self.alive && !self.frozen
    }
}
