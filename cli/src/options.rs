//! The command line (clap): `parse`, `register` and `call`, their options,
//! and the phone's [`Config`] they make.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tabphone_phone::Config;
use tokio_tungstenite::tungstenite::http::Uri;
use uuid::Uuid;

/// Command-line softphone on tabphone's SIP core: probe a SIP-over-WebSocket
/// server, register, call. Every event is printed as one JSON line.
#[derive(Debug, Parser)]
#[command(name = "tabphone-cli", version)]
pub struct Options {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Parse FILE as one SIP message: exit 0 and a summary line, or exit 1
    /// and the error.
    Parse {
        /// A file holding one SIP message.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Register and stay registered (refreshing) until SIGINT or SIGTERM,
    /// then unregister and exit 0 (1 when the credentials are refused).
    Register {
        #[command(flatten)]
        account: Account,
        /// Answer incoming calls (hang up when the peer does); without it
        /// they are refused with 486 Busy Here.
        #[arg(long)]
        auto_answer: bool,
    },
    /// Register (unless --no-register), call TARGET, hang up after
    /// --hangup-after seconds or when the peer does; exit 0 for an answered
    /// call that ended normally, 1 otherwise.
    Call {
        /// Whom to call: a user on the domain, or a SIP URI.
        #[arg(value_name = "TARGET")]
        target: String,
        #[command(flatten)]
        account: Account,
        /// Hang up after this many seconds (fractions allowed).
        #[arg(long, value_name = "S", value_parser = seconds)]
        hangup_after: Option<Duration>,
        /// Call without registering first.
        #[arg(long)]
        no_register: bool,
    },
}

/// Who the agent is and where it connects.
#[derive(Debug, Args)]
pub struct Account {
    /// The SIP-over-WebSocket server: ws://HOST[:PORT][/PATH] or wss://…
    #[arg(long, value_name = "URL", value_parser = server_url)]
    pub server: ServerUrl,
    /// User name (in the address of record and for digest auth).
    #[arg(long, value_name = "U")]
    pub user: String,
    /// Password for digest auth.
    #[arg(long, value_name = "P")]
    pub password: String,
    /// Domain of the address of record [default: the server's host].
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Registration expiry asked for, in seconds.
    #[arg(long, value_name = "S", default_value_t = 600)]
    pub expires: u32,
    /// Instance id (RFC 5626) [default: a random one].
    #[arg(long, value_name = "UUID")]
    pub instance: Option<Uuid>,
    /// Display name in From.
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// Print every SIP message in and out as a trace event.
    #[arg(long)]
    pub trace: bool,
}

/// A `ws://` or `wss://` URL, as given, and its host.
#[derive(Debug, Clone)]
pub struct ServerUrl {
    pub url: String,
    pub host: String,
}

/// Check a server URL with the parser the WebSocket connection uses.
fn server_url(s: &str) -> Result<ServerUrl, String> {
    let uri: Uri = s.parse().map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("ws" | "wss")) {
        return Err("the scheme must be ws or wss".into());
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(ServerUrl { url: s.to_string(), host: host.to_string() }),
        _ => Err("no host".into()),
    }
}

/// Seconds, fractions allowed, as a duration.
fn seconds(s: &str) -> Result<Duration, String> {
    let f: f64 = s.parse().map_err(|_| "not a number of seconds".to_string())?;
    Duration::try_from_secs_f64(f).map_err(|e| format!("not a duration: {e}"))
}

impl Account {
    /// The phone's configuration: transfers the peer asks for are refused.
    /// The seed, and the instance id unless `--instance` gives one, come from
    /// the OS's randomness.
    pub fn config(&self, register: bool) -> Result<Config, getrandom::Error> {
        let domain = self.domain.as_deref().unwrap_or(&self.server.host);
        let aor = format!("sip:{}@{domain}", self.user);
        let mut c = tabphone_sip::ua::Config::new(&self.server.url, &aor, &self.password);
        c.expires = self.expires;
        c.trace = self.trace;
        c.display_name = self.display_name.clone();
        c.register = register;
        c.seed = getrandom::u64()?;
        let instance = match self.instance {
            Some(id) => id,
            None => {
                let mut bytes = [0; 16];
                getrandom::fill(&mut bytes)?;
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
        };
        c.instance_id = instance.hyphenated().to_string();
        let mut phone = Config::from_sip(c);
        phone.follow_transfers = false;
        Ok(phone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("tabphone-cli").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Options::command().debug_assert();
    }

    #[test]
    fn call_takes_its_target_anywhere_and_defaults_the_domain_to_the_server_host() {
        let no_password = parse(&["call", "--server", "wss://sip.example.com/ws", "bob", "--user", "alice"]);
        assert!(no_password.is_err(), "--password is required");
        let o = parse(&["call", "--server", "ws://[::1]:5066", "bob", "--user", "alice", "--password", "p"]);
        let Cmd::Call { target, account, hangup_after, no_register } = o.unwrap().command else { panic!() };
        assert_eq!((target.as_str(), hangup_after, no_register), ("bob", None, false));
        let config = account.config(true).unwrap();
        assert_eq!(config.sip.aor, "sip:alice@[::1]", "an IPv6 reference keeps its brackets");
        assert_eq!(Uuid::parse_str(&config.sip.instance_id).unwrap().get_version_num(), 4);
        assert!(!config.follow_transfers, "transfers are refused");
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let base = ["register", "--user", "a", "--password", "p", "--server"];
        for server in ["http://x", "ws:///path", "not a url"] {
            let args: Vec<&str> = base.iter().copied().chain([server]).collect();
            assert!(parse(&args).is_err(), "{server}");
        }
        let call = ["call", "b", "--server", "ws://x", "--user", "a", "--password", "p", "--hangup-after"];
        for s in ["soon", "-1", "inf"] {
            let args: Vec<&str> = call.iter().copied().chain([s]).collect();
            assert!(parse(&args).is_err(), "{s}");
        }
        let ok: Vec<&str> = call.iter().copied().chain(["0.5"]).collect();
        let Cmd::Call { hangup_after, .. } = parse(&ok).unwrap().command else { panic!() };
        assert_eq!(hangup_after, Some(Duration::from_millis(500)));
        assert!(parse(&["register", "--user", "a", "--password", "p", "--server", "ws://x", "bob"]).is_err());
        assert!(parse(&[
            "register",
            "--server",
            "ws://x",
            "--user",
            "a",
            "--password",
            "p",
            "--instance",
            "x"
        ])
        .is_err());
    }
}
