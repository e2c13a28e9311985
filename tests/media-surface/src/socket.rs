//! `SocketProbe`: a [`SipSocket`] whose events are recorded for the test;
//! `timerCheck`: the [`Timer`]'s firing and re-arming, observed.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, Object, Promise, Reflect};
use tabphone_tab::sip_socket::{SipSocket, SocketError, SocketEvent};
use tabphone_tab::timer::Timer;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_time::Instant;

/// A SIP WebSocket whose events are kept in order.
#[wasm_bindgen]
pub struct SocketProbe {
    socket: RefCell<Option<SipSocket>>,
    log: Rc<RefCell<Vec<JsValue>>>,
}

fn socket_error(e: SocketError) -> JsValue {
    let err = Object::new();
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    let _ = Reflect::set(&err, &"message".into(), &e.to_string().into());
    err.into()
}

/// `{type, ...}` for an event; a message carries its bytes' length and the
/// bytes decoded as UTF-8 (lossy: a wrong byte shows as U+FFFD).
fn event_object(event: SocketEvent) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &k.into(), &v);
    };
    match event {
        SocketEvent::Open { protocol } => {
            set("type", "open".into());
            set("protocol", protocol.into());
        }
        SocketEvent::Message { data } => {
            set("type", "message".into());
            set("bytes", (data.len() as u32).into());
            set("text", String::from_utf8_lossy(&data).as_ref().into());
        }
        SocketEvent::Error => set("type", "error".into()),
        SocketEvent::Closed { code, reason, clean } => {
            set("type", "closed".into());
            set("code", code.into());
            set("reason", reason.into());
            set("clean", clean.into());
        }
        other => set("type", format!("{other:?}").into()),
    }
    o.into()
}

#[wasm_bindgen]
impl SocketProbe {
    /// Connect to `url`; throws `{code, message}` for a URL the browser refuses.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str) -> Result<SocketProbe, JsValue> {
        let log: Rc<RefCell<Vec<JsValue>>> = Rc::default();
        let sink = log.clone();
        let socket = SipSocket::connect(url, move |e| sink.borrow_mut().push(event_object(e)))
            .map_err(socket_error)?;
        Ok(SocketProbe { socket: RefCell::new(Some(socket)), log })
    }

    /// Send a text message; throws `{code, message}`.
    pub fn send(&self, text: &str) -> Result<(), JsValue> {
        self.send_bytes(text.as_bytes())
    }

    /// Send bytes (a binary frame unless they are UTF-8); throws `{code, message}`.
    #[wasm_bindgen(js_name = sendBytes)]
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), JsValue> {
        match self.socket.borrow().as_ref() {
            Some(s) => s.send(bytes).map_err(socket_error),
            None => Err(socket_error(SocketError::NotOpen)),
        }
    }

    /// The events so far.
    pub fn events(&self) -> Array {
        self.log.borrow().iter().cloned().collect()
    }

    /// Whether the socket is open.
    #[wasm_bindgen(getter, js_name = isOpen)]
    pub fn is_open(&self) -> bool {
        self.socket.borrow().as_ref().is_some_and(SipSocket::is_open)
    }

    /// Start closing; the `closed` event follows.
    pub fn close(&self) {
        if let Some(s) = self.socket.borrow().as_ref() {
            s.close();
        }
    }

    /// Drop the socket: it closes, and no event follows.
    pub fn discard(&self) {
        self.socket.borrow_mut().take();
    }
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout = Reflect::get(&js_sys::global(), &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(f) = set_timeout {
            let _ = f.call2(&JsValue::NULL, &resolve, &ms.into());
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Observe the timer: `{armed, unchanged, changed}`, how many `setTimeout`
/// calls (read with `calls()`) arming a deadline, arming it again and
/// changing it made (1, 0, 1 expected); and `{same, earlier, again, disarmed}`, the firing counts
/// after arming one deadline twice (1 expected), moving a deadline earlier
/// (2: the later one never fires), arming the deadline that just fired again
/// (3: it re-arms), and arming then disarming (still 3). Each count is read
/// after a sleep that ends later than the deadlines before it, so the counts
/// depend on the order of timers, not on their precision.
#[wasm_bindgen(js_name = timerCheck)]
pub fn timer_check(calls: js_sys::Function) -> Promise {
    let calls = move || calls.call0(&JsValue::NULL).ok().and_then(|n| n.as_f64()).unwrap_or(f64::NAN);
    future_to_promise(async move {
        let fired = Rc::new(Cell::new(0u32));
        let count = fired.clone();
        let mut timer = Timer::new(move || count.set(count.get() + 1));
        let at = |ms| Some(Instant::now() + Duration::from_millis(ms));
        let first = at(20);
        let n0 = calls();
        timer.set(first);
        let n1 = calls();
        timer.set(first);
        let n2 = calls();
        sleep(80).await;
        let same = fired.get();
        timer.set(at(200));
        let earlier_deadline = at(20);
        let n3 = calls();
        timer.set(earlier_deadline);
        let n4 = calls();
        sleep(300).await;
        let earlier = fired.get();
        timer.set(earlier_deadline);
        sleep(40).await;
        let again = fired.get();
        timer.set(at(20));
        timer.set(None);
        sleep(80).await;
        let disarmed = fired.get();
        let o = Object::new();
        for (k, v) in [("same", same), ("earlier", earlier), ("again", again), ("disarmed", disarmed)] {
            let _ = Reflect::set(&o, &k.into(), &v.into());
        }
        for (k, v) in [("armed", n1 - n0), ("unchanged", n2 - n1), ("changed", n4 - n3)] {
            let _ = Reflect::set(&o, &k.into(), &v.into());
        }
        Ok(o.into())
    })
}
