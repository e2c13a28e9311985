//! The agent's settings, [`Config`]; its `Debug` leaves the password out.

use std::time::Duration;

use crate::msg::Uri;
use crate::transport::TransportConfig;

/// Settings of a user agent.
#[derive(Clone)]
pub struct Config {
    /// Servers, timers and keepalive of the connection.
    pub transport: TransportConfig,
    /// Address of record, `sip:user@domain`.
    pub aor: String,
    /// Digest user name (often the AOR's user).
    pub auth_user: String,
    /// Digest password.
    pub password: String,
    /// Display name in From.
    pub display_name: Option<String>,
    /// Stable instance id (a UUID, or a full `urn:...`). The same id from a
    /// reloaded page or a new tab replaces the old binding (RFC 5626).
    pub instance_id: String,
    /// Register on start.
    pub register: bool,
    /// Requested registration expiry, seconds.
    pub expires: u32,
    /// A REGISTER unanswered this long closes the connection (recovery follows).
    pub register_timeout: Duration,
    /// RFC 3261 T1.
    pub t1: Duration,
    /// RFC 3261 T2.
    pub t2: Duration,
    /// User-Agent header value.
    pub user_agent: String,
    /// Emit [`super::Event::Trace`] for every message in and out (credentials redacted).
    pub trace: bool,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Config {
    /// Defaults for `aor` with `password`, one server.
    pub fn new(server: &str, aor: &str, password: &str) -> Config {
        let user = Uri::parts(aor).ok().and_then(|(_, user, _)| user).unwrap_or_default().to_string();
        Config {
            transport: TransportConfig {
                servers: vec![crate::transport::Server { url: server.to_string(), weight: 0 }],
                ..TransportConfig::default()
            },
            aor: aor.to_string(),
            auth_user: user,
            password: password.to_string(),
            display_name: None,
            instance_id: "00000000-0000-4000-8000-000000000000".to_string(),
            register: true,
            expires: 600,
            register_timeout: Duration::from_secs(5),
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            user_agent: concat!("tabphone/", env!("CARGO_PKG_VERSION")).to_string(),
            trace: false,
            seed: 1,
        }
    }
}

/// Every field but the password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("transport", &self.transport)
            .field("aor", &self.aor)
            .field("auth_user", &self.auth_user)
            .field("password", &"<redacted>")
            .field("display_name", &self.display_name)
            .field("instance_id", &self.instance_id)
            .field("register", &self.register)
            .field("expires", &self.expires)
            .field("register_timeout", &self.register_timeout)
            .field("t1", &self.t1)
            .field("t2", &self.t2)
            .field("user_agent", &self.user_agent)
            .field("trace", &self.trace)
            .field("seed", &self.seed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_the_password_out() {
        let c = Config::new("wss://x", "sip:alice@example.com", "s3cr3t");
        let text = format!("{c:?}");
        assert!(!text.contains("s3cr3t") && text.contains("sip:alice@example.com"), "{text}");
    }
}
