//! The message types and their encoding: [`Method`], [`Headers`],
//! [`Request`], [`Response`], [`Message`], reason phrases.

use super::lex::{push_u64, split_list, SplitList};
use super::CSeq;
use std::borrow::Cow;

/// A request method. Unknown methods keep their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
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

/// The tokens of the methods [`known`] gives, in its order.
const TOKENS: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "MESSAGE",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "UPDATE",
    "PRACK",
    "PUBLISH",
];

/// Every method but [`Method::Other`], by index: [`Method::from_token`]
/// finds a token's index in [`TOKENS`], [`Method::as_str`] a method's token
/// there, so the names are written once (and no method is cloned out of a
/// table).
fn known(i: usize) -> Option<Method> {
    Some(match i {
        0 => Method::Invite,
        1 => Method::Ack,
        2 => Method::Bye,
        3 => Method::Cancel,
        4 => Method::Register,
        5 => Method::Options,
        6 => Method::Info,
        7 => Method::Message,
        8 => Method::Refer,
        9 => Method::Notify,
        10 => Method::Subscribe,
        11 => Method::Update,
        12 => Method::Prack,
        13 => Method::Publish,
        _ => return None,
    })
}

impl Method {
    /// From its token (methods are case-sensitive).
    pub fn from_token(s: &str) -> Method {
        let mut i = 0;
        while let Some(m) = known(i) {
            if TOKENS[i] == s {
                return m;
            }
            i += 1;
        }
        Method::Other(s.to_string())
    }

    /// Its token (the known ones from a table: a `match` giving each its
    /// text cost the wasm more).
    pub fn as_str(&self) -> &str {
        let i = match self {
            Method::Other(s) => return s,
            Method::Invite => 0,
            Method::Ack => 1,
            Method::Bye => 2,
            Method::Cancel => 3,
            Method::Register => 4,
            Method::Options => 5,
            Method::Info => 6,
            Method::Message => 7,
            Method::Refer => 8,
            Method::Notify => 9,
            Method::Subscribe => 10,
            Method::Update => 11,
            Method::Prack => 12,
            Method::Publish => 13,
        };
        TOKENS[i]
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field; `name` is the canonical full name for known headers
/// (compact forms expanded), the received text otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name.
    pub name: Cow<'static, str>,
    /// Field value, folding undone, outer whitespace trimmed.
    pub value: String,
}

/// The header fields of a message, in order. The typed headers add their
/// accessors ([`Headers::cseq`], [`Headers::top_branch`],
/// [`Headers::first_contact_uri`], [`Headers::route_set`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name` (case-insensitive, full name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    /// Every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        GetAll { headers: self.0.iter(), name }
    }

    /// Every comma-separated value of every field named `name`.
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        List { fields: GetAll { headers: self.0.iter(), name }, items: None }
    }

    /// How many fields are named `name`.
    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).count()
    }

    /// Append a field.
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.0.push(Header { name: name.into(), value: value.into() });
    }

    /// Put a field first.
    pub fn push_front(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.0.insert(0, Header { name: name.into(), value: value.into() });
    }

    /// Remove every field named `name`.
    pub fn remove(&mut self, name: &str) {
        // The fields kept move down over the others, in order, and the rest
        // is cut off: neither `retain` nor `Vec::remove`, whose generic
        // copies cost the wasm more.
        let mut kept = 0;
        for i in 0..self.0.len() {
            if !self.0[i].name.eq_ignore_ascii_case(name) {
                self.0.swap(kept, i);
                kept += 1;
            }
        }
        self.0.truncate(kept);
    }

    /// Copy every field named `name` from `other`, in order.
    pub fn copy_from(&mut self, other: &Headers, name: &'static str) {
        for v in other.get_all(name) {
            self.push(name, v.to_string());
        }
    }
}

/// [`Headers::get_all`]: a named iterator with one `next`, so that each
/// caller's adapters wrap a call rather than a copy of the search.
struct GetAll<'a> {
    headers: std::slice::Iter<'a, Header>,
    name: &'a str,
}

impl<'a> Iterator for GetAll<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        for h in self.headers.by_ref() {
            if h.name.eq_ignore_ascii_case(self.name) {
                return Some(&h.value);
            }
        }
        None
    }
}

/// [`Headers::list`]: the items of each field in turn.
struct List<'a> {
    fields: GetAll<'a>,
    items: Option<SplitList<'a>>,
}

impl<'a> Iterator for List<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(item) = self.items.as_mut().and_then(Iterator::next) {
                return Some(item);
            }
            self.items = Some(split_list(self.fields.next()?));
        }
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
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
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

/// An empty message text with room for the start line, the fields and the
/// body.
fn begin(body: &[u8]) -> String {
    String::with_capacity(512 + body.len())
}

/// After the start line in `out`: the fields (Content-Length computed) and
/// the body.
fn finish(mut out: String, headers: &Headers, body: &[u8]) -> String {
    out.push_str("\r\n");
    for h in &headers.0 {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.push_str(&h.name);
        out.push_str(": ");
        out.push_str(&h.value);
        out.push_str("\r\n");
    }
    out.push_str("Content-Length: ");
    push_u64(&mut out, body.len() as u64);
    out.push_str("\r\n\r\n");
    tabphone_json::push_lossy(&mut out, body);
    out
}

/// The body as text, `None` when empty (an SDP offer or answer, say).
fn body_text(body: &[u8]) -> Option<String> {
    (!body.is_empty()).then(|| tabphone_json::lossy(body))
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request { method, uri: uri.into(), headers: Headers::default(), body: Vec::new() }
    }

    /// Serialize; Content-Length is computed.
    pub fn encode(&self) -> String {
        let mut out = begin(&self.body);
        out.push_str(self.method.as_str());
        out.push(' ');
        out.push_str(&self.uri);
        out.push_str(" SIP/2.0");
        finish(out, &self.headers, &self.body)
    }

    /// The CSeq, known valid after [`super::parse`].
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.cseq()
    }

    /// The body as text (invalid UTF-8 replaced), `None` when empty.
    pub fn body_text(&self) -> Option<String> {
        body_text(&self.body)
    }
}

impl Response {
    /// Serialize; Content-Length is computed.
    pub fn encode(&self) -> String {
        let mut out = begin(&self.body);
        out.push_str("SIP/2.0 ");
        push_u64(&mut out, self.status.into());
        out.push(' ');
        out.push_str(&self.reason);
        finish(out, &self.headers, &self.body)
    }

    /// The CSeq, known valid after [`super::parse`].
    pub fn cseq(&self) -> Option<CSeq> {
        self.headers.cseq()
    }

    /// The body as text (invalid UTF-8 replaced), `None` when empty.
    pub fn body_text(&self) -> Option<String> {
        body_text(&self.body)
    }
}

/// The reason phrase RFC 3261 gives a status code ("Unknown" for others).
pub fn reason_phrase(status: u16) -> &'static str {
    REASONS.iter().find(|(code, _)| *code == status).map_or("Unknown", |(_, reason)| reason)
}

/// The status codes this crate names, with their reason phrases (a table
/// searched in order: smaller in the wasm than a `match`).
const REASONS: &[(u16, &str)] = &[
    (100, "Trying"),
    (180, "Ringing"),
    (181, "Call Is Being Forwarded"),
    (182, "Queued"),
    (183, "Session Progress"),
    (200, "OK"),
    (202, "Accepted"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (415, "Unsupported Media Type"),
    (416, "Unsupported URI Scheme"),
    (420, "Bad Extension"),
    (423, "Interval Too Brief"),
    (480, "Temporarily Unavailable"),
    (481, "Call/Transaction Does Not Exist"),
    (486, "Busy Here"),
    (487, "Request Terminated"),
    (488, "Not Acceptable Here"),
    (491, "Request Pending"),
    (500, "Server Internal Error"),
    (501, "Not Implemented"),
    (503, "Service Unavailable"),
    (505, "Version Not Supported"),
    (603, "Decline"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_keeps_the_other_fields_in_order() {
        let mut h = Headers::default();
        for (n, v) in [("A", "1"), ("B", "2"), ("a", "3"), ("C", "4"), ("A", "5")] {
            h.push(n, v);
        }
        h.remove("A");
        let left: Vec<(&str, &str)> = h.0.iter().map(|f| (&*f.name, f.value.as_str())).collect();
        assert_eq!(left, [("B", "2"), ("C", "4")]);
    }

    #[test]
    fn methods_by_token() {
        let mut i = 0;
        while let Some(m) = known(i) {
            assert_eq!(Method::from_token(m.as_str()), m);
            i += 1;
        }
        assert_eq!(i, 14);
        assert_eq!(Method::from_token("invite"), Method::Other("invite".into()), "case-sensitive");
        assert_eq!(Method::from_token("FOO").as_str(), "FOO");
    }
}
