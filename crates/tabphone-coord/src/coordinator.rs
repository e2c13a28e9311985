//! The worker's state machine: which tab is real, what the dummies see, where
//! actions go. See the crate docs for the contract.
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use web_time::Instant;

use crate::actions::{Actions, Answer};
use crate::protocol::{
    error_value, parse_from_tab, tab_lock_name, to_text, worker_lock_name, Claim, ErrorCode, FromTab, Raw,
    Role, ToTab, PROTOCOL_VERSION,
};
use crate::vecmap::VecMap;

/// A connection to one tab, handed out by [`Coordinator::connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u64);

/// Tunables of the coordinator. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// This worker instance's random id (names the lock it holds for life).
    pub worker_id: String,
    /// How often live tabs are pinged. Default 1 s.
    pub ping_interval: Duration,
    /// A tab silent this long is declared gone (a frozen tab). Default 3 s.
    pub ping_timeout: Duration,
    /// Longest an action may wait for its answer, queued or in flight. Default 10 s.
    pub action_timeout: Duration,
    /// Most actions waiting for a real at once. Default 256.
    pub max_queued: usize,
    /// Largest message accepted, in bytes. Default 1 MiB.
    pub max_message_bytes: usize,
    /// After a worker restart, how long to wait for the old real to rejoin
    /// before promoting another tab. Default 500 ms.
    pub rejoin_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            worker_id: String::from("worker"),
            ping_interval: Duration::from_millis(1000),
            ping_timeout: Duration::from_millis(3000),
            action_timeout: Duration::from_secs(10),
            max_queued: 256,
            max_message_bytes: 1 << 20,
            rejoin_grace: Duration::from_millis(500),
        }
    }
}

/// What the glue feeds in. Ports are opened with [`Coordinator::connect`].
#[derive(Debug)]
pub enum Input<'a> {
    /// A message arrived on a port.
    Message {
        /// Which port.
        port: PortId,
        /// Its text (the glue refuses non-string data with [`Input::Bad`]).
        text: &'a str,
    },
    /// A message arrived that was not a string (binary, object).
    Bad {
        /// Which port.
        port: PortId,
    },
    /// The lock of [`Output::WatchTab`] was granted: the tab is dead.
    TabLockGranted {
        /// Which port.
        port: PortId,
    },
    /// The deadline from [`Coordinator::poll_timeout`] passed.
    Timeout,
}

/// What the glue must do. Drain with [`Coordinator::poll_output`] after every
/// input, until it returns `None`, then re-arm the timer from `poll_timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Post `text` on the port.
    Send {
        /// Destination.
        port: PortId,
        /// JSON text; shared between the ports of one broadcast.
        text: Arc<str>,
    },
    /// Request the exclusive Web Lock `lock`; when granted, feed
    /// [`Input::TabLockGranted`] and release it.
    WatchTab {
        /// The port the lock belongs to.
        port: PortId,
        /// Lock name ([`crate::protocol::tab_lock_name`]).
        lock: String,
    },
    /// The tab is gone: close and forget the port.
    ClosePort {
        /// Which port.
        port: PortId,
    },
}

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
    /// The tab holds the real lock for this epoch.
    claimed: bool,
}

/// All timers of the coordinator, in one table.
#[derive(Debug)]
struct Timers {
    /// Next ping round.
    ping: Instant,
    /// End of the rejoin grace after a worker restart.
    grace: Option<Instant>,
}

/// The sans-IO coordinator. See the crate docs for the run loop.
#[derive(Debug)]
pub struct Coordinator {
    config: Config,
    worker_lock: String,
    tabs: VecMap<PortId, Tab>,
    next_port: u64,
    next_order: u64,
    epoch: u64,
    real: Option<Real>,
    /// The old real may still hold the real lock (frozen): take it with steal.
    steal: bool,
    /// A restarted worker has seen a rejoin; grace has been started once.
    restarted: bool,
    /// The latest sync message text, sent to joining dummies.
    cache: Option<Arc<str>>,
    actions: Actions,
    timers: Timers,
    ping_seq: u64,
    /// When the last input was handled: a long gap means the worker itself
    /// was stalled (busy, or the machine slept), not that tabs went silent.
    awake: Instant,
    out: VecDeque<Output>,
}

impl Coordinator {
    /// A coordinator with no tabs, started at `now`.
    pub fn new(now: Instant, config: Config) -> Self {
        Coordinator {
            worker_lock: worker_lock_name(&config.worker_id),
            timers: Timers { ping: now + config.ping_interval, grace: None },
            actions: Actions::new(config.max_queued, config.action_timeout),
            config,
            tabs: VecMap::new(),
            next_port: 1,
            next_order: 1,
            epoch: 0,
            real: None,
            steal: false,
            restarted: false,
            cache: None,
            ping_seq: 0,
            awake: now,
            out: VecDeque::new(),
        }
    }

    /// A new port connected; the tab must say `hello` before anything else.
    pub fn connect(&mut self, now: Instant) -> PortId {
        let port = PortId(self.next_port);
        self.next_port += 1;
        let tab =
            Tab { status: Status::Connected, joined: 0, visible: false, focus_order: 0, last_seen: now };
        self.tabs.insert(port, tab);
        port
    }

    /// Feed one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.wake(now);
        match input {
            Input::Message { port, text } => self.on_message(now, port, text),
            Input::Bad { port } => {
                if self.tabs.contains_key(&port) {
                    self.error(port, ErrorCode::Malformed, "messages must be JSON strings", None);
                }
            }
            Input::TabLockGranted { port } => self.tab_gone(port, Gone::Dead),
            Input::Timeout => self.on_timeout(now),
        }
    }

    /// A gap of more than two ping intervals since the last input means this
    /// worker did not run (a long task, a machine asleep): the tabs' answers
    /// may be queued behind the timer that fires first. Give every tab a fresh
    /// ping window rather than declaring them all silent.
    fn wake(&mut self, now: Instant) {
        if now.saturating_duration_since(self.awake) > self.config.ping_interval * 2 {
            for tab in self.tabs.values_mut().filter(|t| t.status != Status::Lost) {
                tab.last_seen = tab.last_seen.max(now);
            }
            self.timers.ping = self.timers.ping.min(now);
        }
        self.awake = now;
    }

    /// Next thing for the glue to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to feed [`Input::Timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if self.tabs.values().any(|t| t.status == Status::Live) {
            consider(self.timers.ping);
        }
        for tab in self.tabs.values().filter(|t| t.status != Status::Lost) {
            consider(tab.last_seen + self.config.ping_timeout);
        }
        if let Some(t) = self.timers.grace {
            consider(t);
        }
        if let Some(t) = self.actions.next_deadline() {
            consider(t);
        }
        next
    }

    /// Name of the lock this worker must hold for its life (announced in `welcome`).
    pub fn worker_lock(&self) -> &str {
        &self.worker_lock
    }

    /// Current epoch (grows on every promotion).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The port chosen as real, and whether it holds the real lock yet.
    pub fn real(&self) -> Option<(PortId, bool)> {
        self.real.map(|r| (r.port, r.claimed))
    }

    /// Ports of joined, live tabs.
    pub fn live_tabs(&self) -> impl Iterator<Item = PortId> + '_ {
        self.tabs.iter().filter(|(_, t)| t.status == Status::Live).map(|(p, _)| *p)
    }

    fn send(&mut self, port: PortId, msg: &ToTab<'_>) {
        self.out.push_back(Output::Send { port, text: to_text(msg).into() });
    }

    fn error(&mut self, port: PortId, code: ErrorCode, message: &str, id: Option<u64>) {
        self.send(port, &ToTab::Error { code, message: message.into(), id });
    }

    fn on_message(&mut self, now: Instant, port: PortId, text: &str) {
        let Some(tab) = self.tabs.get_mut(&port) else { return };
        tab.last_seen = now;
        let status = tab.status;
        if text.len() > self.config.max_message_bytes {
            let msg = format!(
                "message of {} bytes over the limit of {}",
                text.len(),
                self.config.max_message_bytes
            );
            return self.error(port, ErrorCode::TooLarge, &msg, None);
        }
        let msg = match parse_from_tab(text) {
            Ok(msg) => msg,
            Err(e) => return self.error(port, e.code, &e.message, e.id),
        };
        if status == Status::Connected && !matches!(msg, FromTab::Hello { .. }) {
            let id = if let FromTab::Action { id, .. } = msg { Some(id) } else { None };
            return self.error(port, ErrorCode::NotJoined, "say hello first", id);
        }
        if status == Status::Lost {
            self.revive(port);
        }
        match msg {
            FromTab::Hello { v, tab, visible, focused, claim, rejoin } => {
                self.on_hello(now, port, v, &tab, visible, focused, claim, rejoin)
            }
            FromTab::Focus { visible, focused } => self.on_focus(port, visible, focused),
            FromTab::Claimed { epoch } => self.on_claimed(port, epoch),
            FromTab::Demoted { epoch } => {
                if self.is_real(port, epoch) {
                    self.real_lost(port, false);
                }
            }
            FromTab::Sync { epoch, state } => self.on_sync(port, epoch, state.get()),
            FromTab::Action { id, name, args } => self.on_action(now, port, id, name, args),
            FromTab::Result { id, ok, error } => self.on_result(port, id, ok, error),
            FromTab::Close => self.tab_gone(port, Gone::Closed),
            FromTab::Pong { .. } => {}
        }
    }

    fn is_real(&self, port: PortId, epoch: u64) -> bool {
        self.real.is_some_and(|r| r.port == port) && epoch == self.epoch
    }

    #[allow(clippy::too_many_arguments)]
    fn on_hello(
        &mut self,
        now: Instant,
        port: PortId,
        v: u32,
        tab_id: &str,
        visible: bool,
        focused: bool,
        claim: Option<Claim>,
        rejoin: bool,
    ) {
        if v != PROTOCOL_VERSION {
            let msg = format!("protocol version {v} not spoken; this worker speaks {PROTOCOL_VERSION}");
            return self.error(port, ErrorCode::Version, &msg, None);
        }
        let order = self.next_order;
        self.next_order += 1;
        let Some(tab) = self.tabs.get_mut(&port) else { return };
        let first = tab.status == Status::Connected;
        tab.status = Status::Live;
        tab.visible = visible;
        if first {
            tab.joined = order;
        }
        if focused {
            tab.focus_order = order;
        }
        if first {
            self.out.push_back(Output::WatchTab { port, lock: tab_lock_name(tab_id) });
        }
        let worker = self.worker_lock.clone();
        self.send(
            port,
            &ToTab::Welcome {
                v: PROTOCOL_VERSION,
                worker: worker.into(),
                tabs: self.live_count(),
                max: self.config.max_message_bytes,
            },
        );
        if let Some(claim) = claim {
            return self.on_claim(port, claim);
        }
        if rejoin && !self.restarted && self.real.is_none() {
            // A restarted worker: give the old real time to rejoin with its claim.
            self.restarted = true;
            self.timers.grace = Some(now + self.config.rejoin_grace);
        }
        self.broadcast_tabs();
        if let Some(r) = self.real.filter(|r| self.status(r.port) == Some(Status::Lost)) {
            // The real is silent (frozen) and kept only for want of another tab.
            self.real_lost(r.port, true);
            if self.real.is_some_and(|r| r.port == port) {
                return;
            }
        }
        if self.real.is_none() && self.timers.grace.is_none() {
            self.promote();
        } else {
            self.send_dummy(port);
        }
    }

    fn status(&self, port: PortId) -> Option<Status> {
        self.tabs.get(&port).map(|t| t.status)
    }

    fn on_claim(&mut self, port: PortId, claim: Claim) {
        self.broadcast_tabs();
        // The claimant holds the real lock; a candidate that has not taken
        // it yet (it cannot: the claimant has it) yields.
        let accept = match self.real {
            None => true,
            Some(r) => r.port == port || !r.claimed,
        };
        if !accept {
            return self.send_dummy(port);
        }
        if let Some(r) = self.real.take() {
            if r.port != port {
                self.send(r.port, &ToTab::Role { role: Role::Dummy, epoch: claim.epoch, steal: false });
            }
        }
        self.timers.grace = None;
        self.epoch = self.epoch.max(claim.epoch);
        self.real = Some(Real { port, claimed: true });
        self.steal = false;
        self.send(port, &ToTab::Role { role: Role::Real, epoch: self.epoch, steal: false });
        self.publish(claim.state.get(), false);
        self.forward_queued();
    }

    fn on_focus(&mut self, port: PortId, visible: bool, focused: bool) {
        let order = self.next_order;
        self.next_order += 1;
        if let Some(tab) = self.tabs.get_mut(&port) {
            tab.visible = visible;
            if focused {
                tab.focus_order = order;
            }
        }
    }

    fn on_claimed(&mut self, port: PortId, epoch: u64) {
        if self.is_real(port, epoch) {
            if let Some(r) = self.real.as_mut() {
                r.claimed = true;
            }
            self.steal = false;
            // Confirm: the tab starts the real client on this message.
            self.send(port, &ToTab::Role { role: Role::Real, epoch, steal: false });
            self.forward_queued();
        } else if self.real.is_some_and(|r| r.port == port) {
            // A claim for an older epoch from the tab that is the candidate of
            // a newer one: its newer claim follows. A dummy role here would
            // read as a demotion from the newer epoch.
        } else {
            // A stale promotion: tell it who it is now so it lets the lock go.
            self.send_dummy(port);
        }
    }

    fn on_sync(&mut self, port: PortId, epoch: u64, state: &str) {
        if self.is_real(port, epoch) && self.real.is_some_and(|r| r.claimed) {
            self.publish(state, false);
        } else {
            let msg = format!("sync refused: not the real of epoch {}", self.epoch);
            self.error(port, ErrorCode::NotReal, &msg, None);
        }
    }

    /// Cache `state` and send it to every live dummy.
    fn publish(&mut self, state: &str, reset: bool) {
        let text: Arc<str> = to_text(&ToTab::Sync { epoch: self.epoch, state, reset }).into();
        let real = self.real.map(|r| r.port);
        for port in self.live_tabs().filter(|p| Some(*p) != real).collect::<Vec<_>>() {
            self.out.push_back(Output::Send { port, text: text.clone() });
        }
        self.cache = if reset { None } else { Some(text) };
    }

    fn on_action(&mut self, now: Instant, port: PortId, id: u64, name: String, args: Option<Raw>) {
        match self.actions.admit(now, port, id, name, args) {
            Ok(()) => self.forward_queued(),
            Err(code) => self.error(port, code, "too many actions waiting for a real tab", Some(id)),
        }
    }

    fn on_result(&mut self, port: PortId, id: u64, ok: Option<Raw>, error: Option<Raw>) {
        if !self.real.is_some_and(|r| r.port == port && r.claimed) {
            let msg = "result refused: not the current real";
            return self.error(port, ErrorCode::NotReal, msg, None);
        }
        // A result for an action that already timed out has nobody to go to.
        if let Some(ans) = self.actions.complete(id, port) {
            if self.tabs.get(&ans.from).is_some_and(|t| t.status != Status::Connected) {
                let msg = ToTab::Result {
                    id: ans.id,
                    ok: ok.as_ref().map(Raw::get),
                    error: error.as_ref().map(Raw::get),
                };
                self.send(ans.from, &msg);
            }
        }
    }

    /// Send queued actions to a real that holds its lock.
    fn forward_queued(&mut self) {
        let Some(Real { port, claimed: true }) = self.real else { return };
        while let Some((fwd, name, args)) = self.actions.forward_next(port) {
            self.send(port, &ToTab::Action { id: fwd, name: name.into(), args: args.as_ref().map(Raw::get) });
        }
    }

    fn answer_errors(&mut self, answers: Vec<Answer>, code: ErrorCode, message: &str) {
        for ans in answers {
            if self.tabs.get(&ans.from).is_some_and(|t| t.status != Status::Connected) {
                let err = error_value(code, message);
                self.send(ans.from, &ToTab::Result { id: ans.id, ok: None, error: Some(err.get()) });
            }
        }
    }

    fn tab_gone(&mut self, port: PortId, why: Gone) {
        let Some(tab) = self.tabs.get_mut(&port) else { return };
        let was_live = tab.status == Status::Live;
        if why == Gone::Silent {
            tab.status = Status::Lost;
        } else {
            self.tabs.remove(&port);
            self.out.push_back(Output::ClosePort { port });
        }
        if why != Gone::Silent {
            // Its own actions have nobody to answer to. A silent tab keeps
            // them: it may thaw and read the answers.
            self.actions.forget_from(port);
        }
        if self.real.is_some_and(|r| r.port == port) {
            // A silent real with nobody to replace it stays real: if it thaws
            // it goes on without re-registering; a tab that joins meanwhile
            // takes over (see `on_hello`).
            if why != Gone::Silent || self.live_count() > 0 {
                // A frozen real keeps the real lock; so does a closing one until
                // its page is torn down (tens of ms), though it stopped its phone
                // in the same `pagehide` handler that sent `close`: take it.
                self.real_lost(port, why != Gone::Dead);
            }
        }
        if was_live {
            self.broadcast_tabs();
        }
    }

    fn real_lost(&mut self, port: PortId, holds_lock: bool) {
        let was_claimed = self.real.is_some_and(|r| r.claimed);
        self.real = None;
        // The old real may still hold the real lock: the next real must steal.
        self.steal |= holds_lock;
        let failed = self.actions.fail_in_flight(port);
        self.answer_errors(failed, ErrorCode::RealGone, "the real tab went away before answering");
        if was_claimed || self.cache.is_some() {
            // Its calls are over: dummies see an empty state until the new real syncs.
            self.publish("null", true);
        }
        self.promote();
    }

    /// Choose a new real among live tabs: a visible tab, most recently
    /// focused first; else the oldest.
    fn promote(&mut self) {
        let best = self
            .tabs
            .iter()
            .filter(|(_, t)| t.status == Status::Live)
            .max_by_key(|(_, t)| (t.visible, t.focus_order, std::cmp::Reverse(t.joined)))
            .map(|(p, _)| *p);
        let Some(port) = best else { return };
        self.epoch += 1;
        self.real = Some(Real { port, claimed: false });
        let steal = self.steal;
        self.send(port, &ToTab::Role { role: Role::Real, epoch: self.epoch, steal });
        for other in self.live_tabs().filter(|p| *p != port).collect::<Vec<_>>() {
            self.send(other, &ToTab::Role { role: Role::Dummy, epoch: self.epoch, steal: false });
        }
    }

    fn send_dummy(&mut self, port: PortId) {
        self.send(port, &ToTab::Role { role: Role::Dummy, epoch: self.epoch, steal: false });
        // Always the current state: a thawed tab may hold a stale one.
        let text = self.cache.clone().unwrap_or_else(|| {
            to_text(&ToTab::Sync { epoch: self.epoch, state: "null", reset: true }).into()
        });
        self.out.push_back(Output::Send { port, text });
    }

    /// A tab declared lost spoke again: it is alive after all (was frozen).
    fn revive(&mut self, port: PortId) {
        if let Some(tab) = self.tabs.get_mut(&port) {
            tab.status = Status::Live;
        }
        self.broadcast_tabs();
        if self.real.is_some_and(|r| r.port == port) {
            return; // The real thawed before anyone replaced it.
        }
        self.send_dummy(port);
        if self.real.is_none() && self.timers.grace.is_none() {
            self.promote();
        }
    }

    fn live_count(&self) -> usize {
        self.live_tabs().count()
    }

    fn broadcast_tabs(&mut self) {
        let text: Arc<str> = to_text(&ToTab::Tabs { count: self.live_count() }).into();
        for port in self.live_tabs().collect::<Vec<_>>() {
            self.out.push_back(Output::Send { port, text: text.clone() });
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.timers.ping <= now {
            self.timers.ping = now + self.config.ping_interval;
            self.ping_seq += 1;
            let text: Arc<str> = to_text(&ToTab::Ping { seq: self.ping_seq }).into();
            for port in self.live_tabs().collect::<Vec<_>>() {
                self.out.push_back(Output::Send { port, text: text.clone() });
            }
        }
        let timeout = self.config.ping_timeout;
        let silent: Vec<(PortId, Status)> = self
            .tabs
            .iter()
            .filter(|(_, t)| t.status != Status::Lost && t.last_seen + timeout <= now)
            .map(|(p, t)| (*p, t.status))
            .collect();
        for (port, status) in silent {
            // A port that never said hello is just closed.
            let why = if status == Status::Connected { Gone::Dead } else { Gone::Silent };
            self.tab_gone(port, why);
        }
        if self.timers.grace.is_some_and(|g| g <= now) {
            self.timers.grace = None;
            if self.real.is_none() {
                self.promote();
            }
        }
        let expired = self.actions.expire(now);
        self.answer_errors(expired, ErrorCode::Timeout, "no answer from the real tab in time");
    }
}
