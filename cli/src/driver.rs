//! The driver: one loop that feeds the [`Phone`] its inputs (socket news,
//! timeouts, signals, the app's actions, the media layer's replies),
//! performs its outputs (connect, send, close, media) and hands its events,
//! state and results to the printer and the [`App`].
//!
//! Drain rule (the phone's contract): one input at a time, then every output
//! until none is left. What the outputs call for (media replies, the app's
//! actions) waits in a queue and is fed in the same way, one at a time,
//! until the queue is empty.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use tabphone_phone::{Instant, Phone, PhoneInput, PhoneOutput, PhoneState};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::app::{App, Do};
use crate::events::Printer;
use crate::media::TemplateMedia;
use crate::socket::{self, SockEvent, WsCmd};

/// An input the outputs of an earlier one called for.
enum Next {
    Media { request: u64, result: Result<String, String> },
    App(Do),
}

/// The phone, the app, the media layer and the current socket.
pub struct Driver {
    phone: Phone,
    app: App,
    printer: Printer,
    media: TemplateMedia,
    /// Where sockets report; each is tagged with its generation.
    tx: mpsc::UnboundedSender<(u64, SockEvent)>,
    /// The generation of the socket the phone last asked for.
    gen: u64,
    writer: Option<mpsc::UnboundedSender<WsCmd>>,
    /// The phone closed the socket before it opened: close it when it does.
    close_pending: bool,
    next: VecDeque<Next>,
    /// Actions given and not answered yet: their names.
    actions: BTreeMap<u64, &'static str>,
    next_action: u64,
}

impl Driver {
    /// Start the phone and run until the app has an exit code (2 when the
    /// signal handlers cannot be set up).
    pub async fn run(phone: Phone, app: App, printer: Printer, unix_ms: u64) -> u8 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (Ok(mut sigint), Ok(mut sigterm)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            eprintln!("tabphone-cli: cannot handle SIGINT and SIGTERM");
            return 2;
        };
        let mut d = Driver {
            phone,
            app,
            printer,
            media: TemplateMedia::default(),
            tx,
            gen: 0,
            writer: None,
            close_pending: false,
            next: VecDeque::new(),
            actions: BTreeMap::new(),
            next_action: 1,
        };
        d.input(PhoneInput::Start { unix_ms, inherit: None });
        loop {
            if let Some(code) = d.app.exit_code() {
                return code;
            }
            let wake = [d.phone.poll_timeout(), d.app.poll_timeout()].into_iter().flatten().min();
            let sleep =
                wake.map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
            tokio::select! {
                Some((gen, ev)) = rx.recv() => d.socket_event(gen, ev),
                _ = tokio::time::sleep(sleep) => d.timeout(),
                _ = sigint.recv() => d.signal("SIGINT"),
                _ = sigterm.recv() => d.signal("SIGTERM"),
            }
        }
    }

    /// Feed one input, drain its outputs, then what they called for.
    fn input(&mut self, input: PhoneInput<'_>) {
        self.phone.handle_input(Instant::now(), input);
        self.drain();
        self.flush();
    }

    /// Feed what outputs called for, one at a time, each drained.
    fn flush(&mut self) {
        while let Some(next) = self.next.pop_front() {
            match next {
                Next::Media { request, result } => {
                    self.phone.handle_input(Instant::now(), PhoneInput::Media { request, result });
                }
                Next::App(d) => self.perform(d),
            }
            self.drain();
        }
    }

    /// Give the phone what the app asked for.
    fn perform(&mut self, d: Do) {
        match d {
            Do::Stop => {
                self.phone.handle_input(Instant::now(), PhoneInput::Stop { unregister: true, hang_up: true })
            }
            Do::Action { name, args } => {
                let id = self.next_action;
                self.next_action += 1;
                self.actions.insert(id, name);
                self.printer.action(id, name, &args);
                let args = args.to_string();
                self.phone.handle_input(Instant::now(), PhoneInput::Action { id, name, args: &args });
            }
        }
    }

    fn timeout(&mut self) {
        let due = self.app.on_timeout(Instant::now());
        self.next.extend(due.into_iter().map(Next::App));
        self.input(PhoneInput::Timeout);
    }

    fn signal(&mut self, name: &str) {
        self.printer.print(serde_json::json!({"event": "signal", "name": name}));
        let todo = self.app.on_signal();
        self.next.extend(todo.into_iter().map(Next::App));
        self.flush();
    }

    fn socket_event(&mut self, gen: u64, ev: SockEvent) {
        if gen != self.gen {
            return; // a socket the phone has moved on from
        }
        match ev {
            SockEvent::Opened(w) => {
                if std::mem::take(&mut self.close_pending) {
                    let _ = w.send(WsCmd::Close);
                    return;
                }
                self.writer = Some(w);
                self.input(PhoneInput::Opened);
            }
            SockEvent::Message(bytes) => self.input(PhoneInput::Received(&bytes)),
            SockEvent::Closed(reason) => {
                self.writer = None;
                self.close_pending = false;
                if let Some(r) = reason {
                    self.printer.print(serde_json::json!({"event": "socket_error", "reason": r}));
                }
                self.input(PhoneInput::Closed);
            }
        }
    }

    /// Perform every output of the last input, in order.
    fn drain(&mut self) {
        while let Some(o) = self.phone.poll_output() {
            match o {
                PhoneOutput::Connect { url } => self.connect(url),
                PhoneOutput::Send(text) => self.send(text),
                PhoneOutput::Close => match self.writer.take() {
                    Some(w) => {
                        let _ = w.send(WsCmd::Close);
                    }
                    None => self.close_pending = true,
                },
                PhoneOutput::Media(r) => {
                    self.printer.media(&r);
                    if let Some(result) = self.media.perform(&r) {
                        self.next.push_back(Next::Media { request: r.id, result });
                    }
                }
                PhoneOutput::Result { id, result } => {
                    let name = self.actions.remove(&id).unwrap_or("unknown");
                    // The phone writes results as JSON text, always valid (its tests check it).
                    let result = result.map(|text| {
                        serde_json::from_str(&text).expect("the phone writes valid JSON results")
                    });
                    self.printer.result(id, name, &result);
                    let todo = self.app.on_result(name, &result);
                    self.next.extend(todo.into_iter().map(Next::App));
                }
                PhoneOutput::State(json) => self.state(&json),
                PhoneOutput::Event(e) => {
                    self.printer.event(&e);
                    let todo = self.app.on_event(&e);
                    self.next.extend(todo.into_iter().map(Next::App));
                }
                other => {
                    self.printer.print(serde_json::json!({"event": "other", "debug": format!("{other:?}")}))
                }
            }
        }
    }

    fn state(&mut self, json: &str) {
        match PhoneState::parse(json) {
            Ok(s) => {
                self.printer.state(&s);
                let todo = self.app.on_state(Instant::now(), &s);
                self.next.extend(todo.into_iter().map(Next::App));
            }
            Err(e) => self.printer.print(serde_json::json!({"event": "error", "message": e.to_string()})),
        }
    }

    /// A new socket; the previous one's news is ignored from now on.
    fn connect(&mut self, url: String) {
        self.printer.print(serde_json::json!({"event": "socket_connect", "url": url}));
        self.gen += 1;
        self.writer = None;
        self.close_pending = false;
        tokio::spawn(socket::run(url, self.gen, self.tx.clone()));
    }

    fn send(&mut self, text: String) {
        match &self.writer {
            Some(w) => {
                let _ = w.send(WsCmd::Text(text));
            }
            None => {
                self.printer.print(serde_json::json!({"event": "error", "message": "send without a socket"}))
            }
        }
    }
}
