//! The coordinator's types: its configuration, inputs and outputs.
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::MAX_MESSAGE_BYTES;
#[cfg(doc)]
use crate::Coordinator;

/// A connection to one tab, handed out by [`Coordinator::connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u64);

/// Tunables of the coordinator. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// This worker instance's random id (names the lock it holds for life).
    pub worker_id: String,
    /// The app this worker serves: names the real lock it looks at
    /// ([`crate::protocol::real_lock_name`]). Default `"tabphone"`.
    pub app: String,
    /// How often live tabs are pinged. Default 1 s.
    pub ping_interval: Duration,
    /// A tab silent this long is declared gone (a frozen tab). Default 3 s.
    pub ping_timeout: Duration,
    /// Longest an action may wait for its answer, queued or in flight. Default 10 s.
    pub action_timeout: Duration,
    /// Most actions waiting for a real at once. Default 256.
    pub max_queued: usize,
    /// Largest message accepted, in bytes. Default [`MAX_MESSAGE_BYTES`] (1 MiB).
    pub max_message_bytes: usize,
    /// While the real lock is held by a tab that has not joined (after a
    /// worker restart: the old real rejoining, or frozen), how often to look
    /// at the lock again, to promote as soon as it is free. Default 50 ms.
    pub lock_poll: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            worker_id: String::from("worker"),
            app: String::from("tabphone"),
            ping_interval: Duration::from_millis(1000),
            ping_timeout: Duration::from_millis(3000),
            action_timeout: Duration::from_secs(10),
            max_queued: 256,
            max_message_bytes: MAX_MESSAGE_BYTES,
            lock_poll: Duration::from_millis(50),
        }
    }
}

/// What the glue feeds in. Ports are opened with [`Coordinator::connect`].
#[derive(Debug)]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
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
    /// The answer to [`Output::QueryLocks`]: every Web Lock of the origin,
    /// held and requested, or `None` when the query failed.
    Locks(Option<LockSnapshot>),
    /// The deadline from [`Coordinator::poll_timeout`] passed.
    Timeout,
}

/// What `navigator.locks.query()` says: the locks held and the requests
/// waiting, each with its lock manager client (a tab or a worker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockSnapshot {
    /// Locks held.
    pub held: Vec<LockInfo>,
    /// Requests waiting.
    pub pending: Vec<LockInfo>,
}

/// One held lock or waiting request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// The lock's name.
    pub name: String,
    /// The lock manager's id of the tab or worker that holds or asks for it
    /// (`clientId`); the same for every lock of one tab.
    pub client: String,
    /// Shared mode (else exclusive).
    pub shared: bool,
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
        /// Lock name ([`crate::protocol::tab_lock_name`]); an `Arc` as
        /// [`Output::Send`]'s text: one drop for both.
        lock: Arc<str>,
    },
    /// The tab is gone: close and forget the port.
    ClosePort {
        /// Which port.
        port: PortId,
    },
    /// Query the lock manager (`navigator.locks.query()`); feed the answer as
    /// [`Input::Locks`]. Asked when the worker must know who holds the real
    /// lock: after a restart, and when a promoted tab does not claim in time.
    QueryLocks,
}
