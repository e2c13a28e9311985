//! Observations of the simulated profile, and the safety invariants that
//! hold at every instant.
use std::time::Duration;

use tabphone_coord::protocol::real_lock_name;
use tabphone_coord::{ActionId, Instant, TabRole};

use super::locks::Owner;
use super::{Sim, APP};

impl Sim {
    /// The tab holding the real lock, if a tab does.
    pub fn real_lock_holder(&self) -> Option<usize> {
        self.locks.holders(&real_lock_name(APP)).iter().find_map(|o| match o {
            Owner::Tab(t) => Some(*t),
            Owner::Worker(_) => None,
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

/// Liveness bounds, checked at every step when set (one worker script only:
/// with two, a real of the other script may hold the lock, by design).
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// With no tab frozen: how long a live tab may be without an active real.
    pub prompt: Duration,
    /// With a tab frozen: how long after the last freeze, worker death or
    /// stall (the ping timeout plus a small bound).
    pub frozen: Duration,
}

/// How often the scenarios the faults of issue 8 need happened.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// A crash of the tab that hosts a live worker while it is the real.
    pub host_real_crashes: usize,
    /// A worker died while a frozen tab of its script held the real lock.
    pub frozen_real_worker_deaths: usize,
    /// A real held by the gate was then stopped (it had been replaced).
    pub held_then_stopped: usize,
}

/// What the monitor keeps between steps.
#[derive(Debug, Default)]
pub struct Monitor {
    pub bounds: Option<Bounds>,
    /// Since when a live, unfrozen tab has had no active real.
    outage: Option<Instant>,
    /// The last freeze, worker death or stall.
    excuse: Option<Instant>,
    /// When a frozen tab last thawed or died: the prompt bound runs from then.
    unfrozen: Option<Instant>,
    /// The longest outage seen.
    pub worst: Duration,
    pub stats: Stats,
}

impl Monitor {
    /// A freeze, a worker's death or a stall: a real may take up to the ping timeout.
    pub fn excuse(&mut self, now: Instant) {
        self.excuse = Some(now);
    }

    /// A frozen tab thawed or died.
    pub fn unfroze(&mut self, now: Instant) {
        self.unfrozen = Some(now);
    }
}

impl Sim {
    /// A tab showed `role` in `epoch`: epochs never go back in a tab's view.
    pub(super) fn saw_role(&mut self, i: usize, role: TabRole, epoch: u64) {
        let last = self.tabs[i].epochs.last().copied().unwrap_or(0);
        assert!(epoch >= last, "tab{i} showed epoch {epoch} ({role:?}) after {last}");
        self.tabs[i].epochs.push(epoch);
    }

    /// After every step: the epochs every joined tab shows, and the liveness bounds.
    pub(super) fn observe(&mut self) {
        self.check_epochs();
        let Some(bounds) = self.monitor.bounds else { return };
        let live = self.tabs.iter().any(|t| t.can_act());
        if !live || !self.active_reals().is_empty() {
            if let Some(since) = self.monitor.outage.take() {
                self.monitor.worst = self.monitor.worst.max(self.now - since);
            }
            return;
        }
        let since = *self.monitor.outage.get_or_insert(self.now);
        let frozen = self.tabs.iter().any(|t| t.alive && t.frozen);
        let (bound, from) = if frozen {
            (bounds.frozen, self.monitor.excuse.map_or(since, |e| e.max(since)))
        } else {
            (bounds.prompt, self.monitor.unfrozen.map_or(since, |e| e.max(since)))
        };
        let waited = self.now - from;
        assert!(
            waited <= bound,
            "no real for {waited:?} (bound {bound:?}, a tab frozen: {frozen}); reals {:?}, lock holder {:?}",
            self.active_reals(),
            self.real_lock_holder()
        );
    }

    /// Every live tab joined to a worker shows that worker's epoch.
    fn check_epochs(&self) {
        for (i, t) in self.tabs.iter().enumerate().filter(|(_, t)| t.can_act()) {
            let Some((w, _)) = t.port else { continue };
            if !self.workers[w].alive || matches!(t.core.role(), TabRole::Connecting | TabRole::Closed) {
                continue;
            }
            let (shown, current) = (t.core.epoch(), self.workers[w].coord.epoch());
            assert_eq!(shown, current, "tab{i} shows epoch {shown}, its worker w{w} is at {current}");
        }
    }
}
