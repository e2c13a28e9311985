//! The driver: one loop that feeds the [`UserAgent`] its inputs (socket news,
//! timeouts, signals, the app's commands), performs its outputs (connect,
//! send, close), prints its events and hands them to the [`App`].
//!
//! Drain rule: after every input, outputs are polled until none is left; the
//! commands the app answers events with are fed in, and the drain repeats.

use std::time::Duration;

use serde_json::json;
use tabphone_sip::ua::{Command, Input, Output, UserAgent};
use tabphone_sip::Instant;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::app::App;
use crate::events::Printer;
use crate::socket::{self, SockEvent, WsCmd};

/// The agent, the app and the current socket.
pub struct Driver {
    ua: UserAgent,
    app: App,
    printer: Printer,
    /// Where sockets report; each is tagged with its generation.
    tx: mpsc::UnboundedSender<(u64, SockEvent)>,
    /// The generation of the socket the agent last asked for.
    gen: u64,
    writer: Option<mpsc::UnboundedSender<WsCmd>>,
    /// The agent closed the socket before it opened: close it when it does.
    close_pending: bool,
}

impl Driver {
    /// Start the agent and run until the app has an exit code (2 when the
    /// signal handlers cannot be set up).
    pub async fn run(ua: UserAgent, app: App, printer: Printer) -> u8 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (Ok(mut sigint), Ok(mut sigterm)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            eprintln!("tabphone-cli: cannot handle SIGINT and SIGTERM");
            return 2;
        };
        let mut d = Driver { ua, app, printer, tx, gen: 0, writer: None, close_pending: false };
        d.input(Input::Command(Command::Start));
        loop {
            d.drain();
            if let Some(code) = d.app.exit_code() {
                return code;
            }
            let wake = [d.ua.poll_timeout(), d.app.poll_timeout()].into_iter().flatten().min();
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

    fn input(&mut self, input: Input<'_>) {
        self.ua.handle_input(Instant::now(), input);
    }

    fn timeout(&mut self) {
        if let Some(call) = self.app.on_timeout(Instant::now()) {
            self.printer.print(json!({"event": "hangup", "call": call.0}));
            self.input(Input::Command(Command::Hangup { call }));
        }
        self.input(Input::Timeout);
    }

    fn signal(&mut self, name: &str) {
        self.printer.print(json!({"event": "signal", "name": name}));
        if let Some(command) = self.app.on_signal() {
            self.input(Input::Command(command));
        }
    }

    fn socket_event(&mut self, gen: u64, ev: SockEvent) {
        if gen != self.gen {
            return; // a socket the agent has moved on from
        }
        match ev {
            SockEvent::Opened(w) => {
                if std::mem::take(&mut self.close_pending) {
                    let _ = w.send(WsCmd::Close);
                    return;
                }
                self.writer = Some(w);
                self.input(Input::Opened);
            }
            SockEvent::Message(bytes) => self.input(Input::Received(&bytes)),
            SockEvent::Closed(reason) => {
                self.writer = None;
                self.close_pending = false;
                if let Some(r) = reason {
                    self.printer.print(json!({"event": "socket_error", "reason": r}));
                }
                self.input(Input::Closed);
            }
        }
    }

    /// Perform every output; feed in the app's answers; repeat until quiet.
    fn drain(&mut self) {
        loop {
            let mut commands = Vec::new();
            while let Some(o) = self.ua.poll_output() {
                match o {
                    Output::Connect { url } => self.connect(url),
                    Output::Send(text) => self.send(text),
                    Output::Close => match self.writer.take() {
                        Some(w) => {
                            let _ = w.send(WsCmd::Close);
                        }
                        None => self.close_pending = true,
                    },
                    Output::Event(e) => {
                        self.printer.event(&e);
                        commands.extend(self.app.on_event(Instant::now(), &e, &mut self.ua));
                    }
                    other => self.printer.print(json!({"event": "other", "debug": format!("{other:?}")})),
                }
            }
            if commands.is_empty() {
                return;
            }
            for c in commands {
                self.input(Input::Command(c));
            }
        }
    }

    /// A new socket; the previous one's news is ignored from now on.
    fn connect(&mut self, url: String) {
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
            None => self.printer.print(json!({"event": "error", "message": "send without a socket"})),
        }
    }
}
