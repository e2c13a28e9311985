//! The glue: a [`TabCore`] driven by the browser.
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise, JSON};
use tabphone_coord::protocol::{worker_name, ErrorCode};
use tabphone_coord::{Instant, Job, TabConfig, TabCore, TabEvent, TabInput, TabOutput, TabRole};
use tabphone_glue::{Lock, Mode};
use tabphone_phone::state::{changes, PhoneState};
use tabphone_phone::PhoneEvent;
use wasm_bindgen::prelude::*;

use crate::listen::{page_focus, Listener, Target};
use web_sys::MessagePort;

pub use crate::real::{PhoneContext, RealPhone, StopKind};

/// What runs behind the API: the inert dummy or the real phone.
pub(crate) enum Backend {
    /// Forwards actions to the worker; never touches the network.
    Dummy,
    /// The real phone (shared so app code runs with no client borrow held).
    Real(Rc<dyn RealPhone>),
}

/// Connection options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The app name: tabs of one app share one real, across worker scripts.
    pub app: String,
    /// This tab's id; random when `None`.
    pub tab_id: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { app: String::from("tabphone"), tab_id: None }
    }
}

type Factory = Box<dyn FnMut() -> Box<dyn RealPhone>>;
/// A Rust event listener (shared so it runs with no client borrow held).
type RustListener = Rc<RefCell<dyn FnMut(&TabEvent)>>;
/// A Rust listener of phone events.
pub(crate) type PhoneListener = Rc<RefCell<dyn FnMut(&PhoneEvent)>>;
/// The port to the worker and its message handler, dropped together (a
/// `JsValue` closure, the type of every listener: each closure type costs the
/// shipped wasm its own glue).
type WorkerPort = (MessagePort, Closure<dyn FnMut(JsValue)>);

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// A port to the module SharedWorker `name` at `url`, started; each
    /// message's data goes to `on`. Throws when the worker cannot start.
    #[wasm_bindgen(catch, js_name = openWorker)]
    fn open_port(url: &str, name: &str, on: &JsValue) -> Result<MessagePort, JsValue>;
}

/// A promise's settle functions: resolve and reject.
pub(crate) type Settle = (Function, Function);

/// Take the settle functions waiting under `id` (a plain list, not a map:
/// each map type costs the wasm its own copy of the map code).
pub(crate) fn take_settle(list: &mut Vec<(u64, Settle)>, id: u64) -> Option<Settle> {
    let i = list.iter().position(|(k, _)| *k == id)?;
    Some(list.swap_remove(i).1)
}

/// Settle a promise with the value of JSON `text`: resolved when `ok`, else
/// rejected. (It runs no app code now: a promise's reactions are microtasks.)
pub(crate) fn settle_json((resolve, reject): Settle, ok: bool, text: &str) {
    let f = if ok { resolve } else { reject };
    let _ = f.call1(&JsValue::NULL, &json_value(text));
}

pub(crate) struct Inner {
    pub(crate) core: TabCore,
    url: String,
    app: String,
    worker: Option<WorkerPort>,
    /// This tab's life-long lock, held until the tab goes.
    life: Option<Lock>,
    worker_watch: Option<Lock>,
    real_lock: Option<Lock>,
    backend: Backend,
    factory: Factory,
    /// Action promises waiting for their result, by action id.
    pending: Vec<(u64, Settle)>,
    listeners: Vec<(String, Function)>,
    rust_listeners: Vec<RustListener>,
    pub(crate) phone_listeners: Vec<PhoneListener>,
    /// The page's events (removed on drop).
    page: Vec<Listener>,
    /// The app called `close()` (not a page going away).
    closed_by_app: bool,
    me: Weak<RefCell<Inner>>,
}

/// The tab client (Rust API). Cloning shares the same client.
#[derive(Clone)]
pub struct TabClient {
    inner: Rc<RefCell<Inner>>,
}

/// A `{code, message}` error object for the app.
pub(crate) fn error_object(code: &str, message: &str) -> JsValue {
    // Made from JSON text: fewer calls into JS than setting each field.
    let text = tabphone_json::Obj::new().str("code", code).str("message", message).end();
    json_value(&text)
}

/// A promise rejected with a `{code, message}` error.
pub(crate) fn rejected(code: &str, message: &str) -> Promise {
    Promise::reject(&error_object(code, message))
}

/// The value of JSON text (`null` when it is not JSON). One function for
/// every site: each `parse(..).unwrap_or(..)` is code of its own.
pub(crate) fn json_value(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// The JSON text of a JS value (`None` for what JSON cannot hold).
pub(crate) fn json_text(v: &JsValue) -> Option<String> {
    JSON::stringify(v).ok().and_then(|s| s.as_string())
}

/// [`json_text`], `null` for what JSON cannot hold.
pub(crate) fn json_or_null(v: &JsValue) -> String {
    json_text(v).unwrap_or_else(|| String::from("null"))
}

/// JSON text of a thrown or rejected value: Error objects become `{code, message}`.
fn error_json(e: &JsValue) -> String {
    let value = match crate::sip_socket::error_parts(e) {
        Some((_, message)) => error_object(ErrorCode::HandlerError.as_str(), &message),
        None => e.clone(),
    };
    json_or_null(&value)
}

impl TabClient {
    /// Take this tab's life-long lock, then join the worker at `url`.
    pub fn connect(url: &str, options: Options, factory: Factory) -> TabClient {
        let tab_id = options.tab_id.unwrap_or_else(tabphone_glue::random_id);
        let (visible, focused) = page_focus();
        let config = TabConfig::new(tab_id, options.app.clone());
        let inner = Rc::new(RefCell::new(Inner {
            core: TabCore::new(config, visible, focused),
            url: url.to_owned(),
            app: options.app,
            worker: None,
            life: None,
            worker_watch: None,
            real_lock: None,
            backend: Backend::Dummy,
            factory,
            pending: Vec::new(),
            listeners: Vec::new(),
            rust_listeners: Vec::new(),
            phone_listeners: Vec::new(),
            page: Vec::new(),
            closed_by_app: false,
            me: Weak::new(),
        }));
        // Not `Rc::new_cyclic`: its copy for this type costs the wasm more.
        inner.borrow_mut().me = Rc::downgrade(&inner);
        inner.borrow_mut().listen_page();
        // The core's first output asks for the tab's life lock; it joins once held.
        flush(&inner);
        TabClient { inner }
    }

    /// Current role.
    pub fn role(&self) -> TabRole {
        self.inner.borrow().core.role()
    }

    /// Current epoch.
    pub fn epoch(&self) -> u64 {
        self.inner.borrow().core.epoch()
    }

    /// This tab's id.
    pub fn tab_id(&self) -> String {
        self.inner.borrow().core.tab_id().to_owned()
    }

    /// This browser's SIP instance id for the app (see `instance.rs`).
    pub(crate) fn instance_id(&self) -> String {
        crate::instance::stable_id(&self.inner.borrow().app)
    }

    /// Live tab count as last reported.
    pub fn tabs(&self) -> usize {
        self.inner.borrow().core.tabs()
    }

    /// Latest shared state, JSON text.
    pub fn state(&self) -> String {
        self.inner.borrow().core.state().to_owned()
    }

    /// Add a JavaScript listener for `role`, `state`, `tabs` or `error`.
    pub fn on_js(&self, event: &str, callback: Function) {
        self.inner.borrow_mut().listeners.push((event.to_owned(), callback));
    }

    /// Add a Rust listener for every event: role changes, state, tab count,
    /// errors. It may call back into the client.
    pub fn on_event(&self, listener: impl FnMut(&TabEvent) + 'static) {
        self.inner.borrow_mut().rust_listeners.push(Rc::new(RefCell::new(listener)));
    }

    /// Add a Rust listener of phone events: those every tab derives from
    /// the published states ([`changes`]: incoming, callEnded, connection,
    /// registration, audioBlocked), those the real phone relays to every
    /// tab (DTMF and messages received, transfers, errors:
    /// [`PhoneEvent::relayed`]) and, in the real tab only, trace lines.
    pub fn on_phone_event(&self, listener: impl FnMut(&PhoneEvent) + 'static) {
        let listener: PhoneListener = Rc::new(RefCell::new(listener));
        self.inner.borrow_mut().phone_listeners.push(listener.clone());
        let mut prev = PhoneState::parse(&self.state()).ok();
        let tell = move |event: &PhoneEvent| tell(&listener, event);
        self.on_event(move |e| match e {
            TabEvent::State { state } => {
                let next = PhoneState::parse(state).ok();
                for change in &changes(prev.as_ref(), next.as_ref()) {
                    tell(change);
                }
                prev = next;
            }
            TabEvent::Relayed { event } => match PhoneEvent::parse_relayed(event) {
                Some(event) => tell(&event),
                None => warn("an unreadable event from the real tab", ""),
            },
            _ => {}
        });
    }

    /// Dispatch an action; the promise settles exactly once.
    pub fn dispatch(&self, name: &str, args: JsValue) -> Promise {
        let args = if args.is_undefined() { JsValue::NULL } else { args };
        let text = match json_text(&args) {
            Some(t) => t,
            None => {
                return rejected(ErrorCode::Malformed.as_str(), "args cannot be serialized to JSON");
            }
        };
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
        {
            let mut me = self.inner.borrow_mut();
            let id = me.core.dispatch(Instant::now(), name, &text);
            if let Some(s) = slot {
                me.pending.push((id.0, s));
            }
        }
        flush(&self.inner);
        promise
    }

    /// Make this tab the real one (`takeOver`): the calls and their sound
    /// move here. Resolves with `{epoch}` once this tab is real.
    pub(crate) fn take_over_promise(&self) -> Promise {
        let mut slot = None;
        let promise = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
        {
            let mut me = self.inner.borrow_mut();
            let id = me.core.take_over();
            if let Some(s) = slot {
                me.pending.push((id.0, s));
            }
        }
        flush(&self.inner);
        promise
    }

    /// Dispatch from Rust: awaits the answer.
    pub async fn dispatch_async(&self, name: &str, args: JsValue) -> Result<JsValue, JsValue> {
        wasm_bindgen_futures::JsFuture::from(self.dispatch(name, args)).await
    }

    /// Publish the real's state.
    pub fn publish(&self, state: JsValue) -> Result<(), JsValue> {
        let text = json_text(&state).ok_or_else(|| {
            error_object(ErrorCode::Malformed.as_str(), "state cannot be serialized to JSON")
        })?;
        let result = self.inner.borrow_mut().core.publish(&text);
        flush(&self.inner);
        result.map_err(|(code, msg)| error_object(code.as_str(), &msg))
    }

    /// Leave now.
    pub fn close(&self) {
        let mut me = self.inner.borrow_mut();
        me.closed_by_app = true;
        me.core.handle_input(Instant::now(), TabInput::PageHide);
        drop(me);
        flush(&self.inner);
    }
}

/// Let the real phone run what is overdue (see [`RealPhone::tick`]).
fn tick(weak: &Weak<RefCell<Inner>>) {
    if let Some(rc) = weak.upgrade() {
        if let Some(p) = real(&rc) {
            p.tick();
        }
    }
}

fn drive(weak: &Weak<RefCell<Inner>>, input: TabInput<'_>) {
    let Some(rc) = weak.upgrade() else { return };
    rc.borrow_mut().core.handle_input(Instant::now(), input);
    flush(&rc);
}

/// Do what the core says, one output at a time. App code (listeners, the real
/// phone) runs with no borrow held, so it may call back into the client.
pub(crate) fn flush(rc: &Rc<RefCell<Inner>>) {
    loop {
        let output = {
            let mut me = rc.borrow_mut();
            match me.core.poll_output() {
                Some(o) => o,
                None => return,
            }
        };
        match output {
            TabOutput::StartReal { inherit } => start_real(rc, inherit),
            TabOutput::StopReal { last } => stop_real(rc, last),
            TabOutput::HoldReal | TabOutput::ResumeReal => {
                if let Some(p) = real(rc) {
                    match output {
                        TabOutput::HoldReal => p.hold(),
                        _ => p.resume(),
                    }
                }
            }
            TabOutput::Perform { job, name, args } => {
                run_action(Rc::downgrade(rc), real(rc), job, name, args)
            }
            TabOutput::Resolve { id, result } => {
                let settle = take_settle(&mut rc.borrow_mut().pending, id.0);
                if let Some(settle) = settle {
                    let (ok, text) = match &result {
                        Ok(t) => (true, t),
                        Err(t) => (false, t),
                    };
                    settle_json(settle, ok, text);
                }
            }
            TabOutput::Event(e) => emit(rc, e),
            o @ (TabOutput::HoldTabLock(_)
            | TabOutput::Connect
            | TabOutput::Send(_)
            | TabOutput::WatchWorker(_)
            | TabOutput::AcquireRealLock { .. }
            | TabOutput::ReleaseRealLock) => rc.borrow_mut().perform(o),
            // Every output is named above, so this arm (and the outputs'
            // `Debug`) is left out of the build until the core gains one.
            other => web_sys::console::warn_1(&format!("tabphone: unhandled output {other:?}").into()),
        }
    }
}

/// A warning on the console: `tabphone: ` then `what` and `detail`.
pub(crate) fn warn(what: &str, detail: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&crate::cat(&["tabphone: ", what, detail])));
}

/// Hand a phone event to one listener (one that re-entered misses it).
pub(crate) fn tell(listener: &PhoneListener, event: &PhoneEvent) {
    match listener.try_borrow_mut() {
        Ok(mut f) => f(event),
        Err(_) => warn("a phone listener re-entered", ""),
    }
}

/// The real phone, if this tab has one (shared, so it runs with no borrow held).
fn real(rc: &Rc<RefCell<Inner>>) -> Option<Rc<dyn RealPhone>> {
    match &rc.borrow().backend {
        Backend::Real(p) => Some(p.clone()),
        Backend::Dummy => None,
    }
}

/// The tab became real: make the phone and start it with its context and
/// the state whose calls it takes over.
fn start_real(rc: &Rc<RefCell<Inner>>, inherit: Option<String>) {
    let (phone, context) = {
        let mut me = rc.borrow_mut();
        let phone: Rc<dyn RealPhone> = Rc::from((me.factory)());
        me.backend = Backend::Real(phone.clone());
        let instance_id = crate::instance::stable_id(&me.app);
        let app = me.app.clone();
        (phone, PhoneContext { client: Rc::downgrade(rc), instance_id, app, inherit })
    };
    phone.start(context);
}

/// The tab is real no more: stop the phone. Another tab takes over unless
/// the core says none is left (`last`); then the calls are kept for a reload
/// when the page goes, and ended when the app closed the phone.
fn stop_real(rc: &Rc<RefCell<Inner>>, last: bool) {
    let (old, by_app) = {
        let mut me = rc.borrow_mut();
        (std::mem::replace(&mut me.backend, Backend::Dummy), me.closed_by_app)
    };
    let kind = match (last, by_app) {
        (false, _) => StopKind::Handover,
        (true, false) => StopKind::PageHide,
        (true, true) => StopKind::Close,
    };
    if let Backend::Real(phone) = old {
        phone.stop(kind);
    }
}

/// Hand a core event to the Rust listeners, then to the JS ones.
fn emit(rc: &Rc<RefCell<Inner>>, e: TabEvent) {
    let rust: Vec<RustListener> = rc.borrow().rust_listeners.clone();
    for l in &rust {
        // A listener that caused this event (say, it closed the client)
        // misses it; a state listener catches up on the next.
        if let Ok(mut f) = l.try_borrow_mut() {
            f(&e);
        }
    }
    let (name, detail) = event_detail(e);
    let listeners = listeners_of(&rc.borrow().listeners, name);
    call_all(listeners, &detail);
}

/// The JavaScript listeners of event `name` (cloned: they run with no borrow held).
pub(crate) fn listeners_of(listeners: &[(String, Function)], name: &str) -> Vec<Function> {
    let mut of = Vec::new();
    for (n, f) in listeners {
        if n == name {
            of.push(f.clone());
        }
    }
    of
}

/// Call each listener with `detail`; one that throws is reported on the console.
pub(crate) fn call_all(listeners: Vec<Function>, detail: &JsValue) {
    for f in &listeners {
        if let Err(e) = f.call1(&JsValue::NULL, detail) {
            web_sys::console::error_2(&"tabphone: listener threw".into(), &e);
        }
    }
}

/// Run an action on the real phone off the current stack (the phone may call
/// back into the client), and feed the outcome back.
fn run_action(
    weak: Weak<RefCell<Inner>>,
    phone: Option<Rc<dyn RealPhone>>,
    job: Job,
    name: String,
    args: String,
) {
    crate::later::soon(Box::new(move || {
        let promise = match phone {
            Some(p) => p.perform(&name, json_value(&args)),
            None => rejected(ErrorCode::NotReal.as_str(), "this tab is not real"),
        };
        crate::later::then(&promise, Box::new(move |outcome| action_done(&weak, job, outcome)));
    }));
}

/// An action's outcome, as JSON text, fed back to the core.
fn action_done(weak: &Weak<RefCell<Inner>>, job: Job, outcome: Result<JsValue, JsValue>) {
    let result = match outcome {
        Ok(v) => json_text(&v)
            .ok_or_else(|| error_json(&error_object(ErrorCode::Malformed.as_str(), "result is not JSON"))),
        Err(e) => Err(error_json(&e)),
    };
    drive(weak, TabInput::Done { job, result });
}

impl Inner {
    fn listen_page(&mut self) {
        let weak = self.me.clone();
        self.page.push(Listener::new(Target::Window, "pagehide", move || drive(&weak, TabInput::PageHide)));
        for &(target, names) in &[(Target::Window, "focus blur"), (Target::Document, "visibilitychange")] {
            let weak = self.me.clone();
            self.page.push(Listener::new(target, names, move || {
                let (visible, focused) = page_focus();
                drive(&weak, TabInput::Focus { visible, focused });
            }));
        }
    }

    /// Outputs that touch only the browser, never app code.
    fn perform(&mut self, output: TabOutput) {
        match output {
            TabOutput::HoldTabLock(lock) => {
                let (held, failed) = (self.me.clone(), self.me.clone());
                let on_held = move || drive(&held, TabInput::TabLockHeld);
                let on_failed = move |e: String| {
                    let message = crate::cat(&["this tab's lock could not be taken: ", &e]);
                    drive(&failed, TabInput::WorkerFailed { message: &message });
                };
                self.life = Some(Lock::request(&lock, Mode::Exclusive, on_held, on_failed));
            }
            TabOutput::Connect => self.open_worker(),
            TabOutput::Send(text) => {
                if let Some((port, _)) = &self.worker {
                    let _ = port.post_message(&JsValue::from_str(&text));
                }
            }
            TabOutput::WatchWorker(lock) => {
                let weak = self.me.clone();
                let died = move || drive(&weak, TabInput::WorkerDied);
                self.worker_watch = Some(Lock::request(&lock, Mode::Shared, died, |_| {}));
            }
            TabOutput::AcquireRealLock { lock, steal } => {
                let (w1, w2) = (self.me.clone(), self.me.clone());
                let mode = if steal { Mode::Steal } else { Mode::Exclusive };
                // Replacing the old request drops it: none of its callbacks run after.
                let granted = move || drive(&w1, TabInput::RealLockGranted);
                let lost = move |_| drive(&w2, TabInput::RealLockLost);
                self.real_lock = Some(Lock::request(&lock, mode, granted, lost));
            }
            TabOutput::ReleaseRealLock => self.real_lock = None,
            // `flush` passes only the outputs above.
            _ => {}
        }
    }

    fn open_worker(&mut self) {
        // A dead worker's lock is let go when the tab reconnects.
        self.worker_watch = None;
        let weak = self.me.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
            match data.as_string() {
                Some(text) => drive(&weak, TabInput::WorkerMessage(&text)),
                None => warn("a non-text message from the worker", ""),
            }
            tick(&weak);
        });
        let port = match open_port(&self.url, &worker_name(&self.app), on_message.as_ref()) {
            Ok(port) => port,
            Err(e) => {
                let message = crate::cat(&["cannot start the SharedWorker: ", &error_json(&e)]);
                return self.core.handle_input(Instant::now(), TabInput::WorkerFailed { message: &message });
            }
        };
        if let Some((old, _)) = self.worker.replace((port, on_message)) {
            old.close();
        }
        self.core.handle_input(Instant::now(), TabInput::Connected);
    }
}

/// The listener name and argument for an event.
fn event_detail(e: TabEvent) -> (&'static str, JsValue) {
    match e {
        TabEvent::Role { role, epoch } => {
            let d = tabphone_json::Obj::new().str("role", role.as_str()).num("epoch", epoch).end();
            ("role", json_value(&d))
        }
        TabEvent::State { state } => ("state", json_value(&state)),
        TabEvent::Tabs { count } => ("tabs", (count as f64).into()),
        TabEvent::Error { code, message } => ("error", error_object(&code, &message)),
        _ => ("other", JsValue::NULL),
    }
}
