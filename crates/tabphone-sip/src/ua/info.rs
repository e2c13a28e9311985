//! DTMF by INFO (`application/dtmf-relay`, `Signal=` and `Duration=`): one
//! INFO per digit out; in, each INFO answered 200 and its digit reported.

use super::txn::Owner;
use super::{CallId, Event, SessionState, UserAgent};
use crate::msg::{self, lines, split_once_byte, trim_space, Method, Request};
use crate::Instant;
use tabphone_json::quote;

const DIGITS: &str = "0123456789*#ABCDabcd";

/// Is `c` one of [`DIGITS`]? By bytes: `str::contains` with a char brings in
/// a searcher.
fn is_digit(c: char) -> bool {
    c.is_ascii() && DIGITS.as_bytes().contains(&(c as u8))
}

impl UserAgent {
    /// [`super::Command::Dtmf`].
    pub(super) fn dtmf(&mut self, now: Instant, id: CallId, digits: &str, duration_ms: u32) {
        if self.calls.get(&id).map(|c| c.state) != Some(SessionState::Established) {
            return self.call_problem(id, " is not established");
        }
        if let Some(bad) = digits.chars().find(|c| !is_digit(*c)) {
            return self.call_error(id, format!("{} is not a DTMF digit", quote(&bad.to_string())));
        }
        for d in digits.chars() {
            let Some((mut r, key)) = self.in_dialog_request(id, Method::Info) else { return };
            r.headers.push("Content-Type", "application/dtmf-relay");
            r.body = format!("Signal={}\r\nDuration={duration_ms}\r\n", d.to_ascii_uppercase()).into_bytes();
            self.send_request(now, Owner::Call(id), key, r);
        }
    }

    /// The peer's INFO: 200, and [`Event::Dtmf`] for a dtmf-relay digit.
    pub(super) fn on_info(&mut self, id: CallId, req: &Request, tag: &str) {
        self.respond(req, 200, Some(tag), &[]);
        let ct = req.headers.get("Content-Type").unwrap_or("");
        if msg::media_type_is(ct, "application/dtmf-relay") {
            if let Some((digit, duration_ms)) = parse_dtmf_relay(&req.body_text().unwrap_or_default()) {
                self.event(Event::Dtmf { call: id, digit, duration_ms });
            }
        }
    }
}

/// `Signal=5\r\nDuration=160` → ('5', 160).
fn parse_dtmf_relay(body: &str) -> Option<(char, u32)> {
    let mut digit = None;
    let mut duration = 100;
    for line in lines(body) {
        let Some((k, v)) = split_once_byte(line, b'=') else { continue };
        // Compared in place: no lowercase copy of the key.
        let k = trim_space(k);
        if k.eq_ignore_ascii_case("signal") {
            digit = trim_space(v).chars().next();
        } else if k.eq_ignore_ascii_case("duration") {
            duration = crate::msg::parse_u32(trim_space(v)).unwrap_or(100);
        }
    }
    digit.filter(|d| is_digit(*d)).map(|d| (d.to_ascii_uppercase(), duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(parse_dtmf_relay("Signal=5\r\nDuration=160\r\n"), Some(('5', 160)));
        assert_eq!(parse_dtmf_relay("signal = b\nduration=x"), Some(('B', 100)));
        assert_eq!(parse_dtmf_relay("Duration=160"), None);
        assert_eq!(parse_dtmf_relay("Signal=x"), None);
    }
}
