//! The worker's state machine: which tab is real, what the dummies see, where
//! actions go. See the crate docs for the contract.
//!
//! Layout: `api.rs` (Config, Input, Output), `join.rs` (messages in, joining,
//! claims), `epochs.rs` (epochs that never go back), `roles.rs` (leaving,
//! promotion, dummies), `holder.rs` (who holds the real lock, when the worker
//! does not know), `relay.rs` (state and actions between the real and the
//! dummies), `actions.rs` (the action queue), `takeover.rs` (a dummy asks to
//! become the real).
use std::sync::Arc;

use web_time::Instant;

use crate::protocol::{worker_lock_name, ErrorCode, ToTab};

mod actions;
mod api;
mod epochs;
mod holder;
mod join;
mod relay;
mod roles;
mod takeover;

use actions::{Actions, Answer};
pub use api::{Config, Input, LockInfo, LockSnapshot, Output, PortId};

/// Why a tab left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gone {
    /// `close` message.
    Closed,
    /// Its lock was granted to the worker.
    Dead,
    /// Silent past the ping timeout; may come back.
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Port open, no `hello` yet.
    Connected,
    /// Joined.
    Live,
    /// Declared gone by ping timeout; revived if it speaks again.
    Lost,
}

#[derive(Debug)]
struct Tab {
    port: PortId,
    /// The tab's own id (from `hello`): its life lock is named after it.
    id: String,
    status: Status,
    /// Order of joining, for the "oldest" rule.
    joined: u64,
    visible: bool,
    /// Order of the last focus, 0 = never focused.
    focus_order: u64,
    last_seen: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Real {
    port: PortId,
    /// The tab holds the real lock.
    claimed: bool,
    /// The epoch its reign began in; the reign keeps going through later
    /// epoch numbers when it is renumbered (see `epochs.rs`).
    since: u64,
}

/// All timers of the coordinator, in one table.
#[derive(Debug)]
struct Timers {
    /// Next ping round.
    ping: Instant,
    /// When to query the lock manager next (see `holder.rs`).
    lock_check: Option<Instant>,
    /// From when a real lock held by a tab that has not joined, or not
    /// claimed, is taken for a frozen or hung real's and stolen.
    steal_at: Option<Instant>,
}

/// The sans-IO coordinator. See the crate docs for the run loop.
#[derive(Debug)]
pub struct Coordinator {
    config: Config,
    worker_lock: String,
    /// In port order (ports grow). A plain `Vec`: a map type costs the wasm more.
    tabs: Vec<Tab>,
    next_port: u64,
    next_order: u64,
    /// The current reign's epoch, or the highest known when there is no real.
    epoch: u64,
    /// The highest epoch this worker handed out itself.
    assigned: u64,
    real: Option<Real>,
    /// The old real may still hold the real lock (frozen): take it with steal.
    steal: bool,
    /// A tab rejoined after a worker restart and no real has claimed since:
    /// promote only once the real lock's holder is known.
    restart: bool,
    /// A [`Output::QueryLocks`] awaits its answer.
    querying: bool,
    /// The latest sync message text, sent to joining tabs; kept when the real
    /// goes away (see `relay.rs`).
    cache: Option<Arc<str>>,
    actions: Actions,
    /// Pending `takeover` requests (port, its id): all of one port, which
    /// is promoted before any other tab (see `takeover.rs`).
    takeovers: Vec<Answer>,
    timers: Timers,
    ping_seq: u64,
    /// When the input being handled arrived: a long gap since the one before
    /// means the worker itself was stalled (busy, or the machine slept), not
    /// that tabs went silent.
    now: Instant,
    /// Outputs in order (a `Vec`: drained after every input, so short).
    out: Vec<Output>,
}

impl Coordinator {
    /// A coordinator with no tabs, started at `now`.
    pub fn new(now: Instant, config: Config) -> Self {
        Coordinator {
            worker_lock: worker_lock_name(&config.worker_id),
            timers: Timers { ping: now + config.ping_interval, lock_check: None, steal_at: None },
            actions: Actions::new(config.max_queued, config.action_timeout),
            config,
            tabs: Vec::new(),
            next_port: 1,
            next_order: 1,
            epoch: 0,
            assigned: 0,
            real: None,
            steal: false,
            restart: false,
            querying: false,
            cache: None,
            takeovers: Vec::new(),
            ping_seq: 0,
            now,
            out: Vec::new(),
        }
    }

    /// A new port connected; the tab must say `hello` before anything else.
    pub fn connect(&mut self, now: Instant) -> PortId {
        let port = PortId(self.next_port);
        self.next_port += 1;
        let tab = Tab {
            port,
            id: String::new(),
            status: Status::Connected,
            joined: 0,
            visible: false,
            focus_order: 0,
            last_seen: now,
        };
        self.tabs.push(tab);
        port
    }

    /// Feed one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.wake(now);
        match input {
            Input::Message { port, text } => self.on_message(now, port, text),
            Input::Bad { port } => {
                if self.tab(port).is_some() {
                    self.error(port, ErrorCode::Malformed, "messages must be JSON strings", None);
                }
            }
            Input::TabLockGranted { port } => self.tab_gone(port, Gone::Dead),
            // By reference: one drop of the snapshot, here.
            Input::Locks(snapshot) => self.on_locks(snapshot.as_ref()),
            Input::Timeout => self.on_timeout(now),
        }
    }

    /// A gap of more than two ping intervals since the last input means this
    /// worker did not run (a long task, a machine asleep): the tabs' answers
    /// may be queued behind the timer that fires first. Give every tab a fresh
    /// ping window rather than declaring them all silent.
    /// The same holds for a real lock's holder that has not claimed yet.
    fn wake(&mut self, now: Instant) {
        if now.saturating_duration_since(self.now) > self.config.ping_interval * 2 {
            for tab in &mut self.tabs {
                if tab.status != Status::Lost {
                    tab.last_seen = latest(tab.last_seen, now);
                }
            }
            self.timers.ping = self.timers.ping.min(now);
            if let Some(t) = self.timers.steal_at.as_mut() {
                *t = latest(*t, now + self.config.ping_timeout);
            }
        }
        self.now = now;
    }

    /// Next thing for the glue to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// When to feed [`Input::Timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.actions.next_deadline();
        let mut live = false;
        for tab in &self.tabs {
            live |= tab.status == Status::Live;
            if tab.status != Status::Lost {
                next = earliest(next, tab.last_seen + self.config.ping_timeout);
            }
        }
        if live {
            next = earliest(next, self.timers.ping);
        }
        match self.timers.lock_check {
            Some(t) if !self.querying => earliest(next, t),
            _ => next,
        }
    }

    /// Name of the lock this worker must hold for its life (announced in `welcome`).
    pub fn worker_lock(&self) -> &str {
        &self.worker_lock
    }

    /// Current epoch (grows on every promotion, never goes back: see `hello`'s `epoch`).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The port chosen as real, and whether it holds the real lock yet.
    pub fn real(&self) -> Option<(PortId, bool)> {
        self.real.map(|r| (r.port, r.claimed))
    }

    /// Ports of joined, live tabs.
    pub fn live_tabs(&self) -> impl Iterator<Item = PortId> + '_ {
        self.tabs.iter().filter(|t| t.status == Status::Live).map(|t| t.port)
    }

    /// The tab on `port`.
    fn tab(&self, port: PortId) -> Option<&Tab> {
        self.tabs.iter().find(|t| t.port == port)
    }

    /// Send `msg` to `port` (taken by value, as by [`Coordinator::send_live`]:
    /// one copy of its drop).
    fn send(&mut self, port: PortId, msg: ToTab<'_>) {
        self.post(port, msg.to_text());
    }

    /// Send a message already written.
    fn post(&mut self, port: PortId, text: String) {
        self.out.push(Output::Send { port, text: text.into() });
    }

    /// Send one text to every live tab but `except` (one shared allocation).
    fn send_live(&mut self, except: Option<PortId>, msg: ToTab<'_>) -> Arc<str> {
        let text: Arc<str> = msg.to_text().into();
        for tab in &self.tabs {
            if tab.status == Status::Live && Some(tab.port) != except {
                self.out.push(Output::Send { port: tab.port, text: text.clone() });
            }
        }
        text
    }

    fn error(&mut self, port: PortId, code: ErrorCode, message: &str, id: Option<u64>) {
        self.send(port, ToTab::Error { code, message: message.into(), id });
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.timers.ping <= now {
            self.timers.ping = now + self.config.ping_interval;
            self.ping_seq += 1;
            self.send_live(None, ToTab::Ping { seq: self.ping_seq });
        }
        let timeout = self.config.ping_timeout;
        // One at a time, in port order: each leaves the silent ones (lost, or
        // removed), and nothing in between changes another tab's silence.
        while let Some((port, status)) = self
            .tabs
            .iter()
            .find(|t| t.status != Status::Lost && t.last_seen + timeout <= now)
            .map(|t| (t.port, t.status))
        {
            // A port that never said hello is just closed.
            let why = if status == Status::Connected { Gone::Dead } else { Gone::Silent };
            self.tab_gone(port, why);
        }
        if self.timers.lock_check.is_some_and(|t| t <= now) {
            self.query_locks();
        }
        let expired = self.actions.expire(now);
        self.answer_errors(expired, ErrorCode::Timeout, "no answer from the real tab in time");
    }
}

/// The tab on `port` in `tabs`, mutably (a function of the table alone: its
/// callers go on using the coordinator's other fields).
fn tab_mut(tabs: &mut [Tab], port: PortId) -> Option<&mut Tab> {
    tabs.iter_mut().find(|t| t.port == port)
}

/// The later of `a` and `b` (out of line, as [`earliest`]).
#[inline(never)]
fn latest(a: Instant, b: Instant) -> Instant {
    a.max(b)
}

/// The earlier of `next` (if any) and `t`. Not inlined: one copy of the
/// comparison for every timer.
#[inline(never)]
fn earliest(next: Option<Instant>, t: Instant) -> Option<Instant> {
    Some(next.map_or(t, |n| n.min(t)))
}
