//! Who holds the real lock, when the worker does not know: after a worker
//! restart (the old real may be rejoining, frozen, or gone), and when a
//! promoted tab does not claim within the ping timeout (it waits for a lock
//! that a tab outside this worker holds). The worker asks the lock manager
//! ([`Output::QueryLocks`](super::Output::QueryLocks)) and decides from what it answers:
//!
//! | the real lock is | then |
//! |---|---|
//! | free | promote now: nobody can come back as real |
//! | held by a tab of this worker | wait: that tab claims, or the ping timeout deals with it |
//! | held by a tab that waits on another live worker's life lock (another script version's real) | promote without steal; the candidate waits for the lock; look again every ping timeout |
//! | held by a tab that has not joined and watches no live worker | wait for its claim (a live old real rejoins within milliseconds), looking again every [`lock_poll`](super::Config::lock_poll); still held after the ping timeout: a frozen or hung real, so promote with steal |
//!
//! A tab's locks share one lock manager client id, so the holder of the real
//! lock is matched to its life lock (`tabphone:tab:<id>`) and so to a port. A
//! frozen tab whose worker died still holds its grant of that worker's life
//! lock (it cannot run the callback that lets go): it watches no live worker.
use super::{earliest, Coordinator, LockInfo, LockSnapshot, Output, PortId, Status};
use crate::protocol::{is_worker_lock, real_lock_name, tab_of_lock};

/// The real lock's holder, as the lock manager tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Free,
    /// A tab joined to this worker.
    Joined(PortId),
    /// A tab of another live worker (another script version of the app).
    Stranger,
    /// A tab that has not joined: rejoining, frozen, hung, or unknown.
    Unknown,
}

impl Coordinator {
    /// A tab rejoined after a worker restart, and no real holds its claim:
    /// promote only once the real lock's holder is known.
    pub(super) fn start_restart_check(&mut self) {
        if self.restart || self.real.is_some_and(|r| r.claimed) {
            return;
        }
        self.restart = true;
        // A deadline already running (a candidate's claim check) stays: the
        // lock's holder has had that long already.
        let at = self.now + self.config.ping_timeout;
        self.timers.steal_at = earliest(self.timers.steal_at, at);
        self.query_locks();
    }

    /// A tab was just promoted: if it has not claimed within the ping
    /// timeout, look at who holds the lock it waits for.
    pub(super) fn arm_claim_check(&mut self) {
        let at = self.now + self.config.ping_timeout;
        self.timers.steal_at = Some(at);
        self.timers.lock_check = Some(at);
    }

    /// A real holds its lock (or claimed it): nothing to check.
    pub(super) fn end_lock_check(&mut self) {
        self.restart = false;
        self.timers.steal_at = None;
        self.timers.lock_check = None;
    }

    /// May a real be chosen now? Not while the lock's holder is unknown.
    pub(super) fn may_promote(&self) -> bool {
        self.real.is_none() && !self.restart
    }

    pub(super) fn query_locks(&mut self) {
        self.timers.lock_check = None;
        if !self.querying {
            self.querying = true;
            self.out.push(Output::QueryLocks);
        }
    }

    pub(super) fn on_locks(&mut self, snapshot: Option<&LockSnapshot>) {
        self.querying = false;
        if self.real.is_some_and(|r| r.claimed) {
            return self.end_lock_check();
        }
        // A failed query tells nothing: wait, as for a holder not joined.
        let holder = snapshot.map_or(Holder::Unknown, |s| self.holder(s));
        let candidate = self.real.map(|r| r.port);
        match holder {
            Holder::Free | Holder::Stranger => {
                if holder == Holder::Stranger {
                    // It is not this worker's to give: a takeover cannot complete.
                    let msg = "the real lock is held by the real of another version of this app";
                    self.fail_takeovers(None, msg);
                }
                self.restart = false;
                if self.real.is_none() {
                    self.promote();
                } else {
                    // The candidate waits for the lock: look again later.
                    self.arm_claim_check();
                }
            }
            // Its `claimed` is on the way (if it froze first, its ping timeout tells).
            Holder::Joined(port) if Some(port) == candidate => self.arm_claim_check(),
            Holder::Joined(_) | Holder::Unknown => {
                // A holder this worker found silent (frozen) is stolen from at once.
                let silent = matches!(holder, Holder::Joined(p) if self.status(p) == Some(Status::Lost));
                if silent || self.timers.steal_at.is_some_and(|t| t <= self.now) {
                    self.restart = false;
                    self.steal = true;
                    self.promote();
                } else {
                    let poll = self.now + self.config.lock_poll;
                    let at = earliest(self.timers.steal_at, poll);
                    self.timers.steal_at.get_or_insert(self.now + self.config.ping_timeout);
                    self.timers.lock_check = at;
                }
            }
        }
        if self.real.is_none() && !self.restart {
            // Nobody live to promote: the next tab to join decides.
            self.end_lock_check();
        }
    }

    fn holder(&self, snapshot: &LockSnapshot) -> Holder {
        let lock = real_lock_name(&self.config.app);
        let Some(client) = held_by(&snapshot.held, &lock) else {
            return Holder::Free;
        };
        if client.is_empty() {
            return Holder::Unknown; // no client ids: nothing to match
        }
        let mut tab = None;
        for l in &snapshot.held {
            if l.client == client {
                tab = tab_of_lock(&l.name);
                if tab.is_some() {
                    break;
                }
            }
        }
        if let Some(id) = tab {
            for t in &self.tabs {
                if t.status != Status::Connected && t.id == id {
                    return Holder::Joined(t.port);
                }
            }
        }
        for l in &snapshot.pending {
            if l.client == client && is_worker_lock(&l.name) && l.name != self.worker_lock {
                return Holder::Stranger; // it watches a live worker
            }
        }
        Holder::Unknown
    }
}

/// The client that holds the lock named `name`, if any.
fn held_by<'a>(held: &'a [LockInfo], name: &str) -> Option<&'a str> {
    for l in held {
        if l.name == name {
            return Some(&l.client);
        }
    }
    None
}
