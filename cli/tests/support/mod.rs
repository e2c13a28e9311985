//! Real servers for the integration tests: Kamailio (started from
//! `tests/sip/kamailio.cfg` on free loopback ports, in its own process group),
//! sipp, the CLI as a child process with its JSON events, and a scripted
//! WebSocket server for the misbehaving-server cases.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../../../tests/sip/kamailio_support.rs"]
mod kamailio_support;
use kamailio_support::{fill_config, group_alive, kill_group};

/// How long any wait may last before the test fails with its log (a bound,
/// not a timing assertion).
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Kamailio {
    pub dir: PathBuf,
    pub ws: u16,
    pub udp: u16,
    pub sipp: u16,
    child: Option<Child>,
}

impl Kamailio {
    pub fn start() -> Kamailio {
        let mut k = Kamailio::prepare();
        k.run();
        k
    }

    /// Config written and ports chosen, not started yet (see [`Kamailio::run`]).
    pub fn prepare() -> Kamailio {
        let which = Command::new("kamailio").arg("-v").output();
        assert!(
            which.is_ok_and(|o| o.status.success()),
            "kamailio is not installed: apt-get install -y kamailio kamailio-websocket-modules (cargo xtask test installs it)"
        );
        let dir = std::env::temp_dir().join(format!(
            "tabphone-kamailio-{}-{}",
            std::process::id(),
            free_tcp_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let k =
            Kamailio { dir, ws: free_tcp_port(), udp: free_udp_port(), sipp: free_udp_port(), child: None };
        let cfg = std::fs::read_to_string(repo().join("tests/sip/kamailio.cfg")).unwrap();
        let cfg = fill_config(&cfg, k.ws, k.udp, k.sipp);
        std::fs::write(k.dir.join("kamailio.cfg"), cfg).unwrap();
        k
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws)
    }

    /// Start it and wait until it listens.
    pub fn run(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("kamailio.log"))
            .unwrap();
        let child = Command::new("kamailio")
            .args(["-DD", "-E", "-f"])
            .arg(self.dir.join("kamailio.cfg"))
            .arg("-Y")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start kamailio");
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.ws)).is_err() {
            assert!(start.elapsed() < PATIENCE, "kamailio did not listen; log in {}", self.dir.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stop with `sig` ("-TERM", or "-KILL" for a crash) and wait for every
    /// process. Kamailio can take up to a minute to reap a worker that ignores
    /// SIGTERM (seen when it is stopped just after starting): after 5 s the
    /// group is killed.
    pub fn stop(&mut self, sig: &str) {
        let Some(mut child) = self.child.take() else { return };
        let pgid = child.id();
        kill_group(pgid, sig);
        let start = Instant::now();
        let mut killed = false;
        while child.try_wait().ok().flatten().is_none() || group_alive(pgid) {
            if !killed && start.elapsed() > Duration::from_secs(5) {
                kill_group(pgid, "-KILL");
                killed = true;
            }
            assert!(start.elapsed() < PATIENCE, "kamailio survived {sig} and -KILL");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Start again on the same ports.
    pub fn restart_after(&mut self, down: Duration, sig: &str) -> Instant {
        self.stop(sig);
        std::thread::sleep(down);
        self.run();
        Instant::now()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.stop("-TERM");
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kamailio log kept in {}", self.dir.display());
        }
    }
}

/// The CLI as a child process; its stdout JSON lines arrive on a channel.
pub struct Cli {
    pub name: String,
    child: Child,
    rx: Receiver<Value>,
    pub log: Vec<Value>,
}

impl Cli {
    pub fn spawn(name: &str, args: &[&str]) -> Cli {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tabphone-cli"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tabphone-cli");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let v: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Cli { name: name.to_string(), child, rx, log: Vec::new() }
    }

    /// Register `user` (password `<user>-secret`) on `k`, plus `extra` options.
    pub fn register(k: &Kamailio, user: &str, extra: &[&str]) -> Cli {
        let pw = format!("{user}-secret");
        let url = k.url();
        let mut args = vec!["register", "--server", &url, "--user", user, "--password", &pw];
        args.extend_from_slice(extra);
        let mut cli = Cli::spawn(user, &args);
        cli.wait_event("registered");
        cli
    }

    /// The next event matching `pred`, waiting at most [`PATIENCE`].
    pub fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) => {
                    self.log.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(_) => panic!("{}: no {what}; events so far:\n{}", self.name, self.dump()),
            }
        }
    }

    pub fn wait_event(&mut self, event: &str) -> Value {
        self.wait(event, |v| v["event"] == event)
    }

    pub fn dump(&self) -> String {
        self.log.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
    }

    pub fn seen(&self, event: &str) -> usize {
        self.log.iter().filter(|v| v["event"] == event).count()
    }

    pub fn terminate(&self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
    }

    /// Exit code, waiting at most [`PATIENCE`]; the remaining events are logged.
    pub fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            while let Ok(v) = self.rx.try_recv() {
                self.log.push(v);
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(20));
                while let Ok(v) = self.rx.try_recv() {
                    self.log.push(v);
                }
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("{} did not exit; events:\n{}", self.name, self.dump());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// sipp running one scenario from `tests/sip/`.
pub struct Sipp {
    child: Child,
    pub dir: PathBuf,
}

impl Sipp {
    /// `sipp -sf tests/sip/<scenario> -p <port> -m 1 <extra...>`.
    pub fn spawn(scenario: &str, port: u16, extra: &[&str]) -> Sipp {
        let which = Command::new("sipp").arg("-v").output();
        assert!(which.is_ok(), "sipp is not installed: apt-get install -y sip-tester");
        let dir = std::env::temp_dir().join(format!("tabphone-sipp-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(repo().join("tests/sip").join(scenario))
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1", "-nostdin", "-trace_err"])
            .args(extra)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipp");
        Sipp { child, dir }
    }

    /// Exit code (0: the scenario passed), waiting at most [`PATIENCE`].
    pub fn exit_code(&mut self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sipp did not finish; see {}", self.dir.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until sipp has received a request of `method` (needs `-trace_msg`
    /// among the extra arguments), at most [`PATIENCE`].
    pub fn wait_received(&self, method: &str) {
        let deadline = Instant::now() + PATIENCE;
        let needle = format!("\n\n{method} sip:");
        while Instant::now() < deadline {
            let seen = std::fs::read_dir(&self.dir).into_iter().flatten().flatten().any(|e| {
                let log = std::fs::read_to_string(e.path()).unwrap_or_default();
                e.file_name().to_string_lossy().ends_with("_messages.log")
                    && log.split("message received").skip(1).any(|m| m.contains(&needle))
            });
            if seen {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("sipp received no {method}; see {}", self.dir.display());
    }

    pub fn errors(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            out += &std::fs::read_to_string(e.path()).unwrap_or_default();
        }
        out
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
