//! SIP message tracing (`traceSip`): a copy of each message for logs, with
//! the values of `Authorization` and `Proxy-Authorization` redacted (folded
//! continuation lines included). The body is never touched; only the header
//! section is scanned.

use crate::msg::find_byte;
use crate::msg::{is_ws, trim_end_bytes, trim_space};

/// Direction of a traced message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by this user agent.
    Out,
    /// Received.
    In,
}

const SECRET: [&str; 2] = ["authorization", "proxy-authorization"];

/// `message` with credential header values replaced by `<redacted>`.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_headers = true;
    let mut hiding = false;
    let mut rest = message;
    while !rest.is_empty() {
        let end = find_byte(rest, b'\n').map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        if !in_headers {
            out.push_str(line);
            continue;
        }
        let bare = trim_end_bytes(line, |b| b == b'\r' || b == b'\n');
        if bare.is_empty() {
            in_headers = false;
            hiding = false;
            out.push_str(line);
            continue;
        }
        let folded = line.bytes().next().is_some_and(is_ws);
        if folded && hiding {
            continue; // a continuation of a hidden value
        }
        let colon = find_byte(bare, b':');
        let name = trim_space(&bare[..colon.unwrap_or(bare.len())]);
        hiding = !folded && colon.is_some() && SECRET.iter().any(|s| name.eq_ignore_ascii_case(s));
        if hiding {
            out.push_str(&bare[..colon.map_or(0, |i| i + 1)]);
            out.push_str(" <redacted>");
            out.push_str(&line[bare.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// One log line: direction, peer and the redacted message.
pub fn trace_line(direction: Direction, peer: &str, message: &str) -> String {
    let arrow = match direction {
        Direction::Out => "sent to",
        Direction::In => "received from",
    };
    let mut line = String::from("SIP ");
    line.push_str(arrow);
    line.push(' ');
    line.push_str(peer);
    line.push_str(":\n");
    line.push_str(&redact(message));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_credentials_and_nothing_else() {
        let msg = "REGISTER sip:example.com SIP/2.0\r\n\
                   Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK1\r\n\
                   Authorization: Digest username=\"alice\", realm=\"example.com\",\r\n \
                   nonce=\"abc\", response=\"0123\"\r\n\
                   proxy-authorization: Digest username=\"alice\", response=\"4567\"\r\n\
                   X-Authorization-Note: kept\r\n\
                   Content-Length: 29\r\n\
                   \r\n\
                   Authorization: in the body\r\n";
        let r = redact(msg);
        assert!(!r.contains("0123") && !r.contains("4567") && !r.contains("nonce=\"abc\""), "{r}");
        assert!(r.contains("Authorization: <redacted>\r\n"), "{r}");
        assert!(r.contains("proxy-authorization: <redacted>\r\n"), "{r}");
        assert!(r.contains("X-Authorization-Note: kept"), "{r}");
        assert!(r.ends_with("\r\nAuthorization: in the body\r\n"), "the body is untouched: {r}");
        assert!(r.starts_with("REGISTER sip:example.com SIP/2.0\r\nVia:"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_other_text(s in r"[a-zA-Z: \t\r\n\-é]{0,200}") {
            let r = redact(&s);
            if !s.to_ascii_lowercase().contains("authorization") {
                proptest::prop_assert_eq!(r, s);
            }
        }
    }

    #[test]
    fn any_text_is_safe() {
        for s in ["", "\r\n", "Authorization", "Authorization:", " \t:", "é:\n\tx", "\n\n\n"] {
            let _ = redact(s);
        }
        assert_eq!(trace_line(Direction::In, "wss://x", "OPTIONS sip:a SIP/2.0\r\n\r\n").lines().count(), 3);
    }
}
