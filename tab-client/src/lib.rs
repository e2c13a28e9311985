//! # tabphone-tab: the client every tab runs
//!
//! One API whatever the tab's role. Behind it, the inert dummy (forwards
//! actions to the worker, never touches the network) or the real phone,
//! switched on the worker's role messages by [`tabphone_coord::TabCore`],
//! which holds the coordination logic. The real phone is a [`BrowserPhone`]:
//! [`tabphone_phone::Phone`] (every phone rule) driven over a browser
//! WebSocket and WebRTC ([`phone`]). Every tab is given the same options;
//! the one that becomes real uses them, and the password never leaves it.
//!
//! Every tab sees the same phone: the state the real publishes, the events
//! derived from consecutive states ([`tabphone_phone::state::changes`]), and
//! actions that return the real's result, or a `{code, message}` error,
//! from any tab.
//!
//! ## JavaScript / TypeScript
//! ```js
//! import init, { TabPhone } from './pkg/tabphone_tab.js';
//! await init();
//! const phone = TabPhone.connect('./pkg/worker.js', {
//!   app: 'my-app',
//!   sip: { servers: ['wss://sip.example.com'], user: 'alice', password: 'secret', domain: 'example.com' },
//! });
//! phone.on('state', (state) => render(state));              // PhoneState | null, every tab
//! phone.on('incoming', ({ call, peer }) => ring(call, peer)); // every tab
//! phone.on('callEnded', ({ call, cause, status }) => {});
//! const { call } = await phone.call('bob');                  // from any tab
//! await phone.hold(call);
//! await phone.dtmf(call, '12#', { via: 'info' });
//! await phone.hangup(call).catch(({ code, message }) => console.warn(code, message));
//! ```
//! The typings (`tabphone_tab.d.ts`) describe the options, the state, each
//! action's arguments and result, and each event.
//!
//! ## Rust
//! ```no_run
//! use tabphone_tab::{Options, PhoneEvent, PhoneOptions, TabClient};
//! let sip = PhoneOptions::new(&["wss://sip.example.com"], "alice", "secret", "example.com");
//! let client = TabClient::connect_phone("./pkg/worker.js", Options::default(), sip).expect("good options");
//! client.on_phone_event(|event| match event {
//!     PhoneEvent::Incoming { call, peer, .. } => log(&format!("{call} from {}", peer.uri)),
//!     PhoneEvent::CallEnded { call, cause } => log(&format!("{call} ended: {cause:?}")),
//!     _ => {}
//! });
//! wasm_bindgen_futures::spawn_local(async move {
//!     match client.call("bob").await {
//!         Ok(call) => log(&format!("calling: {call}; state {:?}", client.phone_state())),
//!         Err(e) => log(&format!("{}: {}", e.code, e.message)),
//!     }
//! });
//! # fn log(_: &str) {}
//! ```
//! An app may run its own real instead ([`TabClient::connect`] with a
//! [`RealPhone`] factory; in JavaScript, `connect` without `sip` and
//! `setActionHandler`/`publish`).
//!
//! ## Layout
//! - `client.rs`: [`TabClient`], the tab core's glue (worker port, locks,
//!   page events); `real.rs`: [`RealPhone`], its [`PhoneContext`] and
//!   [`StopKind`]; `saved.rs`: the real's calls kept in `localStorage` for a
//!   page reload.
//! - `phone/`: [`BrowserPhone`], the real SIP phone, and [`PhoneOptions`].
//! - `api.rs`: the phone's Rust API on [`TabClient`]; `js.rs`: [`TabPhone`],
//!   the JavaScript API; `typings.rs`: its TypeScript types.
//! - `media/`: each call's WebRTC (the browser work in `js/browser.js`);
//!   `sip_socket.rs`: the SIP WebSocket (its browser side in `js/browser.js`
//!   too); `timer.rs`: the one timer; `later.rs`: promise continuations
//!   (no futures runtime in the shipped wasm);
//!   `instance.rs`: the stable SIP instance id; `listen.rs`: the page's
//!   event listeners (removed on drop), visibility and focus.

/// The shipped wasm's allocator (feature `talc`): smaller than std's dlmalloc.
#[cfg(all(feature = "talc", not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod api;
mod client;
mod instance;
mod js;
mod later;
mod listen;
pub mod media;
pub mod phone;
mod real;
mod saved;
pub mod sip_socket;
pub mod timer;
mod typings;

pub use api::{ActionError, Done};
pub use client::{Options, PhoneContext, RealPhone, StopKind, TabClient};
pub use js::TabPhone;
pub use phone::{BrowserPhone, OptionsError, PhoneOptions};
pub use tabphone_coord::{TabEvent, TabRole};
pub use tabphone_phone::{DtmfVia, PhoneEvent, PhoneState};
/// The SharedWorker's hub, in the same wasm module as the tab: the worker
/// (`worker.js`) loads the module every tab has already loaded.
pub use tabphone_worker::Hub;

/// The parts, one after the other: the messages of the shipped code are
/// built by pushes (`format!` and std's `concat` cost the wasm more).
pub(crate) fn cat(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(p);
    }
    s
}

/// Item `i` of a list `browser.js` made, as text (empty when it is none):
/// one function for every reader of its events and errors.
#[inline(never)]
pub(crate) fn text_at(list: &js_sys::Array, i: u32) -> String {
    list.get(i).as_string().unwrap_or_default()
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A `browser.js` object that closes (a `Call`, a `Socket`): one
    /// binding of `close()` for them all, not one import each.
    pub(crate) type Closable;
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &Closable);
}
