//! # tabphone-worker: the SharedWorker
//!
//! Thin wasm glue around [`tabphone_coord::Coordinator`]: it owns the
//! `MessagePort`s, the Web Locks and the one timer, and feeds what happens
//! into the coordinator ([`Hub`]'s single `drive` function). All decisions
//! are the coordinator's.
//!
//! [`Hub`] ships in the tab's wasm module (`tabphone-tab` re-exports it): a
//! tab and its worker load one module, once. Load the worker with the module
//! loader `js/worker.js`, which registers `connect` synchronously and buffers
//! ports until wasm is ready:
//! ```js
//! new SharedWorker('/pkg/worker.js', { type: 'module' })
//! ```
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use gloo_timers::callback::Timeout;
use tabphone_coord::protocol::app_of_worker;
use tabphone_coord::{Config, Coordinator, Input, Output, PortId};
use tabphone_glue::{Lock, Mode};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, MessagePort};
use web_time::Instant;

/// The hub: one per worker.
#[wasm_bindgen]
pub struct Hub {
    inner: Rc<RefCell<Inner>>,
}

struct Port {
    id: PortId,
    port: MessagePort,
    /// Given a `MessageEvent`. A `JsValue` closure, the type the tab's
    /// listeners have: each closure type costs the shipped wasm its own glue.
    _on_message: Closure<dyn FnMut(JsValue)>,
    /// The watch on the tab's life-long lock.
    watch: Option<Lock>,
}

struct Inner {
    coord: Coordinator,
    /// Found by id, in no order (a closed port's place takes the last one:
    /// `swap_remove`, smaller than `remove`). A plain `Vec`: a map type costs the wasm more.
    ports: Vec<Port>,
    timer: Option<(Instant, Timeout)>,
    /// Log every input and output to the console (`?debug=1`).
    debug: bool,
    me: Weak<RefCell<Inner>>,
    /// Given the lock manager's answers to [`Output::QueryLocks`] (one at a
    /// time): one closure for the hub's life, of the `JsValue` type.
    on_locks: Option<Closure<dyn FnMut(JsValue)>>,
}

/// `object[key]`; `undefined` when it cannot be read.
fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn option(options: &JsValue, key: &str) -> Option<f64> {
    get(options, key).as_f64().filter(|v| *v >= 0.0)
}

/// The app: the `app` option, else from the worker's name (`tabphone:<app>`,
/// as the tab client names it); `None`: neither (the default app).
fn app(options: &JsValue) -> Option<String> {
    let name = || Some(app_of_worker(&get(&js_sys::global(), "name").as_string()?)?.to_owned());
    get(options, "app").as_string().or_else(name)
}

/// The defaults, with what `options` sets instead.
fn config(options: &JsValue) -> Config {
    let mut c = Config::default();
    // Set in place: a call passes the field, not its value in and out.
    let ms = |key, field: &mut Duration| {
        if let Some(v) = option(options, key) {
            *field = Duration::from_millis(v as u64);
        }
    };
    c.worker_id = tabphone_glue::random_id();
    if let Some(app) = app(options) {
        c.app = app;
    }
    ms("pingInterval", &mut c.ping_interval);
    ms("pingTimeout", &mut c.ping_timeout);
    ms("actionTimeout", &mut c.action_timeout);
    ms("lockPoll", &mut c.lock_poll);
    c.max_queued = option(options, "maxQueued").map_or(c.max_queued, |v| v as usize);
    c.max_message_bytes = option(options, "maxMessageBytes").map_or(c.max_message_bytes, |v| v as usize);
    c
}

#[wasm_bindgen]
impl Hub {
    /// A hub with options `{pingInterval, pingTimeout, actionTimeout,
    /// lockPoll, maxQueued, maxMessageBytes, app, debug}` (ms and counts; all
    /// optional; `app` defaults to the one in the worker's name; `debug: 1`
    /// logs every input and output to the console).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Hub {
        let config = config(&options);
        let inner = Rc::new(RefCell::new(Inner {
            coord: Coordinator::new(Instant::now(), config),
            ports: Vec::new(),
            timer: None,
            debug: option(&options, "debug").is_some_and(|v| v > 0.0),
            me: Weak::new(),
            on_locks: None,
        }));
        // Not `Rc::new_cyclic`: its copy for this type costs the wasm more.
        let weak = Rc::downgrade(&inner);
        let on_locks = Closure::<dyn FnMut(JsValue)>::new({
            let weak = weak.clone();
            move |answer: JsValue| drive(&weak, Input::Locks(tabphone_glue::lock_snapshot(&answer)))
        });
        let mut me = inner.borrow_mut();
        me.me = weak;
        me.on_locks = Some(on_locks);
        drop(me);
        Hub { inner }
    }

    /// A tab connected (from the `connect` event).
    pub fn connect(&self, port: MessagePort) {
        let mut me = self.inner.borrow_mut();
        let id = me.coord.connect(Instant::now());
        let weak = me.me.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let text = e.unchecked_into::<MessageEvent>().data().as_string();
            let input = match &text {
                Some(text) => Input::Message { port: id, text },
                None => Input::Bad { port: id },
            };
            drive(&weak, input);
        });
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        port.start();
        me.ports.push(Port { id, port, _on_message: on_message, watch: None });
        me.flush();
    }

    /// The Web Lock this worker must hold for its whole life before any tab
    /// connects: tabs wait on it to learn of the worker's death, so a tab that
    /// asked for it before the worker held it would take it for a death. The
    /// loader (`js/worker.js`) takes it before it hands over the first port.
    #[wasm_bindgen(getter, js_name = lifeLock)]
    pub fn life_lock(&self) -> String {
        self.inner.borrow().coord.worker_lock().to_owned()
    }

    /// Number of connected ports (for tests and the demo).
    #[wasm_bindgen(getter)]
    pub fn ports(&self) -> usize {
        self.inner.borrow().ports.len()
    }
}

/// Feed one input and do what the coordinator says.
fn drive(weak: &Weak<RefCell<Inner>>, input: Input<'_>) {
    let Some(rc) = weak.upgrade() else { return };
    let mut me = rc.borrow_mut();
    if me.debug {
        log_input(&input);
    }
    if let Input::Timeout = input {
        me.timer = None;
    }
    me.coord.handle_input(Instant::now(), input);
    me.flush();
}

impl Inner {
    fn flush(&mut self) {
        // A broadcast is one text for many ports: make its JS string once.
        let mut last: Option<(std::sync::Arc<str>, JsValue)> = None;
        while let Some(output) = self.coord.poll_output() {
            if self.debug {
                log_output(&output);
            }
            match output {
                Output::Send { port, text } => {
                    let js = match &last {
                        Some((t, js)) if std::sync::Arc::ptr_eq(t, &text) => js.clone(),
                        _ => {
                            let js = JsValue::from_str(&text);
                            last = Some((text, js.clone()));
                            js
                        }
                    };
                    if let Some(p) = self.ports.iter().find(|p| p.id == port) {
                        if let Err(e) = p.port.post_message(&js) {
                            web_sys::console::warn_2(&"tabphone: post to tab failed".into(), &e);
                        }
                    }
                }
                Output::WatchTab { port, lock } => {
                    let weak = self.me.clone();
                    let granted = move || drive(&weak, Input::TabLockGranted { port });
                    let watch = Lock::request(&lock, Mode::Exclusive, granted, |_| {});
                    if let Some(p) = self.ports.iter_mut().find(|p| p.id == port) {
                        p.watch = Some(watch);
                    }
                }
                Output::ClosePort { port } => {
                    if let Some(i) = self.ports.iter().position(|p| p.id == port) {
                        let p = self.ports.swap_remove(i);
                        p.port.set_onmessage(None);
                        p.port.close();
                    }
                }
                Output::QueryLocks => {
                    if let Some(on_locks) = &self.on_locks {
                        tabphone_glue::query_locks(on_locks);
                    }
                }
                _ => web_sys::console::warn_1(&"tabphone: an output this worker does not know".into()),
            }
        }
        self.rearm();
    }

    /// Re-arm the single timer, only when the deadline changed.
    fn rearm(&mut self) {
        let next = self.coord.poll_timeout();
        if next == self.timer.as_ref().map(|t| t.0) {
            return;
        }
        self.timer = next.map(|at| {
            let weak = self.me.clone();
            let delay = at.saturating_duration_since(Instant::now());
            // Boxed: the tab client's timers have this type, one copy of the glue.
            // `drive` forgets the timer that fired.
            let fire: Box<dyn FnOnce()> = Box::new(move || drive(&weak, Input::Timeout));
            // Round up: firing a hair early would only re-arm.
            (at, Timeout::new(delay.as_millis() as u32 + 1, fire))
        });
    }
}

/// Log `input` to the console (plain formatting: `Debug` would add its
/// string escaping to the wasm).
fn log_input(input: &Input<'_>) {
    let head = "tabphone worker in: port ";
    match input {
        Input::Message { port, text } => log_port(head, *port, " says ", text),
        Input::Bad { port } => log_port(head, *port, " sent a non-string", ""),
        Input::TabLockGranted { port } => log_port(head, *port, " tab lock granted", ""),
        Input::Locks(Some(s)) => {
            let mut line = String::from("tabphone worker in: locks held");
            for l in &s.held {
                line.push(' ');
                line.push_str(&l.name);
            }
            log(&line)
        }
        Input::Locks(None) => log("tabphone worker in: the lock query failed"),
        Input::Timeout => log("tabphone worker in: timeout"),
    }
}

fn log_output(output: &Output) {
    match output {
        Output::Send { port, text } => log_port("tabphone worker out: to port ", *port, ": ", text),
        Output::WatchTab { port, lock } => {
            log_port("tabphone worker out: watch port ", *port, " lock ", lock)
        }
        Output::ClosePort { port } => log_port("tabphone worker out: close port ", *port, "", ""),
        Output::QueryLocks => log("tabphone worker out: query the locks"),
        _ => log("tabphone worker out: other"),
    }
}

/// A log line with a port's number: `head`, the number, `mid`, `tail` (one
/// `format!` for every such line).
fn log_port(head: &str, port: PortId, mid: &str, tail: &str) {
    log(&format!("{head}{}{mid}{tail}", port.0));
}

fn log(line: &str) {
    web_sys::console::log_1(&line.into());
}
