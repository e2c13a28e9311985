//! The engine: one queue of events delivered in order, and the glue's part
//! (performing the cores' outputs against the simulated browser).
use tabphone_coord::protocol::{real_lock_name, tab_lock_name, worker_lock_name};
use tabphone_coord::{Input, Job, Output, PortId, TabEvent, TabInput, TabOutput};

use super::locks::{Effect, Grant, Owner};
use super::{Sim, APP};

#[derive(Debug)]
pub enum Ev {
    ToWorker {
        worker: usize,
        port: PortId,
        text: String,
    },
    ToTab {
        tab: usize,
        worker: usize,
        text: String,
    },
    Tab {
        tab: usize,
        input: OwnedInput,
    },
    Granted(Grant),
    /// The answer to a worker's lock query.
    Locks {
        worker: usize,
    },
}

#[derive(Debug)]
pub enum OwnedInput {
    TabLockHeld,
    Connected,
    WorkerDied,
    LockGranted,
    LockLost,
    Done(Job, Result<String, String>),
}

impl Sim {
    pub(super) fn run(&mut self) {
        let mut steps = 0;
        while let Some(ev) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "message storm");
            self.step(ev);
        }
        self.observe();
    }

    /// Queue what lock changes mean for their owners.
    pub(super) fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Granted(g) => self.queue.push_back(Ev::Granted(g)),
                Effect::Stolen(Owner::Tab(t)) => {
                    self.queue.push_back(Ev::Tab { tab: t, input: OwnedInput::LockLost })
                }
                Effect::Stolen(Owner::Worker(_)) => {}
            }
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
                let now = self.now;
                self.tabs[tab].core.handle_input(now, TabInput::WorkerMessage(&text));
                self.drain_tab(tab);
            }
            Ev::Tab { tab, input } => self.tab_input(tab, input),
            Ev::Granted(g) => self.granted(g),
            Ev::Locks { worker } => {
                if self.workers[worker].alive {
                    let now = self.now;
                    let snapshot = self.locks.snapshot();
                    self.workers[worker].coord.handle_input(now, Input::Locks(Some(snapshot)));
                    self.drain_worker(worker);
                }
            }
        }
    }

    fn tab_input(&mut self, tab: usize, input: OwnedInput) {
        if !self.tabs[tab].alive {
            return;
        }
        if self.tabs[tab].frozen {
            return self.tabs[tab].inbox.push(Ev::Tab { tab, input });
        }
        if let OwnedInput::WorkerDied = input {
            // The tab lets go of the dead worker's lock when it hears of the
            // death: a frozen tab keeps holding it.
            let w = self.tabs[tab].port.map_or(0, |p| p.0);
            let effects = self.locks.release(&worker_lock_name(&format!("w{w}")), Owner::Tab(tab));
            self.apply(effects);
        }
        let input = match input {
            OwnedInput::TabLockHeld => TabInput::TabLockHeld,
            OwnedInput::Connected => TabInput::Connected,
            OwnedInput::WorkerDied => TabInput::WorkerDied,
            OwnedInput::LockGranted => TabInput::RealLockGranted,
            OwnedInput::LockLost => TabInput::RealLockLost,
            OwnedInput::Done(job, result) => TabInput::Done { job, result },
        };
        let now = self.now;
        self.tabs[tab].core.handle_input(now, input);
        self.drain_tab(tab);
    }

    fn granted(&mut self, g: Grant) {
        match g {
            Grant::TabLock { tab } => self.queue.push_back(Ev::Tab { tab, input: OwnedInput::TabLockHeld }),
            Grant::TabDied { worker, port } => {
                // The worker only watches; it lets go at once.
                let name = self.workers[worker].ports.get(&port).map(|t| tab_lock_name(&format!("tab{t}")));
                if let Some(name) = name {
                    let effects = self.locks.release(&name, Owner::Worker(worker));
                    self.apply(effects);
                }
                if self.workers[worker].alive {
                    let now = self.now;
                    self.workers[worker].coord.handle_input(now, Input::TabLockGranted { port });
                    self.drain_worker(worker);
                }
            }
            Grant::WorkerDied { tab } => self.queue.push_back(Ev::Tab { tab, input: OwnedInput::WorkerDied }),
            Grant::RealLock { tab } => self.queue.push_back(Ev::Tab { tab, input: OwnedInput::LockGranted }),
            Grant::Held => {}
        }
    }

    pub(super) fn drain_worker(&mut self, w: usize) {
        while let Some(o) = self.workers[w].coord.poll_output() {
            match o {
                Output::Send { port, text } => {
                    if let Some(&tab) = self.workers[w].ports.get(&port) {
                        self.queue.push_back(Ev::ToTab { tab, worker: w, text: text.to_string() });
                    }
                }
                Output::WatchTab { port, lock } => {
                    self.request(&lock, Owner::Worker(w), false, false, Grant::TabDied { worker: w, port });
                }
                Output::ClosePort { port } => {
                    self.workers[w].ports.remove(&port);
                }
                Output::QueryLocks => self.queue.push_back(Ev::Locks { worker: w }),
                other => panic!("unexpected output {other:?}"),
            }
        }
    }

    pub(super) fn drain_tab(&mut self, i: usize) {
        while let Some(o) = self.tabs[i].core.poll_output() {
            self.tab_output(i, o);
        }
    }

    fn tab_output(&mut self, i: usize, o: TabOutput) {
        match o {
            TabOutput::HoldTabLock(lock) => {
                self.request(&lock, Owner::Tab(i), false, false, Grant::TabLock { tab: i });
            }
            TabOutput::Connect => {
                let w = self.worker_for(self.tabs[i].url, i);
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
                self.request(&lock, Owner::Tab(i), true, false, Grant::WorkerDied { tab: i });
            }
            TabOutput::AcquireRealLock { lock, steal } => {
                // Like the glue: a new request replaces (releases) the old one.
                self.release_real(i);
                self.request(&lock, Owner::Tab(i), false, steal, Grant::RealLock { tab: i });
            }
            TabOutput::ReleaseRealLock => self.release_real(i),
            TabOutput::StartReal { inherit } => {
                self.start_real(i);
                // The real phone resumes the calls and publishes them (or
                // its empty state).
                let published = self.tabs[i].core.publish(inherit.as_deref().unwrap_or("null"));
                assert!(published.is_ok(), "a new real cannot publish its inherited state: {published:?}");
                self.tabs[i].inherited.push(inherit);
            }
            TabOutput::HoldReal => {
                assert!(self.tabs[i].running_real && !self.tabs[i].held, "hold of tab{i} that is not acting");
                self.tabs[i].held = true;
            }
            TabOutput::ResumeReal => {
                assert!(self.tabs[i].running_real && self.tabs[i].held, "resume of tab{i} that is not held");
                self.tabs[i].held = false;
            }
            TabOutput::StopReal { last } => {
                if self.tabs[i].held {
                    self.monitor.stats.held_then_stopped += 1;
                }
                self.tabs[i].running_real = false;
                self.tabs[i].held = false;
                self.tabs[i].stops.push(last);
            }
            TabOutput::Perform { job, name, args } => {
                assert!(self.tabs[i].running_real, "perform on tab{i} that is not running real");
                assert!(!self.tabs[i].held, "perform on tab{i} while held");
                self.tabs[i].jobs.push((job, name, args));
            }
            TabOutput::Resolve { id, result } => {
                self.tabs[i].answers.entry(id).or_default().push(result);
            }
            TabOutput::Event(TabEvent::State { state }) => self.tabs[i].states.push(state),
            TabOutput::Event(TabEvent::Relayed { event }) => self.tabs[i].relayed.push(event),
            TabOutput::Event(TabEvent::Role { role, epoch }) => self.saw_role(i, role, epoch),
            TabOutput::Event(TabEvent::Error { code, message }) => self.tabs[i].errors.push((code, message)),
            TabOutput::Event(_) => {}
            other => panic!("unexpected output {other:?}"),
        }
    }

    fn start_real(&mut self, i: usize) {
        let holders = self.locks.holders(&real_lock_name(APP));
        assert_eq!(holders, [Owner::Tab(i)], "tab{i} started real without the lock");
        self.tabs[i].running_real = true;
        let key = (self.tabs[i].port.map_or(0, |p| p.0), self.tabs[i].core.epoch());
        if let Some(prev) = self.reals_by_epoch.insert(key, i) {
            assert_eq!(prev, i, "two reals in epoch {key:?}");
        }
    }
}
