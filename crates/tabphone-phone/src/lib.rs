//! # tabphone-phone: the phone the app sees, sans IO
//!
//! A softphone around the SIP user agent core ([`tabphone_sip::ua`]): typed
//! actions with exactly one result each, one shared state (JSON, versioned)
//! that the real tab publishes and every tab renders, events, and media as
//! requests to a media layer (an `RTCPeerConnection` per call in the browser,
//! an SDP template in the CLI). No clock, no socket, no randomness of its own,
//! no web dependency: it builds for `wasm32-unknown-unknown`.
//!
//! ## Contract
//! - **One input at a time** through [`Phone::handle_input`] with the current
//!   time, then drain [`Phone::poll_output`] until `None`, performing each
//!   output in order, then feed [`PhoneInput::Timeout`] at
//!   [`Phone::poll_timeout`] (re-arm the one timer only when it changed).
//! - **Transport**: [`PhoneOutput::Connect`] opens one WebSocket (subprotocol
//!   `sip`) and drops any other; [`PhoneOutput::Send`] sends text on it;
//!   [`PhoneOutput::Close`] closes it. Report the current socket's
//!   [`PhoneInput::Opened`], [`PhoneInput::Closed`] and
//!   [`PhoneInput::Received`] frames. [`PhoneInput::Online`] reconnects
//!   (when the phone was offline or is not connected), [`PhoneInput::Offline`]
//!   is noted in the state.
//! - **Actions** ([`action`]): [`PhoneInput::Action`] gets exactly one
//!   [`PhoneOutput::Result`] with its id: the JSON text of an object, or a
//!   [`PhoneError`] `{code, message, status?}` ([`ErrorCode`]). Bad input is
//!   answered at once; the others when their outcome is known (the table in
//!   [`action`]); every action has an answer within
//!   [`Config::action_timeout`] (else `timeout`), and [`PhoneInput::Stop`]
//!   answers every pending one with `stopped`. The phone checks each action
//!   against its state before it gives the SIP core a command, so the core
//!   never refuses one.
//! - **State** ([`state`]): [`PhoneOutput::State`] carries the whole state as
//!   JSON, emitted when (and only when) an input changed it, at most once per
//!   input, and *first* among that input's outputs: the results and events
//!   that follow can be read against it, and a request leaves the socket only
//!   after the state that records it was published. `rev` grows by one each
//!   time. A call leaves `calls` only into `ended`, with a cause, and a
//!   [`PhoneEvent::CallEnded`]. Credentials never appear in it.
//! - **Media** ([`media`]): [`PhoneOutput::Media`] asks for an offer (plain,
//!   ICE restart, hold), an answer with the direction RFC 3264 6.1 requires,
//!   to apply an answer, to roll an offer back, to mute, to play DTMF, to
//!   close; the reply [`PhoneInput::Media`] carries the local SDP or why it
//!   failed. The phone owns the policy: it answers re-offers (a re-offer the
//!   media layer cannot answer is refused with 488 and the call goes on),
//!   re-INVITEs every established call with an ICE-restart offer after a
//!   recovery, offers a change again from fresh media after glare (491), and
//!   follows a transfer the peer asks for (with the Refer-To's headers, so
//!   `Replaces` too), reporting its progress by NOTIFY. Every offer it sends
//!   claims a definite DTLS role (`a=setup:active` first, then the call's
//!   role, published as `dtls`), so that the peer stays the DTLS server and a
//!   successor's fresh connection is taken at once ([`sdp`] says why).
//! - **Events** ([`PhoneEvent`]): incoming call, call ended with its cause,
//!   connection and registration changes, audio blocked, transfers, DTMF and
//!   messages received, errors no result reports, SIP trace. The first five
//!   are in the state too: a tab that only receives the published states
//!   derives the same ones with [`state::changes`].
//! - **Autoplay**: [`PhoneInput::AudioBlocked`] reports that the browser
//!   refused to play call audio without a user gesture (or plays it again);
//!   the state's `audioBlocked` shows it to every tab.
//! - **Start and stop**: [`PhoneInput::Start`] connects and registers;
//!   [`PhoneInput::Stop`] `{unregister, hang_up}` stops: both hang up,
//!   unregister and close (the app's `close()`); neither closes at once and
//!   leaves the binding and the established calls to a successor (a
//!   handover): they stay in the last state published, dialog and all, with
//!   no `callEnded`; `unregister` alone keeps the established calls the same
//!   way when there are any (a page reload takes them back) and unregisters
//!   only when there are none. Calls that cannot be kept (not established)
//!   are ended first as their state allows (480, CANCEL, BYE), cause
//!   `not_resumable`. Every stop ends with [`PhoneEvent::Stopped`]; a
//!   stopped phone can start again. The table is in `stop.rs`.
//! - **Handover**: `Start { inherit: Some(`[`Inherited`]`) }` takes over the
//!   calls of a previous real tab from the last state it published (or kept
//!   in storage) and when it was last known alive. Each established call
//!   keeps its id, hold and mute, counts one more `handovers`, and is
//!   `resuming` while a fresh offer is made and, once connected (the
//!   registration is not awaited), a target-refresh re-INVITE along its
//!   saved route set with our Contact (CSeq jumped) is answered and its
//!   answer applied. Hold, transfer and DTMF are refused (`wrong_state`)
//!   meanwhile; `hangup` is accepted (the BYE follows the re-INVITE). A
//!   refusal ends the call `resume_failed` with the status; calls that were
//!   not established end `not_resumable`; a state older than
//!   [`Config::resume_within`] (30 s) revives nothing (`expired`). `rev`
//!   continues past the inherited one and its `ended` history is kept. An
//!   unreadable state is an [`PhoneEvent::Error`] and the phone starts
//!   without calls.
//! - **Randomness**: call ids and the SIP core's seed come from
//!   [`tabphone_sip::ua::Config::seed`] in [`Config::sip`]; give it a
//!   random value from the platform.
//!
//! ## Run loop
//! ```
//! use tabphone_phone::{Config, Phone, PhoneInput, PhoneOutput, PhoneState, ErrorCode};
//! use tabphone_phone::Instant;
//!
//! let mut config = Config::new(&["wss://sip.example.com"], "alice", "secret", "example.com");
//! config.sip.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000001".into(); // stable per browser
//! config.sip.seed = 0x5eed; // from the platform's RNG
//! let mut phone = Phone::new(config);
//! let now = Instant::now();
//! phone.handle_input(now, PhoneInput::Start { unix_ms: 1_700_000_000_000, inherit: None });
//! phone.handle_input(now, PhoneInput::Action { id: 1, name: "call", args: r#"{"to":"bob"}"# });
//! phone.handle_input(now, PhoneInput::Action { id: 2, name: "dial", args: "{}" });
//! let mut errors = Vec::new();
//! while let Some(output) = phone.poll_output() {
//!     match output {
//!         PhoneOutput::Connect { url } => assert_eq!(url, "wss://sip.example.com"),
//!         PhoneOutput::Send(_text) => { /* send it on the socket */ }
//!         PhoneOutput::Close => { /* close the socket */ }
//!         PhoneOutput::Media(_request) => { /* ask the media layer, feed PhoneInput::Media */ }
//!         PhoneOutput::Result { id, result } => errors.push((id, result.unwrap_err().code)),
//!         PhoneOutput::State(json) => {
//!             let state = PhoneState::parse(&json).unwrap();
//!             assert!(!json.contains("secret"));
//!             assert!(!format!("{phone:?}").contains("secret"));
//!             let _ = state.connection; // publish it to every tab
//!         }
//!         PhoneOutput::Event(event) => println!("{event:?}"),
//!         _ => {}
//!     }
//! }
//! // Not registered yet: the call is refused; the unknown action too.
//! assert_eq!(errors, [(1, ErrorCode::NotRegistered), (2, ErrorCode::UnknownAction)]);
//! // Then: PhoneInput::Opened / Closed / Received(bytes) from the socket,
//! // PhoneInput::Timeout at phone.poll_timeout(), actions and media replies.
//! assert!(phone.poll_timeout().is_some());
//! ```
//!
//! ## Now
//! Time is an input: `now` ([`Instant`], `web_time`'s, which is std's on
//! native targets) comes with every input and the phone never reads a clock.
//! Times in the state are Unix milliseconds, `unix_ms` of
//! [`PhoneInput::Start`] plus the monotonic time elapsed since, so every tab
//! (each with its own monotonic origin) reads them the same way.
//!
//! ## `&mut self`
//! A plain owned value: no `Rc`, no locks, no interior mutability.
//!
//! ## Panics
//! Never on any input. A panic is a bug; the property test
//! (`tests/properties.rs`) drives random actions, network events, media
//! replies and SIP answers looking for one.
//!
//! ## Layout
//! - `phone.rs`: [`Phone`], [`PhoneInput`], [`PhoneOutput`]; the run loop
//!   plumbing, results, the state publication.
//! - `stop.rs`: start, the stop modes (which calls are kept for a
//!   successor), a call ending; `resume.rs`: [`Inherited`], taking calls
//!   over from a previous real tab (the handover).
//! - `perform.rs`: each action's checks and commands; [`action`]: parsing
//!   (name + JSON), and when each result is given.
//! - `sip_events.rs`: the SIP core's events (state, results, the policy).
//! - `nego.rs`: offer/answer after setup (hold, ICE restart, the peer's
//!   re-offers), one at a time per call, and the media replies.
//! - `call.rs`: one call's record; [`state`]: the shared state; [`event`]:
//!   events; [`media`]: media requests; [`sdp`]: directions (RFC 3264) and
//!   the DTLS role our offers claim;
//!   [`config`]: settings; `timers.rs`: the phone's one timer table; [`error`]:
//!   the error codes.
//! - `json/`: the JSON of the state (both ways), of the parts events share
//!   with it, and of action results, on the small codec of `tabphone-json`
//!   (no serde in the wasm); `json/oracle.rs` checks it against the serde
//!   description the types carry in tests.
//! - `tests/`: scenario tests against a scripted SIP server and media layer,
//!   and the property test.

pub mod action;
mod call;
pub mod config;
pub mod error;
pub mod event;
mod json;
pub mod media;
mod nego;
mod perform;
mod phone;
mod resume;
pub mod sdp;
mod sip_events;
pub mod state;
mod stop;
mod timers;

pub use action::{Action, DtmfVia};
pub use config::Config;
pub use error::{ErrorCode, PhoneError};
pub use event::PhoneEvent;
pub use media::{MediaKind, MediaRequest};
pub use phone::{Phone, PhoneInput, PhoneOutput};
pub use resume::Inherited;
pub use sdp::{Direction, DtlsRole};
pub use state::PhoneState;
pub use web_time::Instant;
