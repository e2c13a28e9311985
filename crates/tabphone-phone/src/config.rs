//! Settings of a phone: the SIP user agent's, plus the phone's own.

use std::time::Duration;

use tabphone_sip::transport::Server;
use tabphone_sip::ua;

/// Settings. The credentials in [`Config::sip`] go only to the real tab's
/// phone; they never reach the state, the events, the results or `Debug`.
#[derive(Clone)]
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
    /// Inherited calls ([`crate::PhoneInput::Start`]'s `inherit`) are taken
    /// over only if their re-INVITE can leave within this long of the time
    /// the previous real tab was last known alive; later they end `expired`.
    /// Default 30 s: the peer's browser stops sending after ICE consent
    /// freshness fails (RFC 7675: 30 s without a consent check), and many
    /// apps hang up then.
    pub resume_within: Duration,
}

impl Config {
    /// `user@domain` with `password` on these WebSocket servers (tried in
    /// this order), registering, with the defaults of [`ua::Config::new`].
    pub fn new(servers: &[&str], user: &str, password: &str, domain: &str) -> Config {
        let first = servers.first().copied().unwrap_or_default();
        let mut sip = ua::Config::new(first, &format!("sip:{user}@{domain}"), password);
        let mut list = Vec::with_capacity(servers.len());
        for (i, url) in servers.iter().enumerate() {
            list.push(Server { url: url.to_string(), weight: (servers.len() - 1 - i) as u32 });
        }
        sip.transport.servers = list;
        sip.auth_user = user.to_string();
        Config::from_sip(sip)
    }

    /// The phone's defaults around these user agent settings.
    pub fn from_sip(sip: ua::Config) -> Config {
        Config {
            sip,
            follow_transfers: true,
            action_timeout: Duration::from_secs(60),
            dtmf_gap_ms: 70,
            resume_within: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let servers: Vec<&str> = self.sip.transport.servers.iter().map(|s| s.url.as_str()).collect();
        f.debug_struct("Config")
            .field("aor", &self.sip.aor)
            .field("servers", &servers)
            .field("instance_id", &self.sip.instance_id)
            .field("follow_transfers", &self.follow_transfers)
            .field("action_timeout", &self.action_timeout)
            .field("resume_within", &self.resume_within)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_keep_their_order() {
        let c = Config::new(&["wss://a", "wss://b"], "alice", "pw", "example.com");
        assert_eq!(c.sip.aor, "sip:alice@example.com");
        assert_eq!(c.sip.auth_user, "alice");
        let w: Vec<(String, u32)> =
            c.sip.transport.servers.iter().map(|s| (s.url.clone(), s.weight)).collect();
        assert_eq!(w, vec![("wss://a".to_string(), 1), ("wss://b".to_string(), 0)]);
        assert!(!format!("{c:?}").contains("pw"), "{c:?}");
    }
}
