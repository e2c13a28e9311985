//! # tabphone-tab: the client every tab runs
//!
//! One API whatever the tab's role. Behind it, a [`Backend`]: the inert
//! dummy (forwards actions to the worker, never touches the network) or the
//! real phone (a [`RealPhone`] the app supplies), switched on the worker's
//! role messages by [`tabphone_coord::TabCore`], which holds all the logic.
//!
//! ## JavaScript / TypeScript
//! ```js
//! import init, { TabPhone } from './pkg/tabphone_tab.js';
//! await init();
//! const phone = TabPhone.connect('/pkg/worker.js', { app: 'my-app' });
//! phone.on('role', ({ role, epoch }) => console.log(role, epoch));
//! phone.on('state', (state) => render(state));
//! phone.setActionHandler(async (name, args) => ({ did: name }));   // used while real
//! const result = await phone.dispatch('dial', { to: 'bob' });       // from any tab
//! if (phone.role === 'real') phone.publish({ calls: [] });
//! ```
//!
//! ## Rust
//! ```no_run
//! use tabphone_tab::{RealPhone, TabClient, Options};
//! struct MyPhone;
//! impl RealPhone for MyPhone {
//!     fn start(&mut self) { /* connect the SIP user agent */ }
//!     fn stop(&mut self) { /* drop it, now */ }
//!     fn perform(&mut self, name: &str, args: wasm_bindgen::JsValue) -> js_sys::Promise {
//!         js_sys::Promise::resolve(&wasm_bindgen::JsValue::from_str(name))
//!     }
//! }
//! let client = TabClient::connect("/pkg/worker.js", Options::default(), Box::new(|| Box::new(MyPhone)));
//! client.on_event(|event| match event {
//!     tabphone_tab::TabEvent::Role { role, epoch } => log(&format!("{} in epoch {epoch}", role.as_str())),
//!     tabphone_tab::TabEvent::State { state } => log(state),
//!     _ => {}
//! });
//! # fn log(_: &str) {}
//! ```
mod client;

pub use client::{Backend, Options, RealPhone, TabClient};
pub use tabphone_coord::{TabEvent, TabRole};

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

/// The JavaScript face of [`TabClient`].
#[wasm_bindgen]
pub struct TabPhone {
    client: TabClient,
    handler: std::rc::Rc<std::cell::RefCell<Option<Function>>>,
}

/// A [`RealPhone`] that calls the app's JavaScript action handler.
struct JsPhone {
    handler: std::rc::Rc<std::cell::RefCell<Option<Function>>>,
}

impl RealPhone for JsPhone {
    fn start(&mut self) {}
    fn stop(&mut self) {}
    fn perform(&mut self, name: &str, args: JsValue) -> Promise {
        let Some(handler) = self.handler.borrow().clone() else {
            let code = tabphone_coord::protocol::ErrorCode::NoHandler.as_str();
            return Promise::reject(&client::error_object(code, "the real tab has no action handler"));
        };
        match handler.call2(&JsValue::NULL, &JsValue::from_str(name), &args) {
            Ok(v) => Promise::resolve(&v),
            Err(e) => Promise::reject(&e),
        }
    }
}

fn opt_string(options: &JsValue, key: &str) -> Option<String> {
    Reflect::get(options, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

#[wasm_bindgen]
impl TabPhone {
    /// Join the worker at `worker_url` (the module loader `worker.js`).
    /// Options: `{ app?: string, tabId?: string }`.
    pub fn connect(worker_url: &str, options: JsValue) -> TabPhone {
        let mut opts = Options::default();
        if let Some(app) = opt_string(&options, "app") {
            opts.app = app;
        }
        opts.tab_id = opt_string(&options, "tabId");
        let handler = std::rc::Rc::new(std::cell::RefCell::new(None));
        let h = handler.clone();
        let client =
            TabClient::connect(worker_url, opts, Box::new(move || Box::new(JsPhone { handler: h.clone() })));
        TabPhone { client, handler }
    }

    /// `"connecting"`, `"dummy"`, `"real"` or `"closed"`.
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> String {
        self.client.role().as_str().to_owned()
    }

    /// Epoch of the current real (grows on every promotion).
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> f64 {
        self.client.epoch() as f64
    }

    /// This tab's id.
    #[wasm_bindgen(getter, js_name = tabId)]
    pub fn tab_id(&self) -> String {
        self.client.tab_id()
    }

    /// Number of live tabs, as the worker last said.
    #[wasm_bindgen(getter)]
    pub fn tabs(&self) -> f64 {
        self.client.tabs() as f64
    }

    /// The latest shared state (parsed JSON; `null` when there is none).
    pub fn state(&self) -> JsValue {
        js_sys::JSON::parse(&self.client.state()).unwrap_or(JsValue::NULL)
    }

    /// Listen to `"role"` (`{role, epoch}`), `"state"` (the state),
    /// `"tabs"` (a count) or `"error"` (`{code, message}`).
    pub fn on(&self, event: &str, callback: Function) {
        self.client.on_js(event, callback);
    }

    /// Perform `name(args)` on the real phone, wherever it is. Resolves with
    /// its result, rejects with `{code, message}`.
    pub fn dispatch(&self, name: &str, args: JsValue) -> Promise {
        self.client.dispatch(name, args)
    }

    /// The function the real tab runs for every action: `(name, args) =>
    /// value | Promise`.
    #[wasm_bindgen(js_name = setActionHandler)]
    pub fn set_action_handler(&self, handler: Function) {
        *self.handler.borrow_mut() = Some(handler);
    }

    /// Publish the real's state to every tab. Throws `{code, message}` in a dummy.
    pub fn publish(&self, state: JsValue) -> Result<(), JsValue> {
        self.client.publish(state)
    }

    /// Leave now (what `pagehide` does).
    pub fn close(&self) {
        self.client.close();
    }
}
