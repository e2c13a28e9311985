//! What the xtask's demo Kamailio (`xtask/src/kamailio.rs`) and the CLI's
//! server tests (`cli/tests/support`) both need to run `tests/sip/kamailio.cfg`:
//! its port placeholders filled, and its process group stopped. One file,
//! included by path in both (an xtask binary cannot be a test dependency).
use std::process::{Command, Stdio};

/// The config with its WebSocket, UDP and sipp ports filled in.
pub fn fill_config(cfg: &str, ws: u16, udp: u16, sipp: u16) -> String {
    cfg.replace("__WS_PORT__", &ws.to_string())
        .replace("__UDP_PORT__", &udp.to_string())
        .replace("__SIPP_PORT__", &sipp.to_string())
}

/// Send `signal` (`-TERM`, `-KILL`) to process group `pgid`.
pub fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill").args([signal, "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
}

/// A process of group `pgid` is still alive.
pub fn group_alive(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
