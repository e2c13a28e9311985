//! `tabphone-cli` against real servers on loopback: Kamailio (WebSocket,
//! registrar, digest auth, record-routing) and sipp over UDP, plus a scripted
//! WebSocket server that misbehaves. Each test starts its own servers.
#![allow(clippy::unwrap_used, clippy::result_large_err)]

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::*;
use tabphone_sip::msg::{self, Message};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

#[test]
fn register_refresh_unregister() {
    let k = Kamailio::start();
    let url = k.url();
    let mut alice = Cli::spawn(
        "alice",
        &["register", "--server", &url, "--user", "alice", "--password", "alice-secret", "--expires", "10"],
    );
    let first = alice.wait_event("registered");
    assert_eq!(first["expires"], 10);
    // Refreshed before expiry (margin: half of a 10 s registration).
    let second = alice.wait_event("registered");
    let gap = second["t"].as_u64().unwrap() - first["t"].as_u64().unwrap();
    assert!((4_000..10_000).contains(&gap), "refresh after {gap} ms");
    // The binding is live: a call to alice reaches her (she rejects it: no --auto-answer).
    let mut bob =
        Cli::spawn("bob", &["call", "alice", "--server", &url, "--user", "bob", "--password", "bob-secret"]);
    let ended = bob.wait_event("ended");
    assert_eq!(ended["status"], 486, "{}", bob.dump());
    assert_ne!(bob.exit_code(), 0);
    alice.terminate();
    alice.wait_event("unregistered");
    assert_eq!(alice.exit_code(), 0);
    // The server forgot her: now the call gets 404.
    let mut bob =
        Cli::spawn("bob", &["call", "alice", "--server", &url, "--user", "bob", "--password", "bob-secret"]);
    assert_eq!(bob.wait_event("ended")["status"], 404, "{}", bob.dump());
    assert_eq!(bob.exit_code(), 1);
}

#[test]
fn wrong_password_fails_cleanly() {
    let k = Kamailio::start();
    let url = k.url();
    let mut cli =
        Cli::spawn("alice", &["register", "--server", &url, "--user", "alice", "--password", "wrong"]);
    let failed = cli.wait_event("registration_failed");
    assert_eq!(failed["status"], 401);
    assert_eq!(cli.exit_code(), 1);
    assert_eq!(cli.seen("registered"), 0);
}

#[test]
fn the_same_instance_replaces_its_binding() {
    let k = Kamailio::start();
    let inst = ["--instance", "5d3c2b1a-0000-4000-8000-00000000aaaa"];
    let mut a = Cli::register(&k, "carol", &inst);
    assert_eq!(a.log.last().unwrap()["bindings"], 1);
    // A reloaded page: same instance id, new connection, the old one still open.
    let b = Cli::register(&k, "carol", &inst);
    assert_eq!(b.log.last().unwrap()["bindings"], 1, "replaced, not added");
    // Another browser: a second binding.
    let c = Cli::register(&k, "carol", &["--instance", "5d3c2b1a-0000-4000-8000-00000000bbbb"]);
    assert_eq!(c.log.last().unwrap()["bindings"], 2);
    a.terminate();
    a.exit_code();
}

/// `tabphone-cli call TARGET` as `user` on `k`, hanging up after `seconds`.
fn call_cli(k: &Kamailio, user: &str, target: &str, seconds: &str) -> Cli {
    let (url, pw) = (k.url(), format!("{user}-secret"));
    Cli::spawn(
        user,
        &["call", target, "--server", &url, "--user", user, "--password", &pw, "--hangup-after", seconds],
    )
}

/// Print the caller's call setup, from its INVITE (sent in the step that
/// reports `registered`) to `established`, digest challenge included (a
/// figure, not an assertion).
fn report_call_setup(c: &Cli, label: &str) {
    let t = |event: &str| c.log.iter().find(|v| v["event"] == event).unwrap()["t"].as_u64().unwrap();
    let (invite, established) = (t("registered"), t("established"));
    println!(
        "call setup figure ({label}): {} ms from INVITE to established at the caller",
        established - invite
    );
}

fn call_between(k: &Kamailio, caller: &str, callee: &str) {
    let mut answerer = Cli::register(k, callee, &["--auto-answer"]);
    let mut c = call_cli(k, caller, callee, "0.5");
    c.wait_event("established");
    report_call_setup(&c, &format!("{caller} calls {callee}, both tabphone-cli"));
    assert_eq!(c.exit_code(), 0, "{}", c.dump());
    let incoming = answerer.wait_event("incoming");
    assert!(incoming["from"].as_str().unwrap().contains(&format!("sip:{caller}@")));
    answerer.wait_event("established");
    let ended = answerer.wait_event("ended");
    assert_eq!(ended["cause"], "remote");
    answerer.terminate();
    assert_eq!(answerer.exit_code(), 0);
}

#[test]
fn cli_users_call_each_other_both_ways() {
    let k = Kamailio::start();
    call_between(&k, "alice", "bob");
    call_between(&k, "bob", "alice");
}

#[test]
fn a_call_forked_to_two_instances_keeps_one_and_ends_the_other() {
    let k = Kamailio::start();
    let mut bobs = [
        Cli::register(&k, "bob", &["--auto-answer", "--instance", "b0b00000-0000-4000-8000-00000000000a"]),
        Cli::register(&k, "bob", &["--auto-answer", "--instance", "b0b00000-0000-4000-8000-00000000000b"]),
    ];
    assert_eq!(bobs[1].log.last().unwrap()["bindings"], 2);
    // Kamailio forks to both; both answer at once. Whichever 200 comes second
    // (or whichever fork is still ringing when the first answers, and gets a
    // CANCEL) must end at once: nobody is left in a call no one hears.
    let mut alice = call_cli(&k, "alice", "bob", "2");
    alice.wait_event("established");
    // Both forks end with cause "remote": one by alice's BYE when she hangs up,
    // the other at once (the ACK and BYE of the second 200, or a CANCEL while
    // it still rang). Neither is left to its own stop (cause "local").
    for b in &mut bobs {
        let ended = b.wait_event("ended");
        assert_eq!(ended["cause"], "remote", "{}", b.dump());
        assert_eq!(b.seen("incoming"), 1);
    }
    assert_eq!(alice.exit_code(), 0, "{}", alice.dump());
    let answered = bobs.iter().filter(|b| b.seen("established") > 0).count();
    assert!(answered >= 1);
    for b in &mut bobs {
        b.terminate();
        assert_eq!(b.exit_code(), 0);
    }
}

#[test]
fn sipp_over_udp_calls_a_registered_cli_user() {
    let k = Kamailio::start();
    let mut alice = Cli::register(&k, "alice", &["--auto-answer"]);
    let target = format!("127.0.0.1:{}", k.udp);
    let mut sipp = Sipp::spawn("uac.xml", free_udp_port(), &["-s", "alice", "-d", "1000", &target]);
    assert_eq!(sipp.exit_code(), 0, "{}", sipp.errors());
    alice.wait_event("incoming");
    alice.wait_event("established");
    assert_eq!(alice.wait_event("ended")["cause"], "remote");
    alice.terminate();
    assert_eq!(alice.exit_code(), 0);
}

#[test]
fn a_call_put_on_hold_is_answered_recvonly_and_inactive_with_inactive() {
    // The interop bug: a hold offer (a=sendonly) was answered a=sendrecv. sipp
    // holds, then makes the call inactive; its scenario checks each 200's
    // direction (RFC 3264 6.1) and fails otherwise.
    let k = Kamailio::start();
    let mut alice = Cli::register(&k, "alice", &["--auto-answer"]);
    let target = format!("127.0.0.1:{}", k.udp);
    let mut sipp = Sipp::spawn("uac-hold.xml", free_udp_port(), &["-s", "alice", &target]);
    assert_eq!(sipp.exit_code(), 0, "{}", sipp.errors());
    alice.wait("held by the peer", |v| v["event"] == "held" && v["remote"] == true);
    assert_eq!(alice.wait_event("ended")["cause"], "remote");
    let answers: Vec<String> = alice
        .log
        .iter()
        .filter(|v| media(v, "answer"))
        .map(|v| v["direction"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(answers, ["sendrecv", "recvonly", "inactive"], "{}", alice.dump());
    alice.terminate();
    assert_eq!(alice.exit_code(), 0);
}

#[test]
fn cli_calls_a_sipp_uas() {
    let k = Kamailio::start();
    let mut sipp = Sipp::spawn("uas.xml", k.sipp, &[]);
    let mut c = call_cli(&k, "alice", "uas", "0.5");
    c.wait_event("established");
    assert_eq!(c.exit_code(), 0, "{}", c.dump());
    assert_eq!(sipp.exit_code(), 0, "{}", sipp.errors());
}

/// Print how long the agent took to register again once the server was back,
/// against the backoff delay it had scheduled (a figure, not an assertion).
fn report_recovery(cli: &Cli, label: &str) {
    let t = |v: &serde_json::Value| v["t"].as_u64().unwrap_or(0);
    let Some(back) = cli.log.iter().position(|v| v["event"] == "recovered") else {
        return println!("recovery figure ({label}): no recovery");
    };
    // From the loss before the recovery to the registration that completed it.
    let down = cli.log[..back].iter().rposition(|v| v["event"] == "disconnected").unwrap_or(0);
    let during = &cli.log[down..=back];
    let last_attempt = during.iter().rev().find(|v| v["event"] == "socket_connect").map_or(0, t);
    let registered = during.iter().rev().find(|v| v["event"] == "registered").map_or(0, t);
    let delays: Vec<u64> = during
        .iter()
        .filter(|v| v["event"] == "recovery_error")
        .map(|v| v["retry_in_ms"].as_u64().unwrap_or(0))
        .collect();
    println!(
        "recovery figure ({label}): connection lost at {} ms, last attempt at {last_attempt} ms, registered at \
         {registered} ms: {} ms from the attempt the backoff scheduled to registered; recovery delays drawn: {delays:?} ms",
        t(&during[0]),
        registered.saturating_sub(last_attempt),
    );
}

#[test]
fn a_server_down_at_start_is_reached_when_it_comes_up() {
    let mut k = Kamailio::prepare();
    let url = k.url();
    let mut alice =
        Cli::spawn("alice", &["register", "--server", &url, "--user", "alice", "--password", "alice-secret"]);
    // Refused at once, then by the retries: every server failed, and another
    // round of attempts is scheduled.
    alice.wait_event("disconnected");
    alice.wait_event("recovery_error");
    k.run();
    alice.wait_event("registered");
    alice.terminate();
    assert_eq!(alice.exit_code(), 0);
    // Every event is in the log now: a first connection after failed attempts
    // is not a recovery.
    assert_eq!(alice.seen("recovered"), 0, "{}", alice.dump());
    assert_eq!(alice.seen("unregistered"), 1);
}

#[test]
fn kamailio_crash_while_registered_recovers_and_reregisters() {
    let mut k = Kamailio::start();
    let mut alice = Cli::register(&k, "alice", &["--auto-answer"]);
    k.restart_after(Duration::from_millis(300), "-KILL");
    alice.wait_event("disconnected");
    alice.wait_event("recovered");
    assert!(alice.seen("registered") >= 2);
    report_recovery(&alice, "server killed while registered, back after 300 ms");
    // The new server knows the binding: sipp reaches alice.
    let target = format!("127.0.0.1:{}", k.udp);
    let mut sipp = Sipp::spawn("uac.xml", free_udp_port(), &["-s", "alice", "-d", "1000", &target]);
    assert_eq!(sipp.exit_code(), 0, "{}", sipp.errors());
    alice.wait_event("established");
}

#[test]
fn kamailio_restart_mid_call_keeps_the_call_with_a_reinvite() {
    let mut k = Kamailio::start();
    let mut sipp = Sipp::spawn("uas.xml", k.sipp, &["-trace_msg"]);
    let mut c = call_cli(&k, "alice", "uas", "6");
    c.wait_event("established");
    // Mid-call: the ACK has reached the callee (stopping the server while the
    // ACK is still in it would leave sipp retransmitting its 200).
    sipp.wait_received("ACK");
    k.restart_after(Duration::from_millis(500), "-TERM");
    let call = c.log.iter().find(|v| v["event"] == "established").unwrap()["call"].clone();
    c.wait_event("disconnected");
    c.wait_event("recovered");
    // The phone asks its media layer for an ICE-restart offer for the call,
    // re-INVITEs with it, and applies the answer.
    let restart = c.wait("an ICE-restart offer", |v| media(v, "offer") && v["iceRestart"] == true);
    assert_eq!(restart["call"], call);
    c.wait("the re-INVITE's answer applied", |v| media(v, "applyAnswer") && v["call"] == call);
    report_recovery(&c, "server restarted mid-call, back after 500 ms");
    // The call goes on and ends normally through the new server.
    assert_eq!(c.wait_event("ended")["cause"], "local");
    assert_eq!(c.exit_code(), 0, "{}", c.dump());
    assert_eq!(sipp.exit_code(), 0, "{}", sipp.errors());
}

#[test]
fn kamailio_restart_mid_call_between_two_websocket_clients() {
    let mut k = Kamailio::start();
    let mut bob = Cli::register(&k, "bob", &["--auto-answer"]);
    let mut alice = call_cli(&k, "alice", "bob", "7");
    alice.wait_event("established");
    bob.wait_event("established");
    k.restart_after(Duration::from_millis(300), "-KILL");
    // Both reconnect and send their re-INVITE at about the same time. Whichever
    // way that goes (one first; glare and 491 both ways, then the RFC 3261 14.1
    // retries; or one refused while its peer is not registered yet), the session
    // must be renegotiated: one side's re-INVITE answered by the other.
    alice.wait_event("recovered");
    bob.wait_event("recovered");
    assert_eq!(alice.wait_event("ended")["cause"], "local");
    assert_eq!(alice.exit_code(), 0, "{}", alice.dump());
    assert_eq!(bob.wait_event("ended")["cause"], "remote", "{}", bob.dump());
    bob.terminate();
    assert_eq!(bob.exit_code(), 0);
    // Our re-INVITE answered: the media layer applies an answer; the peer's
    // re-offer: the media layer answers it.
    let after_recovery = |c: &Cli, kind: &str| {
        let from = c.log.iter().position(|v| v["event"] == "recovered").unwrap_or(usize::MAX);
        c.log.iter().skip(from).filter(|v| media(v, kind)).count()
    };
    let renegotiated = (after_recovery(&alice, "applyAnswer") > 0 && after_recovery(&bob, "answer") > 0)
        || (after_recovery(&bob, "applyAnswer") > 0 && after_recovery(&alice, "answer") > 0);
    assert!(renegotiated, "alice:\n{}\nbob:\n{}", alice.dump(), bob.dump());
    report_recovery(&alice, "server killed mid-call between two WebSocket clients (caller)");
}

/// A line of the CLI's media layer: a request of this kind (`offer`,
/// `answer`, `applyAnswer`, ...).
fn media(v: &serde_json::Value, kind: &str) -> bool {
    v["event"] == "media" && v["kind"] == kind
}

/// A WebSocket server (subprotocol `sip`) run by `script` for each connection.
fn fake_server(
    script: impl Fn(usize, &mut tungstenite::WebSocket<std::net::TcpStream>) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            let cb = |_: &tungstenite::handshake::server::Request,
                      mut resp: tungstenite::handshake::server::Response| {
                resp.headers_mut().insert("Sec-WebSocket-Protocol", "sip".parse().unwrap());
                Ok(resp)
            };
            let Ok(mut ws) = tungstenite::accept_hdr(stream, cb) else { continue };
            script(n, &mut ws);
        }
    });
    url
}

fn read_sip(ws: &mut tungstenite::WebSocket<std::net::TcpStream>) -> String {
    loop {
        match ws.read().unwrap() {
            WsMessage::Text(t) if !t.trim().is_empty() => return t.to_string(),
            WsMessage::Close(_) => panic!("closed"),
            _ => {}
        }
    }
}

fn ok_for(request: &str) -> String {
    let Ok(Message::Request(r)) = msg::parse(request.as_bytes()) else { panic!("not a request: {request}") };
    let mut ok = msg::Response::to(&r, 200, Some("fake"));
    ok.headers.copy_from(&r.headers, "Contact");
    ok.encode()
}

#[test]
fn an_unanswered_register_closes_the_connection_and_recovers() {
    let url = fake_server(|n, ws| {
        let reg = read_sip(ws);
        assert!(reg.starts_with("REGISTER "));
        if n == 0 {
            // Say nothing; wait for the client to give up on this connection.
            while ws.read().is_ok() {}
            return;
        }
        ws.send(WsMessage::Text(ok_for(&reg).into())).unwrap();
        while ws.read().is_ok() {}
    });
    let mut cli = Cli::spawn("alice", &["register", "--server", &url, "--user", "alice", "--password", "x"]);
    let failed = cli.wait_event("registration_failed");
    assert!(failed["status"].is_null());
    let t_connected = cli.log.iter().find(|v| v["event"] == "connected").unwrap()["t"].as_u64().unwrap();
    let waited = failed["t"].as_u64().unwrap() - t_connected;
    assert!(waited >= 5_000, "gave up after {waited} ms, before the 5 s");
    assert_eq!(cli.wait_event("disconnected")["cause"], "requested");
    cli.wait_event("registered");
    cli.wait_event("recovered");
    cli.terminate();
    assert_eq!(cli.exit_code(), 0);
}

#[test]
fn garbage_from_the_server_gets_errors_and_400s_and_the_client_stays_up() {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let url = fake_server(move |_, ws| {
        let reg = read_sip(ws);
        for junk in ["\u{1}\u{2}garbage\r\n\r\n", "SIP/2.0 999 Nope\r\n\r\n", "INVITE sip:x SIP/2.0\r\n"] {
            ws.send(WsMessage::Text(junk.into())).unwrap();
        }
        ws.send(WsMessage::Binary(vec![0xff, 0xfe, 0x00, 0x13].into())).unwrap();
        ws.send(WsMessage::Text("x".repeat(70_000).into())).unwrap();
        let bad = "INVITE sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKbad\r\n\
From: <sip:eve@example.com>;tag=e\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\n\
Contact: < sip:eve@example.com >\r\n\r\n";
        ws.send(WsMessage::Text(bad.into())).unwrap();
        let answer = read_sip(ws);
        tx.send(answer).unwrap();
        ws.send(WsMessage::Text(ok_for(&reg).into())).unwrap();
        let options =
            "OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKopt\r\n\
From: <sip:mon@example.com>;tag=m\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        ws.send(WsMessage::Text(options.into())).unwrap();
        let answer = read_sip(ws);
        tx.send(answer).unwrap();
        while ws.read().is_ok() {}
    });
    let mut cli = Cli::spawn("alice", &["register", "--server", &url, "--user", "alice", "--password", "x"]);
    let to_bad = rx.recv_timeout(PATIENCE).unwrap();
    assert!(to_bad.starts_with("SIP/2.0 400 "), "{to_bad}");
    assert!(to_bad.contains("Call-ID: bad-1"));
    cli.wait_event("registered");
    let to_options = rx.recv_timeout(PATIENCE).unwrap();
    assert!(to_options.starts_with("SIP/2.0 200 "), "{to_options}");
    let errors: Vec<String> =
        cli.log.iter().filter(|v| v["event"] == "error").map(|v| v["message"].to_string()).collect();
    assert_eq!(errors.len(), 6, "one error per bad frame: {errors:#?}");
    assert!(errors.iter().any(|e| e.contains("exceeds")), "{errors:#?}");
    assert_eq!(cli.seen("disconnected"), 0, "stayed connected");
    cli.terminate();
    assert_eq!(cli.exit_code(), 0);
}

#[test]
fn parse_command_on_the_rfc_4475_messages() {
    let dir = repo().join("crates/tabphone-sip/tests/rfc4475");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).unwrap();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tabphone-cli"))
            .arg("parse")
            .arg(dir.join(cols[0]))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 1, "{}: one line: {text}", cols[0]);
        match cols[3] {
            "valid" => assert_eq!(out.status.code(), Some(0), "{}: {text}", cols[0]),
            "invalid" => {
                assert_eq!(out.status.code(), Some(1), "{}: {text}", cols[0]);
                assert!(text.starts_with("malformed: "));
            }
            _ => assert!(matches!(out.status.code(), Some(0 | 1)), "{}: {text}", cols[0]),
        }
    }
}
