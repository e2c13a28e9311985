//! Checks for tests and fuzzing of this crate and of code that drives it.

use crate::msg::{self, Message};

/// What an [`crate::ua::Output::Send`] carried, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A CRLF keepalive (a ping or a pong).
    Keepalive,
    /// A message that parses.
    Message(Message),
    /// A 400 or 505 answer to a request that did not parse: it copies that
    /// request's headers, bad ones included, so it may not parse either. Its status.
    BadRequestAnswer(u16),
}

/// Read back what the agent sent. The agent sends only well-formed messages:
/// `Err` (with the text) is a bug in it.
pub fn read_sent(text: &str) -> Result<Sent, String> {
    if text.trim().is_empty() {
        return Ok(Sent::Keepalive);
    }
    match msg::parse(text.as_bytes()) {
        Ok(m) => Ok(Sent::Message(m)),
        Err(e) => match text.get(..12) {
            Some("SIP/2.0 400 ") => Ok(Sent::BadRequestAnswer(400)),
            Some("SIP/2.0 505 ") => Ok(Sent::BadRequestAnswer(505)),
            _ => Err(format!("the agent sent a malformed message ({e}):\n{text}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_or_refuses() {
        assert_eq!(read_sent("\r\n"), Ok(Sent::Keepalive));
        assert_eq!(read_sent("SIP/2.0 400 Bad\r\nVia: x\r\n\r\n"), Ok(Sent::BadRequestAnswer(400)));
        assert!(read_sent("SIP/2.0 200 OK\r\nVia: x\r\n\r\n").is_err());
        let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n\
To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert!(matches!(read_sent(ok), Ok(Sent::Message(Message::Response(r))) if r.status == 200));
    }
}
