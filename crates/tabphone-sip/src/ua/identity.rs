//! Who the agent is on the wire: its AOR and display name (From), its
//! instance (`+sip.instance`), its Contact and Via host, and the domain a bare
//! user name is completed with.

use super::Config;
use crate::hash::hex;
use crate::msg::{name_addr_text, trim_space, Uri};
use tabphone_json::quote;

/// The agent's addresses, fixed by its [`Config`].
#[derive(Debug)]
pub(super) struct Identity {
    /// Address of record.
    pub(super) aor: String,
    display_name: Option<String>,
    /// `urn:uuid:...` (RFC 5626 instance id).
    pub(super) instance: String,
    /// Host of Via and Contact, `<hex>.invalid` (RFC 7118 5.2: no real address).
    pub(super) via_host: String,
    contact_user: String,
    domain: String,
    /// Our Contact, `<sip:user@host.invalid;transport=ws;ob>`, as written in
    /// Contact headers (it never changes).
    pub(super) contact_text: String,
}

impl Identity {
    /// From the AOR, display name and instance id of `config`.
    pub(super) fn new(config: &Config) -> Identity {
        // The contact URI comes from the instance id, not the RNG: a reloaded
        // page (same id) presents the same contact, so even a registrar that
        // matches bindings by URI alone replaces the old one.
        let h = fnv1a(config.instance_id.as_bytes());
        let id = &config.instance_id;
        let mut me = Identity {
            aor: config.aor.clone(),
            display_name: config.display_name.clone(),
            instance: if id.starts_with("urn:") { id.clone() } else { String::from("urn:uuid:") + id },
            via_host: hex(&h.to_be_bytes()[..6]) + ".invalid",
            contact_user: hex(&((h as u32) ^ ((h >> 32) as u32)).to_be_bytes()),
            domain: Uri::parts(&config.aor).map(|(_, _, host)| host).unwrap_or_default().to_string(),
            contact_text: String::new(),
        };
        me.contact_text = name_addr_text(None, &me.contact_uri_params(), None);
        me
    }

    /// From: the AOR with the display name, tagged `tag`.
    pub(super) fn from(&self, tag: &str) -> String {
        self.addressed_as(&self.aor, tag)
    }

    /// From in a dialog whose local URI is `uri` (the To of an INVITE we
    /// received, RFC 3261 12.1.1), with the display name, tagged `tag`.
    pub(super) fn addressed_as(&self, uri: &str, tag: &str) -> String {
        name_addr_text(self.display_name.as_deref(), uri, Some(tag))
    }

    /// The Contact URI without parameters, `sip:user@host.invalid`. The
    /// URIs here are written as text, as [`Uri::sip`] would write them (the
    /// tests hold them to it): no `Uri` is built to write one.
    pub(super) fn contact_uri(&self) -> String {
        Uri::sip_text(&self.contact_user, &self.via_host)
    }

    /// Our Contact URI with its parameters, `sip:user@host;transport=ws;ob`
    /// (RFC 5626 `ob`).
    fn contact_uri_params(&self) -> String {
        self.contact_uri() + ";transport=ws;ob"
    }

    /// Our Contact: `<sip:user@host;transport=ws;ob>`, written once as
    /// [`Identity::contact_text`].
    #[cfg(test)]
    pub(super) fn contact(&self) -> crate::msg::NameAddr {
        crate::msg::NameAddr::new(self.contact_uri_params())
    }

    /// The registrar: `sip:` and the AOR's domain (none when the AOR does
    /// not parse: its domain is empty then, and only then).
    pub(super) fn registrar(&self) -> String {
        if self.domain.is_empty() {
            return String::new();
        }
        String::from("sip:") + &self.domain
    }

    /// A target given as a user name becomes `sip:user@domain`.
    pub(super) fn target_uri(&self, target: &str) -> Result<String, String> {
        let t = trim_space(target);
        let uri = if t.as_bytes().contains(&b':') { t.to_string() } else { Uri::sip_text(t, &self.domain) };
        if let Err(e) = Uri::check(&uri) {
            return Err(format!("bad target {}: {e}", quote(target)));
        }
        Ok(uri)
    }
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::NameAddr;

    #[test]
    fn the_contact_text_is_the_contact_encoded() {
        let me = Identity::new(&Config::new("wss://x", "sip:alice@example.com", "pw"));
        assert_eq!(me.contact_text, me.contact().encode());
    }

    #[test]
    fn addresses_follow_the_config() {
        let mut config = Config::new("wss://x", "sip:alice@example.com", "pw");
        config.display_name = Some("Alice".into());
        config.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000001".into();
        let me = Identity::new(&config);
        assert_eq!(me.instance, "urn:uuid:6c1f1c9e-1111-4a4a-8b8b-000000000001");
        assert_eq!(me.from("t").to_string(), "\"Alice\" <sip:alice@example.com>;tag=t");
        assert!(me.contact().to_string().ends_with(".invalid;transport=ws;ob>"));
        assert_eq!(me.contact().uri, format!("{};transport=ws;ob", me.contact_uri()));
        assert_eq!(me.registrar(), "sip:example.com");
        assert_eq!(me.registrar(), Uri::sip(None, "example.com").text());
        assert_eq!(me.contact_uri(), Uri::sip(Some(&me.contact_user), &me.via_host).text());
        let uri = Uri::sip(Some(&me.contact_user), &me.via_host).with_param("transport", Some("ws"));
        assert_eq!(me.contact(), NameAddr::new(uri.with_param("ob", None).text()));
        assert_eq!(me.target_uri("bob").as_deref(), Ok(&*Uri::sip(Some("bob"), "example.com").text()));
        let unparsed = Identity::new(&Config::new("wss://x", "alice", "pw"));
        assert_eq!(unparsed.registrar(), "");
        assert_eq!(me.target_uri(" bob ").as_deref(), Ok("sip:bob@example.com"));
        assert_eq!(me.target_uri("sip:carol@x").as_deref(), Ok("sip:carol@x"));
        assert!(me.target_uri("sip:x y").is_err());
        // The same instance id gives the same contact, whatever the seed.
        assert_eq!(Identity::new(&config).contact(), me.contact());
    }
}
