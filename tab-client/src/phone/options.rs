//! [`PhoneOptions`]: the SIP account and media settings every tab is given
//! (only the real tab uses them), from Rust or from the JavaScript options
//! `{sip: {...}, media: {...}}`, checked, with a coded error for bad ones.
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use crate::cat;
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
        f.write_str(&crate::cat(&[Self::CODE, ": ", &self.message]))
    }
}

impl std::error::Error for OptionsError {}

impl PhoneOptions {
    /// `user@domain` with `password` on these servers; media defaults, with
    /// [`MediaOptions::keep_warm`] on (a prepared call ready after each one).
    pub fn new(servers: &[&str], user: &str, password: &str, domain: &str) -> PhoneOptions {
        PhoneOptions {
            servers: servers.iter().map(|s| String::from(*s)).collect(),
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
            return Err(OptionsError::new(cat(&[
                "sip.servers: ",
                &quote(bad),
                " is not a ws:// or wss:// URL",
            ])));
        }
        for (name, value) in [("user", &self.user), ("domain", &self.domain)] {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == '@' || c == ':') {
                return Err(OptionsError::new(cat(&[
                    "sip.",
                    name,
                    ": ",
                    &quote(value),
                    " is not a valid ",
                    name,
                ])));
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
        let mut r = Reader::default();
        let servers = r.get(sip, "servers");
        let servers = r.urls(servers, "sip.servers", "a URL or a list of URLs is needed");
        // Built in place, not by `PhoneOptions::new` (which copies its strings).
        let mut o = PhoneOptions {
            servers,
            user: r.required(sip, "user"),
            password: r.required(sip, "password"),
            domain: r.required(sip, "domain"),
            display_name: r.string(sip, "displayName", "sip"),
            trace_sip: r.flag(sip, "traceSip", "sip").unwrap_or(false),
            expires: r.number(sip, "expires", "sip"),
            media: MediaOptions { keep_warm: true, ..MediaOptions::default() },
        };
        o.media.ice_servers = r.ice_servers(sip, "sip.iceServers");
        r.media_options(media, &mut o.media);
        match r.error {
            Some(e) => Err(e),
            None => o.check().map(|()| o),
        }
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

/// Reads the JavaScript options. The first bad field is kept as the error;
/// after it nothing more is read (every read gives nothing), so the result
/// is only used when there was none.
#[derive(Default)]
struct Reader {
    error: Option<OptionsError>,
}

impl Reader {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(OptionsError { message });
        }
    }

    /// `o[key]` when it is set (neither undefined nor null) and `o` is an object.
    fn get(&self, o: &JsValue, key: &str) -> Option<JsValue> {
        if self.error.is_some() || !o.is_object() {
            return None;
        }
        let v = Reflect::get(o, &JsValue::from_str(key)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    /// `o[key]` when set and `fits` it; `{what}.{key}: {wrong}` when it does
    /// not. One copy for every type: the callers convert.
    fn typed(
        &mut self,
        o: &JsValue,
        key: &str,
        what: &str,
        wrong: &str,
        fits: fn(&JsValue) -> bool,
    ) -> Option<JsValue> {
        let value = self.get(o, key)?;
        if !fits(&value) {
            self.fail(cat(&[what, ".", key, ": ", wrong]));
            return None;
        }
        Some(value)
    }

    fn required(&mut self, o: &JsValue, key: &str) -> String {
        let value =
            self.typed(o, key, "sip", "a string is needed", JsValue::is_string).and_then(|v| v.as_string());
        if value.is_none() {
            self.fail(cat(&["sip.", key, ": a string is needed"]));
        }
        value.unwrap_or_default()
    }

    fn string(&mut self, o: &JsValue, key: &str, what: &str) -> Option<String> {
        self.typed(o, key, what, "not a string", JsValue::is_string)?.as_string()
    }

    fn flag(&mut self, o: &JsValue, key: &str, what: &str) -> Option<bool> {
        self.typed(o, key, what, "not a boolean", |v| v.as_bool().is_some())?.as_bool()
    }

    fn number(&mut self, o: &JsValue, key: &str, what: &str) -> Option<u32> {
        let whole = |v: &JsValue| {
            v.as_f64().is_some_and(|n| n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0)
        };
        Some(self.typed(o, key, what, "not a whole number of the right range", whole)?.as_f64()? as u32)
    }

    /// A string or a list of strings; `{what}: {missing}` when neither.
    fn urls(&mut self, value: Option<JsValue>, what: &str, missing: &str) -> Vec<String> {
        let mut urls = Vec::new();
        match value {
            Some(v) if v.is_string() => urls.extend(v.as_string()),
            Some(v) if Array::is_array(&v) => {
                for item in Array::from(&v).iter() {
                    match item.as_string() {
                        Some(url) => urls.push(url),
                        None => {
                            self.fail(cat(&[what, ": not a list of strings"]));
                            break;
                        }
                    }
                }
            }
            _ => self.fail(cat(&[what, ": ", missing])),
        }
        urls
    }

    /// `o.iceServers`: `[{urls: string | string[], username?, credential?}]`.
    fn ice_servers(&mut self, o: &JsValue, what: &str) -> Vec<IceServer> {
        let mut servers = Vec::new();
        let Some(list) = self.get(o, "iceServers") else { return servers };
        if !Array::is_array(&list) {
            self.fail(cat(&[what, ": a list of {urls, username?, credential?} is needed"]));
            return servers;
        }
        for s in Array::from(&list).iter() {
            let urls = self.get(&s, "urls");
            let urls = self.urls(urls, what, "each server needs urls");
            let username = self.string(&s, "username", what);
            servers.push(IceServer { urls, username, credential: self.string(&s, "credential", what) });
        }
        servers
    }

    /// `media` into `m` (which has the `sip.iceServers`).
    fn media_options(&mut self, media: &JsValue, m: &mut MediaOptions) {
        if media.is_undefined() || media.is_null() {
            return;
        }
        if !media.is_object() {
            return self.fail(String::from("media: an object is needed"));
        }
        let more = self.ice_servers(media, "media.iceServers");
        m.ice_servers.extend(more);
        m.keep_warm = self.flag(media, "keepWarm", "media").unwrap_or(true);
        m.output_device_id = self.string(media, "outputDevice", "media");
        m.audio = AudioConstraints {
            device_id: self.string(media, "inputDevice", "media"),
            echo_cancellation: self.flag(media, "echoCancellation", "media"),
            noise_suppression: self.flag(media, "noiseSuppression", "media"),
            auto_gain_control: self.flag(media, "autoGainControl", "media"),
        };
        // Set but not an object: every field of it is missing.
        if let Some(g) = self.get(media, "gathering") {
            let d = GatheringPolicy::default();
            let (what, g) = ("media.gathering", &g);
            m.gathering = GatheringPolicy {
                settle_ms: self.number(g, "settleMs", what).unwrap_or(d.settle_ms),
                max_ms: self.number(g, "maxMs", what).unwrap_or(d.max_ms),
                wait_for_complete: self.flag(g, "waitForComplete", what).unwrap_or(d.wait_for_complete),
            };
        }
    }
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
