//! What the real tab runs: the [`RealPhone`] trait an app's (or tabphone's)
//! phone implements, the [`PhoneContext`] it is started with, and why it
//! stops ([`StopKind`]).
use std::cell::RefCell;
use std::rc::Weak;

use js_sys::Promise;
use tabphone_coord::protocol::ErrorCode;
use tabphone_coord::Instant;
use tabphone_phone::PhoneEvent;
use wasm_bindgen::JsValue;

use crate::client::{flush, tell, warn, Inner, PhoneListener};

/// The real phone: created when the tab becomes real, stopped and dropped
/// when it stops being real. [`crate::phone::BrowserPhone`] is the SIP phone;
/// an app may plug in its own. Methods take `&self`: app code runs from
/// inside them (listeners of the state it publishes) and may call back in,
/// so an implementation keeps its state behind its own interior mutability.
pub trait RealPhone {
    /// The tab became real (holds the real lock): connect, register.
    /// `context` publishes its state and events, and names this browser's
    /// stable instance id.
    fn start(&self, context: PhoneContext);
    /// The tab is real no more: stop at once, before any more network
    /// traffic, as `kind` says.
    fn stop(&self, kind: StopKind);
    /// Perform an action; resolve with a JSON-serializable value.
    fn perform(&self, name: &str, args: JsValue) -> Promise;
    /// A message came from the worker (at least one ping a second, from a
    /// worker whose timers the browser does not throttle): run what is
    /// overdue, since a hidden tab's own timers may fire a minute late.
    fn tick(&self) {}
    /// This tab may have been replaced while it was frozen: send nothing
    /// until [`RealPhone::resume`] (still real) or [`RealPhone::stop`] (not).
    fn hold(&self) {}
    /// Still real after a [`RealPhone::hold`]: go on.
    fn resume(&self) {}
}

/// Why the real phone stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Another tab takes over: leave the registrar binding and the calls to
    /// it (it resumes them), send nothing.
    Handover,
    /// The page of the last tab goes away (perhaps a reload): keep the
    /// established calls for the reloaded page; unregister when there is none.
    PageHide,
    /// The app closed the last tab's phone: hang up, unregister.
    Close,
}

/// What a [`RealPhone`] is given when it starts. Holds the client weakly:
/// keeping it creates no reference cycle.
#[derive(Clone)]
pub struct PhoneContext {
    pub(crate) client: Weak<RefCell<Inner>>,
    pub(crate) instance_id: String,
    pub(crate) app: String,
    pub(crate) inherit: Option<String>,
}

impl PhoneContext {
    /// Publish the state (JSON text) to every tab. Fails with `(code,
    /// message)` once this tab is no longer real, or for a state over the
    /// size limit.
    pub fn publish(&self, state: &str) -> Result<(), (String, String)> {
        match self.published(state) {
            Some(result) => result.map_err(|(code, message)| (code.as_str().to_owned(), message)),
            None => Err((String::from("worker_gone"), String::from("the tab client is gone"))),
        }
    }

    /// [`PhoneContext::publish`] for the phone, which only asks whether the
    /// state went out (no texts made for it): `None` when the client is gone.
    pub(crate) fn published(&self, state: &str) -> Option<Result<(), (ErrorCode, String)>> {
        let rc = self.client.upgrade()?;
        let result = rc.borrow_mut().core.publish(state);
        flush(&rc);
        Some(result)
    }

    /// Tell this tab's phone listeners ([`crate::TabClient::on_phone_event`]) of an
    /// event that only the real phone sees (a trace line, DTMF or a message
    /// received, an error); the others every tab derives from the state.
    pub fn emit(&self, event: &PhoneEvent) {
        let Some(rc) = self.client.upgrade() else { return };
        let listeners: Vec<PhoneListener> = rc.borrow().phone_listeners.clone();
        for l in &listeners {
            tell(l, event);
        }
    }

    /// Send an event that only the real phone sees to the other tabs' phone
    /// listeners too ([`PhoneEvent::relayed`]: transfers, DTMF and messages
    /// received, errors), through the worker. Nothing when this tab is not
    /// (or no longer) the real.
    pub fn relay(&self, event: &PhoneEvent) {
        let Some(rc) = self.client.upgrade() else { return };
        let relayed = rc.borrow_mut().core.relay(&event.to_json());
        flush(&rc);
        if let Err((code, message)) = relayed {
            if code != ErrorCode::NotReal {
                warn("an event not relayed: ", &message);
            }
        }
    }

    /// This browser's SIP instance id for the app (`+sip.instance`): the
    /// same in every tab and after reloads, so every real replaces one binding.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// May the real phone act now? `false` when this tab may have been
    /// replaced while it was frozen: hold every input until the client says
    /// [`RealPhone::resume`] or [`RealPhone::stop`] (the coordinator is checking).
    pub fn may_act(&self) -> bool {
        let Some(rc) = self.client.upgrade() else { return false };
        let ok = rc.borrow_mut().core.real_may_act(Instant::now());
        flush(&rc);
        ok
    }

    /// The app name (tabs of one app share one real phone).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The state the previous real published last (JSON text), whose calls
    /// this phone takes over; `None` when this tab saw none.
    pub fn inherit(&self) -> Option<&str> {
        self.inherit.as_deref()
    }
}
