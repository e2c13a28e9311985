//! `Replaces: call-id;to-tag=...;from-tag=...` (RFC 3891): which dialog an
//! INVITE replaces, and how a REFER carries it in a Refer-To URI.

use super::super::lex::{any_byte, bad, err, is_token, scan_params, trim_space};
use super::super::ParseError;
use crate::msg::find_byte;

/// A Replaces value. The tags are seen from the side that receives the
/// INVITE: `to_tag` is its local tag, `from_tag` its peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// The Call-ID of the dialog to replace.
    pub call_id: String,
    /// The receiver's local tag.
    pub to_tag: String,
    /// The receiver's remote tag.
    pub from_tag: String,
}

impl Replaces {
    /// Parse `callid *(;param)`; `to-tag` and `from-tag` are tokens and
    /// required, other parameters (`early-only`) are skipped.
    pub fn parse(v: &str) -> Result<Replaces, ParseError> {
        let (call_id, params) = v.split_at(find_byte(v, b';').unwrap_or(v.len()));
        let call_id = trim_space(call_id);
        if call_id.is_empty() || any_byte(call_id, |c| c <= b' ') {
            return Err(bad("bad Call-ID in Replaces ", v, ""));
        }
        let (mut to_tag, mut from_tag) = (None, None);
        scan_params(params, &mut |name, value| {
            let slot = if name.eq_ignore_ascii_case("to-tag") {
                &mut to_tag
            } else if name.eq_ignore_ascii_case("from-tag") {
                &mut from_tag
            } else {
                return;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        })?;
        // Both checked before anything is copied: no copy to drop on an error.
        let tag = |t: Option<Option<_>>, name: &str| match t.flatten() {
            Some(t) if is_token(t) => Ok(t),
            _ => Err(err(format!("Replaces needs a token {name}"))),
        };
        let (to_tag, from_tag) = (tag(to_tag, "to-tag")?, tag(from_tag, "from-tag")?);
        Ok(Replaces {
            call_id: call_id.to_string(),
            to_tag: to_tag.to_string(),
            from_tag: from_tag.to_string(),
        })
    }

    /// `target?Replaces=...`: the URI a REFER's Refer-To carries for an
    /// attended transfer, this value escaped as a URI header (RFC 3261 19.1.1).
    pub fn refer_to_uri(&self, target: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = String::from(target);
        out.push_str("?Replaces=");
        for b in self.text().bytes() {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
        out
    }

    /// `call-id;to-tag=...;from-tag=...` (its `Display`, without `core::fmt`).
    fn text(&self) -> String {
        let mut out = self.call_id.clone();
        out.push_str(";to-tag=");
        out.push_str(&self.to_tag);
        out.push_str(";from-tag=");
        out.push_str(&self.from_tag);
        out
    }
}

/// `call-id;to-tag=...;from-tag=...`.
impl std::fmt::Display for Replaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_forms() {
        let r = Replaces::parse("abc@h ; from-tag=2;To-Tag=1;early-only").unwrap();
        assert_eq!((r.call_id.as_str(), r.to_tag.as_str(), r.from_tag.as_str()), ("abc@h", "1", "2"));
        assert_eq!(Replaces::parse(&r.to_string()).unwrap(), r);
        assert!(Replaces::parse("abc;to-tag=1").is_err());
        assert!(Replaces::parse(";to-tag=1;from-tag=2").is_err());
        assert!(Replaces::parse("abc;to-tag=\"1\";from-tag=2").is_err());
        assert_eq!(
            r.refer_to_uri("sip:bob@example.com"),
            "sip:bob@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2"
        );
    }
}
