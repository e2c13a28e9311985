//! Browser glue shared by the tabphone worker and tab client.
//!
//! - [`Lock`]: a Web Lock request that owns its callbacks and releases (or
//!   abandons) the lock when dropped.
//! - [`query_locks`]: what the lock manager holds and queues, read by
//!   [`lock_snapshot`] as the coordinator's [`LockSnapshot`].
//!
//! Everything here is thin: no decisions, only calls into the browser.
use js_sys::{Array, Function};
use tabphone_coord::{LockInfo, LockSnapshot};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/locks.js")]
extern "C" {
    #[wasm_bindgen(js_name = holdLock)]
    fn hold_lock(
        name: &str,
        shared: bool,
        steal: bool,
        on_granted: &Function,
        on_lost: &Function,
    ) -> Function;

    #[wasm_bindgen(js_name = queryLocks)]
    fn query_locks_js(on_done: &JsValue);
}

/// A held or requested Web Lock. Dropping it releases the lock, or withdraws
/// the request if it was not granted yet; no callback runs after that.
#[must_use = "dropping the Lock releases it"]
pub struct Lock {
    release: Function,
    _granted: Closure<dyn FnMut()>,
    /// Given the error name (a string). A `JsValue` closure, the type
    /// [`query_locks`]' has: each closure type costs the wasm its own glue.
    _lost: Closure<dyn FnMut(JsValue)>,
}

/// How to ask for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One holder at a time; wait for it.
    Exclusive,
    /// Many shared holders; waits while an exclusive holder has it.
    Shared,
    /// Exclusive, taken from the current holder at once.
    Steal,
}

impl Lock {
    /// Ask for lock `name`. `on_granted` runs once when it is held; `on_lost`
    /// when the request fails or the held lock is stolen (with the error name).
    pub fn request(
        name: &str,
        mode: Mode,
        on_granted: impl FnOnce() + 'static,
        on_lost: impl FnOnce(String) + 'static,
    ) -> Lock {
        Lock::boxed(name, mode, Box::new(on_granted), Box::new(on_lost))
    }

    /// The work of [`Lock::request`], once for every pair of callback types.
    #[inline(never)]
    fn boxed(
        name: &str,
        mode: Mode,
        on_granted: Box<dyn FnOnce()>,
        on_lost: Box<dyn FnOnce(String)>,
    ) -> Lock {
        let mut on_granted = Some(on_granted);
        let mut on_lost = Some(on_lost);
        let granted = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = on_granted.take() {
                f()
            }
        });
        let lost = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(f) = on_lost.take() {
                f(e.as_string().unwrap_or_default())
            }
        });
        let release = hold_lock(
            name,
            mode == Mode::Shared,
            mode == Mode::Steal,
            granted.as_ref().unchecked_ref(),
            lost.as_ref().unchecked_ref(),
        );
        Lock { release, _granted: granted, _lost: lost }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Releasing cannot fail: the function only resolves a promise.
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// A random 128-bit hex id from `Math.random`: names locks and tabs, guards nothing.
pub fn random_id() -> String {
    let mut id = String::with_capacity(32);
    for _ in 0..4 {
        let n = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
        tabphone_coord::json::push_hex(&mut id, &n.to_be_bytes());
    }
    id
}

/// Ask the lock manager for every lock of the origin, held and requested;
/// `on_done` is called once with the answer, which [`lock_snapshot`] reads.
/// The caller owns `on_done` (one closure for all its queries: a closure type
/// per query costs the wasm its own glue) and keeps it until the answer came.
pub fn query_locks(on_done: &Closure<dyn FnMut(JsValue)>) {
    query_locks_js(on_done.as_ref());
}

/// The answer given to [`query_locks`]' callback, or `None` if the query failed.
pub fn lock_snapshot(answer: &JsValue) -> Option<LockSnapshot> {
    answer.dyn_ref::<Array>().map(|s| LockSnapshot { held: infos(s.get(0)), pending: infos(s.get(1)) })
}

/// The `LockInfo`s of a flat list `locks.js` made: name, client id,
/// whether shared, for each.
fn infos(flat: JsValue) -> Vec<LockInfo> {
    let flat: Array = flat.unchecked_into();
    let text = |i| flat.get(i).as_string().unwrap_or_default();
    let mut infos = Vec::new();
    let mut i = 0;
    while i + 3 <= flat.length() {
        infos.push(LockInfo { name: text(i), client: text(i + 1), shared: flat.get(i + 2).is_truthy() });
        i += 3;
    }
    infos
}
