//! `name-addr` / `addr-spec` with header parameters: From, To, Contact,
//! Route, Record-Route, Refer-To, Referred-By (RFC 3261 20.10, 25.1).

use super::super::lex::{
    all_bytes, any_byte, bad, err, is_token_char, is_ws, param, parse_params, push_quoted, scan_params,
    scan_quoted,
};
use super::super::lex::{
    trim_end_bytes, trim_start_bytes, trim_ws, unquote, write_param, write_params, Params,
};
use super::super::uri::UriRef;
use super::super::{Headers, ParseError};
use crate::msg::find_byte;

/// A `name-addr` or `addr-spec` with header parameters (From, To, Contact,
/// Route, Record-Route, Refer-To).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name, unquoted.
    pub display: Option<String>,
    /// The URI text.
    pub uri: String,
    /// Header parameters (`tag`, `expires`, ...).
    pub params: Params,
}

/// A checked name-addr, borrowed: raw display name (quoted or tokens), URI,
/// parameter text.
pub(in crate::msg) struct NameAddrRef<'a> {
    display: Option<&'a str>,
    pub(in crate::msg) uri: &'a str,
    params: &'a str,
}

impl<'a> NameAddrRef<'a> {
    pub(in crate::msg) fn scan(v: &'a str) -> Result<NameAddrRef<'a>, ParseError> {
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let mut display = None;
        let lt = if b.get(i) == Some(&b'"') {
            let end = scan_quoted(v, i)?;
            display = Some(&v[i..end]);
            let rest = trim_start_bytes(&v[end..], is_ws);
            if !rest.starts_with('<') {
                return Err(err("quoted display name without <URI>"));
            }
            v.len() - rest.len()
        } else {
            match find_byte(v, b'<') {
                // Before a '<' only display-name tokens may appear.
                Some(lt) => {
                    let name = trim_ws(&v[i..lt]);
                    // Tokens between spaces: every byte a token's or a space.
                    if !all_bytes(name, |c| is_token_char(c) || is_ws(c)) {
                        return Err(bad("display name ", name, " is neither tokens nor quoted"));
                    }
                    if !name.is_empty() {
                        display = Some(name);
                    }
                    lt
                }
                None => return NameAddrRef::scan_addr_spec(&v[i..]),
            }
        };
        let Some(gt) = find_byte(&v[lt..], b'>') else {
            return Err(err("'<' without '>'"));
        };
        let uri = &v[lt + 1..lt + gt];
        UriRef::scan(uri)?;
        let params = &v[lt + gt + 1..];
        scan_params(params, &mut |_, _| {})?;
        Ok(NameAddrRef { display, uri, params })
    }

    /// The value of the first `tag` parameter as written (a quoted one keeps
    /// its quotes), if it has one: [`NameAddr::tag`] without building one.
    pub(in crate::msg) fn raw_tag(&self) -> Option<&'a str> {
        let (mut seen, mut tag) = (false, None);
        // The parameters were checked by `scan`.
        let _ = scan_params(self.params, &mut |n, v| {
            if !seen && n.eq_ignore_ascii_case("tag") {
                (seen, tag) = (true, v);
            }
        });
        tag
    }

    /// addr-spec: the URI ends at the first ';'; it may not hold ',' or '?'.
    fn scan_addr_spec(rest: &'a str) -> Result<NameAddrRef<'a>, ParseError> {
        let end = find_byte(rest, b';').unwrap_or(rest.len());
        let uri = trim_end_bytes(&rest[..end], is_ws);
        if any_byte(uri, |b| b == b',' || b == b'?') {
            return Err(err("a URI with ',' or '?' must be in angle brackets"));
        }
        UriRef::scan(uri)?;
        let params = &rest[end..];
        scan_params(params, &mut |_, _| {})?;
        Ok(NameAddrRef { display: None, uri, params })
    }
}

impl NameAddr {
    /// `<uri>`: no display name, no parameters.
    pub fn new(uri: impl Into<String>) -> NameAddr {
        NameAddr { display: None, uri: uri.into(), params: Params::new() }
    }

    /// With this display name (quoted when written).
    pub fn with_display(mut self, display: Option<String>) -> NameAddr {
        self.display = display;
        self
    }

    /// With a parameter added (`;name` or `;name=value`).
    pub fn with_param(mut self, name: &str, value: Option<String>) -> NameAddr {
        self.params.push((name.to_string(), value));
        self
    }

    /// With `;tag=tag` when there is one.
    pub fn with_tag(self, tag: Option<&str>) -> NameAddr {
        match tag {
            Some(t) => self.with_param("tag", Some(t.to_string())),
            None => self,
        }
    }

    /// Check one value as [`NameAddr::parse`] does (same errors), without
    /// building it.
    pub(crate) fn check(v: &str) -> Result<(), ParseError> {
        NameAddrRef::scan(v).map(|_| ())
    }

    /// Parse one value (not a comma list).
    pub fn parse(v: &str) -> Result<NameAddr, ParseError> {
        let r = NameAddrRef::scan(v)?;
        // The parameters first: an error then drops no copies.
        let params = parse_params(r.params)?;
        Ok(NameAddr { display: r.display.map(unquote), uri: r.uri.to_string(), params })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").flatten()
    }

    /// Serialize as `name-addr` (the same as its `Display`).
    pub fn encode(&self) -> String {
        let mut s = String::new();
        push_name_addr(&mut s, self.display.as_deref(), &self.uri);
        write_params(&mut s, &self.params);
        s
    }
}

/// Append `"display" <uri>`: [`NameAddr::encode`] before the parameters.
fn push_name_addr(out: &mut String, display: Option<&str>, uri: &str) {
    if let Some(d) = display {
        push_quoted(out, d);
        out.push(' ');
    }
    out.push('<');
    out.push_str(uri);
    out.push('>');
}

/// `"display" <uri>;tag=tag`, as [`NameAddr::encode`] writes it, without
/// building a [`NameAddr`] (the agent's From, To, Refer-To, ...).
pub(crate) fn name_addr_text(display: Option<&str>, uri: &str, tag: Option<&str>) -> String {
    let mut s = String::new();
    push_name_addr(&mut s, display, uri);
    if let Some(t) = tag {
        write_param(&mut s, "tag", Some(t));
    }
    s
}

impl Headers {
    /// The first `name` field (From, To, Refer-To, ...) as a [`NameAddr`], if
    /// it parses.
    pub fn name_addr(&self, name: &str) -> Option<NameAddr> {
        self.get(name).and_then(|v| NameAddr::parse(v).ok())
    }
}

/// `"display" <uri>;params`.
impl std::fmt::Display for NameAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse("\"A \\\"B\\\"\" <sip:a@b.c;lr>;tag=x ; q = 0.5").unwrap();
        assert_eq!(n.display.as_deref(), Some("A \"B\""));
        assert_eq!(n.uri, "sip:a@b.c;lr");
        assert_eq!(n.tag(), Some("x"));
        let n = NameAddr::parse("sip:a@b.c;tag=1").unwrap();
        assert_eq!((n.uri.as_str(), n.tag()), ("sip:a@b.c", Some("1")));
        assert!(NameAddr::parse("sip:a@b.c?x=y").is_err());
        assert!(NameAddr::parse("Bell, A <sip:a@b>").is_err());
        assert!(NameAddr::parse("< sip:a@b >").is_err());
        assert!(NameAddr::parse("<sip:a@b>;;").is_err());
        assert!(NameAddr::parse("\"open <sip:a@b>").is_err());
        assert_eq!(NameAddr::parse(&n.encode()).unwrap(), NameAddr { display: None, ..n });
    }

    #[test]
    fn name_addr_text_writes_as_encode_and_raw_tag_finds_the_tag() {
        for (d, t) in
            [(None, None), (Some("Al \"x\""), Some("abc")), (None, Some("a@b")), (Some("B"), Some(""))]
        {
            let n = NameAddr::new("sip:a@b").with_display(d.map(str::to_string)).with_tag(t);
            assert_eq!(name_addr_text(d, "sip:a@b", t), n.encode());
        }
        for v in ["<sip:a>;Tag=\"x\";tag=y", "<sip:a>;tag;tag=y", "sip:a;lr", "<sip:a>;tag=z"] {
            let tag = NameAddrRef::scan(v).unwrap().raw_tag().map(unquote);
            assert_eq!(tag.as_deref(), NameAddr::parse(v).unwrap().tag(), "{v}");
        }
    }

    #[test]
    fn built_name_addrs_write_as_before() {
        let from = NameAddr::new("sip:alice@example.com")
            .with_display(Some("Al \"the\" Ice".into()))
            .with_tag(Some("abc"));
        assert_eq!(from.to_string(), "\"Al \\\"the\\\" Ice\" <sip:alice@example.com>;tag=abc");
        assert_eq!(NameAddr::parse(&from.to_string()).unwrap(), from);
        let contact = NameAddr::new("sip:u@h.invalid;transport=ws;ob")
            .with_param("+sip.instance", Some("<urn:uuid:1>".into()))
            .with_param("reg-id", Some("1".into()));
        assert_eq!(
            contact.to_string(),
            "<sip:u@h.invalid;transport=ws;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"
        );
        assert_eq!(NameAddr::new("sip:b@c").with_tag(None).to_string(), "<sip:b@c>");
    }
}
