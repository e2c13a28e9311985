//! The one error type: the coded failure of an action.

/// Why an action failed. Serialized in snake case (`"no_such_call"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The action name is not one of the phone's.
    UnknownAction,
    /// The arguments are not JSON, miss a field, have an unknown one, or a
    /// value is out of range (a bad URI, a DTMF tone, a status).
    BadArguments,
    /// No call with that id (never was, or it ended).
    NoSuchCall,
    /// The call or the phone is not in a state that allows the action
    /// (answer an outgoing call, hold a ringing one, transfer twice).
    WrongState,
    /// Calls and messages need the registration (when the phone registers).
    NotRegistered,
    /// The action needs the connection to the server, which is down.
    NotConnected,
    /// The server or the peer refused the request; `status` holds the SIP status.
    RequestFailed,
    /// The media layer failed (no microphone, SDP refused, ...).
    MediaFailed,
    /// The call ended before the action completed.
    CallEnded,
    /// The action had no outcome within [`crate::Config::action_timeout`].
    Timeout,
    /// The phone is stopped or stopping.
    Stopped,
}

impl ErrorCode {
    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnknownAction => "unknown_action",
            ErrorCode::BadArguments => "bad_arguments",
            ErrorCode::NoSuchCall => "no_such_call",
            ErrorCode::WrongState => "wrong_state",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::NotConnected => "not_connected",
            ErrorCode::RequestFailed => "request_failed",
            ErrorCode::MediaFailed => "media_failed",
            ErrorCode::CallEnded => "call_ended",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Stopped => "stopped",
        }
    }
}

/// A failed action: `{"code": "...", "message": "...", "status": 486}`
/// (`status` only with [`ErrorCode::RequestFailed`], and not always then).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
pub struct PhoneError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
    /// The SIP status of a refused request.
    #[cfg_attr(any(test, feature = "serde"), serde(default, skip_serializing_if = "Option::is_none"))]
    pub status: Option<u16>,
}

impl PhoneError {
    /// An error without a SIP status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> PhoneError {
        PhoneError { code, message: message.into(), status: None }
    }

    /// [`ErrorCode::RequestFailed`] with the status (none: no answer came).
    pub fn request_failed(status: Option<u16>, what: &str) -> PhoneError {
        // Pushes, not two `format!` sites.
        let mut message = String::from(what);
        message.push_str(": ");
        match status {
            Some(s) => {
                tabphone_json::push_u64(&mut message, u64::from(s));
                message.push(' ');
                message.push_str(tabphone_sip::msg::reason_phrase(s));
            }
            None => message.push_str("no answer"),
        }
        PhoneError { code: ErrorCode::RequestFailed, message, status }
    }

    /// The JSON text `{"code":...,"message":...}`.
    pub fn to_json(&self) -> String {
        let o = &mut tabphone_json::Obj::new();
        o.str("code", self.code.as_str()).str("message", &self.message);
        match self.status {
            Some(s) => o.num("status", u64::from(s)),
            None => o,
        }
        .end()
    }
}

impl std::fmt::Display for PhoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for PhoneError {}

/// `d` as `{:?}` writes it ("60s", "1.5s", "250ms"), without linking
/// `Duration`'s `Debug` (over 1 KB of wasm) for one message.
pub(crate) fn duration_text(d: std::time::Duration) -> String {
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    let (whole, fraction, digits, unit) = match (secs, nanos) {
        (0, n) if n >= 1_000_000 => (u64::from(n / 1_000_000), n % 1_000_000, 6, "ms"),
        (0, n) if n >= 1_000 => (u64::from(n / 1_000), n % 1_000, 3, "\u{b5}s"),
        (0, n) => (u64::from(n), 0, 0, "ns"),
        (s, n) => (s, n, 9, "s"),
    };
    let mut text = String::new();
    tabphone_json::push_u64(&mut text, whole);
    if fraction > 0 {
        // `digits` digits with leading zeros, then without the trailing ones.
        let (mut digits, mut fraction) = (digits, fraction);
        while fraction % 10 == 0 {
            fraction /= 10;
            digits -= 1;
        }
        let mut shown = String::new();
        tabphone_json::push_u64(&mut shown, u64::from(fraction));
        text.push('.');
        for _ in shown.len()..digits {
            text.push('0');
        }
        text.push_str(&shown);
    }
    text.push_str(unit);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_names() {
        for code in
            [ErrorCode::UnknownAction, ErrorCode::NoSuchCall, ErrorCode::MediaFailed, ErrorCode::Stopped]
        {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{}\"", code.as_str()));
        }
        let e = PhoneError::request_failed(Some(486), "call");
        assert_eq!(e.to_json(), r#"{"code":"request_failed","message":"call: 486 Busy Here","status":486}"#);
        let e = PhoneError::new(ErrorCode::BadArguments, "x");
        assert_eq!(e.to_json(), r#"{"code":"bad_arguments","message":"x"}"#);
        assert_eq!(serde_json::from_str::<PhoneError>(&e.to_json()).unwrap(), e);
    }

    #[test]
    fn duration_text_is_debugs() {
        use std::time::Duration;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut ds = vec![Duration::ZERO, Duration::MAX, Duration::from_secs(60), Duration::from_nanos(1)];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Every magnitude, with trailing zeros and without.
            let nanos = (x % 2_000_000_000_000) / 10u64.pow((x >> 40) as u32 % 12);
            ds.push(Duration::from_nanos(nanos));
        }
        for d in ds {
            assert_eq!(duration_text(d), format!("{d:?}"));
        }
    }
}
