//! The SIP instance id (`+sip.instance`, RFC 5626) of this browser profile
//! for an app: kept in `localStorage` under `tabphone:instance:<app>`, made
//! once, the same in every tab and after reloads, so that every real tab of
//! the app replaces one registrar binding instead of adding one.
/// The storage key for `app`.
pub(crate) fn storage_key(app: &str) -> String {
    crate::cat(&["tabphone:instance:", app])
}

/// The app's instance id: the stored one, or a new random UUID (stored).
/// Without storage (disabled, or outside a page) a new id each time: one
/// binding per real then, which the registrar expires.
pub(crate) fn stable_id(app: &str) -> String {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let key = storage_key(app);
    if let Some(id) = storage.as_ref().and_then(|s| s.get_item(&key).ok().flatten()).filter(|id| is_uuid(id))
    {
        return id;
    }
    let id = new_uuid();
    if let Some(s) = &storage {
        // A full or disabled storage leaves the id unstored: see above.
        let _ = s.set_item(&key, &id);
    }
    id
}

/// A version 4 UUID from the platform's cryptographic random source
/// (`Math.random` where there is none).
fn new_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, x) in b.into_iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(x >> 4)]));
        id.push(char::from(HEX[usize::from(x & 0x0f)]));
    }
    id
}

/// `N` random bytes: `crypto.getRandomValues`, else `Math.random`.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok()) {
        return bytes;
    }
    for b in &mut bytes {
        *b = (js_sys::Math::random() * 256.0) as u8;
    }
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
