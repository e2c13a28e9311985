//! Lexing shared by the parser and the typed headers: tokens, comma lists,
//! parameters, quoted strings, numbers; and their encoding (quoting a display
//! name or a parameter value, writing parameters back).

use super::ParseError;
pub(crate) use tabphone_json::push_u64;

/// Header parameters in order; names as received, values unquoted.
pub type Params = Vec<(String, Option<String>)>;

/// A [`ParseError`] that answers nothing (a part of a message, not a request).
pub(super) fn err(reason: impl Into<String>) -> ParseError {
    ParseError { reason: reason.into(), answer: None }
}

/// [`err`] `before`, the start of `bad` quoted, `after`: one copy of the
/// message format the checks share.
pub(super) fn bad(before: &str, bad: &str, after: &str) -> ParseError {
    err(format!("{before}{}{after}", tabphone_json::quote(truncate(bad))))
}

/// `token` characters (RFC 3261 25.1).
pub fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// Does every byte of `s` pass `f`? (A function pointer: one copy of the
/// loop for every check.)
#[inline(never)]
pub(super) fn all_bytes(s: &str, f: fn(u8) -> bool) -> bool {
    for b in s.as_bytes() {
        if !f(*b) {
            return false;
        }
    }
    true
}

/// Does some byte of `s` pass `f`?
#[inline(never)]
pub(super) fn any_byte(s: &str, f: fn(u8) -> bool) -> bool {
    position_byte(s, f).is_some()
}

/// Is `s` a non-empty token?
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && all_bytes(s, is_token_char)
}

pub(crate) fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The index of the first `c` in `s`. (Plain loops here: each `position`
/// closure brought its own copy of the iterator code; the phone's SDP
/// reading uses it too.)
pub fn find_byte(s: &str, c: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == c {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The index of the first CRLF in `s`.
pub(crate) fn find_crlf(s: &str) -> Option<usize> {
    let mut i = 0;
    while let Some(j) = find_byte(&s[i..], b'\r') {
        if s.as_bytes().get(i + j + 1) == Some(&b'\n') {
            return Some(i + j);
        }
        i += j + 1;
    }
    None
}

/// The index of the first byte of `s` that `f` takes.
pub(crate) fn position_byte(s: &str, f: fn(u8) -> bool) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if f(b[i]) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `s` without leading bytes that `strip` takes. By bytes: the `trim_*`
/// methods of `str` with char patterns bring in a searcher per pattern type.
/// (Plain loops: the iterator adapters brought their own code.)
pub(crate) fn trim_start_bytes(s: &str, strip: fn(u8) -> bool) -> &str {
    let (b, mut n) = (s.as_bytes(), 0);
    while n < b.len() && strip(b[n]) {
        n += 1;
    }
    s.get(n..).unwrap_or_default()
}

/// `s` without trailing bytes that `strip` takes.
pub(crate) fn trim_end_bytes(s: &str, strip: fn(u8) -> bool) -> &str {
    let (b, mut end) = (s.as_bytes(), s.len());
    while end > 0 && strip(b[end - 1]) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// `s` without leading or trailing spaces and tabs.
pub(crate) fn trim_ws(s: &str) -> &str {
    trim_end_bytes(trim_start_bytes(s, is_ws), is_ws)
}

/// Is `c` ASCII whitespace as `char::is_whitespace` counts it (space, tab,
/// LF, VT, FF, CR)?
pub(crate) fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// `s` without leading or trailing ASCII whitespace ([`is_space`]): `trim`
/// without its searcher (SIP text has no other whitespace that matters).
pub(crate) fn trim_space(s: &str) -> &str {
    trim_end_bytes(trim_start_bytes(s, is_space), is_space)
}

/// `s` split at the first `sep` byte (an ASCII separator), like
/// `split_once(char)` without its searcher.
pub fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_byte(s, sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The pieces of `s` between `sep` bytes (an ASCII separator), empty ones
/// included: `split(char)` without its searcher.
pub fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        let (piece, after) = split_once_byte(r, sep).map_or((r, None), |(p, a)| (p, Some(a)));
        rest = after;
        Some(piece)
    })
}

/// The lines of `s` as `str::lines` gives them (split at LF, a CR before the
/// LF dropped, no empty last line), without its searcher.
pub(crate) fn lines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, after) = match split_once_byte(rest, b'\n') {
            Some((line, after)) => (line.strip_suffix('\r').unwrap_or(line), after),
            None => (rest, ""),
        };
        rest = after;
        Some(line)
    })
}

/// At most the first 40 bytes of `s`, for error messages.
pub(super) fn truncate(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `n` in decimal (what `to_string` gives, without `core::fmt`).
pub(crate) fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_u64(&mut out, n);
    out
}

/// `s` as a number up to `max`, read as `str::parse` reads it (ASCII
/// digits after an optional `+`): one copy of the standard library's
/// reader, the `u64` one, rather than one per width; callers narrow it
/// with `as` (in range after the `max` check).
pub(crate) fn parse_int(s: &str, max: u64) -> Option<u64> {
    s.parse::<u64>().ok().filter(|n| *n <= max)
}

/// A decimal `u32` ([`parse_int`] up to `u32::MAX`).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_int(s, u32::MAX as u64).map(|n| n as u32)
}

/// Digits only, at most `max`.
pub(super) fn parse_number(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !all_bytes(s, |c| c.is_ascii_digit()) {
        return None;
    }
    parse_int(s, max)
}

/// Split a header value on commas outside quotes and angle brackets.
pub fn split_list(value: &str) -> SplitList<'_> {
    SplitList { value, start: 0, i: 0, done: false }
}

/// The items of a comma list ([`split_list`]), trimmed.
#[derive(Debug, Clone)]
pub struct SplitList<'a> {
    value: &'a str,
    start: usize,
    i: usize,
    done: bool,
}

impl<'a> Iterator for SplitList<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.value.as_bytes();
        let (mut quote, mut angle) = (false, false);
        while self.i < b.len() {
            match b[self.i] {
                b'\\' if quote => self.i += 1,
                b'"' => quote = !quote,
                b'<' if !quote => angle = true,
                b'>' if !quote => angle = false,
                b',' if !quote && !angle => {
                    let item = trim_space(self.value.get(self.start..self.i).unwrap_or(""));
                    self.i += 1;
                    self.start = self.i;
                    return Some(item);
                }
                _ => {}
            }
            self.i += 1;
        }
        self.done = true;
        Some(trim_space(self.value.get(self.start..).unwrap_or("")))
    }
}

/// Find a parameter (case-insensitive name).
pub fn param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

/// Check `*( SWS ";" SWS name [ SWS "=" SWS value ] )` to the end of `s`,
/// calling `f` with each name and raw value (quoted values keep their quotes).
/// `f` is a `dyn`: one copy of the scanner serves every caller.
pub(super) fn scan_params<'a>(
    s: &'a str,
    f: &mut dyn FnMut(&'a str, Option<&'a str>),
) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let mut i = 0;
    let skip = |i: &mut usize| {
        while *i < b.len() && is_ws(b[*i]) {
            *i += 1;
        }
    };
    loop {
        skip(&mut i);
        if i == b.len() {
            return Ok(());
        }
        if b[i] != b';' {
            return Err(err(format!(
                "unexpected {} where a parameter should start",
                tabphone_json::quote(&char::from(b[i]).to_string())
            )));
        }
        i += 1;
        skip(&mut i);
        let n0 = i;
        while i < b.len() && is_token_char(b[i]) {
            i += 1;
        }
        if n0 == i {
            return Err(err("empty parameter"));
        }
        let name = &s[n0..i];
        skip(&mut i);
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            skip(&mut i);
            let v0 = i;
            if i < b.len() && b[i] == b'"' {
                i = scan_quoted(s, i)?;
            } else {
                // token, host (IPv6 in brackets) and the like.
                while i < b.len() && is_value_char(b[i]) {
                    i += 1;
                }
                if v0 == i {
                    return Err(err(format!("parameter {} has an empty value", truncate(name))));
                }
            }
            value = Some(&s[v0..i]);
        }
        f(name, value);
    }
}

/// Characters of an unquoted parameter value: token, and a host's `[]:`.
fn is_value_char(c: u8) -> bool {
    is_token_char(c) || b"[]:".contains(&c)
}

/// Parse parameters into owned, unquoted pairs.
pub(super) fn parse_params(s: &str) -> Result<Params, ParseError> {
    let mut out = Vec::new();
    scan_params(s, &mut |n, v| out.push((n.to_string(), v.map(unquote))))?;
    Ok(out)
}

/// Write `;name=value` for each parameter, quoting values that need it.
pub(super) fn write_params(out: &mut String, params: &Params) {
    for (n, v) in params {
        write_param(out, n, v.as_deref());
    }
}

/// Write one `;name=value` (`;name` without a value), quoting a value that
/// needs it.
pub(crate) fn write_param(out: &mut String, name: &str, value: Option<&str>) {
    out.push(';');
    out.push_str(name);
    if let Some(v) = value {
        out.push('=');
        if !v.is_empty() && all_bytes(v, is_value_char) {
            out.push_str(v);
        } else {
            push_quoted(out, v);
        }
    }
}

/// The index after the closing quote of the quoted string at `s[start] == '"'`.
pub(super) fn scan_quoted(s: &str, start: usize) -> Result<usize, ParseError> {
    let b = s.as_bytes();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Ok(i + 1),
            b'\\' => {
                if matches!(b.get(i + 1), None | Some(b'\r') | Some(b'\n')) {
                    break;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    Err(err("unterminated quoted string"))
}

/// A raw value without its quotes and quoted-pair backslashes (tokens unchanged).
pub(super) fn unquote(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a quoted string: in double quotes, `\` and `"` escaped (a display
/// name, a parameter value that is not a token).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s);
    out
}

/// Append `s` as a quoted string ([`quote`]).
pub(crate) fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b'\\' || b == b'"' {
            out.push_str(s.get(last..i).unwrap_or_default());
            out.push('\\');
            last = i;
        }
    }
    out.push_str(s.get(last..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_and_unquote_agree() {
        for s in ["", "a b", "A \"B\"", "back\\slash", "é"] {
            assert_eq!(unquote(&quote(s)), s);
        }
        assert_eq!(quote("A \"B\""), "\"A \\\"B\\\"\"");
    }

    #[test]
    fn params_round_trip() {
        let p = parse_params(";tag=x ; q = 0.5;lr;n=\"a b\";maddr=[::1]").unwrap();
        let mut s = String::new();
        write_params(&mut s, &p);
        assert_eq!(s, ";tag=x;q=0.5;lr;n=\"a b\";maddr=[::1]");
        assert_eq!(param(&p, "TAG"), Some(Some("x")));
        assert!(parse_params(";;").is_err());
        assert!(parse_params(";a=").is_err());
    }

    #[test]
    fn byte_helpers_match_str_methods() {
        let texts =
            ["", "a", "a;b", ";a;;b;", "x\r\ny\n\nz\r", "a\r\n", "\n", "\r\r\n", " \t a b \x0b\x0c\r\n"];
        // Multi-byte text: every cut falls on an ASCII byte, so on a char boundary.
        for s in texts.into_iter().chain([" é;ü\nß ", "€;\r\n日本;", "\u{a0}\t"]) {
            assert_eq!(lines(s).collect::<Vec<_>>(), s.lines().collect::<Vec<_>>(), "{s:?}");
            assert_eq!(split_byte(s, b';').collect::<Vec<_>>(), s.split(';').collect::<Vec<_>>(), "{s:?}");
            assert_eq!(split_once_byte(s, b';'), s.split_once(';'), "{s:?}");
            if s.is_ascii() {
                assert_eq!(trim_space(s), s.trim(), "{s:?}");
            }
        }
        // Only ASCII whitespace is trimmed, as SIP's grammar has it (std's
        // trim also takes U+00A0).
        assert_eq!(trim_space(" é;ü\nß "), "é;ü\nß");
        assert_eq!(trim_space("\u{a0}\t"), "\u{a0}");
        assert_eq!("\u{a0}\t".trim(), "");
    }

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        let items: Vec<&str> = split_list("<sip:a,b@c>, \"x,y\" <sip:d>,e").collect();
        assert_eq!(items, vec!["<sip:a,b@c>", "\"x,y\" <sip:d>", "e"]);
    }
}
