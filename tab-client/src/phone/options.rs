//! [`PhoneOptions`]: the SIP account and media settings every tab is given
//! (only the real tab uses them), from Rust or from the JavaScript options
//! `{sip: {...}, media: {...}}`, checked, with a coded error for bad ones.
use js_sys::Array;
use wasm_bindgen::prelude::*;

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
        for s in &self.servers {
            if !(s.starts_with("ws://") || s.starts_with("wss://")) {
                return Err(OptionsError::new(cat(&[
                    "sip.servers: ",
                    &quote(s),
                    " is not a ws:// or wss:// URL",
                ])));
            }
        }
        check_name("user", &self.user)?;
        check_name("domain", &self.domain)?;
        if self.expires == Some(0) {
            return Err(OptionsError::new("sip.expires: must be at least 1 second"));
        }
        Ok(())
    }

    /// The phone core's configuration, with this browser's instance id and a random seed.
    pub(crate) fn config(&self, instance_id: &str, seed: u64) -> tabphone_phone::Config {
        // A loop, not `collect()`: each collect adds std's iterator code for its type.
        let mut servers = Vec::with_capacity(self.servers.len());
        for s in &self.servers {
            servers.push(s.as_str());
        }
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
    /// echoCancellation?, noiseSuppression?, autoGainControl?}`. Their types
    /// are checked by `browser.js` (`readOptions`, the first bad field's
    /// message), their values by [`PhoneOptions::check`].
    pub fn from_js(sip: &JsValue, media: &JsValue) -> Result<PhoneOptions, OptionsError> {
        // A bad field throws its message; anything else thrown (a revoked
        // proxy, say) keeps its own. The list's order is pinned by
        // tests/media.test.mjs ("options reading").
        let read =
            read_options(sip, media).map_err(|e| OptionsError::new(crate::sip_socket::js_message(&e)))?;
        let mut ice_servers = Vec::new();
        // Lists `readOptions` made (not the app's): read in place, by index.
        let servers: Array = read.get(7).unchecked_into();
        for i in 0..servers.length() {
            let server: Array = servers.get(i).unchecked_into();
            let (username, credential) = (text(&server, 1), text(&server, 2));
            ice_servers.push(IceServer { urls: strings(&server.get(0)), username, credential });
        }
        let d = GatheringPolicy::default();
        // Built in place, not by `PhoneOptions::new` (which copies its strings).
        let o = PhoneOptions {
            servers: strings(&read.get(0)),
            user: text(&read, 1).unwrap_or_default(),
            password: text(&read, 2).unwrap_or_default(),
            domain: text(&read, 3).unwrap_or_default(),
            display_name: text(&read, 4),
            trace_sip: flag(&read, 5).unwrap_or(false),
            expires: number(&read, 6),
            media: MediaOptions {
                audio: AudioConstraints {
                    device_id: text(&read, 10),
                    echo_cancellation: flag(&read, 11),
                    noise_suppression: flag(&read, 12),
                    auto_gain_control: flag(&read, 13),
                },
                ice_servers,
                output_device_id: text(&read, 9),
                gathering: GatheringPolicy {
                    settle_ms: number(&read, 14).unwrap_or(d.settle_ms),
                    max_ms: number(&read, 15).unwrap_or(d.max_ms),
                    wait_for_complete: flag(&read, 16).unwrap_or(d.wait_for_complete),
                },
                keep_warm: flag(&read, 8).unwrap_or(true),
            },
        };
        o.check().map(|()| o)
    }
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    /// The options as a list (see `browser.js`), or the message of the
    /// first field of a wrong type.
    #[wasm_bindgen(catch, js_name = readOptions)]
    fn read_options(sip: &JsValue, media: &JsValue) -> Result<Array, JsValue>;
}

/// The user or the domain (`name`): not empty, no white space, `@` or `:`.
/// (Plain loops: each iterator adapter costs the wasm its own copy.)
fn check_name(name: &str, value: &str) -> Result<(), OptionsError> {
    let mut bad = value.is_empty();
    for c in value.chars() {
        bad |= c.is_whitespace() || c == '@' || c == ':';
    }
    if bad {
        return Err(OptionsError::new(cat(&["sip.", name, ": ", &quote(value), " is not a valid ", name])));
    }
    Ok(())
}

/// Item `i` of `readOptions`' list: a string, a flag or a number. Functions,
/// not closures: one copy each, however many fields call them.
#[inline(never)]
fn text(read: &Array, i: u32) -> Option<String> {
    read.get(i).as_string()
}

#[inline(never)]
fn flag(read: &Array, i: u32) -> Option<bool> {
    read.get(i).as_bool()
}

#[inline(never)]
fn number(read: &Array, i: u32) -> Option<u32> {
    read.get(i).as_f64().map(|n| n as u32)
}

/// A list of strings `readOptions` made.
fn strings(list: &JsValue) -> Vec<String> {
    let list: &Array = list.unchecked_ref();
    let mut out = Vec::new();
    for i in 0..list.length() {
        if let Some(s) = list.get(i).as_string() {
            out.push(s);
        }
    }
    out
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
