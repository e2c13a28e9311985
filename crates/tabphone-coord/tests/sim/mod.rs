//! A deterministic simulation of one browser profile: workers running the
//! [`Coordinator`], tabs running [`TabCore`], Web Locks with the browser's
//! rules (exclusive, shared, steal, release on death), and a fake clock.
//! Messages are delivered in order through one event queue; a frozen tab
//! keeps its locks and receives nothing until thawed.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tabphone_coord::protocol::{real_lock_name, tab_lock_name};
use tabphone_coord::{
    ActionId, Config, Coordinator, Input, Instant, Job, Output, PortId, TabConfig, TabCore, TabEvent,
    TabInput, TabOutput, TabRole,
};

pub const APP: &str = "app";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Tab(usize),
    Worker(usize),
}

#[derive(Debug, Clone)]
enum Grant {
    TabDied { worker: usize, port: PortId },
    WorkerDied { tab: usize },
    RealLock { tab: usize, epoch: u64 },
}

#[derive(Debug, Default)]
struct Lock {
    holders: Vec<Owner>,
    shared: bool,
    waiting: VecDeque<(Owner, bool, Grant)>,
}

#[derive(Debug)]
enum Ev {
    ToWorker { worker: usize, port: PortId, text: String },
    ToTab { tab: usize, worker: usize, text: String },
    Tab { tab: usize, input: OwnedInput },
    Granted(Grant),
}

#[derive(Debug)]
enum OwnedInput {
    Connected,
    WorkerDied,
    LockGranted(u64),
    LockLost,
    Done(Job, Result<String, String>),
}

pub struct SimTab {
    pub core: TabCore,
    pub alive: bool,
    pub frozen: bool,
    pub worker: usize,
    port: Option<(usize, PortId)>,
    inbox: Vec<Ev>,
    /// Performs the real client has not answered yet.
    pub jobs: Vec<(Job, String, String)>,
    pub running_real: bool,
    /// Answers per dispatch id.
    pub answers: BTreeMap<ActionId, Vec<Result<String, String>>>,
    pub states: Vec<String>,
    pub errors: Vec<(String, String)>,
}

pub struct SimWorker {
    pub coord: Coordinator,
    pub alive: bool,
    ports: BTreeMap<PortId, usize>,
    armed: Option<Instant>,
}

pub struct Sim {
    pub now: Instant,
    pub config: Config,
    pub tabs: Vec<SimTab>,
    pub workers: Vec<SimWorker>,
    /// Script URL of each worker slot: a tab connecting to URL u reaches the
    /// live worker with that URL, or starts one.
    urls: Vec<usize>,
    locks: BTreeMap<String, Lock>,
    queue: VecDeque<Ev>,
    /// Which tab started the real client in each epoch of each worker.
    pub reals_by_epoch: BTreeMap<(usize, u64), usize>,
}

impl Sim {
    pub fn new(config: Config) -> Self {
        Sim {
            now: Instant::now(),
            config,
            tabs: Vec::new(),
            workers: Vec::new(),
            urls: Vec::new(),
            locks: BTreeMap::new(),
            queue: VecDeque::new(),
            reals_by_epoch: BTreeMap::new(),
        }
    }

    /// Open a tab on worker script `url` (0 or 1), visible and focused as given.
    pub fn open(&mut self, url: usize, visible: bool, focused: bool) -> usize {
        let i = self.tabs.len();
        let config = TabConfig { tab_id: format!("tab{i}"), app: APP.into(), max_message_bytes: 1 << 20 };
        self.tabs.push(SimTab {
            core: TabCore::new(config, visible, focused),
            alive: true,
            frozen: false,
            worker: url,
            port: None,
            inbox: Vec::new(),
            jobs: Vec::new(),
            running_real: false,
            answers: BTreeMap::new(),
            states: Vec::new(),
            errors: Vec::new(),
        });
        // The tab takes its own life-long lock before connecting.
        self.lock(tab_lock_name(&format!("tab{i}")), Owner::Tab(i), false, false, None);
        self.drain_tab(i);
        self.run();
        i
    }

    fn worker_for(&mut self, url: usize) -> usize {
        if let Some(w) =
            (0..self.workers.len()).rev().find(|w| self.urls[*w] == url && self.workers[*w].alive)
        {
            return w;
        }
        let w = self.workers.len();
        let config = Config { worker_id: format!("w{w}"), ..self.config.clone() };
        self.workers.push(SimWorker {
            coord: Coordinator::new(self.now, config),
            alive: true,
            ports: BTreeMap::new(),
            armed: None,
        });
        self.urls.push(url);
        self.lock(format!("tabphone:worker:w{w}"), Owner::Worker(w), false, false, None);
        w
    }

    // ---- locks ----

    fn lock(&mut self, name: String, who: Owner, shared: bool, steal: bool, grant: Option<Grant>) {
        let lock = self.locks.entry(name.clone()).or_default();
        if steal {
            let old = std::mem::take(&mut lock.holders);
            lock.holders.push(who);
            lock.shared = false;
            for o in old {
                if let Owner::Tab(t) = o {
                    self.queue.push_back(Ev::Tab { tab: t, input: OwnedInput::LockLost });
                }
            }
        } else if lock.holders.is_empty() || (shared && lock.shared && lock.waiting.is_empty()) {
            lock.holders.push(who);
            lock.shared = shared;
        } else {
            lock.waiting.push_back((
                who,
                shared,
                grant.clone().unwrap_or(Grant::RealLock { tab: 0, epoch: 0 }),
            ));
            return;
        }
        if let Some(g) = grant {
            self.queue.push_back(Ev::Granted(g));
        }
    }

    fn release(&mut self, name: &str, who: Owner) {
        let Some(lock) = self.locks.get_mut(name) else { return };
        lock.waiting.retain(|(o, ..)| *o != who);
        lock.holders.retain(|o| *o != who);
        self.grant_waiters(name);
    }

    fn grant_waiters(&mut self, name: &str) {
        let Some(lock) = self.locks.get_mut(name) else { return };
        let mut grants = Vec::new();
        while let Some((who, shared, _)) = lock.waiting.front() {
            if !(lock.holders.is_empty() || *shared && lock.shared) {
                break;
            }
            let (who, shared, g) = (*who, *shared, lock.waiting.pop_front().map(|w| w.2));
            lock.holders.push(who);
            lock.shared = shared;
            grants.extend(g);
            if !shared {
                break;
            }
        }
        for g in grants {
            self.queue.push_back(Ev::Granted(g));
        }
    }

    /// Release tab `i`'s real lock or request. Like the glue's `Lock` drop,
    /// no grant or loss of it is reported afterwards.
    fn release_real(&mut self, i: usize) {
        let stale = |e: &Ev| match e {
            Ev::Granted(Grant::RealLock { tab, .. }) => *tab == i,
            Ev::Tab { tab, input: OwnedInput::LockGranted(_) | OwnedInput::LockLost } => *tab == i,
            _ => false,
        };
        self.queue.retain(|e| !stale(e));
        self.tabs[i].inbox.retain(|e| !stale(e));
        self.release(&real_lock_name(APP), Owner::Tab(i));
    }

    fn release_all(&mut self, who: Owner) {
        let names: Vec<String> = self.locks.keys().cloned().collect();
        for n in names {
            self.release(&n, who);
        }
    }

    // ---- tab actions ----

    pub fn dispatch(&mut self, i: usize, name: &str, args: &str) -> ActionId {
        let id = self.tabs[i].core.dispatch(name, args);
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

    /// The real client of tab `i` answers every pending perform with `ok`.
    pub fn respond(&mut self, i: usize) {
        let jobs = std::mem::take(&mut self.tabs[i].jobs);
        for (job, name, _) in jobs {
            let input = TabInput::Done { job, result: Ok(format!("\"done {name} by tab{i}\"")) };
            self.tabs[i].core.handle_input(input);
            self.drain_tab(i);
        }
        self.run();
    }

    pub fn focus(&mut self, i: usize, visible: bool, focused: bool) {
        self.tabs[i].core.handle_input(TabInput::Focus { visible, focused });
        self.drain_tab(i);
        self.run();
    }

    /// `pagehide` then the tab is gone (its locks released after it).
    pub fn close(&mut self, i: usize) {
        if !self.tabs[i].alive || self.tabs[i].frozen {
            return;
        }
        self.tabs[i].core.handle_input(TabInput::PageHide);
        self.drain_tab(i);
        self.kill(i);
    }

    /// Crash, kill, or close without handlers: no message, locks released.
    pub fn crash(&mut self, i: usize) {
        if self.tabs[i].alive {
            self.kill(i);
        }
    }

    fn kill(&mut self, i: usize) {
        self.tabs[i].alive = false;
        self.tabs[i].running_real = false;
        self.tabs[i].jobs.clear();
        self.tabs[i].inbox.clear();
        self.run();
        self.release_all(Owner::Tab(i));
        self.run();
    }

    pub fn freeze(&mut self, i: usize) {
        if self.tabs[i].alive {
            self.tabs[i].frozen = true;
        }
    }

    pub fn thaw(&mut self, i: usize) {
        if !self.tabs[i].alive || !self.tabs[i].frozen {
            return;
        }
        self.tabs[i].frozen = false;
        let inbox = std::mem::take(&mut self.tabs[i].inbox);
        for ev in inbox {
            self.queue.push_back(ev);
        }
        self.drain_tab(i);
        self.run();
    }

    /// The worker process dies (the tab hosting it crashed).
    pub fn kill_worker(&mut self, w: usize) {
        if !self.workers[w].alive {
            return;
        }
        self.workers[w].alive = false;
        self.release_all(Owner::Worker(w));
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
    }

    /// The workers do not run for `d` (a long task, the machine asleep): the
    /// clock jumps, then whatever is due runs.
    pub fn stall(&mut self, d: Duration) {
        self.now += d;
        self.advance(Duration::ZERO);
    }

    // ---- the engine ----

    fn run(&mut self) {
        let mut steps = 0;
        while let Some(ev) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "message storm");
            self.step(ev);
        }
    }

    fn step(&mut self, ev: Ev) {
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("{ev:?}");
        }
        match ev {
            Ev::ToWorker { worker, port, text } => {
                if !self.workers[worker].alive || !self.workers[worker].ports.contains_key(&port) {
                    return;
                }
                let now = self.now;
                self.workers[worker].coord.handle_input(now, Input::Message { port, text: &text });
                self.drain_worker(worker);
            }
            Ev::ToTab { tab, worker, text } => {
                if !self.tabs[tab].alive || self.tabs[tab].port.map(|p| p.0) != Some(worker) {
                    return;
                }
                if self.tabs[tab].frozen {
                    return self.tabs[tab].inbox.push(Ev::ToTab { tab, worker, text });
                }
                self.tabs[tab].core.handle_input(TabInput::WorkerMessage(&text));
                self.drain_tab(tab);
            }
            Ev::Tab { tab, input } => {
                if !self.tabs[tab].alive {
                    return;
                }
                if self.tabs[tab].frozen {
                    return self.tabs[tab].inbox.push(Ev::Tab { tab, input });
                }
                let input = match input {
                    OwnedInput::Connected => TabInput::Connected,
                    OwnedInput::WorkerDied => TabInput::WorkerDied,
                    OwnedInput::LockGranted(epoch) => TabInput::RealLockGranted { epoch },
                    OwnedInput::LockLost => TabInput::RealLockLost,
                    OwnedInput::Done(job, result) => TabInput::Done { job, result },
                };
                self.tabs[tab].core.handle_input(input);
                self.drain_tab(tab);
            }
            Ev::Granted(g) => match g {
                Grant::TabDied { worker, port } => {
                    // The worker only watches; it lets go at once.
                    let name =
                        self.workers[worker].ports.get(&port).map(|t| tab_lock_name(&format!("tab{t}")));
                    if let Some(name) = name {
                        self.release(&name, Owner::Worker(worker));
                    }
                    if self.workers[worker].alive {
                        let now = self.now;
                        self.workers[worker].coord.handle_input(now, Input::TabLockGranted { port });
                        self.drain_worker(worker);
                    }
                }
                Grant::WorkerDied { tab } => {
                    let w = self.tabs[tab].worker_lock_owner();
                    self.release(&format!("tabphone:worker:w{w}"), Owner::Tab(tab));
                    self.queue.push_back(Ev::Tab { tab, input: OwnedInput::WorkerDied });
                }
                Grant::RealLock { tab, epoch } => {
                    self.queue.push_back(Ev::Tab { tab, input: OwnedInput::LockGranted(epoch) })
                }
            },
        }
    }

    fn drain_worker(&mut self, w: usize) {
        while let Some(o) = self.workers[w].coord.poll_output() {
            match o {
                Output::Send { port, text } => {
                    if let Some(&tab) = self.workers[w].ports.get(&port) {
                        self.queue.push_back(Ev::ToTab { tab, worker: w, text: text.to_string() });
                    }
                }
                Output::WatchTab { port, lock } => {
                    self.lock(lock, Owner::Worker(w), false, false, Some(Grant::TabDied { worker: w, port }));
                }
                Output::ClosePort { port } => {
                    self.workers[w].ports.remove(&port);
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
    }

    fn drain_tab(&mut self, i: usize) {
        while let Some(o) = self.tabs[i].core.poll_output() {
            match o {
                TabOutput::Connect => {
                    let url = self.tabs[i].worker;
                    let w = self.worker_for(url);
                    let port = self.workers[w].coord.connect(self.now);
                    self.workers[w].ports.insert(port, i);
                    self.tabs[i].port = Some((w, port));
                    self.queue.push_back(Ev::Tab { tab: i, input: OwnedInput::Connected });
                }
                TabOutput::Send(text) => {
                    if let Some((worker, port)) = self.tabs[i].port {
                        self.queue.push_back(Ev::ToWorker { worker, port, text });
                    }
                }
                TabOutput::WatchWorker(lock) => {
                    self.lock(lock, Owner::Tab(i), true, false, Some(Grant::WorkerDied { tab: i }));
                }
                TabOutput::AcquireRealLock { lock, steal, epoch } => {
                    // Like the glue: a new request replaces (releases) the old one.
                    self.release_real(i);
                    self.lock(lock, Owner::Tab(i), false, steal, Some(Grant::RealLock { tab: i, epoch }));
                }
                TabOutput::ReleaseRealLock => self.release_real(i),
                TabOutput::StartReal => {
                    assert_eq!(self.real_lock_holder(), Some(i), "tab{i} started real without the lock");
                    self.tabs[i].running_real = true;
                    let key = (self.tabs[i].port.map_or(0, |p| p.0), self.tabs[i].core.epoch());
                    if let Some(prev) = self.reals_by_epoch.insert(key, i) {
                        assert_eq!(prev, i, "two reals in epoch {key:?}");
                    }
                }
                TabOutput::StopReal => self.tabs[i].running_real = false,
                TabOutput::Perform { job, name, args } => {
                    assert!(self.tabs[i].running_real, "perform on tab{i} that is not running real");
                    self.tabs[i].jobs.push((job, name, args));
                }
                TabOutput::Resolve { id, result } => {
                    self.tabs[i].answers.entry(id).or_default().push(result);
                }
                TabOutput::Event(TabEvent::State { state }) => self.tabs[i].states.push(state),
                TabOutput::Event(TabEvent::Error { code, message }) => {
                    self.tabs[i].errors.push((code, message))
                }
                TabOutput::Event(_) => {}
                other => panic!("unexpected output {other:?}"),
            }
        }
    }

    // ---- observations ----

    pub fn real_lock_holder(&self) -> Option<usize> {
        self.locks.get(&real_lock_name(APP)).and_then(|l| {
            l.holders.iter().find_map(|o| match o {
                Owner::Tab(t) => Some(*t),
                Owner::Worker(_) => None,
            })
        })
    }

    /// Tabs that run the real client and can act (alive, not frozen).
    pub fn active_reals(&self) -> Vec<usize> {
        (0..self.tabs.len()).filter(|i| self.tabs[*i].can_act() && self.tabs[*i].running_real).collect()
    }

    pub fn role(&self, i: usize) -> TabRole {
        self.tabs[i].core.role()
    }

    pub fn answers(&self, i: usize, id: ActionId) -> &[Result<String, String>] {
        self.tabs[i].answers.get(&id).map_or(&[], |v| v.as_slice())
    }

    /// Check the safety invariants that hold at every instant.
    pub fn check_safety(&self) {
        let reals = self.active_reals();
        assert!(reals.len() <= 1, "two active reals: {reals:?}");
        for &r in &reals {
            assert_eq!(self.real_lock_holder(), Some(r), "active real tab{r} without the real lock");
            assert_eq!(self.role(r), TabRole::Real);
        }
        for (i, t) in self.tabs.iter().enumerate() {
            for (id, answers) in &t.answers {
                assert!(answers.len() <= 1, "tab{i} action {id:?} answered {} times", answers.len());
            }
        }
    }
}

impl SimTab {
    pub fn can_act(&self) -> bool {
        self.alive && !self.frozen
    }

    fn worker_lock_owner(&self) -> usize {
        self.port.map_or(0, |p| p.0)
    }
}
