//! `cargo xtask demo [--port N] [--sip-port N]`: the demo page and a local
//! SIP server (Kamailio with the demo accounts) until Ctrl-C.
//!
//! The page learns the server from `/config.json`, written here into a
//! folder served before `demo/`: `{server, domain, accounts: [{user,
//! password, displayName}]}`.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::kamailio::{Account, Kamailio};
use super::{build, ensure, serve, Result};

const USAGE: &str = "usage: cargo xtask demo [--port N] [--sip-port N]";

/// The domain of the demo accounts (the config keeps no domain in AORs).
const DOMAIN: &str = "127.0.0.1";

fn parse(args: &[String]) -> Result<(u16, u16)> {
    let (mut port, mut sip_port) = (8080, 5066);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(USAGE)?;
        let n = value.parse().map_err(|_| format!("bad port {value}; {USAGE}"))?;
        match flag.as_str() {
            "--port" => port = n,
            "--sip-port" => sip_port = n,
            _ => return Err(USAGE.into()),
        }
    }
    Ok((port, sip_port))
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// "alice" -> "Alice".
fn display_name(user: &str) -> String {
    let mut chars = user.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn config_json(server: &str, accounts: &[Account]) -> String {
    let accounts: Vec<String> = accounts
        .iter()
        .map(|a| {
            format!(
                "{{\"user\": {}, \"password\": {}, \"displayName\": {}}}",
                json_str(&a.user),
                json_str(&a.password),
                json_str(&display_name(&a.user))
            )
        })
        .collect();
    format!(
        "{{\"server\": {}, \"domain\": {}, \"accounts\": [{}]}}\n",
        json_str(server),
        json_str(DOMAIN),
        accounts.join(", ")
    )
}

fn print_usage(page: &str, k: &Kamailio) {
    let names: Vec<&str> = k.accounts.iter().map(|a| a.user.as_str()).collect();
    let first = names.first().copied().unwrap_or("alice");
    let second = names.get(1).copied().unwrap_or("bob");
    println!(
        "\ntabphone demo\n\
         \x20 page        {page}\n\
         \x20 SIP server  Kamailio on {url} (domain {DOMAIN}), accounts {accounts}, password <name>-secret\n\
         \x20             log: {log}\n\n\
         Try it:\n\
         \x20 1. Open {page}?account={first} in several tabs: they share one phone. One tab is \"real\"\n\
         \x20    (it holds the registration and plays the sound); the others mirror it and drive it.\n\
         \x20 2. Open {page}?account={second} in a second browser profile or a private window\n\
         \x20    (each profile is one phone).\n\
         \x20 3. Call {second} from any {first} tab, or {first} from {second}: it rings in every {first} tab,\n\
         \x20    any of them can answer, hold, mute, send DTMF, transfer and hang up.\n\
         \x20 Or open {page} and sign in with the form (any ws:// or wss:// server).\n\
         \x20 Use 127.0.0.1 or localhost: the microphone needs a secure context.\n\n\
         Ctrl-C stops the page server and Kamailio.",
        url = k.url(),
        accounts = names.join(", "),
        log = k.log_path().display(),
    );
}

/// Serve the page with a local Kamailio until Ctrl-C (or SIGTERM, SIGHUP),
/// or until the page server or Kamailio ends; Kamailio is stopped in every case.
pub fn demo(args: &[String]) -> Result<()> {
    let (port, sip_port) = parse(args)?;
    ensure()?;
    build()?;
    // A first signal asks the loop below to stop; a second one ends at once.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    let mut kamailio = Kamailio::start(sip_port)?;
    if kamailio.ws != sip_port {
        eprintln!("xtask: port {sip_port} is taken; Kamailio listens on {} instead", kamailio.ws);
    }
    let www = kamailio.dir.join("www");
    std::fs::create_dir_all(&www).map_err(|e| e.to_string())?;
    let config = config_json(&kamailio.url(), &kamailio.accounts);
    std::fs::write(www.join("config.json"), config).map_err(|e| e.to_string())?;
    let server = serve::Server::start(port, [vec![www], serve::roots()].concat())?;
    print_usage(&format!("http://127.0.0.1:{}/", server.port), &kamailio);
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(100));
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        if server.finished() {
            break Err("the page server stopped".to_owned());
        }
        if kamailio.exited() {
            break Err(format!("kamailio exited:\n{}", kamailio.log_tail()));
        }
    };
    eprintln!("\nxtask: stopping Kamailio");
    kamailio.stop()?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_config_is_json_with_the_accounts() {
        let accounts = [Account { user: "alice".into(), password: "alice-secret".into() }];
        assert_eq!(
            config_json("ws://127.0.0.1:5066", &accounts),
            "{\"server\": \"ws://127.0.0.1:5066\", \"domain\": \"127.0.0.1\", \"accounts\": \
             [{\"user\": \"alice\", \"password\": \"alice-secret\", \"displayName\": \"Alice\"}]}\n"
        );
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn ports_parse() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&[]), Ok((8080, 5066)));
        assert_eq!(parse(&args(&["--sip-port", "5070", "--port", "0"])), Ok((0, 5070)));
        assert!(parse(&args(&["--port"])).is_err());
        assert!(parse(&args(&["--what", "1"])).is_err());
        assert!(parse(&args(&["--port", "x"])).is_err());
    }
}
