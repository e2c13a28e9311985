//! The worker glue in a real SharedWorker (wasm-bindgen-test): a `Hub` fed
//! through a `MessageChannel`, with real Web Locks and timers.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use tabphone_worker::Hub;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

wasm_bindgen_test_configure!(run_in_shared_worker);

/// One end of a channel whose other end the hub owns; collects what it hears.
struct Tab {
    _life: Option<tabphone_glue::Lock>,
    port: MessagePort,
    heard: Rc<RefCell<Vec<String>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Tab {
    /// A tab that holds its life-long lock, like a real one.
    async fn join(hub: &Hub, id: &str) -> Tab {
        let (tx, rx) = futures_oneshot();
        let life = tabphone_glue::Lock::request(
            &tabphone_coord::protocol::tab_lock_name(id),
            tabphone_glue::Mode::Exclusive,
            tx,
            |_| {},
        );
        rx.await.expect("lock granted");
        let mut tab = Tab::join_without_lock(hub);
        tab._life = Some(life);
        tab
    }

    fn join_without_lock(hub: &Hub) -> Tab {
        let channel = MessageChannel::new().expect("MessageChannel exists in workers");
        hub.connect(channel.port1());
        let heard = Rc::new(RefCell::new(Vec::new()));
        let h = heard.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            h.borrow_mut().push(e.data().as_string().unwrap_or_else(|| "<not a string>".into()));
        });
        let port = channel.port2();
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        port.start();
        Tab { _life: None, port, heard, _on_message: on_message }
    }

    fn send(&self, text: &str) {
        self.port.post_message(&JsValue::from_str(text)).expect("post");
    }

    /// Wait (up to ~2 s) until a message containing `needle` arrives.
    async fn hear(&self, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(m) = self.heard.borrow().iter().find(|m| m.contains(needle)) {
                return m.clone();
            }
            sleep(10).await;
        }
        panic!("never heard {needle:?}; heard {:?}", self.heard.borrow());
    }
}

/// A one-shot signal: call the function, await the future.
fn futures_oneshot() -> (impl FnOnce(), JsFuture) {
    let mut slot = None;
    let p = Promise::new(&mut |resolve, _| slot = Some(resolve));
    let resolve = slot.expect("the executor runs synchronously");
    (move || drop(resolve.call0(&JsValue::NULL)), JsFuture::from(p))
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        global.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).expect("setTimeout");
    });
    JsFuture::from(p).await.expect("sleep");
}

fn hub() -> Hub {
    hub_for("wbt")
}

/// A hub serving `app` (its real lock is `tabphone:real:<app>`).
fn hub_for(app: &str) -> Hub {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"pingInterval".into(), &200.into()).expect("set");
    js_sys::Reflect::set(&options, &"app".into(), &app.into()).expect("set");
    Hub::new(options.into())
}

#[wasm_bindgen_test]
async fn first_tab_is_told_to_be_real_and_confirmed_after_claim() {
    let hub = hub();
    let a = Tab::join(&hub, "wbt-a").await;
    a.send(r#"{"t":"hello","v":1,"tab":"wbt-a","visible":true}"#);
    a.hear(r#""t":"welcome""#).await;
    a.hear(r#"{"t":"role","role":"real","epoch":1,"steal":false}"#).await;
    a.send(r#"{"t":"claimed","epoch":1}"#);
    a.hear(r#""t":"tabs""#).await;
    assert_eq!(hub.ports(), 1);
}

#[wasm_bindgen_test]
async fn action_round_trip_through_the_hub() {
    let hub = hub();
    let real = Tab::join(&hub, "wbt-r").await;
    real.send(r#"{"t":"hello","v":1,"tab":"wbt-r"}"#);
    real.hear(r#""role":"real""#).await;
    real.send(r#"{"t":"claimed","epoch":1}"#);
    let dummy = Tab::join(&hub, "wbt-d").await;
    dummy.send(r#"{"t":"hello","v":1,"tab":"wbt-d"}"#);
    dummy.hear(r#""role":"dummy""#).await;
    dummy.send(r#"{"t":"action","id":42,"name":"dial","args":{"to":"bob"}}"#);
    let fwd = real.hear(r#""t":"action""#).await;
    assert!(fwd.contains(r#""name":"dial""#) && fwd.contains(r#"{"to":"bob"}"#), "{fwd}");
    real.send(r#"{"t":"result","id":1,"ok":"ringing"}"#);
    assert_eq!(dummy.hear(r#""t":"result""#).await, r#"{"t":"result","id":42,"ok":"ringing"}"#);
}

#[wasm_bindgen_test]
async fn bad_messages_get_errors_and_the_hub_stays_up() {
    let hub = hub();
    let t = Tab::join(&hub, "wbt-bad").await;
    t.send("not json");
    t.hear(r#""code":"malformed""#).await;
    t.port.post_message(&js_sys::Object::new()).expect("post");
    t.hear("messages must be JSON strings").await;
    t.send(r#"{"t":"action","id":5,"name":"x"}"#);
    t.hear(r#""code":"not_joined""#).await;
    t.send(r#"{"t":"hello","v":1,"tab":"wbt-bad"}"#);
    t.send(r#"{"t":"teleport"}"#);
    t.hear(r#""code":"unknown_type""#).await;
    t.send(&format!(r#"{{"t":"sync","epoch":1,"state":"{}"}}"#, "x".repeat(2 << 20)));
    t.hear(r#""code":"too_large""#).await;
    t.send(r#"{"t":"hello","v":99,"tab":"wbt-bad"}"#);
    t.hear(r#""code":"version""#).await;
    t.send(r#"{"t":"pong","seq":1}"#);
    t.hear(r#""t":"ping""#).await;
}

#[wasm_bindgen_test]
async fn a_tab_whose_lock_is_free_is_dead() {
    let hub = hub();
    let ghost = Tab::join_without_lock(&hub);
    ghost.send(r#"{"t":"hello","v":1,"tab":"wbt-ghost"}"#);
    ghost.hear(r#""role":"real""#).await;
    // Nobody holds tabphone:tab:wbt-ghost: the hub's watch is granted at once.
    for _ in 0..100 {
        if hub.ports() == 0 {
            return;
        }
        sleep(10).await;
    }
    panic!("the hub kept a port whose tab lock was free");
}

#[wasm_bindgen_test]
async fn a_restarted_worker_promotes_at_once_when_nobody_holds_the_real_lock() {
    let hub = hub_for("wbt-free");
    let t = Tab::join(&hub, "wbt-rejoin-free").await;
    // A tab that saw epoch 4 in the worker before: the real lock is free, so
    // nobody can come back as real; the epoch goes on from 4.
    t.send(r#"{"t":"hello","v":1,"tab":"wbt-rejoin-free","rejoin":true,"epoch":4}"#);
    t.hear(r#"{"t":"role","role":"real","epoch":5,"steal":false}"#).await;
}

#[wasm_bindgen_test]
async fn a_restarted_worker_waits_while_the_real_lock_is_held_and_promotes_when_it_is_let_go() {
    let hub = hub_for("wbt-held");
    let (held, held_rx) = futures_oneshot();
    let real =
        tabphone_glue::Lock::request("tabphone:real:wbt-held", tabphone_glue::Mode::Exclusive, held, |_| {});
    held_rx.await.expect("real lock held");
    let t = Tab::join(&hub, "wbt-rejoin-held").await;
    t.send(r#"{"t":"hello","v":1,"tab":"wbt-rejoin-held","rejoin":true,"epoch":2}"#);
    t.hear(r#"{"t":"role","role":"dummy","epoch":2,"steal":false}"#).await;
    sleep(200).await;
    assert!(!t.heard.borrow().iter().any(|m| m.contains(r#""role":"real""#)), "not while the lock is held");
    drop(real);
    t.hear(r#"{"t":"role","role":"real","epoch":3,"steal":false}"#).await;
}
