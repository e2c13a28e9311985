//! `tabphone-cli`: a command-line softphone on tabphone's SIP core.
//!
//! It drives [`tabphone_sip::ua::UserAgent`] over a real WebSocket (RFC 7118,
//! subprotocol `sip`; `ws://` and `wss://`) and prints every event as one JSON
//! line on stdout. A tool to probe a SIP-over-WebSocket server, and the driver
//! of the integration tests.
//!
//! ```text
//! tabphone-cli parse FILE
//! tabphone-cli register --server URL --user U --password P [--domain D] [--expires S] [--auto-answer]
//! tabphone-cli call TARGET --server URL --user U --password P [--domain D] [--hangup-after S]
//! common options: --instance UUID  --display-name NAME  --trace  --no-register (call)
//! ```
//!
//! `register` stays registered (refreshing) until SIGINT or SIGTERM, then
//! unregisters and exits 0 (1 when the credentials are refused). Incoming
//! calls are answered with `--auto-answer` and hung up when the peer does;
//! without it they are refused with 486 Busy Here. A re-INVITE is answered,
//! and after a reconnection every call gets a re-INVITE. `call` registers
//! first (unless `--no-register`), calls, hangs up after `--hangup-after`
//! seconds (or when the peer does), and exits 0 for an answered call that
//! ended normally, 1 otherwise.
//!
//! The CLI carries signaling only: its SDP offers and answers describe a
//! plain RTP audio stream (PCMU, PCMA, telephone-event) on a port nobody
//! listens on; no media is sent or received.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tabphone_sip::msg::{self, Message};
use tabphone_sip::ua::{CallId, Command, Config, EndCause, Event, Input, Output, UserAgent};
use tabphone_sip::Instant;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest as _, Message as WsMessage};

const USAGE: &str = "usage:
  tabphone-cli parse FILE
  tabphone-cli register --server URL --user U --password P [--domain D] [--expires S] [--auto-answer]
  tabphone-cli call TARGET --server URL --user U --password P [--domain D] [--hangup-after S]
options: --instance UUID  --display-name NAME  --trace  --no-register (call only)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("parse") => match args.get(1) {
            Some(path) => parse_file(path),
            None => usage("parse needs a FILE"),
        },
        Some("register") | Some("call") => match Opts::parse(&args) {
            Ok(opts) => run(opts),
            Err(e) => usage(&e),
        },
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage("unknown command"),
    }
}

fn usage(e: &str) -> ExitCode {
    eprintln!("tabphone-cli: {e}\n{USAGE}");
    ExitCode::from(2)
}

fn parse_file(path: &str) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tabphone-cli: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    match msg::parse(&bytes) {
        Ok(Message::Request(r)) => {
            println!(
                "request {} {} ({} headers, {} body bytes)",
                r.method.as_str(),
                r.uri,
                r.headers.0.len(),
                r.body.len()
            );
            ExitCode::SUCCESS
        }
        Ok(Message::Response(r)) => {
            println!(
                "response {} {} ({} headers, {} body bytes)",
                r.status,
                r.reason,
                r.headers.0.len(),
                r.body.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            match &e.answer {
                Some((status, _)) => println!("malformed: {} (a server answers {status})", e.reason),
                None => println!("malformed: {}", e.reason),
            }
            ExitCode::from(1)
        }
    }
}

#[derive(Debug, Clone)]
enum Mode {
    Register { auto_answer: bool },
    Call { target: String, hangup_after: Option<Duration> },
}

#[derive(Debug, Clone)]
struct Opts {
    mode: Mode,
    server: String,
    user: String,
    password: String,
    domain: Option<String>,
    expires: u32,
    instance: Option<String>,
    display_name: Option<String>,
    trace: bool,
    register: bool,
}

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut it = args.iter().skip(1);
        let (mut server, mut user, mut password, mut domain) = (None, None, None, None);
        let (mut expires, mut auto_answer, mut hangup_after, mut target) = (600, false, None, None);
        let (mut instance, mut display_name, mut trace, mut register) = (None, None, false, true);
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "--server" => server = Some(value(a)?),
                "--user" => user = Some(value(a)?),
                "--password" => password = Some(value(a)?),
                "--domain" => domain = Some(value(a)?),
                "--expires" => expires = value(a)?.parse().map_err(|_| "--expires needs seconds")?,
                "--hangup-after" => {
                    let s: f64 = value(a)?.parse().map_err(|_| "--hangup-after needs seconds")?;
                    hangup_after = Some(Duration::from_secs_f64(s.max(0.0)));
                }
                "--instance" => instance = Some(value(a)?),
                "--display-name" => display_name = Some(value(a)?),
                "--auto-answer" => auto_answer = true,
                "--trace" => trace = true,
                "--no-register" => register = false,
                other if !other.starts_with("--") && target.is_none() => target = Some(other.to_string()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        let mode = if args[0] == "call" {
            Mode::Call { target: target.ok_or("call needs a TARGET")?, hangup_after }
        } else {
            if target.is_some() {
                return Err("register takes no TARGET".into());
            }
            Mode::Register { auto_answer }
        };
        Ok(Opts {
            mode,
            server: server.ok_or("--server is required")?,
            user: user.ok_or("--user is required")?,
            password: password.ok_or("--password is required")?,
            domain,
            expires,
            instance,
            display_name,
            trace,
            register,
        })
    }

    fn config(&self) -> Result<Config, String> {
        let domain = match &self.domain {
            Some(d) => d.clone(),
            None => host_of(&self.server).ok_or_else(|| format!("no host in {}", self.server))?,
        };
        let aor = format!("sip:{}@{domain}", self.user);
        let mut c = Config::new(&self.server, &aor, &self.password);
        c.expires = self.expires;
        c.trace = self.trace;
        c.display_name = self.display_name.clone();
        c.register = self.register;
        c.seed = random_seed();
        c.instance_id = self.instance.clone().unwrap_or_else(|| uuid_from(random_seed(), random_seed()));
        Ok(c)
    }
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Randomness for the core's seed, from the OS (through std's hasher keys).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

fn uuid_from(a: u64, b: u64) -> String {
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// An audio SDP for the CLI's signaling-only calls.
fn sdp(version: u32) -> String {
    tabphone_sip::sdp::with_version(tabphone_sip::sdp::AUDIO_OFFER, version)
}

enum SockEvent {
    Opened(mpsc::UnboundedSender<WsCmd>),
    Message(Vec<u8>),
    Closed(Option<String>),
}

enum WsCmd {
    Text(String),
    Close,
}

/// One WebSocket: connect, then relay both ways until either side closes.
async fn socket(url: String, gen: u64, tx: mpsc::UnboundedSender<(u64, SockEvent)>) {
    let mut req = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send((gen, SockEvent::Closed(Some(format!("bad URL {url}: {e}")))));
            return;
        }
    };
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tokio_tungstenite::tungstenite::http::HeaderValue::from_static("sip"),
    );
    let ws = match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            let _ = tx.send((gen, SockEvent::Closed(Some(e.to_string()))));
            return;
        }
    };
    let (mut sink, mut stream) = ws.split();
    let (wtx, mut wrx) = mpsc::unbounded_channel();
    let _ = tx.send((gen, SockEvent::Opened(wtx)));
    let reason = loop {
        tokio::select! {
            cmd = wrx.recv() => match cmd {
                Some(WsCmd::Text(t)) => {
                    if let Err(e) = sink.send(WsMessage::Text(t.into())).await {
                        break Some(e.to_string());
                    }
                }
                Some(WsCmd::Close) | None => {
                    let _ = sink.close().await;
                    break None;
                }
            },
            m = stream.next() => match m {
                Some(Ok(WsMessage::Text(t))) => { let _ = tx.send((gen, SockEvent::Message(t.as_bytes().to_vec()))); }
                Some(Ok(WsMessage::Binary(b))) => { let _ = tx.send((gen, SockEvent::Message(b.to_vec()))); }
                Some(Ok(WsMessage::Close(_))) | None => break None,
                Some(Ok(_)) => {}
                Some(Err(e)) => break Some(e.to_string()),
            },
        }
    };
    let _ = tx.send((gen, SockEvent::Closed(reason)));
}

fn run(opts: Opts) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match opts.config() {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tabphone-cli: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = rt.block_on(App::new(opts, config).run());
    ExitCode::from(code)
}

struct App {
    mode: Mode,
    ua: UserAgent,
    start: Instant,
    gen: u64,
    writer: Option<mpsc::UnboundedSender<WsCmd>>,
    close_pending: bool,
    sdp_version: u32,
    call: Option<CallId>,
    established: bool,
    call_started: bool,
    hangup_at: Option<Instant>,
    exit: Option<u8>,
    stopping_code: u8,
    stop_sent: bool,
    register_flag: bool,
}

impl App {
    fn new(opts: Opts, config: Config) -> App {
        App {
            mode: opts.mode.clone(),
            ua: UserAgent::new(config),
            start: Instant::now(),
            gen: 0,
            writer: None,
            close_pending: false,
            sdp_version: 1,
            call: None,
            established: false,
            call_started: false,
            hangup_at: None,
            exit: None,
            stopping_code: 0,
            stop_sent: false,
            register_flag: opts.register,
        }
    }

    fn next_sdp(&mut self) -> String {
        self.sdp_version += 1;
        sdp(self.sdp_version)
    }

    fn print(&self, mut v: Value) {
        if let Some(o) = v.as_object_mut() {
            o.insert("t".into(), json!(self.start.elapsed().as_millis() as u64));
        }
        println!("{v}");
    }

    async fn run(mut self) -> u8 {
        use tokio::signal::unix::{signal, SignalKind};
        let (tx, mut rx) = mpsc::unbounded_channel::<(u64, SockEvent)>();
        let (mut sigint, mut sigterm) =
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(a), Ok(b)) => (a, b),
                _ => return 2,
            };
        self.input(Input::Command(Command::Start));
        loop {
            self.drain(&tx);
            if let Some(code) = self.exit {
                return code;
            }
            let now = Instant::now();
            let wake = [self.ua.poll_timeout(), self.hangup_at].into_iter().flatten().min();
            let sleep = wake.map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(now));
            tokio::select! {
                Some((gen, ev)) = rx.recv() => self.socket_event(gen, ev),
                _ = tokio::time::sleep(sleep) => {
                    let now = Instant::now();
                    if self.hangup_at.is_some_and(|t| t <= now) {
                        self.hangup_at = None;
                        if let Some(call) = self.call {
                            self.print(json!({"event": "hangup", "call": call.0}));
                            self.input(Input::Command(Command::Hangup { call }));
                        }
                    }
                    self.input(Input::Timeout);
                }
                _ = sigint.recv() => self.signal("SIGINT"),
                _ = sigterm.recv() => self.signal("SIGTERM"),
            }
        }
    }

    fn input(&mut self, input: Input<'_>) {
        self.ua.handle_input(Instant::now(), input);
    }

    fn signal(&mut self, name: &str) {
        self.print(json!({"event": "signal", "name": name}));
        if self.ua_stopping() {
            // A second signal: leave now.
            self.exit = Some(self.stopping_code);
            return;
        }
        self.stopping_code = match self.mode {
            Mode::Register { .. } => 0,
            Mode::Call { .. } => u8::from(!self.established),
        };
        self.stop_sent = true;
        self.input(Input::Command(Command::Stop));
    }

    fn ua_stopping(&self) -> bool {
        self.exit.is_some() || self.stop_sent
    }

    fn socket_event(&mut self, gen: u64, ev: SockEvent) {
        if gen != self.gen {
            return; // a socket the core has moved on from
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
                    self.print(json!({"event": "socket_error", "reason": r}));
                }
                self.input(Input::Closed);
            }
        }
    }

    fn drain(&mut self, tx: &mpsc::UnboundedSender<(u64, SockEvent)>) {
        loop {
            let mut commands = Vec::new();
            while let Some(o) = self.ua.poll_output() {
                match o {
                    Output::Connect { url } => {
                        self.gen += 1;
                        self.writer = None;
                        self.close_pending = false;
                        tokio::spawn(socket(url, self.gen, tx.clone()));
                    }
                    Output::Send(text) => match &self.writer {
                        Some(w) => {
                            let _ = w.send(WsCmd::Text(text));
                        }
                        None => self.print(json!({"event": "error", "message": "send without a socket"})),
                    },
                    Output::Close => match self.writer.take() {
                        Some(w) => {
                            let _ = w.send(WsCmd::Close);
                        }
                        None => self.close_pending = true,
                    },
                    Output::Event(e) => {
                        self.print(event_json(&e));
                        self.on_event(e, &mut commands);
                    }
                    _ => {}
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

    fn on_event(&mut self, e: Event, commands: &mut Vec<Command>) {
        match e {
            Event::Registered { .. } | Event::Connected { .. } => {
                let ready = matches!(e, Event::Registered { .. }) || !self.ua_registers();
                if let (Mode::Call { target, .. }, false, true) = (&self.mode, self.call_started, ready) {
                    let call = self.ua.new_call_id();
                    self.call = Some(call);
                    self.call_started = true;
                    let target = target.clone();
                    let sdp = self.next_sdp();
                    commands.push(Command::Call { call, target, sdp });
                }
            }
            Event::RegistrationFailed { status: Some(401 | 403 | 404) } => {
                // Wrong credentials will not fix themselves.
                self.stop(1, commands);
            }
            Event::Incoming { call, .. } => match self.mode {
                Mode::Register { auto_answer: true } if self.call.is_none() => {
                    self.call = Some(call);
                    let sdp = self.next_sdp();
                    commands.push(Command::Answer { call, sdp });
                }
                _ => commands.push(Command::Reject { call, status: 486 }),
            },
            Event::Established { call, .. } if Some(call) == self.call => {
                self.established = true;
                if let Mode::Call { hangup_after: Some(d), .. } = self.mode {
                    self.hangup_at = Some(Instant::now() + d);
                }
            }
            Event::Reoffer { call, .. } => {
                let sdp = self.next_sdp();
                commands.push(Command::AnswerReoffer { call, sdp });
            }
            Event::RecoveryOfferNeeded { call } => {
                let sdp = self.next_sdp();
                commands.push(Command::Reinvite { call, sdp });
            }
            Event::Refer { call, .. } => commands.push(Command::NotifyRefer { call, status: 603 }),
            Event::Ended { call, cause } if Some(call) == self.call => {
                self.call = None;
                self.hangup_at = None;
                match self.mode {
                    Mode::Register { .. } => self.established = false,
                    Mode::Call { .. } => {
                        let normal = self.established && matches!(cause, EndCause::Local | EndCause::Remote);
                        self.stop(u8::from(!normal), commands);
                    }
                }
            }
            Event::RecoveryFailed => self.stop(1, commands),
            Event::Stopped => self.exit = Some(self.stopping_code),
            _ => {}
        }
    }

    fn ua_registers(&self) -> bool {
        self.register_flag
    }

    fn stop(&mut self, code: u8, commands: &mut Vec<Command>) {
        if !self.stop_sent {
            self.stop_sent = true;
            self.stopping_code = code;
            commands.push(Command::Stop);
        }
    }
}

fn event_json(e: &Event) -> Value {
    match e {
        Event::Connecting { url } => json!({"event": "connecting", "url": url}),
        Event::Connected { url } => json!({"event": "connected", "url": url}),
        Event::Disconnected { cause } => json!({"event": "disconnected", "cause": format!("{cause:?}")}),
        Event::RecoveryError { retry_in } => {
            json!({"event": "recovery_error", "retry_in_ms": retry_in.as_millis() as u64})
        }
        Event::RecoveryFailed => json!({"event": "recovery_failed"}),
        Event::Recovered => json!({"event": "recovered"}),
        Event::Registered { expires, bindings } => {
            json!({"event": "registered", "expires": expires, "bindings": bindings})
        }
        Event::Unregistered => json!({"event": "unregistered"}),
        Event::RegistrationFailed { status } => json!({"event": "registration_failed", "status": status}),
        Event::Incoming { call, from, sdp, replaces } => json!({
            "event": "incoming", "call": call.0, "from": from, "has_sdp": sdp.is_some(),
            "replaces": replaces.map(|r| r.0),
        }),
        Event::Progress { call, status, sdp } => {
            json!({"event": "progress", "call": call.0, "status": status, "has_sdp": sdp.is_some()})
        }
        Event::Established { call, .. } => json!({"event": "established", "call": call.0}),
        Event::Ended { call, cause } => {
            let (cause, status) = match cause {
                EndCause::Local => ("local", None),
                EndCause::Remote => ("remote", None),
                EndCause::Failed(s) => ("failed", Some(*s)),
                EndCause::Timeout => ("timeout", None),
                EndCause::Transport => ("transport", None),
            };
            json!({"event": "ended", "call": call.0, "cause": cause, "status": status})
        }
        Event::Reoffer { call, sdp } => json!({"event": "reoffer", "call": call.0, "has_sdp": sdp.is_some()}),
        Event::ReinviteAnswered { call, .. } => json!({"event": "reinvite_answered", "call": call.0}),
        Event::ReinviteFailed { call, status } => {
            json!({"event": "reinvite_failed", "call": call.0, "status": status})
        }
        Event::RecoveryOfferNeeded { call } => json!({"event": "recovery_offer_needed", "call": call.0}),
        Event::Refer { call, target } => json!({"event": "refer", "call": call.0, "target": target}),
        Event::ReferProgress { call, status } => {
            json!({"event": "refer_progress", "call": call.0, "status": status})
        }
        Event::Dtmf { call, digit, duration_ms } => {
            json!({"event": "dtmf", "call": call.0, "digit": digit.to_string(), "duration_ms": duration_ms})
        }
        Event::MessageReceived { from, content_type, body } => {
            json!({"event": "message", "from": from, "content_type": content_type, "body": body})
        }
        Event::MessageResult { id, status } => json!({"event": "message_result", "id": id, "status": status}),
        Event::Stopped => json!({"event": "stopped"}),
        Event::Error { message } => json!({"event": "error", "message": message}),
        Event::Trace { line } => json!({"event": "trace", "line": line}),
        _ => json!({"event": "other", "debug": format!("{e:?}")}),
    }
}
