//! [`TabPhone`]: the JavaScript face of [`TabClient`], the same in every tab.
//! Typings for it are in `typings.rs`.
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::client::{
    call_all, error_object, json_value, listeners_of, rejected, Options, PhoneContext, RealPhone, StopKind,
    TabClient,
};
use crate::phone::{OptionsError, PhoneOptions};

/// Events that come from the phone (derived from the state in every tab, or
/// seen by the real phone only) rather than from the tab client.
const PHONE_EVENTS: [&str; 11] = [
    "incoming",
    "callEnded",
    "registration",
    "connection",
    "audioBlocked",
    "trace",
    "dtmf",
    "message",
    "transferRequested",
    "transferProgress",
    "error",
];

type Listeners = Rc<RefCell<Vec<(String, Function)>>>;

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// Gives `TabPhone` its action methods; the phone back.
    #[wasm_bindgen(js_name = withMethods)]
    fn with_methods(phone: JsValue) -> JsValue;
    /// A phone event's JSON as its listeners receive it: its fields without
    /// `event`, an error's with the code `phone_error`; a trace line as
    /// text; the registration or connection itself.
    #[wasm_bindgen(js_name = eventDetail)]
    fn event_detail(json: &str) -> JsValue;
}

/// The phone, in JavaScript. `TabPhone.connect(workerUrl, {app, sip, media})`.
#[wasm_bindgen]
pub struct TabPhone {
    client: TabClient,
    /// The app's action handler, used while real when no `sip` was given.
    handler: Option<Rc<RefCell<Option<Function>>>>,
    listeners: Listeners,
}

/// Without `sip` options, the real tab runs the app's JavaScript action
/// handler (`setActionHandler`) and publishes what the app gives `publish`.
struct JsPhone {
    handler: Rc<RefCell<Option<Function>>>,
}

impl RealPhone for JsPhone {
    fn start(&self, _context: PhoneContext) {}
    fn stop(&self, _kind: StopKind) {}
    fn perform(&self, name: &str, args: JsValue) -> Promise {
        let Some(handler) = self.handler.borrow().clone() else {
            let code = tabphone_coord::protocol::ErrorCode::NoHandler.as_str();
            return rejected(code, "the real tab has no action handler");
        };
        match handler.call2(&JsValue::NULL, &JsValue::from_str(name), &args) {
            Ok(v) => Promise::resolve(&v),
            Err(e) => Promise::reject(&e),
        }
    }
}

fn get(options: &JsValue, key: &str) -> JsValue {
    match options.is_object() {
        true => Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED),
        false => JsValue::UNDEFINED,
    }
}

/// The getters, for Rust; in JavaScript `browser.js` defines them over
/// [`TabPhone::field`].
impl TabPhone {
    /// `"connecting"`, `"dummy"`, `"real"` or `"closed"`.
    pub fn role(&self) -> String {
        self.client.role().as_str().to_owned()
    }

    /// Epoch of the current real (grows on every promotion).
    pub fn epoch(&self) -> f64 {
        self.client.epoch() as f64
    }

    /// This tab's id.
    pub fn tab_id(&self) -> String {
        self.client.tab_id()
    }

    /// Number of live tabs, as the worker last said.
    pub fn tabs(&self) -> f64 {
        self.client.tabs() as f64
    }

    /// This browser's SIP instance id for the app (kept in `localStorage`
    /// as `tabphone:instance:<app>`): the same in every tab.
    pub fn instance_id(&self) -> String {
        self.client.instance_id()
    }
}

#[wasm_bindgen]
impl TabPhone {
    /// Join the worker at `worker_url` (the module loader `worker.js`).
    /// Options: `{app?, tabId?, sip?, media?}`; with `sip`, the real tab runs
    /// the SIP phone. Throws `{code: "bad_options", message}` for bad options.
    /// The action methods (`call`, `answer`, ... `unregister`: `dispatch`
    /// with their arguments) are `browser.js`'s, one export for them all;
    /// so are the getters (`role`, ... `instanceId`: `field`).
    #[wasm_bindgen(unchecked_return_type = "TabPhone")]
    pub fn connect(
        worker_url: &str,
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let mut opts = Options::default();
        if let Some(app) = get(&options, "app").as_string() {
            opts.app = app;
        }
        opts.tab_id = get(&options, "tabId").as_string();
        let sip = get(&options, "sip");
        let (client, handler) = if sip.is_undefined() {
            let handler = Rc::new(RefCell::new(None));
            let h = handler.clone();
            let factory = move || -> Box<dyn RealPhone> { Box::new(JsPhone { handler: h.clone() }) };
            (TabClient::connect(worker_url, opts, Box::new(factory)), Some(handler))
        } else {
            let client = PhoneOptions::from_js(&sip, &get(&options, "media"))
                .and_then(|phone| TabClient::connect_phone(worker_url, opts, phone))
                .map_err(|e| error_object(OptionsError::CODE, &e.message))?;
            (client, None)
        };
        let listeners: Listeners = Rc::new(RefCell::new(Vec::new()));
        let l = listeners.clone();
        client.on_phone_event(move |event| {
            let targets = listeners_of(&l.borrow(), event.name());
            if !targets.is_empty() {
                call_all(targets, &event_detail(&event.to_json()));
            }
        });
        Ok(with_methods(TabPhone { client, handler, listeners }.into()))
    }

    /// The getters `role`, `epoch`, `tabId`, `tabs` and `instanceId` (typed
    /// in typings.rs): `browser.js` defines them over this one export, their
    /// `field` 0 to 4 in that order.
    #[wasm_bindgen(skip_typescript)]
    pub fn field(&self, field: u32) -> JsValue {
        match field {
            0 => JsValue::from_str(self.client.role().as_str()),
            1 => JsValue::from_f64(self.epoch()),
            2 => JsValue::from_str(&self.tab_id()),
            3 => JsValue::from_f64(self.tabs()),
            _ => JsValue::from_str(&self.instance_id()),
        }
    }

    /// The latest shared state (parsed; `null` while there is none).
    #[wasm_bindgen(unchecked_return_type = "PhoneState | null")]
    pub fn state(&self) -> JsValue {
        json_value(&self.client.state())
    }

    /// Listen to an event (see `TabPhoneEventMap` in the typings).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, callback: Function) {
        let phone = PHONE_EVENTS.contains(&event);
        if phone {
            self.listeners.borrow_mut().push((event.to_owned(), callback.clone()));
        }
        if !phone || event == "error" {
            self.client.on_js(event, callback);
        }
    }

    /// Perform action `name(args)` on the real phone, wherever it is.
    /// Resolves with its result, rejects with `{code, message, status?}`.
    #[wasm_bindgen(skip_typescript)]
    pub fn dispatch(&self, name: &str, args: JsValue) -> Promise {
        self.client.dispatch(name, args)
    }

    /// Without `sip` options only: the function the real tab runs for every
    /// action, `(name, args) => value | Promise`.
    #[wasm_bindgen(js_name = setActionHandler)]
    pub fn set_action_handler(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(name: string, args: unknown) => unknown")] handler: Function,
    ) -> Result<(), JsValue> {
        match &self.handler {
            Some(h) => {
                *h.borrow_mut() = Some(handler);
                Ok(())
            }
            None => Err(error_object("unsupported", "the SIP phone performs the actions itself")),
        }
    }

    /// Without `sip` options only: publish the real's state to every tab.
    /// Throws `{code, message}` in a dummy.
    pub fn publish(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown")] state: JsValue,
    ) -> Result<(), JsValue> {
        if self.handler.is_none() {
            return Err(error_object("unsupported", "the SIP phone publishes its own state"));
        }
        self.client.publish(state)
    }

    /// Make this tab the real one: its calls (and their sound) move here, in
    /// a coordinated handover; the old real stops without unregistering.
    /// Resolves with `{epoch}` once this tab is real (at once if it is);
    /// rejects with `{code, message}` (`real_gone` when another tab was made
    /// real meanwhile, `worker_gone` without a worker). Call it from a click:
    /// the tab then has the user gesture the browser wants to play audio.
    #[wasm_bindgen(js_name = takeOver, unchecked_return_type = "Promise<{ epoch: number }>")]
    pub fn take_over(&self) -> Promise {
        self.client.take_over_promise()
    }

    /// Leave now. Other tabs take over the calls; the app's `close()` on the
    /// last tab hangs up and unregisters (a page going away keeps the calls
    /// for a reload instead).
    pub fn close(&self) {
        self.client.close();
    }
}
