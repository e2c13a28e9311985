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
            max_message_bytes: MAX_MESSAGE_BYTES,
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
