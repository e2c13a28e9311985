//! # tabphone-coord: one real phone per browser, sans IO
//!
//! Two state machines and the wire protocol between them:
//!
//! - [`Coordinator`] runs in the SharedWorker. It tracks every tab's port,
//!   chooses one *real* tab, caches the real's latest state and replays it to
//!   every tab that joins, forwards dummies' actions to the real and the
//!   answers back, and promotes another tab when the real goes away.
//! - [`TabCore`] runs in each tab. It follows the worker's role messages,
//!   holds the app's real lock while real, and answers every dispatch.
//! - [`protocol`] is the JSON wire format, versioned and documented there.
//!
//! Neither core touches a clock, a socket, a lock or a `MessagePort`: the glue
//! crates (`worker/`, `tab-client/`) do, and feed what happened back in.
//!
//! ## Run loop
//! ```text
//! loop {
//!     feed one input:   coord.handle_input(now, input)   (or coord.connect(now))
//!     drain:            while let Some(o) = coord.poll_output() { do it }
//!     re-arm the timer: coord.poll_timeout()  -> feed Input::Timeout at that instant
//! }
//! ```
//! The draining rule: after every input, drain every output before the next
//! input, and re-arm the single timer from `poll_timeout` (re-arm only when the
//! deadline changed). Outputs are ordered: perform them in order.
//!
//! ## Now
//! Time is an input (`web_time::Instant`, which is `std::time::Instant` on
//! native targets). The cores never read a clock, so tests drive them with a
//! fake clock that jumps to the next deadline.
//!
//! ## The contract
//! - **Roles and epochs.** The epoch grows by one on every promotion. At most
//!   one tab is real per epoch. A tab becomes real only after taking the
//!   app's exclusive Web Lock ([`protocol::real_lock_name`]); so two workers
//!   (two deployed versions of the script) cannot make two reals. A frozen
//!   real keeps that lock: the next real takes it with `steal`, and a real
//!   whose lock was stolen demotes itself at once ([`TabOutput::StopReal`]).
//! - **Death.** A tab leaves by `close` (sent on `pagehide`), by death (its
//!   life-long lock [`protocol::tab_lock_name`] is granted to the worker:
//!   crash, kill, close without handlers), or by silence longer than
//!   [`Config::ping_timeout`] (frozen). The first of these counts; the others
//!   are ignored. A silent tab that speaks again comes back as a dummy.
//! - **Promotion.** When the real leaves, in-flight actions to it fail with
//!   `real_gone`, dummies receive `sync {state: null, reset: true}` (its calls
//!   are over), the cache is cleared until the new real syncs, and the best
//!   live tab is promoted: a visible one, most recently focused first; else
//!   the oldest.
//! - **Worker restart.** The worker holds a lock for its life; tabs wait on it
//!   and reconnect when it is granted. The real rejoins with a `claim` of its
//!   epoch and state and stays real: no re-registration. A restarted worker
//!   waits [`Config::rejoin_grace`] for that claim before promoting.
//! - **Every action gets exactly one answer**: the real's `result`, or an
//!   `error`/`result` with code `queue_full`, `timeout`, `real_gone`,
//!   `not_joined`, `malformed` or `too_large`. Actions wait in a bounded queue
//!   ([`Config::max_queued`], [`Config::action_timeout`]) while no real holds
//!   its lock. Answers go only to the tab that asked.
//! - **Bad input** (not JSON, unknown `t`, over [`Config::max_message_bytes`],
//!   wrong version, `sync`/`result` from a tab that is not the current real)
//!   gets an `error` reply; the coordinator never panics on input.
//!
//! ## `&mut self`
//! Both cores are plain owned values: no `Rc`, no locks, no interior
//! mutability. Wrap them in the glue as needed.
//!
//! ## Panics
//! Never on any input. A panic is a bug.
//!
//! ## Example
//! ```
//! use std::time::Duration;
//! use tabphone_coord::{Config, Coordinator, Input, Output};
//! use web_time::Instant;
//!
//! let t0 = Instant::now();
//! let mut coord = Coordinator::new(t0, Config::default());
//! let a = coord.connect(t0);
//! coord.handle_input(t0, Input::Message { port: a, text: r#"{"t":"hello","v":1,"tab":"A"}"# });
//! let sent: Vec<String> = std::iter::from_fn(|| coord.poll_output())
//!     .filter_map(|o| match o { Output::Send { port, text } if port == a => Some(text.to_string()), _ => None })
//!     .collect();
//! assert!(sent.iter().any(|t| t == r#"{"t":"role","role":"real","epoch":1,"steal":false}"#));
//! // Nothing else happens until the next ping round.
//! assert_eq!(coord.poll_timeout(), Some(t0 + Duration::from_secs(1)));
//! ```
//!
//! ## Layout
//! - `protocol.rs`: messages, error codes, lock names, on the small JSON
//!   codec of `tabphone-json` (no serde in the worker: about 40 KB less
//!   wasm), re-exported as [`json`].
//! - `coordinator.rs`: the worker's state machine; `actions.rs`: its action queue.
//! - `tab.rs`: the tab's state machine.
//! - `tests/`: scenario tests and property tests over random event sequences.

mod actions;
mod coordinator;
pub mod protocol;
mod tab;

pub use tabphone_json as json;
use tabphone_vecmap as vecmap;

pub use coordinator::{Config, Coordinator, Input, Output, PortId};
pub use tab::{ActionId, Job, TabConfig, TabCore, TabEvent, TabInput, TabOutput, TabRole};
pub use tabphone_vecmap::VecMap;
pub use web_time::Instant;
