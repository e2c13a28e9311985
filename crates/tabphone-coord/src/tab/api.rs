//! The tab core's types: its inputs, outputs, events, role and configuration.
#[cfg(doc)]
use crate::protocol::ErrorCode;
use crate::protocol::MAX_MESSAGE_BYTES;
#[cfg(doc)]
use crate::TabCore;

/// A tab's own id for one dispatched action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(pub u64);

/// Who is waiting for the outcome of a [`TabOutput::Perform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// This tab's own dispatch.
    Local(ActionId),
    /// A dummy's action forwarded by the worker, with the worker's id.
    Remote(u64),
}

/// The role as the tab sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabRole {
    /// Not joined yet (or rejoining a restarted worker).
    Connecting,
    /// Mirrors the real; forwards actions.
    Dummy,
    /// Chosen as real for `epoch`; waiting for the real lock.
    Claiming,
    /// Holds the real lock; waiting for the worker to confirm the promotion
    /// still stands (it may have promoted another tab while this one was frozen).
    Confirming,
    /// Holds the real lock and runs the real client.
    Real,
    /// Closed by the page; does nothing more.
    Closed,
}

impl TabRole {
    /// `"real"` only for [`TabRole::Real`]; `"dummy"` while claiming or
    /// mirroring; `"connecting"` and `"closed"` otherwise.
    pub fn as_str(self) -> &'static str {
        match self {
            TabRole::Real => "real",
            TabRole::Dummy | TabRole::Claiming | TabRole::Confirming => "dummy",
            TabRole::Connecting => "connecting",
            TabRole::Closed => "closed",
        }
    }
}

/// Tab configuration.
#[derive(Debug, Clone)]
pub struct TabConfig {
    /// This tab's id (random, unique); the tab holds [`crate::protocol::tab_lock_name`] of it.
    pub tab_id: String,
    /// The app name: tabs of one app share one real across workers.
    pub app: String,
    /// Largest message sent; bigger dispatches and publishes fail locally.
    pub max_message_bytes: usize,
}

impl TabConfig {
    /// A configuration with the protocol's message limit ([`MAX_MESSAGE_BYTES`]).
    pub fn new(tab_id: impl Into<String>, app: impl Into<String>) -> TabConfig {
        TabConfig { tab_id: tab_id.into(), app: app.into(), max_message_bytes: MAX_MESSAGE_BYTES }
    }
}

/// What the glue feeds in (besides the [`TabCore::dispatch`],
/// [`TabCore::publish`], [`TabCore::take_over`] and [`TabCore::real_may_act`] calls).
#[derive(Debug)]
pub enum TabInput<'a> {
    /// The tab's life-long lock of [`TabOutput::HoldTabLock`] is held.
    TabLockHeld,
    /// The port from [`TabOutput::Connect`] is open.
    Connected,
    /// A message from the worker.
    WorkerMessage(&'a str),
    /// The worker's lock from [`TabOutput::WatchWorker`] was granted: it died.
    WorkerDied,
    /// No worker can be reached: the SharedWorker could not be created, or
    /// this tab's life lock could not be taken. (A worker whose wasm fails to
    /// load says so itself, with the protocol's `failed` message.)
    WorkerFailed {
        /// Why, for the app's error event.
        message: &'a str,
    },
    /// The real lock of the latest [`TabOutput::AcquireRealLock`] is held.
    RealLockGranted,
    /// The real lock was stolen (or the request failed).
    RealLockLost,
    /// The outcome of a [`TabOutput::Perform`]: JSON text of the value or error.
    Done {
        /// Who asked.
        job: Job,
        /// `Ok(json)` or `Err(json)`.
        result: Result<String, String>,
    },
    /// Visibility or focus changed.
    Focus {
        /// Visible.
        visible: bool,
        /// Focused.
        focused: bool,
    },
    /// `pagehide`: leave.
    PageHide,
}

/// Events for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum TabEvent {
    /// The role or epoch changed (sent only when one of them did).
    Role {
        /// New role.
        role: TabRole,
        /// Epoch.
        epoch: u64,
    },
    /// The shared state changed (`null` after the real went away).
    State {
        /// JSON text.
        state: String,
    },
    /// An event the real relayed ([`crate::TabCore::relay`]): JSON text.
    Relayed {
        /// JSON text, as the real gave it.
        event: String,
    },
    /// The number of live tabs changed.
    Tabs {
        /// How many.
        count: usize,
    },
    /// The worker refused something that was not an action, sent something
    /// unreadable, or failed.
    Error {
        /// An [`ErrorCode`] name.
        code: String,
        /// Detail.
        message: String,
    },
}

/// What the glue must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum TabOutput {
    /// Request this exclusive lock and hold it for the tab's whole life; feed
    /// [`TabInput::TabLockHeld`] once held ([`TabInput::WorkerFailed`] if the
    /// request fails). The tab joins only then: the worker takes the lock's
    /// grant for the tab's death.
    HoldTabLock(String),
    /// Open a port to the worker (create the SharedWorker), then feed [`TabInput::Connected`].
    Connect,
    /// Post this text to the worker.
    Send(String),
    /// Request the worker's lock (shared); feed [`TabInput::WorkerDied`] when granted.
    WatchWorker(String),
    /// Request the real lock, with `steal`, replacing any earlier request
    /// (no callback of that one may run afterwards); feed `RealLockGranted`
    /// or `RealLockLost`.
    AcquireRealLock {
        /// Lock name.
        lock: String,
        /// Take it from a frozen holder.
        steal: bool,
    },
    /// Release the real lock (or abandon the request); no callback of it may run afterwards.
    ReleaseRealLock,
    /// Switch to the real client.
    StartReal {
        /// The last shared state this tab holds (JSON text), `None` when it is
        /// `null`: the state the previous real published (or this tab, when it
        /// was real before), from which the real phone resumes the calls.
        inherit: Option<String>,
    },
    /// The real phone must not act: hold every input to it (socket frames,
    /// timers, app calls) until [`TabOutput::ResumeReal`], or drop them at
    /// [`TabOutput::StopReal`]. See [`TabCore::real_may_act`].
    HoldReal,
    /// The worker confirmed this tab as the real: feed the held inputs, in order.
    ResumeReal,
    /// Switch to the inert dummy client, now (drop any held input).
    StopReal {
        /// This tab is closing and no other tab is left to take over (as the
        /// worker last counted): the real phone leaves no binding behind.
        last: bool,
    },
    /// Ask the real client to perform an action; feed [`TabInput::Done`].
    Perform {
        /// Who asked.
        job: Job,
        /// Action name.
        name: String,
        /// Arguments as JSON text.
        args: String,
    },
    /// The answer to [`TabCore::dispatch`]: JSON text of the value or error.
    Resolve {
        /// Which dispatch.
        id: ActionId,
        /// `Ok(json)` or `Err(json)`.
        result: Result<String, String>,
    },
    /// Tell the app.
    Event(TabEvent),
}
