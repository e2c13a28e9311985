//! `tabphone-cli`: a command-line softphone on tabphone's phone core.
//!
//! It drives [`tabphone_phone::Phone`] (and through it the SIP user agent)
//! over a real WebSocket (RFC 7118, subprotocol `sip`; `ws://` and `wss://`)
//! and prints every event as one JSON line on stdout. A tool to probe a
//! SIP-over-WebSocket server, and the driver of the integration tests.
//!
//! ```text
//! tabphone-cli parse FILE
//! tabphone-cli register --server URL --user U --password P [--auto-answer] [OPTIONS]
//! tabphone-cli call TARGET --server URL --user U --password P [--hangup-after S] [--no-register] [OPTIONS]
//! OPTIONS (both): --domain D  --expires S  --instance UUID  --display-name NAME  --trace
//! tabphone-cli --help, tabphone-cli COMMAND --help: every option
//! ```
//!
//! `register` stays registered (refreshing) until SIGINT or SIGTERM, then
//! unregisters and exits 0 (1 when the credentials are refused). Incoming
//! calls are answered with `--auto-answer` and hung up when the peer does;
//! without it they are declined with 486 Busy Here. The phone answers
//! re-INVITEs (RFC 3264: a hold is answered `recvonly`), sends every call an
//! ICE-restart re-INVITE after a reconnection, and refuses transfers. `call`
//! registers first (unless `--no-register`), calls, hangs up after
//! `--hangup-after` seconds (or when the peer does), and exits 0 for an
//! answered call that ended normally, 1 otherwise. A bad command line exits 2.
//!
//! The CLI carries signaling only: its media layer answers from an SDP
//! template describing a plain RTP audio stream (PCMU, PCMA,
//! telephone-event) on a port nobody listens on; no media is sent or
//! received.
//!
//! # Layout
//!
//! - `main.rs`: this page; reads the command line, starts the runtime.
//! - `options`: the command line (clap) and the phone's `Config` it makes
//!   (the seed and a random instance id from the OS's randomness).
//! - `parse`: the `parse FILE` command.
//! - `driver`: the loop that feeds the `Phone` (socket news, timeouts,
//!   signals, the app's actions, media replies) and performs its outputs.
//! - `socket`: one WebSocket connection (TCP_NODELAY, rustls for `wss://`).
//! - `media`: the template media layer.
//! - `app`: the policy, the actions the CLI takes, and its exit code.
//! - `events`: the JSON lines.

mod app;
mod driver;
mod events;
mod media;
mod options;
mod parse;
mod socket;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser as _;
use tabphone_phone::{Instant, Phone};

use crate::app::{App, Mode};
use crate::options::{Account, Cmd, Options};

fn main() -> ExitCode {
    let options = Options::parse();
    match options.command {
        Cmd::Parse { file } => parse::run(&file),
        Cmd::Register { account, auto_answer } => run(Mode::Register { auto_answer }, &account, true),
        Cmd::Call { target, account, hangup_after, no_register } => {
            run(Mode::Call { target, hangup_after }, &account, !no_register)
        }
    }
}

/// `register` or `call`: the phone on a single-threaded runtime.
fn run(mode: Mode, account: &Account, register: bool) -> ExitCode {
    let start = Instant::now();
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let config = match account.config(register) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tabphone-cli: no randomness from the OS: {e}");
            return ExitCode::from(2);
        }
    };
    // Only fails when a provider is installed already; then that one serves.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tabphone-cli: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let printer = events::Printer::new(start, unix_ms, register);
    let (phone, app) = (Phone::new(config), App::new(mode, register));
    ExitCode::from(rt.block_on(driver::Driver::run(phone, app, printer, unix_ms)))
}
