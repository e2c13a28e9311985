//! The phone's Rust API on [`TabClient`]: one method per action, the same in
//! every tab (the real performs it, a dummy's goes through the worker), each
//! with its result or an [`ActionError`]; the state parsed; and
//! [`TabClient::on_phone_event`] for events.
use serde::Deserialize;
use serde_json::{json, Value};
use tabphone_phone::{DtmfVia, PhoneState};
use wasm_bindgen::JsValue;

use crate::client::{Options, TabClient};
use crate::phone::{BrowserPhone, OptionsError, PhoneOptions};

/// A failed action: the phone's code (`bad_arguments`, `no_such_call`,
/// `wrong_state`, ... see [`tabphone_phone::ErrorCode`]) or the worker's
/// (`real_gone`, `timeout`, `queue_full`, `not_joined`, `malformed`,
/// `too_large`, `worker_gone`), a message, and the SIP status of a refused request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActionError {
    /// The code.
    pub code: String,
    /// Human-readable detail.
    pub message: String,
    /// The SIP status, for `request_failed`.
    #[serde(default)]
    pub status: Option<u16>,
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ActionError {}

/// A result without a value (`{}`).
pub type Done = Result<(), ActionError>;

fn malformed(what: &str) -> ActionError {
    ActionError {
        code: tabphone_coord::protocol::ErrorCode::Malformed.as_str().into(),
        message: what.into(),
        status: None,
    }
}

/// The JSON text of a JS value.
fn text(v: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string())
}

impl TabClient {
    /// Join the worker as a tab of a phone: whichever tab is real runs a
    /// [`BrowserPhone`] with `phone` (give every tab the same options; the
    /// password never leaves the tab).
    pub fn connect_phone(
        url: &str,
        options: Options,
        phone: PhoneOptions,
    ) -> Result<TabClient, OptionsError> {
        phone.check()?;
        let factory = move || -> Box<dyn crate::RealPhone> { Box::new(BrowserPhone::new(phone.clone())) };
        Ok(TabClient::connect(url, options, Box::new(factory)))
    }

    /// The latest shared state of the phone, `None` while no real has published one.
    pub fn phone_state(&self) -> Option<PhoneState> {
        PhoneState::parse(&self.state()).ok()
    }

    /// Make this tab the real one (`takeOver`): the calls and their sound move
    /// here, in a coordinated handover. The new epoch; at once when this tab
    /// is real already. Errors: `real_gone` (another tab was made real
    /// meanwhile), `worker_gone`.
    pub async fn take_over(&self) -> Result<u64, ActionError> {
        match wasm_bindgen_futures::JsFuture::from(self.take_over_promise()).await {
            Ok(v) => {
                let epoch = js_sys::Reflect::get(&v, &"epoch".into()).ok().and_then(|e| e.as_f64());
                epoch.map(|e| e as u64).ok_or_else(|| malformed("no epoch in the result"))
            }
            Err(e) => Err(text(&e)
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_else(|| malformed("the error is not {code, message}"))),
        }
    }

    /// Perform action `name` with JSON `args` (see [`tabphone_phone::action`]).
    pub async fn act(&self, name: &str, args: Value) -> Result<Value, ActionError> {
        let args = js_sys::JSON::parse(&args.to_string()).map_err(|_| malformed("args"))?;
        match self.dispatch_async(name, args).await {
            Ok(v) => serde_json::from_str(&text(&v).unwrap_or_else(|| "null".into()))
                .map_err(|_| malformed("the result is not JSON")),
            Err(e) => Err(text(&e)
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_else(|| malformed("the error is not {code, message}"))),
        }
    }

    async fn act_done(&self, name: &str, args: Value) -> Done {
        self.act(name, args).await.map(|_| ())
    }

    /// Call `to` (a user at the account's domain, or a SIP URI): the new call's id.
    pub async fn call(&self, to: &str) -> Result<String, ActionError> {
        let v = self.act("call", json!({ "to": to })).await?;
        v["call"].as_str().map(str::to_owned).ok_or_else(|| malformed("no call id in the result"))
    }

    /// Answer a ringing incoming call (done when established).
    pub async fn answer(&self, call: &str) -> Done {
        self.act_done("answer", json!({ "call": call })).await
    }

    /// Refuse a ringing incoming call with `status` (default 603).
    pub async fn decline(&self, call: &str, status: Option<u16>) -> Done {
        let args = match status {
            Some(s) => json!({ "call": call, "status": s }),
            None => json!({ "call": call }),
        };
        self.act_done("decline", args).await
    }

    /// Hang up (cancel, refuse or BYE, as the call's state needs).
    pub async fn hangup(&self, call: &str) -> Done {
        self.act_done("hangup", json!({ "call": call })).await
    }

    /// Put on hold (`hold == true`) or take off hold.
    pub async fn hold(&self, call: &str, hold: bool) -> Done {
        self.act_done(if hold { "hold" } else { "unhold" }, json!({ "call": call })).await
    }

    /// Mute (`mute == true`) or unmute the microphone.
    pub async fn mute(&self, call: &str, mute: bool) -> Done {
        self.act_done(if mute { "mute" } else { "unmute" }, json!({ "call": call })).await
    }

    /// Send DTMF `tones` in the media (RFC 4733) or by SIP INFO.
    pub async fn dtmf(&self, call: &str, tones: &str, via: DtmfVia) -> Done {
        let via = match via {
            DtmfVia::Info => "info",
            DtmfVia::Rtp => "rtp",
        };
        self.act_done("dtmf", json!({ "call": call, "tones": tones, "via": via })).await
    }

    /// Blind transfer of `call` to `to`.
    pub async fn transfer(&self, call: &str, to: &str) -> Done {
        self.act_done("transfer", json!({ "call": call, "to": to })).await
    }

    /// Attended transfer: the peer of `call` replaces call `with`.
    pub async fn attended_transfer(&self, call: &str, with: &str) -> Done {
        self.act_done("attendedTransfer", json!({ "call": call, "with": with })).await
    }

    /// Send a text message; the final status.
    pub async fn message(&self, to: &str, text: &str) -> Result<u16, ActionError> {
        let v = self.act("message", json!({ "to": to, "text": text })).await?;
        Ok(v["status"].as_u64().unwrap_or(200) as u16)
    }

    /// Register now; the granted expiry in seconds.
    pub async fn register(&self) -> Result<u32, ActionError> {
        let v = self.act("register", Value::Null).await?;
        Ok(v["expires"].as_u64().unwrap_or_default() as u32)
    }

    /// Remove this browser's binding.
    pub async fn unregister(&self) -> Done {
        self.act_done("unregister", Value::Null).await
    }
}
