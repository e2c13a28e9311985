//! # tabphone-sip: the SIP user agent core (work in progress)
//!
//! The protocol brain of the real tab, sans IO: time comes in as an input,
//! actions go out as outputs, nothing here opens a socket or reads a clock.
//! So far: [`transport`], the connection policy (servers, retries, recovery
//! with backoff, keepalive). Message parsing, transactions, registration,
//! dialogs and recovery of calls come next (see the project's issue 3).
//!
//! ## Run loop
//! Feed socket events ([`transport::Transport::handle_socket`]) and timeouts
//! ([`transport::Transport::handle_timeout`] at [`transport::Transport::poll_timeout`]),
//! then drain [`transport::Transport::poll_output`] until `None`, in order.
//!
//! ## Panics
//! Never on any input. A panic is a bug.
pub mod transport;

pub use web_time::Instant;
