//! The page's events and state, from `browser.js`: an event listener that
//! owns its closure and removes itself when dropped (gloo-events style), and
//! the page's visibility and focus, for the client, the driver and the calls.
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// Calls `on` at each of the space-separated `names` events of the
    /// window or document (`target`); returns the function that stops it.
    fn listen(target: &str, names: &str, on: &JsValue) -> Function;
    /// 0 outside a page; else 1, plus 2 when the page is visible, plus 4
    /// when it has the focus.
    #[wasm_bindgen(js_name = pageState)]
    fn page_state() -> u32;
    /// Whether the browser says it is offline (false outside a page).
    pub(crate) fn offline() -> bool;
}

/// Where a [`Listener`] listens.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Window,
    Document,
}

/// A listener on the window or document for one or more events (their
/// names space-separated); dropping it removes it, and no callback runs
/// after that. Outside a page it listens to nothing.
#[must_use = "dropping the Listener removes it"]
pub(crate) struct Listener {
    off: Function,
    /// A `JsValue` closure, the type of every closure here (the ports', the
    /// locks'): each closure type costs the wasm its own glue.
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Listen to `names` events on `target`.
    pub(crate) fn new(target: Target, names: &'static str, f: impl FnMut() + 'static) -> Listener {
        Listener::boxed(target, names, Box::new(f))
    }

    /// The work of [`Listener::new`], once for every callback type.
    #[inline(never)]
    fn boxed(target: Target, names: &'static str, mut f: Box<dyn FnMut()>) -> Listener {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| f());
        let target = match target {
            Target::Window => "window",
            Target::Document => "document",
        };
        let off = listen(target, names, callback.as_ref());
        Listener { off, _callback: callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.off.call0(&JsValue::NULL);
    }
}

/// Whether the page is visible and has the focus; `(true, false)` outside a page.
pub(crate) fn page_focus() -> (bool, bool) {
    let state = page_state();
    (state == 0 || state & 2 != 0, state & 4 != 0)
}

/// Whether the page is visible (false outside a page).
pub(crate) fn page_visible() -> bool {
    page_state() & 2 != 0
}
