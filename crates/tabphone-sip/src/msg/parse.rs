//! Framing and checks: one WebSocket frame into a [`Message`] whose start
//! line, header section, Content-Length and core headers are known good, or a
//! [`ParseError`] saying why (and, for a request, which answer it gets).

use super::header::{CSeq, NameAddrRef, ViaRef};
use super::lex::{all_bytes, any_byte, bad, err, is_token, is_ws, parse_number, split_list};
use super::lex::{find_byte, find_crlf, split_byte, split_once_byte, trim_end_bytes, trim_ws};
use super::uri::UriRef;
use super::{Header, Headers, Message, Method, Request, Response};
use tabphone_json::quote;

/// The most bytes [`parse`] takes; larger frames are refused (a WebRTC INVITE
/// is 3-6 KB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Why a frame is not a usable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, for logs and error events.
    pub reason: String,
    /// For a request whose start line and header section could be read: the
    /// status to answer with (400, or 505) and the received headers (the answer
    /// copies Via, From, To, Call-ID and CSeq from them).
    pub answer: Option<(u16, Headers)>,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ParseError {}

fn compact(name: &str) -> Option<&'static str> {
    if name.len() != 1 {
        return None;
    }
    Some(match name.as_bytes()[0].to_ascii_lowercase() {
        b'v' => "Via",
        b'f' => "From",
        b't' => "To",
        b'i' => "Call-ID",
        b'm' => "Contact",
        b'l' => "Content-Length",
        b'c' => "Content-Type",
        b'k' => "Supported",
        b's' => "Subject",
        b'e' => "Content-Encoding",
        b'o' => "Event",
        b'r' => "Refer-To",
        b'b' => "Referred-By",
        b'u' => "Allow-Events",
        _ => return None,
    })
}

const KNOWN: &[&str] = &[
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Content-Length",
    "Content-Type",
    "Max-Forwards",
    "Route",
    "Record-Route",
    "Expires",
    "Min-Expires",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Authorization",
    "Proxy-Authorization",
    "Require",
    "Proxy-Require",
    "Supported",
    "Unsupported",
    "Allow",
    "Accept",
    "Event",
    "Refer-To",
    "Referred-By",
    "Replaces",
    "Subscription-State",
    "Date",
    "User-Agent",
    "Server",
    "Reason",
];

fn canonical(name: &str) -> std::borrow::Cow<'static, str> {
    if let Some(c) = compact(name) {
        return c.into();
    }
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(k) => (*k).into(),
        None => name.to_string().into(),
    }
}

/// Parse one frame.
pub fn parse(frame: &[u8]) -> Result<Message, ParseError> {
    if frame.len() > MAX_MESSAGE_BYTES {
        return Err(err(format!("message of {} bytes exceeds {MAX_MESSAGE_BYTES}", frame.len())));
    }
    // RFC 3261 7.5: CRLFs before the start line are ignored.
    let mut start = 0;
    while frame.get(start..start + 2) == Some(b"\r\n") {
        start += 2;
    }
    let frame = &frame[start..];
    // A frame that ends its last header line but lacks the empty line is read
    // as a header section with no body (the frame boundary ends it).
    let (head_len, rest) = match find_blank_line(frame) {
        Some(n) => (n, &frame[n + 4..]),
        None if frame.ends_with(b"\r\n") => (frame.len() - 2, &[][..]),
        None => return Err(err("no empty line after the header section")),
    };
    let Ok(head) = std::str::from_utf8(&frame[..head_len]) else {
        return Err(err("header section is not UTF-8"));
    };
    // By bytes: a `&str` pattern would bring in the standard library's
    // two-way searcher.
    let (first, fields) = match find_crlf(head) {
        Some(i) => (&head[..i], &head[i + 2..]),
        None => (head, ""),
    };
    if first.starts_with("SIP/") || first.starts_with("sip/") {
        let (status, reason) = parse_status_line(first)?;
        let (headers, lengths) = split_headers(fields)?;
        let body = frame_body(lengths, rest)?;
        check_headers(&headers, None)?;
        return Ok(Message::Response(Response { status, reason: reason.to_string(), headers, body }));
    }
    let (headers, lengths) = split_headers(fields)?;
    match check_request(first, &headers, lengths, rest) {
        Ok((method, uri, body)) => Ok(Message::Request(Request {
            method: Method::from_token(method),
            uri: uri.to_string(),
            headers,
            body,
        })),
        Err((status, e)) => Err(ParseError { reason: e.reason, answer: Some((status, headers)) }),
    }
}

/// A request's start line, body and fields checked (the header section
/// split): its method, Request-URI and body, or the status to answer with
/// (400, or 505 for another version) and why.
fn check_request<'a>(
    first: &'a str,
    headers: &Headers,
    lengths: Lengths<'_>,
    rest: &[u8],
) -> Result<(&'a str, &'a str, Vec<u8>), (u16, ParseError)> {
    let bad_request = |e: ParseError| (400, e);
    let (method, uri, version) = split_request_line(first).map_err(bad_request)?;
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err((505, unsupported_version(version)));
    }
    check_request_uri(uri).map_err(bad_request)?;
    let body = frame_body(lengths, rest).map_err(bad_request)?;
    check_headers(headers, Some(method)).map_err(bad_request)?;
    Ok((method, uri, body))
}

/// "unsupported version V", for a request (505) and a response alike.
fn unsupported_version(version: &str) -> ParseError {
    err(format!("unsupported version {version}"))
}

/// Index of the first `\r\n\r\n`. Steps four bytes at a time where the fourth
/// byte cannot end or be inside the pattern.
fn find_blank_line(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 3 < b.len() {
        match b[i + 3] {
            b'\n' if b[i] == b'\r' && b[i + 1] == b'\n' && b[i + 2] == b'\r' => return Some(i),
            b'\n' | b'\r' => i += 1,
            _ => i += 4,
        }
    }
    None
}

fn parse_status_line(line: &str) -> Result<(u16, &str), ParseError> {
    let (version, rest) = split_once_byte(line, b' ').unwrap_or((line, ""));
    let Some((code, reason)) = split_once_byte(rest, b' ') else {
        return Err(err("status line needs version, code and reason"));
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(unsupported_version(version));
    }
    if code.len() != 3 || !all_bytes(code, |c| c.is_ascii_digit()) {
        return Err(err(format!("status code {} is not three digits", quote(code))));
    }
    // Three digits: read in place (no number reader, no error to carry).
    let mut status = 0u16;
    for &c in code.as_bytes() {
        status = status * 10 + u16::from(c - b'0');
    }
    if !(100..=699).contains(&status) {
        return Err(err(format!("status code {status} out of range")));
    }
    if any_byte(reason, |c| c < 0x20 && c != b'\t') {
        return Err(err("control character in reason phrase"));
    }
    Ok((status, reason))
}

fn split_request_line(line: &str) -> Result<(&str, &str, &str), ParseError> {
    let mut parts = split_byte(line, b' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err("request line needs exactly one space between method, URI and version"));
    };
    if !is_token(method) {
        return Err(bad("method ", method, " is not a token"));
    }
    if uri.is_empty() || version.is_empty() {
        return Err(err("request line needs exactly one space between method, URI and version"));
    }
    let v = version.as_bytes();
    let well_formed = v.len() > 4
        && v[..4].eq_ignore_ascii_case(b"SIP/")
        && split_once_byte(&version[4..], b'.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && all_bytes(a, |c| c.is_ascii_digit())
                && all_bytes(b, |c| c.is_ascii_digit())
        });
    if !well_formed {
        return Err(bad("bad SIP version ", version, ""));
    }
    Ok((method, uri, version))
}

fn check_request_uri(uri: &str) -> Result<(), ParseError> {
    let u = UriRef::scan(uri).map_err(|e| err(format!("Request-URI: {e}")))?;
    if u.has_headers {
        return Err(err("Request-URI carries URI headers"));
    }
    Ok(())
}

/// What the header section said about the body's length.
#[derive(Default)]
struct Lengths<'a> {
    count: usize,
    first: &'a str,
}

/// Split the header section into fields (Content-Length kept apart).
fn split_headers(fields: &str) -> Result<(Headers, Lengths<'_>), ParseError> {
    let mut headers: Vec<Header> = Vec::with_capacity(16);
    let mut lengths = Lengths::default();
    let mut last_was_length = false;
    let bytes = fields.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = find_byte(&fields[pos..], b'\r').map_or(bytes.len(), |i| pos + i);
        let line = &fields[pos..end];
        pos = end + 2;
        if end < bytes.len() && bytes.get(end + 1) != Some(&b'\n') {
            return Err(err("bare CR in the header section"));
        }
        if line.bytes().next().is_some_and(is_ws) {
            let more = trim_ws(line);
            if last_was_length {
                return Err(err("folded Content-Length"));
            }
            let Some(last) = headers.last_mut() else {
                return Err(err("continuation line before any header"));
            };
            if has_bare_control(more) {
                return Err(err(format!("control character in {}", last.name)));
            }
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        let Some((name, value)) = split_once_byte(line, b':') else {
            return Err(bad("header line without a colon: ", line, ""));
        };
        let name = trim_end_bytes(name, is_ws);
        if !is_token(name) {
            return Err(bad("header name ", name, " is not a token"));
        }
        if has_bare_control(value) {
            return Err(err(format!("control character in {name}")));
        }
        let value = trim_ws(value);
        let name = canonical(name);
        last_was_length = name == "Content-Length";
        if last_was_length {
            lengths.count += 1;
            if lengths.count == 1 {
                lengths.first = value;
            }
            continue;
        }
        headers.push(Header { name, value: value.to_string() });
    }
    Ok((Headers(headers), lengths))
}

/// A control character not escaped by a quoted-pair backslash.
fn has_bare_control(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1).is_some_and(|c| *c != b'\r' && *c != b'\n') => i += 2,
            c if (c < 0x20 && c != b'\t') || c == 0x7f => return true,
            _ => i += 1,
        }
    }
    false
}

fn frame_body(lengths: Lengths<'_>, rest: &[u8]) -> Result<Vec<u8>, ParseError> {
    match lengths.count {
        0 => return Ok(rest.to_vec()),
        1 => {}
        _ => return Err(err("more than one Content-Length")),
    }
    let cl = lengths.first;
    let n = parse_number(cl, u32::MAX as u64)
        .ok_or_else(|| err(format!("bad Content-Length {}", quote(cl))))? as usize;
    if n > rest.len() {
        return Err(err(format!("Content-Length {n} but only {} body bytes", rest.len())));
    }
    Ok(rest[..n].to_vec())
}

/// One pass over the fields: grammar of the core headers, presence of the
/// required ones, at most one of the single-valued ones.
fn check_headers(headers: &Headers, method: Option<&str>) -> Result<(), ParseError> {
    // Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Type.
    let mut seen = [0u32; 7];
    for h in &headers.0 {
        let v = h.value.as_str();
        let r = match &*h.name {
            "Via" => {
                seen[0] += 1;
                split_list(v).try_for_each(|item| ViaRef::scan(item).map(|_| ()))
            }
            "From" | "To" => {
                seen[if h.name == "From" { 1 } else { 2 }] += 1;
                NameAddrRef::scan(v).map(|_| ())
            }
            "Contact" if v == "*" => Ok(()),
            "Contact" | "Route" | "Record-Route" => {
                split_list(v).try_for_each(|i| NameAddrRef::scan(i).map(|_| ()))
            }
            "Call-ID" => {
                seen[3] += 1;
                if v.is_empty() || any_byte(v, |c| c <= b' ') {
                    Err(err("bad Call-ID"))
                } else {
                    Ok(())
                }
            }
            "CSeq" => {
                seen[4] += 1;
                CSeq::scan(v).and_then(|(_, m)| match method {
                    Some(rm) if m != rm => Err(err(format!("CSeq method {m} differs from {rm}"))),
                    _ => Ok(()),
                })
            }
            "Max-Forwards" => {
                seen[5] += 1;
                parse_number(v, 255).map(|_| ()).ok_or_else(|| err("bad Max-Forwards"))
            }
            "Content-Type" => {
                seen[6] += 1;
                Ok(())
            }
            "Date" => check_date(v),
            _ => Ok(()),
        };
        r.map_err(|e| err(format!("{}: {}", h.name, e.reason)))?;
    }
    const NAMES: [&str; 7] = ["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Type"];
    for (i, name) in NAMES.iter().enumerate() {
        if i < 5 && seen[i] == 0 {
            return Err(err(format!("missing {name}")));
        }
        if i > 0 && seen[i] > 1 {
            return Err(err(format!("{name} appears more than once")));
        }
    }
    Ok(())
}

fn check_date(v: &str) -> Result<(), ParseError> {
    // rfc1123-date: wkday "," SP date1 SP time SP "GMT"
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (mut p, mut n) = ([""; 6], 0);
    for part in split_byte(v, b' ') {
        if let Some(slot) = p.get_mut(n) {
            *slot = part;
        }
        n += 1;
    }
    let digits = |s: &str, n: usize| s.len() == n && all_bytes(s, |c| c.is_ascii_digit());
    // `hh:mm:ss`: two digits, then a colon before every further two.
    let time = |s: &str| {
        let b = s.as_bytes();
        let mut ok = b.len() == 8;
        for (i, c) in b.iter().enumerate() {
            ok &= if i % 3 == 2 { *c == b':' } else { c.is_ascii_digit() };
        }
        ok
    };
    let ok = n == 6
        && p[0].strip_suffix(',').is_some_and(|d| DAYS.contains(&d))
        && digits(p[1], 2)
        && MONTHS.contains(&p[2])
        && digits(p[3], 4)
        && time(p[4])
        && p[5] == "GMT";
    if ok {
        Ok(())
    } else {
        Err(bad("not an RFC 1123 date in GMT: ", v, ""))
    }
}
