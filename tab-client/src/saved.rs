//! The real's calls, kept in `localStorage` for a page reload.
//!
//! When the last tab of an app reloads, the worker goes with it and no other
//! tab holds the calls' state; the reloaded tab, once real, takes the calls
//! back from here (see [`tabphone_phone::Inherited`]). The real writes the
//! state it publishes while it has a call, and refreshes the time it was
//! last alive about once a second, so a successor can tell a state its old
//! real held until just now from one a long-closed tab left behind (the
//! phone core decides what is too old to revive).
//!
//! Keys, per app: `tabphone:calls:<app>` (the published state, JSON text,
//! which holds no credentials) and `tabphone:calls-at:<app>` (Unix ms).
//! Nothing is kept when the state has no call.
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// `localStorage.getItem(key)`; `None` without storage.
    #[wasm_bindgen(js_name = getItem)]
    pub(crate) fn get_item(key: &str) -> Option<String>;
    /// `localStorage.setItem(key, value)`, or `removeItem(key)` for `None`;
    /// nothing without storage (disabled, full, outside a page).
    #[wasm_bindgen(js_name = setItem)]
    pub(crate) fn set_item(key: &str, value: Option<&str>);
}

fn keys(app: &str) -> (String, String) {
    (crate::cat(&["tabphone:calls:", app]), crate::cat(&["tabphone:calls-at:", app]))
}

/// `n` in decimal.
fn digits(n: u64) -> String {
    let mut s = String::new();
    tabphone_json::push_u64(&mut s, n);
    s
}

/// A state kept by an earlier real, and when that real was last alive.
pub(crate) struct Saved {
    /// The published state, JSON text.
    pub(crate) state: String,
    /// Unix ms.
    pub(crate) alive_at: u64,
}

/// The kept state, if any.
pub(crate) fn load(app: &str) -> Option<Saved> {
    let (state_key, at_key) = keys(app);
    let state = get_item(&state_key)?;
    let alive_at = tabphone_json::as_u64(&get_item(&at_key)?)?;
    Some(Saved { state, alive_at })
}

/// Keep `state` (a published state with calls) alive at `now_ms`; forget it
/// when `has_calls` is false. A full or disabled storage keeps nothing: a
/// reload then loses the calls, as it would without this module.
pub(crate) fn store(app: &str, state: &str, has_calls: bool, now_ms: u64) {
    let (state_key, at_key) = keys(app);
    if has_calls {
        set_item(&state_key, Some(state));
        set_item(&at_key, Some(&digits(now_ms)));
    } else {
        set_item(&state_key, None);
        set_item(&at_key, None);
    }
}

/// The real is still alive at `now_ms` (only when a state is kept).
pub(crate) fn touch(app: &str, now_ms: u64) {
    let (state_key, at_key) = keys(app);
    if get_item(&state_key).is_some() {
        set_item(&at_key, Some(&digits(now_ms)));
    }
}

/// Forget the kept state (the app closed the phone: its calls were hung up).
pub(crate) fn clear(app: &str) {
    store(app, "", false, 0);
}
