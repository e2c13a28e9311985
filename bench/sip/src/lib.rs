//! The SIP core's parser and serializer behind a tiny wasm-bindgen surface,
//! for `cargo xtask bench` (Node, side by side with SIP.js and JsSIP), and a
//! native timing loop (`src/main.rs`).
use tabphone_sip::msg;
use wasm_bindgen::prelude::wasm_bindgen;

/// Parse (with full validation); the number of header fields, or 0 on error.
#[wasm_bindgen]
pub fn parse(text: &str) -> u32 {
    match msg::parse(text.as_bytes()) {
        Ok(m) => m.headers().0.len() as u32,
        Err(_) => 0,
    }
}

/// Parse, then serialize again; the length of the output, or 0 on error.
#[wasm_bindgen]
pub fn parse_serialize(text: &str) -> u32 {
    match msg::parse(text.as_bytes()) {
        Ok(m) => m.encode().len() as u32,
        Err(_) => 0,
    }
}

/// Parse `text` `n` times inside wasm (no JS boundary per message); the sum of
/// the header counts.
#[wasm_bindgen]
pub fn parse_many(text: &str, n: u32) -> u32 {
    (0..n).map(|_| parse(text)).fold(0u32, u32::wrapping_add)
}

/// The cost of handing a string to wasm and nothing else.
#[wasm_bindgen]
pub fn length(text: &str) -> u32 {
    text.len() as u32
}

/// [`parse`] on UTF-8 bytes (from `TextEncoder.encode`, or a binary frame).
#[wasm_bindgen]
pub fn parse_bytes(bytes: &[u8]) -> u32 {
    match msg::parse(bytes) {
        Ok(m) => m.headers().0.len() as u32,
        Err(_) => 0,
    }
}
