//! An event listener that owns its closure and removes itself when dropped
//! (gloo-events style), for the page, the SIP socket and the media objects.
use wasm_bindgen::prelude::*;
use web_sys::{Event, EventTarget};

/// A listener on `target` for `name`; dropping it removes it, and no callback
/// runs after that.
#[must_use = "dropping the Listener removes it"]
pub(crate) struct Listener {
    target: EventTarget,
    name: &'static str,
    /// Given the `Event`. A `JsValue` closure, the type of every closure
    /// here (the ports', the locks'): each closure type costs the wasm its own glue.
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Listen to `name` events on `target`.
    pub(crate) fn new(target: &EventTarget, name: &'static str, f: impl FnMut(Event) + 'static) -> Listener {
        Listener::boxed(target, name, Box::new(f))
    }

    /// The work of [`Listener::new`], once for every callback type.
    #[inline(never)]
    fn boxed(target: &EventTarget, name: &'static str, mut f: Box<dyn FnMut(Event)>) -> Listener {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| f(e.unchecked_into()));
        // addEventListener throws only for a non-callable listener, which a Closure never is.
        let _ = target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        Listener { target: target.clone(), name, callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.name, self.callback.as_ref().unchecked_ref());
    }
}
