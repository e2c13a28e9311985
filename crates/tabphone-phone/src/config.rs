//! Settings of a phone: the SIP user agent's, plus the phone's own.

use std::time::Duration;

use tabphone_sip::transport::Server;
use tabphone_sip::ua;

/// Settings. The credentials in [`Config::sip`] go only to the real tab's
/// phone; they never reach the state, the events or the results.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user agent's settings: servers, AOR, user, password, display name,
    /// instance id (stable per browser profile), timers, trace, and
    /// [`ua::Config::seed`], the seed of every random choice of the phone.
    pub sip: ua::Config,
    /// Follow a transfer the peer asks for (REFER): call the target and
    /// report its progress. Otherwise refuse it (NOTIFY 603). Default on.
    pub follow_transfers: bool,
    /// An action with no outcome after this long fails with `timeout` (what it
    /// started goes on; its later outcome shows in the state and events).
    /// Default 60 s, past every SIP timer (64*T1 = 32 s).
    pub action_timeout: Duration,
    /// Gap between RFC 4733 DTMF tones, ms. Default 70.
    pub dtmf_gap_ms: u32,
}

impl Config {
    /// `user@domain` with `password` on these WebSocket servers (tried in
    /// this order), registering, with the defaults of [`ua::Config::new`].
    pub fn new(servers: &[&str], user: &str, domain: &str, password: &str) -> Config {
        let first = servers.first().copied().unwrap_or_default();
        let mut sip = ua::Config::new(first, &format!("sip:{user}@{domain}"), password);
        let n = servers.len() as u32;
        sip.transport.servers = servers
            .iter()
            .zip((0..n).rev())
            .map(|(url, weight)| Server { url: url.to_string(), weight })
            .collect();
        sip.auth_user = user.to_string();
        Config::from_sip(sip)
    }

    /// The phone's defaults around these user agent settings.
    pub fn from_sip(sip: ua::Config) -> Config {
        Config { sip, follow_transfers: true, action_timeout: Duration::from_secs(60), dtmf_gap_ms: 70 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_keep_their_order() {
        let c = Config::new(&["wss://a", "wss://b"], "alice", "example.com", "pw");
        assert_eq!(c.sip.aor, "sip:alice@example.com");
        assert_eq!(c.sip.auth_user, "alice");
        let w: Vec<(String, u32)> =
            c.sip.transport.servers.iter().map(|s| (s.url.clone(), s.weight)).collect();
        assert_eq!(w, vec![("wss://a".to_string(), 1), ("wss://b".to_string(), 0)]);
    }
}
