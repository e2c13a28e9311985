//! # tabphone-sip: the SIP user agent core (work in progress)
//!
//! The protocol brain of the real tab, sans IO: time comes in as an input,
//! actions go out as outputs, nothing here opens a socket or reads a clock.
//! So far:
//! - [`transport`]: the connection policy (weighted servers, retries, recovery
//!   with exponential backoff and jitter, CRLF keepalive with a pong timeout).
//! - [`auth`]: digest authentication (MD5, SHA-256, their `-sess` variants,
//!   `qop=auth` with nonce count and client nonce).
//! - [`trace`]: message tracing with credentials redacted.
//!
//! Not yet: message parsing and the RFC 4475 suite, transactions,
//! registration, dialogs and calls, recovery of calls, the CLI softphone
//! (see the project's issue 3).
//!
//! ## Run loop
//! Feed socket events ([`transport::Transport::handle_socket`]) and timeouts
//! ([`transport::Transport::handle_timeout`] at [`transport::Transport::poll_timeout`]),
//! then drain [`transport::Transport::poll_output`] until `None`, in order.
//!
//! ## Panics
//! Never on any input. A panic is a bug.
pub mod auth;
pub mod msg;
pub mod trace;
pub mod transport;
pub mod ua;

pub use web_time::Instant;
