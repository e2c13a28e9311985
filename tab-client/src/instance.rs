//! The SIP instance id (`+sip.instance`, RFC 5626) of this browser profile
//! for an app: kept in `localStorage` under `tabphone:instance:<app>`, made
//! once, the same in every tab and after reloads, so that every real tab of
//! the app replaces one registrar binding instead of adding one.
use wasm_bindgen::prelude::*;

use crate::saved::{get_item, set_item};

/// The storage key for `app`.
pub(crate) fn storage_key(app: &str) -> String {
    crate::cat(&["tabphone:instance:", app])
}

/// The app's instance id: the stored one, or a new random UUID (stored).
/// Without storage (disabled, or outside a page) a new id each time: one
/// binding per real then, which the registrar expires.
pub(crate) fn stable_id(app: &str) -> String {
    let key = storage_key(app);
    if let Some(id) = get_item(&key).filter(|id| is_uuid(id)) {
        return id;
    }
    let id = new_uuid();
    // A full or disabled storage leaves the id unstored: see above.
    set_item(&key, Some(&id));
    id
}

/// A version 4 UUID from the platform's cryptographic random source
/// (`Math.random` where there is none).
fn new_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut id = String::with_capacity(36);
    for (i, x) in b.into_iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        tabphone_json::push_hex(&mut id, &[x]);
    }
    id
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// `crypto.getRandomValues(bytes)`, else `Math.random` for each.
    #[wasm_bindgen(js_name = fillRandom)]
    fn fill_random(bytes: &mut [u8]);
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

fn is_uuid(s: &str) -> bool {
    if s.len() != 36 {
        return false;
    }
    for (i, c) in s.bytes().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn uuids() {
        assert!(is_uuid("6c1f1c9e-1111-4a4a-8b8b-000000000001"));
        assert!(!is_uuid("6c1f1c9e11114a4a8b8b000000000001"));
        assert!(!is_uuid("6c1f1c9e-1111-4a4a-8b8b-00000000000g"));
    }
}
