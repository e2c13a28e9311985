//! `CSeq: 1*DIGIT LWS Method` (RFC 3261 20.16).

use super::super::lex::{
    any_byte, bad, err, is_token, is_ws, parse_number, push_u64, trim_start_bytes, trim_ws,
};
use super::super::{Headers, Method, ParseError};
use crate::msg::position_byte;

/// A CSeq value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number.
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl CSeq {
    /// `seq method`.
    pub fn new(seq: u32, method: Method) -> CSeq {
        CSeq { seq, method }
    }

    /// Parse `1*DIGIT LWS Method`.
    pub fn parse(v: &str) -> Result<CSeq, ParseError> {
        CSeq::scan(v).map(|(seq, m)| CSeq { seq, method: Method::from_token(m) })
    }

    pub(in crate::msg) fn scan(v: &str) -> Result<(u32, &str), ParseError> {
        // Two words between spaces and tabs.
        let v = trim_ws(v);
        let (n, rest) = v.split_at(position_byte(v, is_ws).unwrap_or(v.len()));
        let m = trim_start_bytes(rest, is_ws);
        if n.is_empty() || m.is_empty() || any_byte(m, is_ws) {
            return Err(err("CSeq needs a number and a method"));
        }
        let seq = parse_number(n, u32::MAX as u64).ok_or_else(|| bad("CSeq number ", n, ""))?;
        if !is_token(m) {
            return Err(err("CSeq method is not a token"));
        }
        Ok((seq as u32, m))
    }
}

impl CSeq {
    /// `seq method` (its `Display`, without `core::fmt`).
    pub(crate) fn text(&self) -> String {
        cseq_text(self.seq, self.method.as_str())
    }
}

/// The CSeq value `seq method`, from the method's token (no [`Method`]
/// built or cloned for it).
pub(crate) fn cseq_text(seq: u32, method: &str) -> String {
    let mut out = String::new();
    push_u64(&mut out, seq.into());
    out.push(' ');
    out.push_str(method);
    out
}

impl std::fmt::Display for CSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl Headers {
    /// The CSeq, known valid after [`crate::msg::parse`].
    pub fn cseq(&self) -> Option<CSeq> {
        self.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }

    /// The CSeq's number and method token, without building a [`Method`].
    pub(crate) fn cseq_parts(&self) -> Option<(u32, &str)> {
        self.get("CSeq").and_then(|v| CSeq::scan(v).ok())
    }

    /// The CSeq's number.
    pub(crate) fn cseq_seq(&self) -> Option<u32> {
        self.cseq_parts().map(|(seq, _)| seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_forms() {
        let c = CSeq::parse("  42 \t INVITE").unwrap();
        assert_eq!(c, CSeq::new(42, Method::Invite));
        assert_eq!(c.to_string(), "42 INVITE");
        assert!(CSeq::parse("4294967296 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("1 INV ITE").is_err());
    }
}
