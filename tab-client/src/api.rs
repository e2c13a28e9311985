//! The phone's Rust API on [`TabClient`]: one method per action, the same in
//! every tab (the real performs it, a dummy's goes through the worker), each
//! with its result or an [`ActionError`]; the state parsed; and
//! [`TabClient::on_phone_event`] for events.
use tabphone_json::{Obj, Object, Read};
use tabphone_phone::{DtmfVia, PhoneState};
use wasm_bindgen::JsValue;

use crate::client::{Options, TabClient};
use crate::phone::{BrowserPhone, OptionsError, PhoneOptions};

/// A failed action: the phone's code (`bad_arguments`, `no_such_call`,
/// `wrong_state`, ... see [`tabphone_phone::ErrorCode`]) or the worker's
/// (`real_gone`, `timeout`, `queue_full`, `not_joined`, `malformed`,
/// `too_large`, `worker_gone`), a message, and the SIP status of a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    /// The code.
    pub code: String,
    /// Human-readable detail.
    pub message: String,
    /// The SIP status, for `request_failed`.
    pub status: Option<u16>,
}

impl ActionError {
    /// Read `{code, message, status?}` (other fields ignored).
    fn parse(text: &str) -> Read<ActionError> {
        let o = Object::parse(text)?;
        Ok(ActionError { code: o.str("code")?, message: o.str("message")?, status: o.opt_num("status")? })
    }
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::cat(&[&self.code, ": ", &self.message]))
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
    crate::client::json_text(v)
}

/// `{"call": call}`.
fn call_ref(call: &str) -> String {
    Obj::new().str("call", call).end()
}

/// Field `k` of a result object, a number.
fn number<T: TryFrom<u64> + Into<u64> + tabphone_json::Bounded>(result: &str, k: &str) -> Read<T> {
    Object::parse(result).and_then(|o| o.num(k))
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
                .and_then(|t| ActionError::parse(&t).ok())
                .unwrap_or_else(|| malformed("the error is not {code, message}"))),
        }
    }

    /// Perform action `name` with `args`, the JSON text of its arguments
    /// (see [`tabphone_phone::action`]; `""` or `"null"` for none): the JSON
    /// text of its result.
    pub async fn act(&self, name: &str, args: &str) -> Result<String, ActionError> {
        let args = match args.trim() {
            "" => JsValue::NULL,
            t => js_sys::JSON::parse(t).map_err(|_| malformed("args are not JSON"))?,
        };
        match self.dispatch_async(name, args).await {
            Ok(v) => text(&v).ok_or_else(|| malformed("the result is not JSON")),
            Err(e) => Err(text(&e)
                .and_then(|t| ActionError::parse(&t).ok())
                .unwrap_or_else(|| malformed("the error is not {code, message}"))),
        }
    }

    async fn act_done(&self, name: &str, args: &str) -> Done {
        self.act(name, args).await.map(|_| ())
    }

    /// Call `to` (a user at the account's domain, or a SIP URI): the new call's id.
    pub async fn call(&self, to: &str) -> Result<String, ActionError> {
        let result = self.act("call", &Obj::new().str("to", to).end()).await?;
        Object::parse(&result).and_then(|o| o.str("call")).map_err(|_| malformed("no call id in the result"))
    }

    /// Answer a ringing incoming call (done when established).
    pub async fn answer(&self, call: &str) -> Done {
        self.act_done("answer", &call_ref(call)).await
    }

    /// Refuse a ringing incoming call with `status` (default 603).
    pub async fn decline(&self, call: &str, status: Option<u16>) -> Done {
        let args = &mut Obj::new();
        args.str("call", call);
        let args = match status {
            Some(s) => args.num("status", u64::from(s)),
            None => args,
        };
        self.act_done("decline", &args.end()).await
    }

    /// Hang up (cancel, refuse or BYE, as the call's state needs).
    pub async fn hangup(&self, call: &str) -> Done {
        self.act_done("hangup", &call_ref(call)).await
    }

    /// Put on hold (`hold == true`) or take off hold.
    pub async fn hold(&self, call: &str, hold: bool) -> Done {
        self.act_done(if hold { "hold" } else { "unhold" }, &call_ref(call)).await
    }

    /// Mute (`mute == true`) or unmute the microphone.
    pub async fn mute(&self, call: &str, mute: bool) -> Done {
        self.act_done(if mute { "mute" } else { "unmute" }, &call_ref(call)).await
    }

    /// Send DTMF `tones` in the media (RFC 4733) or by SIP INFO.
    pub async fn dtmf(&self, call: &str, tones: &str, via: DtmfVia) -> Done {
        let via = match via {
            DtmfVia::Info => "info",
            DtmfVia::Rtp => "rtp",
        };
        self.act_done("dtmf", &Obj::new().str("call", call).str("tones", tones).str("via", via).end()).await
    }

    /// Blind transfer of `call` to `to`.
    pub async fn transfer(&self, call: &str, to: &str) -> Done {
        self.act_done("transfer", &Obj::new().str("call", call).str("to", to).end()).await
    }

    /// Attended transfer: the peer of `call` replaces call `with`.
    pub async fn attended_transfer(&self, call: &str, with: &str) -> Done {
        self.act_done("attendedTransfer", &Obj::new().str("call", call).str("with", with).end()).await
    }

    /// Send a text message; the final status.
    pub async fn message(&self, to: &str, text: &str) -> Result<u16, ActionError> {
        let result = self.act("message", &Obj::new().str("to", to).str("text", text).end()).await?;
        Ok(number(&result, "status").unwrap_or(200))
    }

    /// Register now; the granted expiry in seconds.
    pub async fn register(&self) -> Result<u32, ActionError> {
        let result = self.act("register", "").await?;
        Ok(number(&result, "expires").unwrap_or_default())
    }

    /// Remove this browser's binding.
    pub async fn unregister(&self) -> Done {
        self.act_done("unregister", "").await
    }
}
