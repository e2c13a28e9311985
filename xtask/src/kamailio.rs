//! Kamailio for the demo: the project's SIP server config
//! (`tests/sip/kamailio.cfg`, the one the tests use) on loopback, run in its
//! own process group (it forks workers that would keep the ports) with its
//! own runtime directory, and stopped with its whole group.
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Result;

#[path = "../../tests/sip/kamailio_support.rs"]
mod support;
use support::{fill_config, group_alive, kill_group};

/// How long starting or stopping may take before it is reported as failed.
const PATIENCE: Duration = Duration::from_secs(30);

/// A demo account of the config's htable: `$sht(users=>alice) = "alice-secret";`.
pub struct Account {
    pub user: String,
    pub password: String,
}

pub struct Kamailio {
    /// Runtime directory: the config, the log, the ctl socket.
    pub dir: PathBuf,
    /// The WebSocket (SIP over WebSocket) port on 127.0.0.1.
    pub ws: u16,
    /// The accounts the config defines.
    pub accounts: Vec<Account>,
    child: Option<Child>,
}

fn free_udp_port() -> Result<u16> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("no free UDP port: {e}"))?;
    Ok(socket.local_addr().map_err(|e| e.to_string())?.port())
}

/// `wanted` if it is free on 127.0.0.1, else any free port.
fn tcp_port(wanted: u16) -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", wanted))
        .or_else(|_| TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| format!("no free TCP port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The accounts of the config's `users` htable.
fn accounts(cfg: &str) -> Vec<Account> {
    cfg.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("$sht(users=>")?;
            let (user, rest) = rest.split_once(')')?;
            let password = rest.trim().strip_prefix('=')?.trim().strip_suffix(';')?.trim().trim_matches('"');
            Some(Account { user: user.to_owned(), password: password.to_owned() })
        })
        .collect()
}

impl Kamailio {
    /// Write the config (WebSocket on `ws_port` if free, else any free port)
    /// and start it; returns once it listens.
    pub fn start(ws_port: u16) -> Result<Kamailio> {
        let cfg = std::fs::read_to_string(super::root().join("tests/sip/kamailio.cfg"))
            .map_err(|e| format!("tests/sip/kamailio.cfg: {e}"))?;
        let dir = std::env::temp_dir().join(format!("tabphone-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let ws = tcp_port(ws_port)?;
        let cfg = fill_config(&cfg, ws, free_udp_port()?, free_udp_port()?);
        std::fs::write(dir.join("kamailio.cfg"), &cfg).map_err(|e| e.to_string())?;
        let mut k = Kamailio { dir, ws, accounts: accounts(&cfg), child: None };
        k.run()?;
        Ok(k)
    }

    fn run(&mut self) -> Result<()> {
        let log = std::fs::File::create(self.log_path()).map_err(|e| e.to_string())?;
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
            .map_err(|e| format!("cannot start kamailio: {e}"))?;
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.ws)).is_err() {
            if self.exited() || start.elapsed() > PATIENCE {
                return Err(format!("kamailio did not listen on port {}:\n{}", self.ws, self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("kamailio.log")
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Its main process has exited (or was never started).
    pub fn exited(&mut self) -> bool {
        self.child.as_mut().is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
    }

    /// Stop the whole group (SIGTERM, SIGKILL after 5 s) and wait until every
    /// process of it is gone.
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let pgid = child.id();
        kill_group(pgid, "-TERM");
        let start = Instant::now();
        let mut killed = false;
        while matches!(child.try_wait(), Ok(None)) || group_alive(pgid) {
            if !killed && start.elapsed() > Duration::from_secs(5) {
                kill_group(pgid, "-KILL");
                killed = true;
            }
            if start.elapsed() > PATIENCE {
                return Err(format!("kamailio's process group {pgid} survived SIGKILL"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("xtask: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accounts_come_from_the_config() {
        let cfg = std::fs::read_to_string(crate::root().join("tests/sip/kamailio.cfg")).unwrap_or_default();
        let users: Vec<(String, String)> = accounts(&cfg).into_iter().map(|a| (a.user, a.password)).collect();
        let want = ["alice", "bob", "carol"].map(|u| (u.to_owned(), format!("{u}-secret")));
        assert_eq!(users, want);
    }
}
