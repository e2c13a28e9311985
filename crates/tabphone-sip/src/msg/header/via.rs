//! `Via: SIP/2.0/transport sent-by *(;params)` (RFC 3261 20.42); the top
//! Via's branch names a transaction (RFC 3261 17).

use super::super::lex::{
    err, is_token_char, is_ws, param, parse_params, push_u64, scan_params, split_once_byte, trim_space,
    trim_start_bytes, unquote, write_params, Params,
};
use super::super::uri::split_hostport;
use super::super::{Headers, ParseError};
use crate::msg::position_byte;

/// One Via value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport (`WS`, `WSS`, `UDP`, ...), uppercase.
    pub transport: String,
    /// sent-by host.
    pub host: String,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`).
    pub params: Params,
}

/// A checked Via value, borrowed.
pub(in crate::msg) struct ViaRef<'a> {
    transport: &'a str,
    host: &'a str,
    port: Option<u16>,
    params: &'a str,
}

impl<'a> ViaRef<'a> {
    pub(in crate::msg) fn scan(v: &'a str) -> Result<ViaRef<'a>, ParseError> {
        let parts = split_once_byte(v, b'/').and_then(|(name, r)| Some((name, split_once_byte(r, b'/')?)));
        let Some((name, (version, rest))) = parts else {
            return Err(err("Via needs SIP/2.0/transport"));
        };
        if !trim_space(name).eq_ignore_ascii_case("SIP") || trim_space(version) != "2.0" {
            return Err(err("Via protocol is not SIP/2.0"));
        }
        let rest = trim_start_bytes(rest, is_ws);
        let t_end = position_byte(rest, |c| !is_token_char(c)).unwrap_or(rest.len());
        let transport = &rest[..t_end];
        if transport.is_empty() {
            return Err(err("Via without a transport"));
        }
        let rest = &rest[t_end..];
        let sent = trim_start_bytes(rest, is_ws);
        if sent.len() == rest.len() {
            return Err(err("Via needs a space before sent-by"));
        }
        let end = position_byte(sent, |b| matches!(b, b';' | b' ' | b'\t')).unwrap_or(sent.len());
        let (host, port) = split_hostport(&sent[..end])?;
        let params = &sent[end..];
        scan_params(params, &mut |_, _| {})?;
        Ok(ViaRef { transport, host, port, params })
    }
}

impl Via {
    /// `SIP/2.0/transport host;branch=branch;rport` (RFC 3581 asks for the
    /// port the server saw).
    pub fn new(transport: &str, host: &str, branch: &str) -> Via {
        Via {
            transport: transport.to_string(),
            host: host.to_string(),
            port: None,
            params: vec![("branch".into(), Some(branch.to_string())), ("rport".into(), None)],
        }
    }

    /// Parse `SIP / 2.0 / transport LWS sent-by *(SEMI via-params)`.
    pub fn parse(v: &str) -> Result<Via, ParseError> {
        let r = ViaRef::scan(v)?;
        // The parameters first: an error then drops no copies.
        let params = parse_params(r.params)?;
        Ok(Via {
            transport: r.transport.to_ascii_uppercase(),
            host: r.host.to_string(),
            port: r.port,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").flatten()
    }
}

impl Via {
    /// `SIP/2.0/transport host[:port];params` (its `Display`, without
    /// `core::fmt`).
    pub(crate) fn text(&self) -> String {
        let mut out = String::from("SIP/2.0/");
        out.push_str(&self.transport);
        out.push(' ');
        out.push_str(&self.host);
        if let Some(port) = self.port {
            out.push(':');
            push_u64(&mut out, port.into());
        }
        write_params(&mut out, &self.params);
        out
    }
}

/// `SIP/2.0/transport host[:port];params`.
impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl Headers {
    /// The branch of the top Via: the transaction a message belongs to.
    pub fn top_branch(&self) -> Option<String> {
        // As `Via::parse(..).branch()`, without building the Via.
        let via = ViaRef::scan(self.list("Via").next()?).ok()?;
        let mut branch = None;
        scan_params(via.params, &mut |name, value| {
            if branch.is_none() && name.eq_ignore_ascii_case("branch") {
                branch = Some(value);
            }
        })
        .ok()?;
        branch.flatten().map(unquote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_forms() {
        let v = Via::parse("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.transport.as_str(), v.branch()), ("UDP", Some("390skdjuw")));
        let v = Via::parse("SIP/2.0/WS  127.0.0.1:8080;rport;received=1.2.3.4").unwrap();
        assert_eq!((v.host.as_str(), v.port), ("127.0.0.1", Some(8080)));
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
    }

    #[test]
    fn built_vias_write_and_read_back() {
        let v = Via::new("WSS", "abc.invalid", "z9hG4bK1");
        assert_eq!(v.to_string(), "SIP/2.0/WSS abc.invalid;branch=z9hG4bK1;rport");
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
        let mut h = Headers::default();
        h.push("Via", format!("{v}, SIP/2.0/WS other;branch=z9hG4bK2"));
        assert_eq!(h.top_branch().as_deref(), Some("z9hG4bK1"));
    }
}
