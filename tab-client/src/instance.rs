//! The SIP instance id (`+sip.instance`, RFC 5626) of this browser profile
//! for an app: kept in `localStorage` under `tabphone:instance:<app>`, made
//! once, the same in every tab and after reloads, so that every real tab of
//! the app replaces one registrar binding instead of adding one.
use wasm_bindgen::prelude::*;

/// The storage key for `app`.
pub(crate) fn storage_key(app: &str) -> String {
    crate::cat(&["tabphone:instance:", app])
}

/// The app's instance id: the stored one, or a new random UUID (stored).
/// Without storage (disabled, or outside a page) a new id each time: one
/// binding per real then, which the registrar expires.
pub(crate) fn stable_id(app: &str) -> String {
    instance_id(&storage_key(app))
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// `crypto.getRandomValues(bytes)`, else `Math.random` for each.
    #[wasm_bindgen(js_name = fillRandom)]
    fn fill_random(bytes: &mut [u8]);
    /// The UUID stored under `key`, else a new version 4 one from
    /// `fillRandom`, stored (`browser.js` has the work).
    #[wasm_bindgen(js_name = instanceId)]
    fn instance_id(key: &str) -> String;
}

/// `N` random bytes: `crypto.getRandomValues`, else `Math.random`.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// A 64-bit seed for the phone's randomness (`Config::sip.seed`).
pub(crate) fn random_seed() -> u64 {
    u64::from_le_bytes(random_bytes::<8>())
}
