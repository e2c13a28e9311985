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
//! fake clock that jumps to the next deadline. The tab core takes `now` with
//! every input and dispatch (its gate measures silence); it needs no timer.
//!
//! ## The contract
//! - **Roles and epochs.** The epoch grows by one on every promotion and
//!   never goes back, across worker restarts too (see below). At most one tab
//!   is real per epoch. A tab becomes real only after taking the
//!   app's exclusive Web Lock ([`protocol::real_lock_name`]); so two workers
//!   (two deployed versions of the script) cannot make two reals. A frozen
//!   real keeps that lock: the next real takes it with `steal`, and a real
//!   whose lock was stolen demotes itself at once ([`TabOutput::StopReal`]).
//! - **Joining.** A tab joins only once it holds its life-long lock
//!   ([`TabOutput::HoldTabLock`]): the worker reads that lock's release as
//!   the tab's death.
//! - **Death.** A tab leaves by `close` (sent on `pagehide`), by death (its
//!   life-long lock [`protocol::tab_lock_name`] is granted to the worker:
//!   crash, kill, close without handlers), or by silence longer than
//!   [`Config::ping_timeout`] (frozen). The first of these counts; the others
//!   are ignored. A silent tab that speaks again comes back as a dummy; if the
//!   real is a silent tab kept only for want of another, it takes over.
//! - **Promotion.** When the real leaves, in-flight actions to it fail with
//!   `real_gone` and the best live tab is promoted: one that asked to take
//!   over, then one heard from in the last ping round and a half (a tab
//!   frozen since is not yet known silent), then a visible one, most
//!   recently focused first; else the oldest.
//! - **Calls outlive their real.** The worker keeps the last state the real
//!   published: dummies keep showing it, joining tabs get it, until the next
//!   real publishes. Every tab keeps the last state it received (or
//!   published), and a tab that becomes real is handed it
//!   ([`TabOutput::StartReal`]'s `inherit`) to resume the calls from, even
//!   when the worker died with the real (tabs rejoining a restarted worker
//!   bring it in `hello`). A stopping real's own last publishes never reach
//!   the worker. Only a real that closes as the last tab (its calls end)
//!   clears it: `sync {state: null, reset: true}`.
//! - **Events.** The real may relay an event its state does not carry
//!   ([`TabCore::relay`]: any JSON, e.g. a message received); the worker
//!   sends it to every other live tab ([`TabEvent::Relayed`]) and keeps
//!   nothing: a tab that joins later gets the state, not past events.
//! - **Takeover.** Any tab may ask to be the real ([`TabCore::take_over`]):
//!   the worker tells the real to be a dummy (it stops its phone without
//!   unregistering and releases the real lock) and promotes the asking tab,
//!   which answers once it holds the lock. See `coordinator/takeover.rs`.
//! - **A real that may have been replaced stays silent.** A real frozen or
//!   cut off from its worker for longer than the worker could tolerate holds
//!   its phone ([`TabOutput::HoldReal`], [`TabCore::real_may_act`]) and asks
//!   the worker (`check`); it goes on when the worker answers
//!   ([`TabOutput::ResumeReal`]) or stops without a word of SIP when it was
//!   replaced ([`TabOutput::StopReal`]). See `tab/gate.rs`.
//! - **Worker restart.** The SharedWorker runs in the process of the tab that
//!   created it, and dies when that tab crashes. The worker holds a lock for
//!   its life; tabs wait on it and reconnect when it is granted, saying the
//!   highest epoch they have seen. A live real rejoins with a `claim` of its
//!   epoch and state and stays real: no re-registration. The new worker does
//!   not wait a fixed time for that claim: it asks the lock manager
//!   ([`Output::QueryLocks`]) who holds the real lock. Nobody: it promotes at
//!   once (the real that hosted the worker died with it). A tab that has not
//!   joined: it waits for that tab's claim, looking again every
//!   [`Config::lock_poll`]; still held and unclaimed after
//!   [`Config::ping_timeout`], the holder is a frozen or hung real and the
//!   next real steals the lock, as for a frozen real in a live worker. The
//!   same look is taken when a promoted tab has not claimed within the ping
//!   timeout, so a candidate never waits for ever on a frozen holder that
//!   never joins. A lock held by the real of another script version (a tab
//!   waiting on another live worker's life lock) is waited for, never stolen.
//!   Epochs go on from the highest a joining tab has seen: a reign this
//!   worker numbered itself is renumbered past it, so every joined tab shows
//!   the worker's current epoch and no tab's epoch ever goes back. The one
//!   case left: a worker started by a new tab before any older tab has
//!   rejoined knows no epoch and hands out 1, then renumbers when they join.
//! - **Every action gets exactly one answer**: the real's `result`, or an
//!   `error`/`result` with code `queue_full`, `timeout`, `real_gone`,
//!   `not_joined`, `malformed` or `too_large` (and, from the tab itself,
//!   `real_gone` for its own action held by a real that was then replaced,
//!   `worker_gone` when the worker died or could not start). Actions wait in a bounded queue
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
//! - `protocol/`: the wire format. `mod.rs` (version, message limit, lock
//!   names, [`protocol::Raw`]), `from_tab.rs` and `to_tab.rs` (each direction's
//!   messages with their parser and serializer), `error.rs` (error codes),
//!   `fields.rs` (typed field access for the parsers), on the small JSON
//!   codec of `tabphone-json` (no serde in the worker: about 40 KB less
//!   wasm), re-exported as [`json`].
//! - `coordinator/`: the worker's state machine. `mod.rs` (the run loop and
//!   its one timer table), `api.rs` (Config, Input, Output, LockSnapshot),
//!   `join.rs` (messages in, joining, claims), `epochs.rs` (epochs that never
//!   go back), `holder.rs` (who holds the real lock when the worker does not
//!   know: after a restart, or a candidate that does not claim), `roles.rs`
//!   (leaving, promotion), `relay.rs` (state and actions between the real and
//!   the dummies), `actions.rs` (the action queue), `takeover.rs` (a tab asks
//!   to be the real).
//! - `tab/`: the tab's state machine. `mod.rs` (dispatch, publish, inputs),
//!   `api.rs` (its types), `link.rs` (the connection to the worker),
//!   `real.rs` (roles and the real lock), `gate.rs` (a real that may have
//!   been replaced holds its phone until the worker confirms it).
//! - `tests/`: scenario tests (`scenarios.rs`; `restart.rs` for worker
//!   restarts; `handover.rs` for takeover and the gate) and property tests (`properties.rs`) on `tests/sim/`, a
//!   deterministic simulation of a browser profile: tabs, workers hosted by
//!   the tab that created them, Web Locks with steal and `query()`
//!   (`locks.rs`), the event queue and the glue's part (`engine.rs`), and the
//!   invariants checked at every step (`check.rs`).

mod coordinator;
pub mod protocol;
mod tab;

pub use coordinator::{Config, Coordinator, Input, LockInfo, LockSnapshot, Output, PortId};
pub use tab::{ActionId, Job, TabConfig, TabCore, TabEvent, TabInput, TabOutput, TabRole};
pub use tabphone_json as json;
pub use web_time::Instant;
