//! Transport policy: when to open a SIP-over-WebSocket connection, to which
//! server, when to give up on one, how to recover, and how to notice a dead
//! connection. No sockets: the glue opens and closes WebSockets when told.
//!
//! Reference: SIP.js's old WebSocket transport, and what it lacks.
//! - States `Connecting -> Open -> Closing -> Closed` (and `Connecting -> Closed`).
//! - Servers with weights: highest weight first, random among ties, skipping
//!   servers marked in error; when every server is marked, the marks are cleared.
//! - A connection attempt times out after [`TransportConfig::connection_timeout`].
//! - A failing server is retried [`TransportConfig::max_reconnection_attempts`]
//!   times (the first retry at once, then every [`TransportConfig::reconnection_delay`]),
//!   then marked in error and the next server is tried.
//! - When every server has failed: recovery with exponential backoff from
//!   [`TransportConfig::recovery_min`] doubling to [`TransportConfig::recovery_max`],
//!   with jitter, unlimited unless [`TransportConfig::max_recovery_rounds`] is set.
//! - [`Transport::stop`] clears the "should be connected" flag: a deliberate
//!   stop is never undone by a retry, and there are never two attempts at once.
//! - A backup outbound proxy can be switched on or off; it takes effect on the
//!   next connect.
//! - CRLF keepalive (RFC 5626): `\r\n\r\n` every [`TransportConfig::keepalive_interval`]
//!   (no more often than [`TransportConfig::keepalive_debounce`]); unlike SIP.js, a
//!   missing `\r\n` pong within [`TransportConfig::pong_timeout`] closes the
//!   connection and starts recovery.
use std::time::Duration;

use web_time::Instant;

use crate::rng::Rng;

/// One server of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// WebSocket URL (`wss://…`).
    pub url: String,
    /// Higher is tried first.
    pub weight: u32,
}

/// Transport policy settings. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Servers to connect to.
    pub servers: Vec<Server>,
    /// Give up on a connection attempt after this long. Default 5 s.
    pub connection_timeout: Duration,
    /// Retries of one server before marking it in error. Default 3.
    pub max_reconnection_attempts: u32,
    /// Delay between retries of one server (the first is immediate). Default 4 s.
    pub reconnection_delay: Duration,
    /// First recovery delay once every server failed. Default 2 s.
    pub recovery_min: Duration,
    /// Largest recovery delay. Default 60 s.
    pub recovery_max: Duration,
    /// Recovery delays are drawn from `[d * (1 - jitter), d]`. Default 0.5.
    pub recovery_jitter: f64,
    /// Recovery rounds before giving up; `None` (default) never gives up.
    pub max_recovery_rounds: Option<u32>,
    /// CRLF ping interval; zero (default) turns keepalive off.
    pub keepalive_interval: Duration,
    /// Least time between two pings. Default 10 s.
    pub keepalive_debounce: Duration,
    /// Close the connection when a ping gets no pong this long. Default 10 s.
    pub pong_timeout: Duration,
    /// Seed of the tie-break and jitter randomness.
    pub seed: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            servers: Vec::new(),
            connection_timeout: Duration::from_secs(5),
            max_reconnection_attempts: 3,
            reconnection_delay: Duration::from_secs(4),
            recovery_min: Duration::from_secs(2),
            recovery_max: Duration::from_secs(60),
            recovery_jitter: 0.5,
            max_recovery_rounds: None,
            keepalive_interval: Duration::ZERO,
            keepalive_debounce: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(10),
            seed: 1,
        }
    }
}

/// Connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// An attempt is under way.
    Connecting,
    /// Connected.
    Open,
    /// Closing on purpose.
    Closing,
    /// Not connected.
    Closed,
}

/// What happened to the socket (from the glue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketEvent {
    /// The WebSocket of the last [`TransportOutput::Connect`] opened.
    Opened,
    /// It closed or failed.
    Closed,
    /// Data arrived; `is_pong` when it was exactly `\r\n`.
    Received {
        /// Was it a CRLF pong?
        is_pong: bool,
    },
}

/// Why the connection went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The socket closed or failed.
    SocketClosed,
    /// The attempt took longer than the connection timeout.
    ConnectTimeout,
    /// A keepalive ping got no pong in time.
    NoPong,
    /// The app asked (see [`Transport::restart`]).
    Requested,
}

/// Events for the user agent and the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportEvent {
    /// An attempt started.
    Connecting {
        /// To where.
        url: String,
    },
    /// Connected; `recovered` when this ends an unexpected disconnection.
    Connected {
        /// Where.
        url: String,
        /// After an unexpected loss (re-register, re-INVITE).
        recovered: bool,
    },
    /// The connection was lost, or an attempt failed.
    Disconnected {
        /// Why.
        cause: Cause,
    },
    /// Every server failed; the next round starts in `retry_in`.
    RecoveryError {
        /// Delay until the next round.
        retry_in: Duration,
    },
    /// [`TransportConfig::max_recovery_rounds`] used up; stopped for good.
    RecoveryFailed,
}

/// What the glue must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum TransportOutput {
    /// Open a WebSocket to `url` (subprotocol `sip`), dropping any other.
    Connect {
        /// Where.
        url: String,
    },
    /// Close the WebSocket; feed [`SocketEvent::Closed`] when it is.
    Close,
    /// Send this text (keepalive pings).
    Send(&'static str),
    /// Tell the user agent.
    Event(TransportEvent),
}

/// Every timer of the transport, in one table.
#[derive(Debug, Default)]
struct Timers {
    connect_deadline: Option<Instant>,
    retry_at: Option<Instant>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
}

/// The transport policy state machine.
#[derive(Debug)]
pub struct Transport {
    config: TransportConfig,
    state: State,
    should_connect: bool,
    errored: Vec<bool>,
    current: Option<usize>,
    attempts: u32,
    recovery_round: u32,
    lost: bool,
    use_backup: bool,
    backup: Option<String>,
    last_ping: Option<Instant>,
    timers: Timers,
    rng: Rng,
    out: Vec<TransportOutput>,
}

impl Transport {
    /// A stopped transport.
    pub fn new(config: TransportConfig) -> Transport {
        Transport {
            errored: vec![false; config.servers.len()],
            rng: Rng::new(config.seed),
            config,
            state: State::Closed,
            should_connect: false,
            current: None,
            attempts: 0,
            recovery_round: 0,
            lost: false,
            use_backup: false,
            backup: None,
            last_ping: None,
            timers: Timers::default(),
            out: Vec::new(),
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Next output, until `None`.
    pub fn poll_output(&mut self) -> Option<TransportOutput> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// When to call [`Transport::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = &self.timers;
        crate::earliest(&[t.connect_deadline, t.retry_at, t.next_ping, t.pong_deadline])
    }

    /// Be connected from now on. No-op while connecting or connected.
    pub fn start(&mut self, now: Instant) {
        self.should_connect = true;
        self.recovery_round = 0;
        if self.state == State::Closed && self.timers.retry_at.is_none() {
            self.connect(now, None);
        }
    }

    /// Be disconnected from now on; no retry will undo it.
    pub fn stop(&mut self) {
        self.should_connect = false;
        self.timers = Timers::default();
        if matches!(self.state, State::Connecting | State::Open) {
            self.state = State::Closing;
            self.out.push(TransportOutput::Close);
        }
    }

    /// Drop the connection and connect again (a network change).
    pub fn restart(&mut self, now: Instant) {
        if matches!(self.state, State::Connecting | State::Open) {
            self.out.push(TransportOutput::Close);
        }
        self.state = State::Closed;
        self.timers = Timers::default();
        self.out.push(TransportOutput::Event(TransportEvent::Disconnected { cause: Cause::Requested }));
        self.should_connect = true;
        self.lost = true;
        self.connect(now, None);
    }

    /// Set the backup outbound proxy URL.
    pub fn set_backup(&mut self, url: Option<String>) {
        self.backup = url;
    }

    /// Use the backup proxy (or stop using it) from the next connect on.
    pub fn use_backup(&mut self, on: bool) {
        self.use_backup = on;
    }

    /// Feed what happened to the socket.
    pub fn handle_socket(&mut self, now: Instant, event: SocketEvent) {
        match (event, self.state) {
            (SocketEvent::Opened, State::Connecting) => {
                self.state = State::Open;
                self.timers.connect_deadline = None;
                self.attempts = 0;
                self.recovery_round = 0;
                let url = self.url();
                let recovered = std::mem::take(&mut self.lost);
                self.event(TransportEvent::Connected { url, recovered });
                self.arm_keepalive(now);
            }
            (SocketEvent::Closed, State::Closing) => {
                self.state = State::Closed;
                // Started again while closing: connect now that the old socket is gone.
                if self.should_connect && self.timers.retry_at.is_none() {
                    self.connect(now, None);
                }
            }
            (SocketEvent::Closed, State::Open | State::Connecting) => self.failed(now, Cause::SocketClosed),
            (SocketEvent::Received { is_pong: true }, State::Open) => {
                self.timers.pong_deadline = None;
            }
            _ => {}
        }
    }

    /// The deadline from [`Transport::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        // At most one: `failed` clears the timers.
        let cause = if due(self.timers.connect_deadline) {
            Some(Cause::ConnectTimeout)
        } else if due(self.timers.pong_deadline) {
            Some(Cause::NoPong)
        } else {
            None
        };
        if let Some(cause) = cause {
            self.out.push(TransportOutput::Close);
            self.failed(now, cause);
        }
        if due(self.timers.next_ping) {
            self.ping(now);
        }
        if due(self.timers.retry_at) {
            self.timers.retry_at = None;
            if self.should_connect && self.state == State::Closed {
                let server = self.current;
                self.connect(now, server);
            }
        }
    }

    fn event(&mut self, e: TransportEvent) {
        self.out.push(TransportOutput::Event(e));
    }

    /// The URL an attempt goes to (copied once, here).
    fn url(&self) -> String {
        let url = match (&self.backup, self.use_backup, self.current) {
            (Some(b), true, _) => b,
            (_, _, Some(i)) => self.config.servers.get(i).map_or("", |s| &s.url),
            _ => "",
        };
        url.to_string()
    }

    /// Start an attempt: to `server` (a retry) or to the best one.
    fn connect(&mut self, now: Instant, server: Option<usize>) {
        let chosen = server.or_else(|| self.pick());
        if chosen.is_none() && !(self.use_backup && self.backup.is_some()) {
            return self.event(TransportEvent::RecoveryFailed);
        }
        self.current = chosen;
        self.state = State::Connecting;
        self.timers.connect_deadline = Some(now + self.config.connection_timeout);
        let url = self.url();
        self.event(TransportEvent::Connecting { url: url.clone() });
        self.out.push(TransportOutput::Connect { url });
    }

    /// Highest weight among servers not in error, random among ties.
    fn pick(&mut self) -> Option<usize> {
        // The servers not in error with the highest weight, in order.
        let mut ties: Vec<usize> = Vec::new();
        let mut best = 0;
        for (i, server) in self.config.servers.iter().enumerate() {
            if self.errored[i] || (!ties.is_empty() && server.weight < best) {
                continue;
            }
            if ties.is_empty() || server.weight > best {
                ties.clear();
                best = server.weight;
            }
            ties.push(i);
        }
        if ties.is_empty() {
            return None;
        }
        let k = (self.rng.next_u64() % ties.len() as u64) as usize;
        ties.get(k).copied()
    }

    fn failed(&mut self, now: Instant, cause: Cause) {
        let was_open = self.state == State::Open;
        self.state = State::Closed;
        self.timers = Timers::default();
        self.event(TransportEvent::Disconnected { cause });
        if !self.should_connect {
            return;
        }
        // Only a connection that worked can be recovered; failed first
        // attempts are not a loss.
        self.lost |= was_open;
        if was_open {
            // A working connection dropped: retry the same server at once.
            self.attempts = 0;
        }
        let delay = if self.attempts < self.config.max_reconnection_attempts {
            self.attempts += 1;
            if self.attempts == 1 {
                Duration::ZERO
            } else {
                self.config.reconnection_delay
            }
        } else {
            // This server is done: the next one at once, or a recovery round.
            if let Some(i) = self.current {
                if let Some(e) = self.errored.get_mut(i) {
                    *e = true;
                }
            }
            self.attempts = 0;
            if let Some(next) = self.pick() {
                self.current = Some(next);
                Duration::ZERO
            } else {
                self.errored.iter_mut().for_each(|e| *e = false);
                if self.config.max_recovery_rounds.is_some_and(|max| self.recovery_round >= max) {
                    self.should_connect = false;
                    return self.event(TransportEvent::RecoveryFailed);
                }
                let delay = self.recovery_delay();
                self.recovery_round += 1;
                self.current = None;
                self.event(TransportEvent::RecoveryError { retry_in: delay });
                delay
            }
        };
        self.timers.retry_at = Some(now + delay);
    }

    /// `min * 2^round`, capped, minus up to `jitter` of it.
    fn recovery_delay(&mut self) -> Duration {
        let base = self.config.recovery_min.saturating_mul(1u32 << self.recovery_round.min(20));
        let base = base.min(self.config.recovery_max);
        let jitter = self.config.recovery_jitter.clamp(0.0, 1.0) * self.rng.unit();
        // In whole nanoseconds, without Duration's float methods (their
        // checks and rounding cost the shipped wasm half a kilobyte).
        let nanos = base.as_secs().saturating_mul(1_000_000_000) + u64::from(base.subsec_nanos());
        Duration::from_nanos((nanos as f64 * (1.0 - jitter)) as u64)
    }

    fn arm_keepalive(&mut self, now: Instant) {
        if !self.config.keepalive_interval.is_zero() {
            self.timers.next_ping = Some(now + self.config.keepalive_interval);
        }
    }

    fn ping(&mut self, now: Instant) {
        let debounced = self.last_ping.is_some_and(|t| now < t + self.config.keepalive_debounce);
        if debounced {
            let at = self.last_ping.map(|t| t + self.config.keepalive_debounce);
            self.timers.next_ping = at;
            return;
        }
        self.last_ping = Some(now);
        self.out.push(TransportOutput::Send("\r\n\r\n"));
        if self.timers.pong_deadline.is_none() {
            self.timers.pong_deadline = Some(now + self.config.pong_timeout);
        }
        self.arm_keepalive(now);
    }
}
