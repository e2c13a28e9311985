//! [`PhoneOptions`]: the SIP account and media settings every tab is given
//! (only the real tab uses them), from Rust or from the JavaScript options
//! `{sip: {...}, media: {...}}`, checked, with a coded error for bad ones.
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use crate::media::{AudioConstraints, GatheringPolicy, IceServer, MediaOptions};
use tabphone_json::quote;

/// The real phone's settings. The password stays in the tab that was given
/// it: it goes only into the real phone's SIP user agent, never to the
/// worker, the shared state, the events or `Debug`.
#[derive(Clone)]
pub struct PhoneOptions {
    /// WebSocket servers (`ws://` or `wss://`), tried in this order.
    pub servers: Vec<String>,
    /// The account's user (the AOR is `sip:user@domain`; also the digest user).
    pub user: String,
    /// The digest password.
    pub password: String,
    /// The SIP domain.
    pub domain: String,
    /// Display name in From.
    pub display_name: Option<String>,
    /// Emit a `trace` event for every SIP message in and out (credentials redacted).
    pub trace_sip: bool,
    /// Registration expiry to ask for, seconds (default 600).
    pub expires: Option<u32>,
    /// Media: ICE servers, gathering policy, devices, prewarming.
    pub media: MediaOptions,
}

/// Bad options: code `bad_options` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsError {
    /// What is wrong.
    pub message: String,
}

impl OptionsError {
    /// The code, `bad_options`.
    pub const CODE: &'static str = "bad_options";

    fn new(message: impl Into<String>) -> OptionsError {
        OptionsError { message: message.into() }
    }
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", Self::CODE, self.message)
    }
}

impl std::error::Error for OptionsError {}

impl PhoneOptions {
    /// `user@domain` with `password` on these servers; media defaults, with
    /// [`MediaOptions::keep_warm`] on (a prepared call ready after each one).
    pub fn new(servers: &[&str], user: &str, password: &str, domain: &str) -> PhoneOptions {
        PhoneOptions {
            servers: servers.iter().map(|s| s.to_string()).collect(),
            user: user.to_owned(),
            password: password.to_owned(),
            domain: domain.to_owned(),
            display_name: None,
            trace_sip: false,
            expires: None,
            media: MediaOptions { keep_warm: true, ..MediaOptions::default() },
        }
    }

    /// Check them: servers `ws://`/`wss://`, a user and a domain.
    pub fn check(&self) -> Result<(), OptionsError> {
        if self.servers.is_empty() {
            return Err(OptionsError::new("sip.servers: at least one WebSocket server is needed"));
        }
        if let Some(bad) = self.servers.iter().find(|s| !(s.starts_with("ws://") || s.starts_with("wss://")))
        {
            return Err(OptionsError::new(format!(
                "sip.servers: {} is not a ws:// or wss:// URL",
                quote(bad)
            )));
        }
        for (name, value) in [("user", &self.user), ("domain", &self.domain)] {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == '@' || c == ':') {
                return Err(OptionsError::new(format!("sip.{name}: {} is not a valid {name}", quote(value))));
            }
        }
        if self.expires.is_some_and(|e| e == 0) {
            return Err(OptionsError::new("sip.expires: must be at least 1 second"));
        }
        Ok(())
    }

    /// The phone core's configuration, with this browser's instance id and a random seed.
    pub(crate) fn config(&self, instance_id: &str, seed: u64) -> tabphone_phone::Config {
        let servers: Vec<&str> = self.servers.iter().map(String::as_str).collect();
        let mut c = tabphone_phone::Config::new(&servers, &self.user, &self.password, &self.domain);
        c.sip.display_name = self.display_name.clone();
        c.sip.instance_id = instance_id.to_owned();
        c.sip.seed = seed;
        c.sip.trace = self.trace_sip;
        if let Some(e) = self.expires {
            c.sip.expires = e;
        }
        c
    }

    /// From the JavaScript options: `sip` is `{servers, user, password,
    /// domain, displayName?, iceServers?, traceSip?, expires?}`, `media`
    /// (optional) is `{iceServers?, keepWarm?, gathering?: {settleMs?,
    /// maxMs?, waitForComplete?}, inputDevice?, outputDevice?,
    /// echoCancellation?, noiseSuppression?, autoGainControl?}`.
    pub fn from_js(sip: &JsValue, media: &JsValue) -> Result<PhoneOptions, OptionsError> {
        if !sip.is_object() {
            return Err(OptionsError::new("sip: an object {servers, user, password, domain} is needed"));
        }
        let servers = match get(sip, "servers") {
            v if v.is_string() => vec![v.as_string().unwrap_or_default()],
            v if Array::is_array(&v) => strings(&v, "sip.servers")?,
            _ => return Err(OptionsError::new("sip.servers: a URL or a list of URLs is needed")),
        };
        let servers: Vec<&str> = servers.iter().map(String::as_str).collect();
        let mut o = PhoneOptions::new(
            &servers,
            &required(sip, "user")?,
            &required(sip, "password")?,
            &required(sip, "domain")?,
        );
        o.display_name = optional(sip, "displayName", "sip")?;
        o.trace_sip = flag(sip, "traceSip", "sip")?.unwrap_or(false);
        o.expires = number(sip, "expires", "sip")?;
        o.media = media_options(media, ice_servers(&get(sip, "iceServers"), "sip.iceServers")?)?;
        o.check()?;
        Ok(o)
    }
}

impl std::fmt::Debug for PhoneOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneOptions")
            .field("servers", &self.servers)
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

fn media_options(media: &JsValue, ice: Vec<IceServer>) -> Result<MediaOptions, OptionsError> {
    let mut m = MediaOptions { keep_warm: true, ice_servers: ice, ..MediaOptions::default() };
    if media.is_undefined() || media.is_null() {
        return Ok(m);
    }
    if !media.is_object() {
        return Err(OptionsError::new("media: an object is needed"));
    }
    let more = ice_servers(&get(media, "iceServers"), "media.iceServers")?;
    m.ice_servers.extend(more);
    m.keep_warm = flag(media, "keepWarm", "media")?.unwrap_or(true);
    m.output_device_id = optional(media, "outputDevice", "media")?;
    m.audio = AudioConstraints {
        device_id: optional(media, "inputDevice", "media")?,
        echo_cancellation: flag(media, "echoCancellation", "media")?,
        noise_suppression: flag(media, "noiseSuppression", "media")?,
        auto_gain_control: flag(media, "autoGainControl", "media")?,
    };
    let g = get(media, "gathering");
    if !g.is_undefined() {
        let d = GatheringPolicy::default();
        m.gathering = GatheringPolicy {
            settle_ms: number(&g, "settleMs", "media.gathering")?.unwrap_or(d.settle_ms),
            max_ms: number(&g, "maxMs", "media.gathering")?.unwrap_or(d.max_ms),
            wait_for_complete: flag(&g, "waitForComplete", "media.gathering")?.unwrap_or(d.wait_for_complete),
        };
    }
    Ok(m)
}

/// `[{urls: string | string[], username?, credential?}]`.
fn ice_servers(list: &JsValue, what: &str) -> Result<Vec<IceServer>, OptionsError> {
    if list.is_undefined() || list.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(list) {
        return Err(OptionsError::new(format!(
            "{what}: a list of {{urls, username?, credential?}} is needed"
        )));
    }
    Array::from(list)
        .iter()
        .map(|s| {
            let urls = match get(&s, "urls") {
                v if v.is_string() => vec![v.as_string().unwrap_or_default()],
                v if Array::is_array(&v) => strings(&v, what)?,
                _ => return Err(OptionsError::new(format!("{what}: each server needs urls"))),
            };
            let username = optional(&s, "username", what)?;
            Ok(IceServer { urls, username, credential: optional(&s, "credential", what)? })
        })
        .collect()
}

fn get(o: &JsValue, key: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn required(o: &JsValue, key: &str) -> Result<String, OptionsError> {
    get(o, key).as_string().ok_or_else(|| OptionsError::new(format!("sip.{key}: a string is needed")))
}

fn optional(o: &JsValue, key: &str, what: &str) -> Result<Option<String>, OptionsError> {
    match get(o, key) {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => v.as_string().map(Some).ok_or_else(|| OptionsError::new(format!("{what}.{key}: not a string"))),
    }
}

fn flag(o: &JsValue, key: &str, what: &str) -> Result<Option<bool>, OptionsError> {
    match get(o, key) {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => v.as_bool().map(Some).ok_or_else(|| OptionsError::new(format!("{what}.{key}: not a boolean"))),
    }
}

fn number(o: &JsValue, key: &str, what: &str) -> Result<Option<u32>, OptionsError> {
    match get(o, key) {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => match v.as_f64() {
            Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(Some(n as u32)),
            _ => Err(OptionsError::new(format!("{what}.{key}: not a whole number of the right range"))),
        },
    }
}

fn strings(list: &JsValue, what: &str) -> Result<Vec<String>, OptionsError> {
    Array::from(list)
        .iter()
        .map(|v| v.as_string().ok_or_else(|| OptionsError::new(format!("{what}: not a list of strings"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::PhoneOptions;

    #[test]
    fn checked() {
        let ok = PhoneOptions::new(&["wss://a"], "alice", "pw", "example.com");
        assert!(ok.check().is_ok());
        assert!(!format!("{ok:?}").contains("pw"));
        let bad = PhoneOptions::new(&["http://a"], "alice", "pw", "example.com");
        assert!(bad.check().unwrap_err().message.contains("http://a"));
        assert!(PhoneOptions::new(&[], "alice", "pw", "example.com").check().is_err());
        assert!(PhoneOptions::new(&["ws://a"], "", "pw", "example.com").check().is_err());
        assert!(PhoneOptions::new(&["ws://a"], "al ice", "pw", "example.com").check().is_err());
        let c = ok.config("6c1f1c9e-1111-4a4a-8b8b-000000000001", 9);
        assert_eq!((c.sip.aor.as_str(), c.sip.seed), ("sip:alice@example.com", 9));
    }
}
