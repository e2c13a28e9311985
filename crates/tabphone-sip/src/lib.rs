//! # tabphone-sip: the SIP user agent core
//!
//! The protocol brain of the real tab, sans IO: time comes in as an input,
//! actions go out as outputs, nothing here opens a socket, reads a clock or
//! draws randomness of its own. It builds for `wasm32-unknown-unknown` and has
//! no web or async-runtime dependency; the browser glue and the native
//! [`tabphone-cli`](../tabphone_cli/index.html) are thin drivers around it.
//!
//! ## Layout
//! - [`ua`]: the user agent, one file per subsystem (its docs list them):
//!   registration (digest auth, refresh, 423, unregister,
//!   `+sip.instance`/`reg-id`), calls (INVITE both ways, CANCEL, BYE), the
//!   dialog state they share, re-INVITE, hold and glare, REFER (blind
//!   and attended), INFO DTMF, OPTIONS, MESSAGE, client transactions and one
//!   timer table, recovery of registrations and calls after the
//!   connection drops, and a dialog resumed from its snapshot by another
//!   agent (a handover). Its module docs state the contract.
//! - [`transport`]: the connection policy (weighted servers, retries, recovery
//!   with exponential backoff and jitter, CRLF keepalive with a pong timeout).
//! - [`msg`]: messages: the types and their encoding, framing and checks
//!   (all of RFC 4475 as its index says), lexing, URIs, and the typed headers
//!   requests are built from and read with (CSeq, NameAddr, Via, Replaces,
//!   Retry-After, Subscription-State, the first Contact, the route set,
//!   `Response::to`).
//! - [`auth`]: digest authentication (MD5, SHA-256, their `-sess` variants,
//!   `qop=auth` with nonce count and client nonce); `hash.rs` holds its
//!   hashes (a compact MD5, SHA-256 from sha2's block function) and hex.
//! - [`sdp`]: the little SDP the agent touches (the direction attribute for
//!   hold, the session version) and a signaling-only audio offer and answer
//!   for the CLI and tests.
//! - [`trace`]: message tracing with credentials redacted.
//! - [`testing`]: the check that what the agent sends is well-formed, for
//!   tests and fuzzing.
//! - `rng.rs`: the one seeded generator (xorshift64*) behind every random
//!   choice of the agent and the transport; `earliest` (here) picks the next
//!   deadline for every `poll_timeout`.
//!
//! ## Run loop
//! ```
//! use tabphone_sip::ua::{Command, Config, Input, Output, UserAgent};
//! use tabphone_sip::Instant;
//!
//! let mut config = Config::new("wss://sip.example.com", "sip:alice@example.com", "secret");
//! config.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000001".into(); // stable per browser
//! config.seed = 0x5eed; // from the platform's RNG
//! let mut ua = UserAgent::new(config);
//! ua.handle_input(Instant::now(), Input::Command(Command::Start));
//! while let Some(output) = ua.poll_output() {
//!     match output {
//!         Output::Connect { url } => { /* open a WebSocket, subprotocol "sip" */ let _ = url; }
//!         Output::Send(text) => { /* send it */ let _ = text; }
//!         Output::Close => { /* close the socket */ }
//!         Output::Event(event) => println!("{event:?}"),
//!         _ => {}
//!     }
//! }
//! // Then: Input::Opened / Input::Closed / Input::Received(bytes) from the
//! // socket, Input::Timeout at ua.poll_timeout(), Input::Command from the app;
//! // drain poll_output after each.
//! ```
//!
//! ## Why not rsip
//! The project planned to build on `rsip` for parsing. Measured on RFC 4475,
//! rsip 0.4 rejects 6 of the 13 valid messages (wsinv, intmeth, esc01, esc02,
//! longreq, semiuri) and accepts 11 of the 19 invalid ones, because it parses
//! headers lazily; validating on top of it would have meant a second parser
//! anyway. [`msg`] is that parser. rsip stays as a test oracle: where it
//! accepts a message both must agree, and it must read everything this agent
//! sends (`tests/rsip_oracle.rs`).
//!
//! ## Panics
//! Never on any input. A panic is a bug: the property tests and the fuzz
//! target (`cargo xtask fuzz`) look for them.
pub mod auth;
mod hash;
pub mod msg;
mod rng;
pub mod sdp;
pub mod testing;
pub mod trace;
pub mod transport;
pub mod ua;

pub use web_time::Instant;

/// The earliest of some deadlines (`None`: not armed): every
/// `poll_timeout` of the crate shares this one function.
pub(crate) fn earliest(deadlines: &[Option<Instant>]) -> Option<Instant> {
    deadlines.iter().flatten().min().copied()
}
