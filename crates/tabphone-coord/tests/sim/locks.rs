//! Web Locks as the browser keeps them: exclusive and shared modes, a FIFO
//! queue of waiting requests, `steal`, and release of everything an owner
//! holds or waits for when it dies.
use std::collections::{BTreeMap, VecDeque};

use tabphone_coord::{LockInfo, LockSnapshot};

/// Who holds or waits for a lock (a lock manager client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    Tab(usize),
    Worker(usize),
}

impl Owner {
    /// Its lock manager client id, as `navigator.locks.query()` reports it.
    fn client(self) -> String {
        match self {
            Owner::Tab(t) => format!("client-t{t}"),
            Owner::Worker(w) => format!("client-w{w}"),
        }
    }
}

/// What the sim does when a request is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A tab's life lock is held.
    TabLock { tab: usize },
    /// A worker's watch on a tab's life lock: the tab died.
    TabDied { worker: usize, port: tabphone_coord::PortId },
    /// A tab's watch on its worker's life lock: the worker died.
    WorkerDied { tab: usize },
    /// A tab's request for the real lock.
    RealLock { tab: usize },
    /// A worker holds its own life lock.
    Held,
}

/// What happened to whom, for the sim to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Granted(Grant),
    /// A held lock was stolen from this owner.
    Stolen(Owner),
}

#[derive(Debug, Default)]
struct Lock {
    holders: Vec<Owner>,
    shared: bool,
    waiting: VecDeque<(Owner, bool, Grant)>,
}

#[derive(Debug, Default)]
pub struct Locks {
    table: BTreeMap<String, Lock>,
}

impl Locks {
    /// Request `name`; granted now, queued, or (with `steal`) taken from its holders.
    pub fn request(
        &mut self,
        name: &str,
        who: Owner,
        shared: bool,
        steal: bool,
        grant: Grant,
    ) -> Vec<Effect> {
        let lock = self.table.entry(name.to_owned()).or_default();
        if steal {
            let old = std::mem::take(&mut lock.holders);
            lock.holders.push(who);
            lock.shared = false;
            let mut out: Vec<Effect> = old.into_iter().map(Effect::Stolen).collect();
            out.push(Effect::Granted(grant));
            return out;
        }
        if lock.holders.is_empty() || (shared && lock.shared && lock.waiting.is_empty()) {
            lock.holders.push(who);
            lock.shared = shared;
            return vec![Effect::Granted(grant)];
        }
        lock.waiting.push_back((who, shared, grant));
        Vec::new()
    }

    /// `who` lets go of `name`, or withdraws its request for it.
    pub fn release(&mut self, name: &str, who: Owner) -> Vec<Effect> {
        let Some(lock) = self.table.get_mut(name) else { return Vec::new() };
        lock.waiting.retain(|(o, ..)| *o != who);
        lock.holders.retain(|o| *o != who);
        let mut grants = Vec::new();
        while let Some((_, shared, _)) = lock.waiting.front() {
            if !(lock.holders.is_empty() || *shared && lock.shared) {
                break;
            }
            let Some((who, shared, g)) = lock.waiting.pop_front() else { break };
            lock.holders.push(who);
            lock.shared = shared;
            grants.push(Effect::Granted(g));
            if !shared {
                break;
            }
        }
        grants
    }

    /// Everything `who` holds or waits for, released (it died).
    pub fn release_all(&mut self, who: Owner) -> Vec<Effect> {
        let names: Vec<String> = self.table.keys().cloned().collect();
        names.iter().flat_map(|n| self.release(n, who)).collect()
    }

    /// The owners holding `name`.
    pub fn holders(&self, name: &str) -> &[Owner] {
        self.table.get(name).map_or(&[], |l| l.holders.as_slice())
    }

    /// Whether `who` holds `name`.
    pub fn holds(&self, name: &str, who: Owner) -> bool {
        self.holders(name).contains(&who)
    }

    /// What `navigator.locks.query()` answers now.
    pub fn snapshot(&self) -> LockSnapshot {
        let mut snap = LockSnapshot::default();
        for (name, lock) in &self.table {
            for o in &lock.holders {
                snap.held.push(LockInfo { name: name.clone(), client: o.client(), shared: lock.shared });
            }
            for (o, shared, _) in &lock.waiting {
                snap.pending.push(LockInfo { name: name.clone(), client: o.client(), shared: *shared });
            }
        }
        snap
    }
}
