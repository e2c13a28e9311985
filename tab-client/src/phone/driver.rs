//! The driver: one `drive()` that feeds an input to [`Phone`], drains its
//! outputs and performs them, then re-arms the one [`Timer`]. Inputs that
//! arrive while outputs are being performed (app code runs from them and
//! may act again) wait in a queue and are fed right after, in order.
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use tabphone_phone::state::Registration;
use tabphone_phone::{Inherited, Instant, Phone, PhoneError, PhoneEvent, PhoneInput, PhoneOutput};
use wasm_bindgen::JsValue;

use super::calls::CallMedias;
use crate::client::{settle_json, take_settle, PhoneContext, Settle, StopKind};
use crate::listen::{Listener, Target};
use crate::media::MediaFactory;
use crate::sip_socket::{SipSocket, SocketError, SocketEvent};
use crate::timer::Timer;

/// How long a tab that hands its calls over and stays open keeps their media
/// running, in ms: longer than a successor takes to resume (~0.1-0.3 s).
const HANDOVER_LINGER_MS: u32 = 1500;

/// An input, owned (it may wait in the queue).
#[derive(Debug)]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub(crate) enum Input {
    /// Start, taking over the calls of this state (JSON text), as of then (Unix ms).
    Start {
        inherit: Option<(String, u64)>,
    },
    Stop(StopKind),
    Opened,
    Closed,
    Received(Vec<u8>),
    Online,
    Offline,
    Action {
        id: u64,
        name: String,
        args: String,
    },
    Media {
        request: u64,
        result: Result<String, String>,
    },
    AudioBlocked(bool),
    Timeout,
}

impl Input {
    /// The phone's input: a media reply moved in (it is owned there), the
    /// others borrowed.
    fn as_phone(&mut self) -> PhoneInput<'_> {
        match self {
            Input::Start { inherit } => PhoneInput::Start {
                unix_ms: js_sys::Date::now() as u64,
                inherit: inherit.as_ref().map(|(state, at)| Inherited { state, as_of_unix_ms: *at }),
            },
            Input::Stop(kind) => {
                let (unregister, hang_up) = match kind {
                    StopKind::Handover => (false, false),
                    StopKind::PageHide => (true, false),
                    StopKind::Close => (true, true),
                };
                PhoneInput::Stop { unregister, hang_up }
            }
            Input::Opened => PhoneInput::Opened,
            Input::Closed => PhoneInput::Closed,
            Input::Received(data) => PhoneInput::Received(data),
            Input::Online => PhoneInput::Online,
            Input::Offline => PhoneInput::Offline,
            Input::Action { id, name, args } => PhoneInput::Action { id: *id, name, args },
            Input::Media { request, result } => {
                PhoneInput::Media { request: *request, result: std::mem::replace(result, Ok(String::new())) }
            }
            Input::AudioBlocked(b) => PhoneInput::AudioBlocked(*b),
            Input::Timeout => PhoneInput::Timeout,
        }
    }
}

/// The real phone's parts. Each is borrowed only briefly and never across
/// a call into app code.
pub(crate) struct Driver {
    phone: RefCell<Phone>,
    context: PhoneContext,
    pub(crate) media: CallMedias,
    socket: RefCell<Option<SipSocket>>,
    /// Bumped on every connect: events of an older socket are ignored.
    socket_gen: Cell<u64>,
    timer: RefCell<Option<Timer>>,
    actions: RefCell<Vec<(u64, Settle)>>,
    next_action: Cell<u64>,
    queue: RefCell<Vec<Input>>,
    busy: Cell<bool>,
    /// Inputs wait in the queue: the tab may have been replaced while it was
    /// frozen, and the coordinator is checking ([`Driver::hold`]).
    held: Cell<bool>,
    /// `stop` was called: the stop input passes any hold.
    stopping: Cell<bool>,
    /// Stopping as the last tab: the state is kept for a reload (see `saved`).
    last_tab: Cell<bool>,
    /// When the real last said it is alive in the kept state (Unix ms).
    touched: Cell<u64>,
    /// Window `online`/`offline`.
    network: RefCell<Vec<Listener>>,
    /// Held while stopping with unregister, so the driver outlives its phone
    /// handle until the un-REGISTER is answered; dropped on `Stopped`.
    keep_alive: RefCell<Option<Rc<Driver>>>,
    me: Weak<Driver>,
}

impl Driver {
    pub(crate) fn new(phone: Phone, context: PhoneContext, factory: MediaFactory) -> Rc<Driver> {
        Rc::new_cyclic(|me: &Weak<Driver>| Driver {
            phone: RefCell::new(phone),
            context,
            media: CallMedias::new(factory, me.clone()),
            socket: RefCell::new(None),
            socket_gen: Cell::new(0),
            timer: RefCell::new(None),
            actions: RefCell::new(Vec::new()),
            next_action: Cell::new(1),
            queue: RefCell::new(Vec::new()),
            busy: Cell::new(false),
            held: Cell::new(false),
            last_tab: Cell::new(false),
            stopping: Cell::new(false),
            touched: Cell::new(0),
            network: RefCell::new(Vec::new()),
            keep_alive: RefCell::new(None),
            me: me.clone(),
        })
    }

    /// Start: the timer, the window's network events, then the phone, which
    /// takes over the calls in `inherit` (state JSON, as of Unix ms).
    pub(crate) fn start(&self, inherit: Option<(String, u64)>) {
        let weak = self.me.clone();
        *self.timer.borrow_mut() = Some(Timer::new(move || feed(&weak, Input::Timeout)));
        let (on, off) = (self.me.clone(), self.me.clone());
        *self.network.borrow_mut() = vec![
            Listener::new(Target::Window, "online", move || feed(&on, Input::Online)),
            Listener::new(Target::Window, "offline", move || feed(&off, Input::Offline)),
        ];
        self.drive(Input::Start { inherit });
        if crate::listen::offline() {
            self.drive(Input::Offline);
        }
    }

    /// Stop. A handover closes at once; otherwise the driver lives on (held
    /// by itself) until the phone says `Stopped` (an un-REGISTER or BYEs go
    /// out first).
    pub(crate) fn stop(&self, kind: StopKind) {
        if kind != StopKind::Handover {
            *self.keep_alive.borrow_mut() = self.me.upgrade();
        }
        // A tab that hands over and stays (a takeover; not a page going away)
        // keeps its media running briefly: make-before-break.
        if kind == StopKind::Handover && crate::listen::page_visible() {
            self.media.linger(HANDOVER_LINGER_MS);
        }
        // The last tab keeps its calls for a reload; `close()` ends them.
        match kind {
            StopKind::PageHide => self.last_tab.set(true),
            StopKind::Close => crate::saved::clear(self.context.app()),
            StopKind::Handover => {}
        }
        // What waited behind a hold is dropped: the tab is real no more.
        self.stopping.set(true);
        if self.held.replace(false) {
            self.queue.borrow_mut().clear();
        }
        self.drive(Input::Stop(kind));
    }

    /// Hold every input (socket frames, timers, actions) until [`Driver::resume`]
    /// or [`Driver::stop`]: nothing reaches the phone, so nothing is sent.
    pub(crate) fn hold(&self) {
        self.held.set(true);
    }

    /// Feed what waited during a hold, in order.
    pub(crate) fn resume(&self) {
        if self.held.replace(false) {
            self.run();
        }
    }

    /// An action: its promise settles with the phone's one result.
    pub(crate) fn perform(&self, name: &str, args: &JsValue) -> js_sys::Promise {
        let id = self.next_action.get();
        self.next_action.set(id + 1);
        let args = crate::client::json_or_null(args);
        let mut settle = None;
        let promise = js_sys::Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
        if let Some(s) = settle {
            self.actions.borrow_mut().push((id, s));
        }
        self.drive(Input::Action { id, name: name.to_owned(), args });
        promise
    }

    /// Run the phone's timeout if its deadline has passed (the worker's
    /// messages call this: they keep coming when the tab's timers are throttled).
    pub(crate) fn tick(&self) {
        if self.held.get() {
            return;
        }
        let now_ms = js_sys::Date::now() as u64;
        if now_ms >= self.touched.get() + 1000 {
            self.touched.set(now_ms);
            crate::saved::touch(self.context.app(), now_ms);
        }
        let due = self.phone.borrow().poll_timeout().is_some_and(|t| t <= Instant::now());
        if due {
            self.drive(Input::Timeout);
        }
    }

    /// Feed `input`, drain and perform the outputs, re-arm the timer. Called
    /// again from inside (by app code or the browser), it queues the input
    /// for the outer call.
    pub(crate) fn drive(&self, input: Input) {
        self.queue.borrow_mut().push(input);
        self.run();
    }

    fn run(&self) {
        if self.held.get() || self.busy.get() {
            return;
        }
        // A real that was frozen may have been replaced: the coordinator
        // checks, and meanwhile nothing reaches the phone. Stopping is exempt.
        if !self.stopping.get() && !self.context.may_act() {
            self.held.set(true);
            return;
        }
        self.busy.set(true);
        loop {
            if self.held.get() {
                break;
            }
            let mut input = {
                let mut queue = self.queue.borrow_mut();
                if queue.is_empty() {
                    break;
                }
                queue.remove(0)
            };
            self.phone.borrow_mut().handle_input(Instant::now(), input.as_phone());
            // One output at a time, the phone not borrowed while it is
            // performed (polling changes nothing but the phone's output list).
            loop {
                let output = self.phone.borrow_mut().poll_output();
                let Some(output) = output else { break };
                self.perform_output(output);
            }
        }
        self.busy.set(false);
        let deadline = self.phone.borrow().poll_timeout();
        if let Some(timer) = self.timer.borrow_mut().as_mut() {
            timer.set(deadline);
        }
    }

    fn perform_output(&self, output: PhoneOutput) {
        match output {
            PhoneOutput::Connect { url } => self.connect(&url),
            PhoneOutput::Send(text) => {
                let sent = match self.socket.borrow().as_ref() {
                    Some(socket) => socket.send_text(&text),
                    None => Err(SocketError::NotOpen),
                };
                if let Err(e) = sent {
                    self.error(None, e.coded());
                }
            }
            PhoneOutput::Close => {
                if let Some(socket) = self.socket.borrow().as_ref() {
                    socket.close();
                }
            }
            PhoneOutput::Media(request) => self.media.request(request),
            PhoneOutput::Result { id, result } => self.settle(id, result),
            PhoneOutput::State(json) => {
                // Refused once this tab is real no more: the successor publishes.
                let published = matches!(self.context.published(&json), Some(Ok(())));
                if published || self.last_tab.get() {
                    let has_calls = self.phone.borrow().has_calls();
                    crate::saved::store(self.context.app(), &json, has_calls, js_sys::Date::now() as u64);
                }
            }
            PhoneOutput::Event(event) => self.on_event(event),
            other => self.error(None, format!("unhandled phone output {other:?}")),
        }
    }

    fn on_event(&self, event: PhoneEvent) {
        match &event {
            // Not while calls are on (a successor resuming them, a reconnection):
            // a second connection gathering beside theirs only slows them; a
            // call's own media prepares the next one a second after it began.
            PhoneEvent::Registration { registration: Registration::Registered { .. } }
                if !self.phone.borrow().has_calls() =>
            {
                self.media.prewarm()
            }
            PhoneEvent::Stopped => self.release(),
            _ => {}
        }
        // The others every tab derives from the published state.
        if !event.in_state() {
            self.context.emit(&event);
        }
        if event.relayed() {
            self.context.relay(&event);
        }
    }

    /// An error no action reports, to this tab's listeners.
    pub(crate) fn error(&self, call: Option<String>, message: String) {
        self.context.emit(&PhoneEvent::Error { call, message });
    }

    fn settle(&self, id: u64, result: Result<String, PhoneError>) {
        let Some(settle) = take_settle(&mut self.actions.borrow_mut(), id) else { return };
        let (ok, text) = match result {
            Ok(text) => (true, text),
            Err(e) => (false, e.to_json()),
        };
        settle_json(settle, ok, &text);
    }

    fn connect(&self, url: &str) {
        let gen = self.socket_gen.get() + 1;
        self.socket_gen.set(gen);
        let weak = self.me.clone();
        let on_event = move |event: SocketEvent| {
            let Some(driver) = weak.upgrade() else { return };
            if driver.socket_gen.get() != gen {
                return;
            }
            match event {
                SocketEvent::Open { .. } => driver.drive(Input::Opened),
                SocketEvent::Message { data } => driver.drive(Input::Received(data)),
                SocketEvent::Closed { .. } => driver.drive(Input::Closed),
                // Closed follows.
                _ => {}
            }
        };
        // The old socket (if any) is dropped: closed, its listeners removed.
        let socket = SipSocket::connect(url, on_event);
        let failed = socket.as_ref().err().map(SocketError::coded);
        *self.socket.borrow_mut() = socket.ok();
        if let Some(message) = failed {
            self.error(None, message);
            self.drive(Input::Closed);
        }
    }

    /// Stopped: drop the socket, the timer, the listeners, every call's media
    /// and the microphone.
    fn release(&self) {
        self.socket.borrow_mut().take();
        self.timer.borrow_mut().take();
        self.network.borrow_mut().clear();
        self.media.release();
        self.keep_alive.borrow_mut().take();
    }
}

/// Feed `input` to the driver, if it is still there.
pub(crate) fn feed(weak: &Weak<Driver>, input: Input) {
    if let Some(driver) = weak.upgrade() {
        driver.drive(input);
    }
}
