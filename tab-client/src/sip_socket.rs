//! SIP over WebSocket (RFC 7118) in the browser: a `WebSocket` with the `sip`
//! subprotocol whose frames reach Rust as bytes.
//!
//! Thin glue: no SIP here. The core decides what to send and what a frame
//! means; this wrapper only moves bytes and reports what the browser says.
use std::fmt;

use js_sys::{ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::listen::Listener;

#[wasm_bindgen]
extern "C" {
    /// `TextEncoder`, bound here to take a JS string as it is (web-sys's
    /// `encode_with_input` takes a Rust `&str`, which would copy it into
    /// wasm first).
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = "TextEncoder")]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_class = "TextEncoder")]
    fn encode(this: &Utf8Encoder, text: &JsString) -> Uint8Array;
}

/// What the socket reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::BadUrl { url, message } => write!(f, "cannot open a WebSocket to {url}: {message}"),
            SocketError::NotOpen => f.write_str("the WebSocket is not open"),
            SocketError::Send { message } => write!(f, "the WebSocket refused to send: {message}"),
        }
    }
}

impl std::error::Error for SocketError {}

/// A browser WebSocket speaking SIP. Events go to the callback given to
/// [`SipSocket::connect`], one at a time, from the browser's event loop.
/// Dropping the socket removes its listeners (no callback runs after that)
/// and closes the connection.
#[must_use = "dropping the SipSocket closes it"]
pub struct SipSocket {
    ws: WebSocket,
    _listeners: [Listener; 4],
}

impl SipSocket {
    /// Open a connection to `url` (`ws://` or `wss://`) with subprotocol
    /// `sip`. Returns at once; [`SocketEvent::Open`] or
    /// [`SocketEvent::Closed`] follows.
    pub fn connect(url: &str, on_event: impl FnMut(SocketEvent) + 'static) -> Result<SipSocket, SocketError> {
        let ws = WebSocket::new_with_str(url, "sip")
            .map_err(|e| SocketError::BadUrl { url: url.to_owned(), message: js_message(&e) })?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event = std::rc::Rc::new(std::cell::RefCell::new(on_event));
        let emit = move |event: SocketEvent| {
            // One event at a time: the browser never nests these events, so
            // the borrow cannot be held already unless the callback dropped
            // the socket from inside itself, which removed the listeners.
            if let Ok(mut f) = on_event.try_borrow_mut() {
                f(event)
            }
        };
        let emit = std::rc::Rc::new(emit);
        let target: &web_sys::EventTarget = ws.as_ref();
        let (e1, e2, e3, e4) = (emit.clone(), emit.clone(), emit.clone(), emit);
        let socket = ws.clone();
        let listeners = [
            Listener::new(target, "open", move |_| e1(SocketEvent::Open { protocol: socket.protocol() })),
            Listener::new(target, "message", move |e| {
                if let Some(data) = frame_bytes(&e.unchecked_into::<MessageEvent>().data()) {
                    e2(SocketEvent::Message { data })
                }
            }),
            Listener::new(target, "error", move |_| e3(SocketEvent::Error)),
            Listener::new(target, "close", move |e| {
                let e = e.unchecked_into::<CloseEvent>();
                e4(SocketEvent::Closed { code: e.code(), reason: e.reason(), clean: e.was_clean() })
            }),
        ];
        Ok(SipSocket { ws, _listeners: listeners })
    }

    /// Send one message: as a text frame when it is UTF-8 (SIP's usual
    /// case), else as a binary frame.
    pub fn send(&self, message: &[u8]) -> Result<(), SocketError> {
        if !self.is_open() {
            return Err(SocketError::NotOpen);
        }
        let sent = match std::str::from_utf8(message) {
            Ok(text) => self.ws.send_with_str(text),
            Err(_) => self.ws.send_with_u8_array(message),
        };
        sent.map_err(|e| SocketError::Send { message: js_message(&e) })
    }

    /// Whether the connection is open.
    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    /// Bytes queued by `send` and not yet handed to the network.
    pub fn buffered(&self) -> u32 {
        self.ws.buffered_amount()
    }

    /// The URL this socket was opened with.
    pub fn url(&self) -> String {
        self.ws.url()
    }

    /// Start closing (code 1000). [`SocketEvent::Closed`] follows while the
    /// socket is kept; dropping it closes silently.
    pub fn close(&self) {
        // close(1000) throws only for an invalid code or an overlong reason.
        let _ = self.ws.close_with_code(1000);
    }
}

impl Drop for SipSocket {
    fn drop(&mut self) {
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            self.close();
        }
    }
}

/// A frame's payload as bytes: text as UTF-8 (encoded by the browser into one
/// array, copied once into wasm), binary as is. `None` for a payload type the
/// socket never gets with `binaryType = "arraybuffer"`.
fn frame_bytes(data: &JsValue) -> Option<Vec<u8>> {
    if let Some(text) = data.dyn_ref::<JsString>() {
        thread_local! {
            static ENCODER: Utf8Encoder = Utf8Encoder::new();
        }
        return Some(ENCODER.with(|e| e.encode(text)).to_vec());
    }
    data.dyn_ref::<ArrayBuffer>().map(|buffer| Uint8Array::new(buffer).to_vec())
}

/// The message of a thrown JS value.
pub(crate) fn js_message(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| String::from("unknown error")),
    }
}
