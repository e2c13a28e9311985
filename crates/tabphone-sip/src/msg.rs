//! SIP messages: parsing with validation, typed views, serialization.
//!
//! [`parse`] takes one WebSocket message (RFC 7118: one SIP message per frame)
//! and either returns a [`Message`] whose framing and core headers are known
//! to be well-formed, or a [`ParseError`] that says why and, for a request,
//! which response RFC 3261 wants (400, or 505 for another SIP version).
//!
//! What is checked (RFC 3261 section 25 and RFC 4475):
//! - the start line: a token method, exactly one SP between its three parts, a
//!   Request-URI without spaces, angle brackets or URI headers, `SIP/2.0`
//!   (another version answers 505), a status code from 100 to 699;
//! - the header section: valid UTF-8, token header names, folded lines, compact
//!   forms (`v`, `f`, `t`, `i`, `m`, `l`, `c`, `k`, `s`, `e`, `o`, `r`, `b`, `u`);
//! - Content-Length: at most one, digits only, no more than the frame holds
//!   (extra bytes after the body are ignored, RFC 4475 3.1.1.8); when absent the
//!   frame holds the body;
//! - Via (every value), From, To, Contact, Route, Record-Route: their grammar,
//!   including quoted display names, token display names, addr-specs with `,`,
//!   `?` or `;` that must be in angle brackets, and empty parameters;
//! - CSeq: a number up to 2^32-1 and, in a request, the request's method;
//!   Max-Forwards up to 255; Date in RFC 1123 form with `GMT`;
//! - Via, From, To, Call-ID and CSeq are present, and From, To, Call-ID, CSeq,
//!   Max-Forwards and Content-Type appear once.
//!
//! Bodies are bytes (a multipart body may hold NUL octets); header values are
//! text. Nothing here panics on any input; `tests/rfc4475.rs` and the fuzz
//! target hold it to that.

use std::fmt::Write as _;

/// The most bytes [`parse`] takes; larger frames are refused (a WebRTC INVITE
/// is 3-6 KB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A request method. Unknown methods keep their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Message,
    Refer,
    Notify,
    Subscribe,
    Update,
    Prack,
    Publish,
    /// Any other token.
    Other(String),
}

impl Method {
    /// From its token (methods are case-sensitive).
    pub fn from_token(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "MESSAGE" => Method::Message,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }

    /// Its token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

/// One header field; `name` is the canonical full name for known headers
/// (compact forms expanded), the received text otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name.
    pub name: std::borrow::Cow<'static, str>,
    /// Field value, folding undone, outer whitespace trimmed.
    pub value: String,
}

/// The header fields of a message, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name` (case-insensitive, full name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    /// Every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    /// Every comma-separated value of every field named `name`.
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name).flat_map(split_list)
    }

    /// How many fields are named `name`.
    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).count()
    }

    /// Append a field.
    pub fn push(&mut self, name: impl Into<std::borrow::Cow<'static, str>>, value: impl Into<String>) {
        self.0.push(Header { name: name.into(), value: value.into() });
    }

    /// Remove every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Request-URI text.
    pub uri: String,
    /// Header fields (without Content-Length: [`Request::encode`] writes it).
    pub headers: Headers,
    /// Body octets.
    pub body: Vec<u8>,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100-699.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Header fields (without Content-Length).
    pub headers: Headers,
    /// Body octets.
    pub body: Vec<u8>,
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Its header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// Its body.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// Serialize.
    pub fn encode(&self) -> String {
        match self {
            Message::Request(r) => r.encode(),
            Message::Response(r) => r.encode(),
        }
    }
}

fn encode_rest(out: &mut String, headers: &Headers, body: &[u8]) {
    for h in &headers.0 {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        let _ = write!(out, "{}: {}\r\n", h.name, h.value);
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.push_str(&String::from_utf8_lossy(body));
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request { method, uri: uri.into(), headers: Headers::default(), body: Vec::new() }
    }

    /// Serialize; Content-Length is computed.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(512 + self.body.len());
        let _ = write!(out, "{} {} SIP/2.0\r\n", self.method.as_str(), self.uri);
        encode_rest(&mut out, &self.headers, &self.body);
        out
    }

    /// The CSeq, known valid after [`parse`].
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }
}

impl Response {
    /// Serialize; Content-Length is computed.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(512 + self.body.len());
        let _ = write!(out, "SIP/2.0 {} {}\r\n", self.status, self.reason);
        encode_rest(&mut out, &self.headers, &self.body);
        out
    }

    /// The CSeq, known valid after [`parse`].
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }
}

/// The reason phrase RFC 3261 gives a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        603 => "Decline",
        _ => "Unknown",
    }
}

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

fn err(reason: impl Into<String>) -> ParseError {
    ParseError { reason: reason.into(), answer: None }
}

/// `token` characters (RFC 3261 25.1).
pub fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// Is `s` a non-empty token?
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

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

/// Split a header value on commas outside quotes and angle brackets.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let b = value.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let (mut quote, mut angle) = (false, false);
        while i < b.len() {
            match b[i] {
                b'\\' if quote => i += 1,
                b'"' => quote = !quote,
                b'<' if !quote => angle = true,
                b'>' if !quote => angle = false,
                b',' if !quote && !angle => {
                    let item = value.get(start..i).unwrap_or("").trim();
                    i += 1;
                    start = i;
                    return Some(item);
                }
                _ => {}
            }
            i += 1;
        }
        done = true;
        Some(value.get(start..).unwrap_or("").trim())
    })
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
    let (first, fields) = head.split_once("\r\n").unwrap_or((head, ""));
    if first.starts_with("SIP/") || first.starts_with("sip/") {
        let (status, reason) = parse_status_line(first)?;
        let (headers, lengths) = split_headers(fields)?;
        let body = frame_body(lengths, rest)?;
        check_headers(&headers, None)?;
        return Ok(Message::Response(Response { status, reason: reason.to_string(), headers, body }));
    }
    let (headers, lengths) = split_headers(fields)?;
    let answer = |status: u16, reason: String, headers: Headers| ParseError {
        reason,
        answer: Some((status, headers)),
    };
    let (method, uri, version) = match split_request_line(first) {
        Ok(parts) => parts,
        Err(e) => return Err(answer(400, e.reason, headers)),
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(answer(505, format!("unsupported version {version}"), headers));
    }
    if let Err(e) = check_request_uri(uri) {
        return Err(answer(400, e.reason, headers));
    }
    let body = match frame_body(lengths, rest) {
        Ok(b) => b,
        Err(e) => return Err(answer(400, e.reason, headers)),
    };
    if let Err(e) = check_headers(&headers, Some(method)) {
        return Err(answer(400, e.reason, headers));
    }
    Ok(Message::Request(Request { method: Method::from_token(method), uri: uri.to_string(), headers, body }))
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
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let Some(reason) = parts.next() else {
        return Err(err("status line needs version, code and reason"));
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(err(format!("unsupported version {version}")));
    }
    if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err(format!("status code {code:?} is not three digits")));
    }
    let status: u16 = code.parse().map_err(|_| err("bad status code"))?;
    if !(100..=699).contains(&status) {
        return Err(err(format!("status code {status} out of range")));
    }
    if reason.bytes().any(|c| c < 0x20 && c != b'\t') {
        return Err(err("control character in reason phrase"));
    }
    Ok((status, reason))
}

fn split_request_line(line: &str) -> Result<(&str, &str, &str), ParseError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err("request line needs exactly one space between method, URI and version"));
    };
    if !is_token(method) {
        return Err(err(format!("method {:?} is not a token", truncate(method))));
    }
    if uri.is_empty() || version.is_empty() {
        return Err(err("request line needs exactly one space between method, URI and version"));
    }
    let v = version.as_bytes();
    let well_formed = v.len() > 4
        && v[..4].eq_ignore_ascii_case(b"SIP/")
        && version[4..].split_once('.').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.bytes().chain(b.bytes())).all(|c| c.is_ascii_digit())
        });
    if !well_formed {
        return Err(err(format!("bad SIP version {:?}", truncate(version))));
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
        let end = bytes[pos..].iter().position(|&c| c == b'\r').map_or(bytes.len(), |i| pos + i);
        let line = &fields[pos..end];
        pos = end + 2;
        if end < bytes.len() && bytes.get(end + 1) != Some(&b'\n') {
            return Err(err("bare CR in the header section"));
        }
        if line.bytes().next().is_some_and(is_ws) {
            let more = line.trim_matches(|c| c == ' ' || c == '\t');
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
        let Some((name, value)) = line.split_once(':') else {
            return Err(err(format!("header line without a colon: {:?}", truncate(line))));
        };
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(err(format!("header name {:?} is not a token", truncate(name))));
        }
        if has_bare_control(value) {
            return Err(err(format!("control character in {name}")));
        }
        let value = value.trim_matches([' ', '\t']);
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

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn frame_body(lengths: Lengths<'_>, rest: &[u8]) -> Result<Vec<u8>, ParseError> {
    match lengths.count {
        0 => return Ok(rest.to_vec()),
        1 => {}
        _ => return Err(err("more than one Content-Length")),
    }
    let cl = lengths.first;
    let n =
        parse_number(cl, u32::MAX as u64).ok_or_else(|| err(format!("bad Content-Length {cl:?}")))? as usize;
    if n > rest.len() {
        return Err(err(format!("Content-Length {n} but only {} body bytes", rest.len())));
    }
    Ok(rest[..n].to_vec())
}

/// Digits only, at most `max`.
fn parse_number(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().filter(|n| *n <= max)
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
                if v.is_empty() || v.bytes().any(|c| c <= b' ') {
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
    let p: Vec<&str> = v.split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
    let time = |s: &str| {
        let t: Vec<&str> = s.split(':').collect();
        t.len() == 3 && t.iter().all(|x| digits(x, 2))
    };
    let ok = p.len() == 6
        && p[0].strip_suffix(',').is_some_and(|d| DAYS.contains(&d))
        && digits(p[1], 2)
        && MONTHS.contains(&p[2])
        && digits(p[3], 4)
        && time(p[4])
        && p[5] == "GMT";
    if ok {
        Ok(())
    } else {
        Err(err(format!("not an RFC 1123 date in GMT: {:?}", truncate(v))))
    }
}

/// A CSeq value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number.
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl CSeq {
    /// Parse `1*DIGIT LWS Method`.
    pub fn parse(v: &str) -> Result<CSeq, ParseError> {
        CSeq::scan(v).map(|(seq, m)| CSeq { seq, method: Method::from_token(m) })
    }

    fn scan(v: &str) -> Result<(u32, &str), ParseError> {
        let mut it = v.split([' ', '\t']).filter(|s| !s.is_empty());
        let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
            return Err(err("CSeq needs a number and a method"));
        };
        let seq =
            parse_number(n, u32::MAX as u64).ok_or_else(|| err(format!("CSeq number {:?}", truncate(n))))?;
        if !is_token(m) {
            return Err(err("CSeq method is not a token"));
        }
        Ok((seq as u32, m))
    }
}

/// Header parameters in order; names as received, values unquoted.
pub type Params = Vec<(String, Option<String>)>;

/// Find a parameter (case-insensitive name).
pub fn param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

/// Check `*( SWS ";" SWS name [ SWS "=" SWS value ] )` to the end of `s`,
/// calling `f` with each name and raw value (quoted values keep their quotes).
fn scan_params<'a>(s: &'a str, mut f: impl FnMut(&'a str, Option<&'a str>)) -> Result<(), ParseError> {
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
            return Err(err(format!("unexpected {:?} where a parameter should start", char::from(b[i]))));
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
                while i < b.len() && (is_token_char(b[i]) || b"[]:".contains(&b[i])) {
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

/// Parse parameters into owned, unquoted pairs.
fn parse_params(s: &str) -> Result<Params, ParseError> {
    let mut out = Vec::new();
    scan_params(s, |n, v| out.push((n.to_string(), v.map(unquote))))?;
    Ok(out)
}

/// The index after the closing quote of the quoted string at `s[start] == '"'`.
fn scan_quoted(s: &str, start: usize) -> Result<usize, ParseError> {
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
fn unquote(raw: &str) -> String {
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
struct UriRef<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    params: &'a str,
    has_headers: bool,
}

impl<'a> UriRef<'a> {
    fn scan(s: &'a str) -> Result<UriRef<'a>, ParseError> {
        if s.bytes().any(|c| c <= b' ' || c == b'<' || c == b'>' || c == b'"' || c >= 0x7f) {
            return Err(err(format!("URI {:?} has a space, a quote or an angle bracket", truncate(s))));
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(err("URI without a scheme"));
        };
        let sb = scheme.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !sb.iter().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
        {
            return Err(err(format!("bad URI scheme {:?}", truncate(scheme))));
        }
        if rest.is_empty() {
            return Err(err("empty URI"));
        }
        if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
            return Ok(UriRef { scheme, user: None, host: rest, port: None, params: "", has_headers: false });
        }
        let (user, hostpart) = match rest.split_once('@') {
            Some(("", _)) => return Err(err("empty user part")),
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (hostpart, has_headers) = match hostpart.split_once('?') {
            Some((h, _)) => (h, true),
            None => (hostpart, false),
        };
        let (hostport, params) = match hostpart.find(';') {
            Some(i) => (&hostpart[..i], &hostpart[i..]),
            None => (hostpart, ""),
        };
        scan_params(params, |_, _| {})?;
        let (host, port) = split_hostport(hostport)?;
        Ok(UriRef { scheme, user, host, port, params, has_headers })
    }
}

impl Uri {
    /// Parse and check.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        let u = UriRef::scan(s)?;
        Ok(Uri {
            scheme: u.scheme.to_ascii_lowercase(),
            user: u.user.map(str::to_string),
            host: u.host.to_string(),
            port: u.port,
            params: parse_params(u.params)?,
            has_headers: u.has_headers,
        })
    }
}

fn split_hostport(hp: &str) -> Result<(&str, Option<u16>), ParseError> {
    let (host, port) = if let Some(r) = hp.strip_prefix('[') {
        let Some((h, after)) = r.split_once(']') else {
            return Err(err("unterminated IPv6 reference"));
        };
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(err("bad IPv6 reference"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(|| err("junk after IPv6 reference"))?),
        };
        (&hp[..h.len() + 2], port)
    } else {
        match hp.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hp, None),
        }
    };
    if host.is_empty() {
        return Err(err("empty host"));
    }
    if !host.starts_with('[') && !host.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err(err(format!("bad host {:?}", truncate(host))));
    }
    let port = match port {
        None => None,
        Some(p) => {
            Some(parse_number(p, u16::MAX as u64).ok_or_else(|| err(format!("bad port {:?}", truncate(p))))?
                as u16)
        }
    };
    Ok((host, port))
}

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
struct NameAddrRef<'a> {
    display: Option<&'a str>,
    uri: &'a str,
    params: &'a str,
}

impl<'a> NameAddrRef<'a> {
    fn scan(v: &'a str) -> Result<NameAddrRef<'a>, ParseError> {
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let mut display = None;
        let lt = if b.get(i) == Some(&b'"') {
            let end = scan_quoted(v, i)?;
            display = Some(&v[i..end]);
            let rest = v[end..].trim_start_matches([' ', '\t']);
            if !rest.starts_with('<') {
                return Err(err("quoted display name without <URI>"));
            }
            v.len() - rest.len()
        } else {
            match v.find('<') {
                // Before a '<' only display-name tokens may appear.
                Some(lt) => {
                    let name = v[i..lt].trim_matches([' ', '\t']);
                    if !name.split([' ', '\t']).filter(|w| !w.is_empty()).all(is_token) {
                        return Err(err(format!(
                            "display name {:?} is neither tokens nor quoted",
                            truncate(name)
                        )));
                    }
                    if !name.is_empty() {
                        display = Some(name);
                    }
                    lt
                }
                None => {
                    // addr-spec: the URI ends at the first ';'; it may not hold ',' or '?'.
                    let rest = &v[i..];
                    let end = rest.find(';').unwrap_or(rest.len());
                    let uri = rest[..end].trim_end_matches([' ', '\t']);
                    if uri.contains([',', '?']) {
                        return Err(err("a URI with ',' or '?' must be in angle brackets"));
                    }
                    UriRef::scan(uri)?;
                    let params = &rest[end..];
                    scan_params(params, |_, _| {})?;
                    return Ok(NameAddrRef { display: None, uri, params });
                }
            }
        };
        let Some(gt) = v[lt..].find('>') else {
            return Err(err("'<' without '>'"));
        };
        let uri = &v[lt + 1..lt + gt];
        UriRef::scan(uri)?;
        let params = &v[lt + gt + 1..];
        scan_params(params, |_, _| {})?;
        Ok(NameAddrRef { display, uri, params })
    }
}

impl NameAddr {
    /// Parse one value (not a comma list).
    pub fn parse(v: &str) -> Result<NameAddr, ParseError> {
        let r = NameAddrRef::scan(v)?;
        Ok(NameAddr {
            display: r.display.map(unquote),
            uri: r.uri.to_string(),
            params: parse_params(r.params)?,
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").flatten()
    }

    /// Serialize as `name-addr`.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        if let Some(d) = &self.display {
            let _ = write!(s, "\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\""));
        }
        let _ = write!(s, "<{}>", self.uri);
        for (n, v) in &self.params {
            match v {
                Some(v) if !v.is_empty() && v.bytes().all(|c| is_token_char(c) || b"[]:".contains(&c)) => {
                    let _ = write!(s, ";{n}={v}");
                }
                Some(v) => {
                    let _ = write!(s, ";{n}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
                }
                None => {
                    let _ = write!(s, ";{n}");
                }
            }
        }
        s
    }
}

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
struct ViaRef<'a> {
    transport: &'a str,
    host: &'a str,
    port: Option<u16>,
    params: &'a str,
}

impl<'a> ViaRef<'a> {
    fn scan(v: &'a str) -> Result<ViaRef<'a>, ParseError> {
        let mut parts = v.splitn(3, '/');
        let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("Via needs SIP/2.0/transport"));
        };
        if !name.trim().eq_ignore_ascii_case("SIP") || version.trim() != "2.0" {
            return Err(err("Via protocol is not SIP/2.0"));
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let t_end = rest.bytes().position(|c| !is_token_char(c)).unwrap_or(rest.len());
        let transport = &rest[..t_end];
        if transport.is_empty() {
            return Err(err("Via without a transport"));
        }
        let rest = &rest[t_end..];
        let sent = rest.trim_start_matches([' ', '\t']);
        if sent.len() == rest.len() {
            return Err(err("Via needs a space before sent-by"));
        }
        let end = sent.find([';', ' ', '\t']).unwrap_or(sent.len());
        let (host, port) = split_hostport(&sent[..end])?;
        let params = &sent[end..];
        scan_params(params, |_, _| {})?;
        Ok(ViaRef { transport, host, port, params })
    }
}

impl Via {
    /// Parse `SIP / 2.0 / transport LWS sent-by *(SEMI via-params)`.
    pub fn parse(v: &str) -> Result<Via, ParseError> {
        let r = ViaRef::scan(v)?;
        Ok(Via {
            transport: r.transport.to_ascii_uppercase(),
            host: r.host.to_string(),
            port: r.port,
            params: parse_params(r.params)?,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").flatten()
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
    fn via_forms() {
        let v = Via::parse("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.transport.as_str(), v.branch()), ("UDP", Some("390skdjuw")));
        let v = Via::parse("SIP/2.0/WS  127.0.0.1:8080;rport;received=1.2.3.4").unwrap();
        assert_eq!((v.host.as_str(), v.port), ("127.0.0.1", Some(8080)));
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
    }

    #[test]
    fn round_trip() {
        let mut r = Request::new(Method::Options, "sip:a@b.c");
        r.headers.push("Via", "SIP/2.0/WSS x.invalid;branch=z9hG4bK1");
        r.headers.push("From", "<sip:u@d>;tag=1");
        r.headers.push("To", "<sip:a@b.c>");
        r.headers.push("Call-ID", "c1");
        r.headers.push("CSeq", "1 OPTIONS");
        r.body = b"hello".to_vec();
        let text = r.encode();
        assert_eq!(parse(text.as_bytes()).unwrap(), Message::Request(r));
    }
}
