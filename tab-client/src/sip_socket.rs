//! SIP over WebSocket (RFC 7118) in the browser: a `WebSocket` with the `sip`
//! subprotocol whose frames reach Rust as bytes.
//!
//! Thin glue: no SIP here. The core decides what to send and what a frame
//! means; this wrapper only moves bytes and reports what the browser says.
use std::fmt;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::cat;

/// The hand-written browser side (`tab-client/js/browser.js`).
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/js/browser.js")]
    extern "C" {
        pub type Socket;
        #[wasm_bindgen(constructor, catch)]
        pub fn new(url: &str, on: &JsValue) -> Result<Socket, JsValue>;
        #[wasm_bindgen(method, getter, js_name = open)]
        pub fn is_open(this: &Socket) -> bool;
        #[wasm_bindgen(method, getter)]
        pub fn buffered(this: &Socket) -> u32;
        #[wasm_bindgen(method, getter)]
        pub fn url(this: &Socket) -> String;
        #[wasm_bindgen(method, catch)]
        pub fn send(this: &Socket, text: &str) -> Result<(), JsValue>;
        #[wasm_bindgen(method, catch, js_name = send)]
        pub fn send_bytes(this: &Socket, bytes: &[u8]) -> Result<(), JsValue>;
        #[wasm_bindgen(method)]
        pub fn detach(this: &Socket);
    }
}

/// What the socket reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum SocketEvent {
    /// The connection is open; `protocol` is the subprotocol the server
    /// chose (the browser fails the handshake when it chose none).
    Open {
        /// The negotiated subprotocol, `sip`.
        protocol: String,
    },
    /// One frame: a text frame as its UTF-8 bytes, a binary frame as is.
    Message {
        /// The frame's payload.
        data: Vec<u8>,
    },
    /// The browser reported an error (it gives no detail); a `Closed`
    /// follows.
    Error,
    /// The connection closed or could not be opened.
    Closed {
        /// The close code (1006 when the connection dropped without a close frame).
        code: u16,
        /// The close reason the server gave, if any.
        reason: String,
        /// Whether the closing handshake completed.
        clean: bool,
    },
}

/// Why a socket call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub enum SocketError {
    /// The URL was refused by the browser (not `ws://` or `wss://`, or malformed).
    BadUrl {
        /// The URL given.
        url: String,
        /// The browser's message.
        message: String,
    },
    /// `send` while the socket is not open.
    NotOpen,
    /// The browser refused to send.
    Send {
        /// The browser's message.
        message: String,
    },
}

impl SocketError {
    /// A stable code for the error: `bad_url`, `not_open`, `send_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            SocketError::BadUrl { .. } => "bad_url",
            SocketError::NotOpen => "not_open",
            SocketError::Send { .. } => "send_failed",
        }
    }
}

impl SocketError {
    /// What went wrong, in words (its `Display`), built without `core::fmt`.
    pub(crate) fn message(&self) -> String {
        match self {
            SocketError::BadUrl { url, message } => cat(&["cannot open a WebSocket to ", url, ": ", message]),
            SocketError::NotOpen => String::from("the WebSocket is not open"),
            SocketError::Send { message } => cat(&["the WebSocket refused to send: ", message]),
        }
    }

    /// `code: message`, as the phone's error events say it.
    pub(crate) fn coded(&self) -> String {
        cat(&[self.code(), ": ", &self.message()])
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for SocketError {}

/// A browser WebSocket speaking SIP. Events go to the callback given to
/// [`SipSocket::connect`], one at a time, from the browser's event loop.
/// Dropping the socket removes its listeners (no callback runs after that)
/// and closes the connection.
#[must_use = "dropping the SipSocket closes it"]
pub struct SipSocket {
    js: js::Socket,
    /// Given each event as `[kind, ...fields]` (see `browser.js`). A `JsValue`
    /// closure, the type of every listener: each closure type costs the wasm its own glue.
    _on: Closure<dyn FnMut(JsValue)>,
}

impl SipSocket {
    /// Open a connection to `url` (`ws://` or `wss://`) with subprotocol
    /// `sip`. Returns at once; [`SocketEvent::Open`] or
    /// [`SocketEvent::Closed`] follows.
    pub fn connect(url: &str, on_event: impl FnMut(SocketEvent) + 'static) -> Result<SipSocket, SocketError> {
        SipSocket::boxed(url, Box::new(on_event))
    }

    /// The work of [`SipSocket::connect`], once for every callback type.
    #[inline(never)]
    fn boxed(url: &str, mut on_event: Box<dyn FnMut(SocketEvent)>) -> Result<SipSocket, SocketError> {
        // One event at a time: the browser never nests these events, and a
        // socket dropped from inside its callback gets no event after it.
        let on = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(event) = to_event(e.unchecked_ref()) {
                on_event(event)
            }
        });
        let js = js::Socket::new(url, on.as_ref())
            .map_err(|e| SocketError::BadUrl { url: url.to_owned(), message: js_message(&e) })?;
        Ok(SipSocket { js, _on: on })
    }

    /// Send one message: as a text frame when it is UTF-8 (SIP's usual
    /// case), else as a binary frame.
    pub fn send(&self, message: &[u8]) -> Result<(), SocketError> {
        match std::str::from_utf8(message) {
            Ok(text) => self.send_text(text),
            Err(_) if !self.is_open() => Err(SocketError::NotOpen),
            Err(_) => self.js.send_bytes(message).map_err(send_failed),
        }
    }

    /// Send one text message as a text frame (the phone's path: what it
    /// sends is text, so the bytes' path is left out of the shipped wasm).
    pub(crate) fn send_text(&self, text: &str) -> Result<(), SocketError> {
        if !self.is_open() {
            return Err(SocketError::NotOpen);
        }
        self.js.send(text).map_err(send_failed)
    }

    /// Whether the connection is open.
    pub fn is_open(&self) -> bool {
        self.js.is_open()
    }

    /// Bytes queued by `send` and not yet handed to the network.
    pub fn buffered(&self) -> u32 {
        self.js.buffered()
    }

    /// The URL this socket was opened with.
    pub fn url(&self) -> String {
        self.js.url()
    }

    /// Start closing (code 1000). [`SocketEvent::Closed`] follows while the
    /// socket is kept; dropping it closes silently.
    pub fn close(&self) {
        self.js.unchecked_ref::<crate::Closable>().close();
    }
}

impl Drop for SipSocket {
    fn drop(&mut self) {
        // Before the callback goes: `browser.js` calls it no more.
        self.js.detach();
    }
}

/// A `browser.js` event (`[kind, ...fields]`). A frame's payload comes as
/// bytes: a text frame as its UTF-8 (encoded by the browser into one array,
/// copied once into wasm), a binary frame as is.
fn to_event(e: &Array) -> Option<SocketEvent> {
    let text = |i| crate::text_at(e, i);
    Some(match text(0).as_str() {
        "open" => SocketEvent::Open { protocol: text(1) },
        "message" => SocketEvent::Message { data: e.get(1).unchecked_into::<Uint8Array>().to_vec() },
        "error" => SocketEvent::Error,
        "close" => SocketEvent::Closed {
            code: e.get(1).as_f64().unwrap_or(1006.0) as u16,
            reason: text(2),
            clean: e.get(3).is_truthy(),
        },
        _ => return None,
    })
}

fn send_failed(e: JsValue) -> SocketError {
    SocketError::Send { message: js_message(&e) }
}

/// The message of a thrown JS value (see [`any_error_parts`]).
pub(crate) fn js_message(e: &JsValue) -> String {
    any_error_parts(e).1
}

/// The name and message of any thrown or rejected value: [`error_parts`],
/// else `Error` and the value's text (`unknown error` when it is no text).
pub(crate) fn any_error_parts(e: &JsValue) -> (String, String) {
    error_parts(e).unwrap_or_else(|| {
        (String::from("Error"), e.as_string().unwrap_or_else(|| String::from("unknown error")))
    })
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = errorParts)]
    fn error_parts_js(e: &JsValue) -> JsValue;
}

/// The name and message of a thrown or rejected `Error` (a `DOMException`
/// too); `None` for another value.
pub(crate) fn error_parts(e: &JsValue) -> Option<(String, String)> {
    let parts = error_parts_js(e);
    let parts: &Array = parts.dyn_ref()?;
    Some((crate::text_at(parts, 0), crate::text_at(parts, 1)))
}
