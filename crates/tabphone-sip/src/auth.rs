//! HTTP digest authentication for SIP (RFC 3261 section 22, RFC 2617,
//! RFC 7616): read a `WWW-Authenticate` / `Proxy-Authenticate` challenge,
//! answer it with an `Authorization` / `Proxy-Authorization` value.
//!
//! Supports `MD5`, `MD5-sess`, `SHA-256` and `SHA-256-sess`, with `qop=auth`
//! (nonce count and client nonce) or without qop (RFC 2069 style). The client
//! nonce comes from the caller: the core's seeded RNG, never a hidden source.

use crate::hash::{hex, md5, sha256};
use crate::msg::position_byte;
use crate::msg::{is_space, push_quoted, split_byte, trim_space, trim_start_bytes};

/// Hash algorithm of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (the default when the challenge names none).
    Md5,
    /// MD5, session variant.
    Md5Sess,
    /// SHA-256.
    Sha256,
    /// SHA-256, session variant.
    Sha256Sess,
}

impl Algorithm {
    /// By its name in headers, case-insensitively.
    fn parse(s: &str) -> Option<Algorithm> {
        // By reference: an array by value brought its own iterator code.
        let all = [Algorithm::Md5, Algorithm::Md5Sess, Algorithm::Sha256, Algorithm::Sha256Sess];
        all.iter().find(|a| a.as_str().eq_ignore_ascii_case(s)).copied()
    }

    /// The name used in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// The hex digest of `parts` joined by `:`.
    fn hash(self, parts: &[&str]) -> String {
        let mut data = String::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                data.push(':');
            }
            data.push_str(part);
        }
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&md5(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&sha256(data.as_bytes())),
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

/// A parsed digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The server offered `qop=auth`.
    pub qop_auth: bool,
    /// `stale=true`: the nonce expired, the credentials were right.
    pub stale: bool,
}

/// Why a challenge could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Not a `Digest` challenge.
    NotDigest,
    /// A required parameter is missing.
    Missing(&'static str),
    /// An algorithm this client does not support.
    UnsupportedAlgorithm(String),
    /// Only `qop=auth-int` was offered (the body would have to be hashed).
    UnsupportedQop(String),
    /// Unbalanced quotes or a parameter without `=`.
    Syntax,
}

/// Parse `Digest k=v, k="v", …` (the header value).
pub fn parse_challenge(value: &str) -> Result<Challenge, AuthError> {
    let rest = trim_start_bytes(value, is_space);
    let scheme_len = position_byte(rest, is_space).unwrap_or(rest.len());
    if !rest[..scheme_len].eq_ignore_ascii_case("digest") {
        return Err(AuthError::NotDigest);
    }
    let p = params(&rest[scheme_len..])?;
    // Checked by reference, in this order; the values move out once, at the
    // end (an early return drops the one array, not each value).
    let algorithm = match &p[0] {
        None => Algorithm::Md5,
        Some(a) => Algorithm::parse(a).ok_or_else(|| AuthError::UnsupportedAlgorithm(a.clone()))?,
    };
    let qop_auth = match &p[1] {
        None => false,
        Some(q) => {
            let auth = split_byte(q, b',').any(|o| trim_space(o).eq_ignore_ascii_case("auth"));
            if !auth {
                return Err(AuthError::UnsupportedQop(q.clone()));
            }
            true
        }
    };
    if p[2].is_none() {
        return Err(AuthError::Missing("realm"));
    }
    if p[3].is_none() {
        return Err(AuthError::Missing("nonce"));
    }
    let stale = p[5].as_deref().is_some_and(|s| s.eq_ignore_ascii_case("true"));
    let [_, _, realm, nonce, opaque, _] = p;
    Ok(Challenge {
        realm: realm.unwrap_or_default(),
        nonce: nonce.unwrap_or_default(),
        opaque,
        algorithm,
        qop_auth,
        stale,
    })
}

/// The parameters [`parse_challenge`] reads, in the order [`params`] returns them.
const PARAMS: [&str; 6] = ["algorithm", "qop", "realm", "nonce", "opaque", "stale"];

/// `k=v, k="quoted \" v"`: the first value of each of [`PARAMS`] (names
/// case-insensitive), quotes and escapes removed; other parameters are
/// checked and skipped.
fn params(s: &str) -> Result<[Option<String>; 6], AuthError> {
    let mut out: [Option<String>; 6] = Default::default();
    let mut rest = s;
    loop {
        rest = split_while(rest, &|c| c.is_whitespace() || c == ',').1;
        if rest.is_empty() {
            return Ok(out);
        }
        let (name, after) = word_until(rest, '=');
        rest = split_while(after, &char::is_whitespace).1;
        if rest.as_bytes().first() != Some(&b'=') || name.is_empty() {
            return Err(AuthError::Syntax);
        }
        rest = split_while(&rest[1..], &char::is_whitespace).1;
        let value = if rest.as_bytes().first() == Some(&b'"') {
            let (mut v, mut chars) = (String::new(), rest[1..].chars());
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => v.extend(chars.next()),
                    Some(c) => v.push(c),
                    None => return Err(AuthError::Syntax),
                }
            }
            rest = chars.as_str();
            v
        } else {
            let (word, after) = word_until(rest, ',');
            rest = after;
            word.to_string()
        };
        if let Some(slot) = PARAMS.iter().position(|p| name.eq_ignore_ascii_case(p)).map(|i| &mut out[i]) {
            if slot.is_none() {
                *slot = Some(value);
            }
        }
    }
}

/// `s` split after its leading characters that `take` takes (by `char`:
/// `char::is_whitespace` counts more than ASCII). A `dyn`: one copy.
fn split_while<'a>(s: &'a str, take: &dyn Fn(char) -> bool) -> (&'a str, &'a str) {
    let mut chars = s.chars();
    loop {
        let rest = chars.as_str();
        match chars.next() {
            Some(c) if take(c) => {}
            _ => return s.split_at(s.len() - rest.len()),
        }
    }
}

/// The characters before `stop` or whitespace, and the rest.
fn word_until(s: &str, stop: char) -> (&str, &str) {
    split_while(s, &|c| c != stop && !c.is_whitespace())
}

/// What the answer needs besides the challenge.
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    /// User name.
    pub username: &'a str,
    /// Password.
    pub password: &'a str,
}

/// Answer `challenge` for `method` on `uri`. `nc` is the number of requests
/// sent with this nonce (1 for the first); `cnonce` a fresh random string.
pub fn answer(
    challenge: &Challenge,
    creds: &Credentials<'_>,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = challenge.algorithm;
    let nonce = challenge.nonce.as_str();
    let mut ha1 = alg.hash(&[creds.username, &challenge.realm, creds.password]);
    if alg.is_session() {
        ha1 = alg.hash(&[&ha1, nonce, cnonce]);
    }
    let ha2 = alg.hash(&[method, uri]);
    let nc = hex(&nc.to_be_bytes());
    let response = if challenge.qop_auth {
        alg.hash(&[&ha1, nonce, &nc, cnonce, "auth", &ha2])
    } else {
        alg.hash(&[&ha1, nonce, &ha2])
    };
    let mut v = String::from("Digest");
    push_field(&mut v, " username=", creds.username);
    push_field(&mut v, ", realm=", &challenge.realm);
    push_field(&mut v, ", nonce=", nonce);
    push_field(&mut v, ", uri=", uri);
    v.push_str(", response=\"");
    v.push_str(&response);
    v.push_str("\", algorithm=");
    v.push_str(alg.as_str());
    if challenge.qop_auth {
        v.push_str(", qop=auth, nc=");
        v.push_str(&nc);
        push_field(&mut v, ", cnonce=", cnonce);
    }
    if let Some(o) = &challenge.opaque {
        push_field(&mut v, ", opaque=", o);
    }
    v
}

/// `before` and `value` as a quoted string.
fn push_field(out: &mut String, before: &str, value: &str) {
    out.push_str(before);
    push_quoted(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_of(header: &str) -> &str {
        let start = header.find("response=\"").map(|i| i + 10).unwrap_or(0);
        &header[start..start + header[start..].find('"').unwrap_or(0)]
    }

    /// RFC 2617 section 3.5.
    #[test]
    fn rfc2617_md5_example() {
        let c = parse_challenge(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert_eq!((c.algorithm, c.qop_auth), (Algorithm::Md5, true));
        let creds = Credentials { username: "Mufasa", password: "Circle Of Life" };
        let h = answer(&c, &creds, "GET", "/dir/index.html", 1, "0a4f113b");
        assert_eq!(response_of(&h), "6629fae49393a05397450978507c4ef1");
        assert!(
            h.contains("nc=00000001") && h.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#),
            "{h}"
        );
    }

    /// RFC 7616 section 3.9.1, both algorithms.
    #[test]
    fn rfc7616_examples() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let creds = Credentials { username: "Mufasa", password: "Circle of Life" };
        for (alg, want) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ] {
            let text = format!(
                r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, nonce="{nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            );
            let c = parse_challenge(&text).unwrap();
            let h = answer(&c, &creds, "GET", "/dir/index.html", 1, cnonce);
            assert_eq!(response_of(&h), want, "{alg}");
        }
    }

    #[test]
    fn without_qop_and_session_variants() {
        let c = parse_challenge(r#"digest realm="r", nonce="n""#).unwrap();
        let creds = Credentials { username: "u", password: "p" };
        let h = answer(&c, &creds, "REGISTER", "sip:example.com", 1, "c");
        // RFC 2069: H(H(u:r:p):n:H(REGISTER:sip:example.com)).
        let ha1 = Algorithm::Md5.hash(&["u:r:p"]);
        let ha2 = Algorithm::Md5.hash(&["REGISTER:sip:example.com"]);
        assert_eq!(response_of(&h), Algorithm::Md5.hash(&[&format!("{ha1}:n:{ha2}")]));
        assert!(!h.contains("qop"));
        let s = parse_challenge(r#"Digest realm="r", nonce="n", algorithm=SHA-256-sess, qop=auth"#).unwrap();
        assert_eq!(s.algorithm, Algorithm::Sha256Sess);
        let h = answer(&s, &creds, "INVITE", "sip:bob@example.com", 2, "c");
        assert!(h.contains("algorithm=SHA-256-sess") && h.contains("nc=00000002"), "{h}");
    }

    #[test]
    fn bad_challenges_are_errors() {
        assert_eq!(parse_challenge("Basic realm=\"r\""), Err(AuthError::NotDigest));
        assert_eq!(parse_challenge("Digest nonce=\"n\""), Err(AuthError::Missing("realm")));
        assert_eq!(parse_challenge("Digest realm=\"r\", nonce=\"n"), Err(AuthError::Syntax));
        assert!(matches!(
            parse_challenge("Digest realm=r, nonce=n, algorithm=SHA-512"),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            parse_challenge("Digest realm=r, nonce=n, qop=auth-int"),
            Err(AuthError::UnsupportedQop(_))
        ));
        assert!(parse_challenge(r#"Digest realm="a \"quoted\" realm", nonce=n, stale=TRUE"#).unwrap().stale);
    }
}
