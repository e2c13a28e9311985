//! Promise continuations without a futures runtime: [`then`] keeps a
//! function under an id and `browser.js`'s `settleInto` hands the promise's
//! outcome, with that id, to one callback, which runs it. (An `async fn`
//! per site would link `wasm_bindgen_futures`' executor, its queue and
//! wakers, and a state machine with its drop glue per site.)
use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

/// What runs when a promise settles: its value, or what it rejected with.
pub(crate) type Then = Box<dyn FnOnce(Result<JsValue, JsValue>)>;

/// The continuations waiting, by id (a plain list: few wait at a time), and
/// the one callback `settleInto` calls (made on first use, kept for good).
struct Waiting {
    next: u32,
    list: Vec<(u32, Then)>,
    callback: Option<Closure<dyn FnMut(JsValue)>>,
}

thread_local! {
    static WAITING: RefCell<Waiting> = const { RefCell::new(Waiting { next: 0, list: Vec::new(), callback: None }) };
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// Calls `on` with `[id, true, value]` or `[id, false, reason]` once
    /// `promise` settles.
    #[wasm_bindgen(js_name = settleInto)]
    fn settle_into(promise: &Promise, id: u32, on: &JsValue);
}

/// Run `f` with the outcome of `promise` once it settles (in a microtask,
/// never on the current stack).
pub(crate) fn then(promise: &Promise, f: Then) {
    WAITING.with(|w| {
        let mut w = w.borrow_mut();
        let id = w.next;
        w.next = id.wrapping_add(1);
        w.list.push((id, f));
        let on = w.callback.get_or_insert_with(|| Closure::new(settled));
        settle_into(promise, id, on.as_ref());
    });
}

/// Run `f` off the current stack (in a microtask).
pub(crate) fn soon(f: Box<dyn FnOnce()>) {
    then(&Promise::resolve(&JsValue::UNDEFINED), Box::new(move |_| f()));
}

/// `settleInto`'s callback: the continuation waiting under the id, run with
/// no borrow held (it may wait on another promise).
fn settled(outcome: JsValue) {
    let outcome: js_sys::Array = outcome.unchecked_into();
    let id = outcome.get(0).as_f64().unwrap_or(-1.0) as u32;
    let value = outcome.get(2);
    let result = if outcome.get(1).is_truthy() { Ok(value) } else { Err(value) };
    let f = WAITING.with(|w| {
        let mut w = w.borrow_mut();
        let i = w.list.iter().position(|(k, _)| *k == id)?;
        Some(w.list.swap_remove(i).1)
    });
    if let Some(f) = f {
        f(result);
    }
}
