//! URIs: `sip`/`sips` by RFC 3261 19.1, any other scheme as an `absoluteURI`.

use super::lex::{
    all_bytes, any_byte, bad, err, parse_number, parse_params, push_u64, scan_params, split_once_byte, Params,
};
use super::ParseError;
use crate::msg::find_byte;

/// A URI (RFC 3261 19.1 for `sip`/`sips`, any `absoluteURI` otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// Scheme, lowercase.
    pub scheme: String,
    /// User part (still escaped), if any.
    pub user: Option<String>,
    /// Host (sip/sips), or the opaque part for other schemes.
    pub host: String,
    /// Port.
    pub port: Option<u16>,
    /// URI parameters (sip/sips).
    pub params: Params,
    /// Has `?headers`.
    pub has_headers: bool,
}

/// A checked URI, borrowed from its text.
pub(super) struct UriRef<'a> {
    pub(super) scheme: &'a str,
    pub(super) user: Option<&'a str>,
    pub(super) host: &'a str,
    pub(super) port: Option<u16>,
    pub(super) params: &'a str,
    pub(super) has_headers: bool,
}

impl<'a> UriRef<'a> {
    pub(super) fn scan(s: &'a str) -> Result<UriRef<'a>, ParseError> {
        if any_byte(s, |c| c <= b' ' || c == b'<' || c == b'>' || c == b'"' || c >= 0x7f) {
            return Err(bad("URI ", s, " has a space, a quote or an angle bracket"));
        }
        let Some((scheme, rest)) = split_once_byte(s, b':') else {
            return Err(err("URI without a scheme"));
        };
        let sb = scheme.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !all_bytes(scheme, |c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            return Err(bad("bad URI scheme ", scheme, ""));
        }
        if rest.is_empty() {
            return Err(err("empty URI"));
        }
        if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
            return Ok(UriRef { scheme, user: None, host: rest, port: None, params: "", has_headers: false });
        }
        let (user, hostpart) = match split_once_byte(rest, b'@') {
            Some(("", _)) => return Err(err("empty user part")),
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (hostpart, has_headers) = match split_once_byte(hostpart, b'?') {
            Some((h, _)) => (h, true),
            None => (hostpart, false),
        };
        let (hostport, params) = match find_byte(hostpart, b';') {
            Some(i) => (&hostpart[..i], &hostpart[i..]),
            None => (hostpart, ""),
        };
        scan_params(params, &mut |_, _| {})?;
        let (host, port) = split_hostport(hostport)?;
        Ok(UriRef { scheme, user, host, port, params, has_headers })
    }
}

impl Uri {
    /// Check `s` as [`Uri::parse`] does (same errors), without building the
    /// URI: its scheme as written.
    pub(crate) fn check(s: &str) -> Result<&str, ParseError> {
        UriRef::scan(s).map(|u| u.scheme)
    }

    /// Check `s` as [`Uri::parse`] does (same errors) and give its scheme,
    /// user and host as written, without building the URI.
    pub fn parts(s: &str) -> Result<(&str, Option<&str>, &str), ParseError> {
        UriRef::scan(s).map(|u| (u.scheme, u.user, u.host))
    }

    /// Parse and check.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        let u = UriRef::scan(s)?;
        // The parameters first: an error then drops no copies.
        let params = parse_params(u.params)?;
        Ok(Uri {
            scheme: u.scheme.to_ascii_lowercase(),
            user: u.user.map(str::to_string),
            host: u.host.to_string(),
            port: u.port,
            params,
            has_headers: u.has_headers,
        })
    }
}

/// `host [":" port]`, the host a name, an IPv4 address or an IPv6 reference.
pub(super) fn split_hostport(hp: &str) -> Result<(&str, Option<u16>), ParseError> {
    let (host, port) = if let Some(r) = hp.strip_prefix('[') {
        let Some((h, after)) = split_once_byte(r, b']') else {
            return Err(err("unterminated IPv6 reference"));
        };
        if h.is_empty() || !all_bytes(h, |c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(err("bad IPv6 reference"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| err("junk after IPv6 reference"))?),
        };
        (&hp[..h.len() + 2], port)
    } else {
        match split_once_byte(hp, b':') {
            Some((h, p)) => (h, Some(p)),
            None => (hp, None),
        }
    };
    if host.is_empty() {
        return Err(err("empty host"));
    }
    if !host.starts_with('[') && !all_bytes(host, |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err(bad("bad host ", host, ""));
    }
    let port = match port {
        None => None,
        Some(p) => Some(parse_number(p, u16::MAX as u64).ok_or_else(|| bad("bad port ", p, ""))? as u16),
    };
    Ok((host, port))
}

impl Uri {
    /// `sip:user@host` (or `sip:host`), no port, no parameters.
    pub fn sip(user: Option<&str>, host: &str) -> Uri {
        Uri {
            scheme: "sip".into(),
            user: user.map(str::to_string),
            host: host.to_string(),
            port: None,
            params: Params::new(),
            has_headers: false,
        }
    }

    /// `sip:user@host` as text, as `Uri::sip(Some(user), host)` writes it,
    /// without building the URI.
    pub fn sip_text(user: &str, host: &str) -> String {
        let mut uri = String::from("sip:");
        uri.push_str(user);
        uri.push('@');
        uri.push_str(host);
        uri
    }

    /// With a parameter added (`;name` or `;name=value`).
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Uri {
        self.params.push((name.to_string(), value.map(str::to_string)));
        self
    }
}

impl Uri {
    /// Append `scheme:[user@]host[:port][;params]` (its `Display`).
    pub(crate) fn push_to(&self, out: &mut String) {
        out.push_str(&self.scheme);
        out.push(':');
        if let Some(user) = &self.user {
            out.push_str(user);
            out.push('@');
        }
        out.push_str(&self.host);
        if let Some(port) = self.port {
            out.push(':');
            push_u64(out, port.into());
        }
        super::lex::write_params(out, &self.params);
    }

    /// The URI as text (its `Display`, without `core::fmt`).
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        self.push_to(&mut out);
        out
    }
}

/// `scheme:[user@]host[:port][;params]`; URI headers (`?...`) are not kept by
/// [`Uri::parse`] and so not written.
impl std::fmt::Display for Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uris_write_back() {
        let u =
            Uri::sip(Some("bob"), "example.com").with_param("transport", Some("ws")).with_param("ob", None);
        assert_eq!(u.to_string(), "sip:bob@example.com;transport=ws;ob");
        assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
        let u = Uri::parse("sip:[::1]:5060;lr").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.to_string().as_str()),
            ("[::1]", Some(5060), "sip:[::1]:5060;lr")
        );
        assert!(Uri::parse("sip:a@b c").is_err());
        assert!(Uri::parse("sip:@b").is_err());
        assert_eq!(Uri::parse("tel:+1555").unwrap().host, "+1555");
    }
}
