//! The tab's state machine: its role, the real lock, its pending actions and
//! its connection to the worker. The tab-client glue drives it.
//!
//! Rules it keeps:
//! - A tab joins only once it holds its life-long lock
//!   ([`TabOutput::HoldTabLock`], then [`TabInput::TabLockHeld`]): the worker
//!   reads that lock's release as the tab's death, so a worker that asked for
//!   it first would take a live tab for dead.
//! - A tab is [`TabRole::Real`] only while it holds the app's real lock.
//!   Told to become real, it first asks for the lock ([`TabOutput::AcquireRealLock`]),
//!   then reports `claimed` and starts the real client ([`TabOutput::StartReal`])
//!   only when the worker confirms. A lock grant that was queued while the tab
//!   was frozen may be followed at once by its theft: the confirmation step
//!   keeps such a tab from starting the real client even for one task.
//! - When the lock is lost (stolen by a tab promoted after this one froze),
//!   it emits [`TabOutput::StopReal`] before anything else, so the real client
//!   stops before it can touch the network again.
//! - The state is kept across a change of real: a dummy shows the last state
//!   it received until the next real publishes, a real that stops being real
//!   keeps its last published one, and a new real is handed the state it
//!   holds as [`TabOutput::StartReal`]'s `inherit` (the calls it resumes). A
//!   stopping real's own last publishes (its calls ended `handed_over`) are
//!   refused: it is a dummy before the glue stops its phone. Only a `sync`
//!   with `reset` (the real closed as the last tab: its calls ended) clears it.
//! - A real that may have been replaced unknowingly (frozen, or the worker
//!   silent) holds its phone until the worker confirms it: see `gate.rs`.
//! - Every [`TabCore::dispatch`] is answered exactly once by a
//!   [`TabOutput::Resolve`]: by the real (locally or through the worker), by
//!   the worker's error, or with `worker_gone` when the worker died or failed first.
//!
//! Layout: `api.rs` (the types), `link.rs` (the connection to the worker and
//! its messages), `real.rs` (roles, the real lock, performing actions),
//! `gate.rs` (holding a real that may have been replaced), `tests.rs`.
use std::time::Duration;

use web_time::Instant;

use crate::protocol::{error_value, prefixed, ErrorCode, FromTab, Raw};

mod api;
mod gate;
mod link;
mod real;
#[cfg(test)]
mod tests;

pub use api::{ActionId, Job, TabConfig, TabEvent, TabInput, TabOutput, TabRole};

/// The tab's sans-IO core.
#[derive(Debug)]
pub struct TabCore {
    config: TabConfig,
    role: TabRole,
    epoch: u64,
    state: String,
    /// Live tabs, as the worker last said.
    tabs: usize,
    /// The life-long lock is held: the tab may join.
    alive: bool,
    connected: bool,
    rejoin: bool,
    /// No worker can be reached (see [`TabInput::WorkerFailed`]).
    failed: bool,
    worker_lock: Option<String>,
    visible: bool,
    focused: bool,
    next_id: u64,
    /// The pending real lock request takes the lock with `steal`.
    stealing: bool,
    /// Told to steal the real lock by a role message that may be stale (this
    /// tab was silent too long): steal once the worker's `checked` confirms.
    steal_when_checked: bool,
    /// Dispatches and takeovers sent to the worker, awaiting its answer: the
    /// id, and whether it is a takeover. In id order (ids grow; a `Vec`: a
    /// set type costs the wasm more).
    waiting: Vec<(u64, bool)>,
    /// The instant of the latest input with a time.
    now: Option<Instant>,
    /// The worker counted this tab alive at this instant (its last message
    /// sent, or the last `checked`): the worker cannot have given the real
    /// role away before a ping timeout after it (see `gate.rs`).
    vouched: Option<Instant>,
    /// From the worker's `welcome`: silence after which the real is held.
    /// `None`: the worker knows no `check` (an older one).
    stale_after: Option<Duration>,
    /// The worker said it relays `event` messages (`welcome`'s `relay`).
    worker_relays: bool,
    /// Silent past `stale_after` at some input: whatever the worker sent
    /// meanwhile may be stale, even once this tab has spoken again (it may
    /// answer stale pings before it reads a stale role), until the worker
    /// answers a `check` sent since.
    suspect: bool,
    /// The real (or a confirmed candidate) waits for the answer to its check.
    held: bool,
    /// The `seq` of the latest `check`.
    probe: u64,
    /// Performs held while `held`: [`TabOutput::Perform`]s only (the
    /// outputs' type: one copy of the `Vec` code).
    held_jobs: Vec<TabOutput>,
    /// Messages to send once connected: [`TabOutput::Send`]s only.
    outbox: Vec<TabOutput>,
    /// Outputs in order (a `Vec`: drained after every input, so short; a
    /// `VecDeque` costs the wasm more).
    out: Vec<TabOutput>,
}

impl TabCore {
    /// A tab about to start: the first output is [`TabOutput::HoldTabLock`].
    pub fn new(config: TabConfig, visible: bool, focused: bool) -> Self {
        let lock = crate::protocol::tab_lock_name(&config.tab_id);
        let mut core = TabCore {
            config,
            role: TabRole::Connecting,
            epoch: 0,
            state: String::from("null"),
            tabs: 0,
            alive: false,
            connected: false,
            rejoin: false,
            failed: false,
            stealing: false,
            steal_when_checked: false,
            worker_lock: None,
            visible,
            focused,
            next_id: 1,
            waiting: Vec::new(),
            now: None,
            vouched: None,
            stale_after: None,
            worker_relays: false,
            suspect: false,
            held: false,
            probe: 0,
            held_jobs: Vec::new(),
            outbox: Vec::new(),
            out: Vec::new(),
        };
        core.out.push(TabOutput::HoldTabLock(lock));
        core
    }

    /// Current role.
    pub fn role(&self) -> TabRole {
        self.role
    }

    /// Current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Latest shared state, JSON text.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Number of live tabs, as the worker last said (0 before it did).
    pub fn tabs(&self) -> usize {
        self.tabs
    }

    /// This tab's id.
    pub fn tab_id(&self) -> &str {
        &self.config.tab_id
    }

    /// Next output, until `None`.
    pub fn poll_output(&mut self) -> Option<TabOutput> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// Ask the real to perform `name(args)` (`args` is JSON text). The answer
    /// comes as a [`TabOutput::Resolve`] with the returned id.
    pub fn dispatch(&mut self, now: Instant, name: &str, args: &str) -> ActionId {
        self.tick(now);
        let id = self.next_id();
        let args = match Raw::new(args) {
            Ok(a) => a,
            Err(e) => {
                self.fail(id, ErrorCode::Malformed, &prefixed("args are not JSON: ", &e.message()));
                return id;
            }
        };
        let role = self.role;
        match role {
            TabRole::Real => self.perform(Job::Local(id), name.into(), args.get().into()),
            _ if self.refused(id) => {}
            _ => {
                let text = FromTab::Action { id: id.0, name: name.into(), args: Some(args.get()) }.to_text();
                if text.len() > self.config.max_message_bytes {
                    self.fail(id, ErrorCode::TooLarge, &too_large("action", &text));
                } else {
                    self.waiting.push((id.0, false));
                    self.post(text);
                }
            }
        }
        id
    }

    /// Ask to become the real (the app's `takeOver`). Answered by one
    /// [`TabOutput::Resolve`] with the returned id: `Ok({"epoch": n})` once
    /// this tab holds the real lock as the real of epoch `n` (after its
    /// [`TabOutput::StartReal`]; at once when it already is the real), or
    /// `Err({code, message})`: `real_gone` when another tab was made the real
    /// meanwhile or this one lost its promotion, `worker_gone` when the
    /// worker died or failed or the tab is closed, `unknown_type` from a
    /// worker too old to know takeovers.
    pub fn take_over(&mut self) -> ActionId {
        let id = self.next_id();
        let role = self.role;
        match role {
            TabRole::Real if !self.held => {
                let ok = crate::json::Obj::new().num("epoch", self.epoch).end();
                self.out.push(TabOutput::Resolve { id, result: Ok(ok) });
            }
            _ if self.refused(id) => {}
            _ => {
                self.waiting.push((id.0, true));
                self.send(FromTab::Takeover { id: id.0 });
            }
        }
        id
    }

    /// Fail `id` if no worker will answer it: the tab is closed, or no
    /// worker could be started.
    fn refused(&mut self, id: ActionId) -> bool {
        let message = match self.role {
            TabRole::Closed => "the tab is closed",
            _ if self.failed => "no worker could be started",
            _ => return false,
        };
        self.fail(id, ErrorCode::WorkerGone, message);
        true
    }

    fn next_id(&mut self) -> ActionId {
        let id = ActionId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Publish the real's new state (JSON text) to every dummy.
    pub fn publish(&mut self, state: &str) -> Result<(), (ErrorCode, String)> {
        let raw = self.send_as_real(false, state)?;
        self.set_state(raw.into_string());
        Ok(())
    }

    /// Relay an event of the real (JSON text: one its state does not carry)
    /// to every other tab, which gets it as [`TabEvent::Relayed`]. Not kept:
    /// a tab that joins later does not get it. Same refusals as
    /// [`TabCore::publish`], and `unknown_type` when the worker did not say
    /// it relays (`welcome`'s `relay`: an older worker).
    pub fn relay(&mut self, event: &str) -> Result<(), (ErrorCode, String)> {
        self.send_as_real(true, event).map(drop)
    }

    /// Send the real's state (or with `relay`, an event) to the worker: the
    /// checks and the message [`TabCore::publish`] and [`TabCore::relay`] share.
    fn send_as_real(&mut self, relay: bool, value: &str) -> Result<Raw, (ErrorCode, String)> {
        let (verb, noun) = if relay { ("relays events", "event") } else { ("publishes", "state") };
        if self.role != TabRole::Real {
            let mut message = prefixed("only the real tab ", verb);
            message.push_str("; this one is ");
            message.push_str(self.role.as_str());
            return Err((ErrorCode::NotReal, message));
        }
        if relay && !self.worker_relays {
            let message = "this worker does not relay events (an older version)";
            return Err((ErrorCode::UnknownType, message.to_owned()));
        }
        let raw = Raw::new(value).map_err(|e| (ErrorCode::Malformed, e.message()))?;
        let epoch = self.epoch;
        let msg = match relay {
            true => FromTab::Event { epoch, event: raw.get() },
            false => FromTab::Sync { epoch, state: raw.get() },
        };
        let text = msg.to_text();
        if text.len() > self.config.max_message_bytes {
            return Err((ErrorCode::TooLarge, too_large(noun, &text)));
        }
        self.post(text);
        Ok(raw)
    }

    /// Feed one input, at `now`.
    pub fn handle_input(&mut self, now: Instant, input: TabInput<'_>) {
        self.tick(now);
        match input {
            TabInput::TabLockHeld => self.on_tab_lock_held(),
            TabInput::Connected => self.on_connected(),
            TabInput::WorkerMessage(text) => self.on_message(text),
            TabInput::WorkerDied => self.on_worker_died(),
            TabInput::WorkerFailed { message } => self.on_worker_failed(message),
            TabInput::RealLockGranted => self.on_lock_granted(),
            TabInput::RealLockLost => self.on_lock_lost(),
            TabInput::Done { job, result } => self.on_done(job, result),
            TabInput::Focus { visible, focused } => {
                self.visible = visible;
                self.focused = focused;
                self.send(FromTab::Focus { visible, focused });
            }
            TabInput::PageHide => self.on_page_hide(),
        }
    }

    /// Send `msg` to the worker (taken by value: one copy of its drop).
    fn send(&mut self, msg: FromTab<'_>) {
        self.post(msg.to_text());
    }

    fn post(&mut self, text: String) {
        let send = TabOutput::Send(text);
        if self.connected {
            // The worker hears this tab now or later: it counts it alive.
            self.vouch();
            self.out.push(send);
        } else {
            self.outbox.push(send);
        }
    }

    /// Keep `state` as the latest and tell the app.
    fn set_state(&mut self, state: String) {
        self.state = state;
        self.event(TabEvent::State { state: self.state.clone() });
    }

    fn event(&mut self, e: TabEvent) {
        self.out.push(TabOutput::Event(e));
    }

    fn fail(&mut self, id: ActionId, code: ErrorCode, message: &str) {
        let err = error_value(code, message).into_string();
        self.out.push(TabOutput::Resolve { id, result: Err(err) });
    }

    /// Take `role` and `epoch`, and tell the app if either changed.
    fn set_role(&mut self, role: TabRole, epoch: u64) {
        let changed = (role, epoch) != (self.role, self.epoch);
        self.role = role;
        self.epoch = epoch;
        if changed {
            self.event(TabEvent::Role { role, epoch });
        }
    }
}

/// Why a message of `text` is not sent: its `noun` is over the size limit
/// (one text for every refusal: each `format!` costs the wasm).
fn too_large(noun: &str, text: &str) -> String {
    format!("{noun} of {} bytes over the limit", text.len())
}
