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
//!
//! ## Layout
//! - `message.rs`: the types ([`Method`], [`Headers`],
//!   [`Request`], [`Response`], [`Message`]) and their encoding;
//! - `parse.rs`: framing and checks ([`parse`], [`ParseError`]);
//! - `lex.rs`: tokens, comma lists, parameters, quoting ([`split_list`],
//!   [`param`], [`quote`]), byte checks, trims, splits and lines
//!   shared by the parser, the agent and the SDP edits (by bytes: `str`'s
//!   char-pattern methods each bring in a searcher), numbers read through one
//!   `u64` reader and written by pushes (no `core::fmt` on the paths that
//!   build messages);
//! - `uri.rs`: [`Uri`];
//! - `header/`: the typed headers, one per file ([`CSeq`], [`NameAddr`],
//!   [`Via`], [`Replaces`], [`RetryAfter`], [`SubscriptionState`], the first
//!   Contact URI and the route set from Record-Route), and
//!   [`Response::to`]. Requests are built from these types.

mod header;
mod lex;
mod message;
mod parse;
mod uri;

pub(crate) use header::{cseq_text, name_addr_text};
pub use header::{CSeq, NameAddr, Replaces, RetryAfter, Role, SubscriptionState, Via};
pub(crate) use lex::{
    decimal, find_crlf, is_space, is_ws, lines, parse_int, parse_u32, position_byte, push_quoted,
    trim_end_bytes, trim_space, trim_start_bytes, write_param,
};
pub use lex::{
    find_byte, is_token, is_token_char, param, quote, split_byte, split_list, split_once_byte, Params,
    SplitList,
};
pub use message::{reason_phrase, Header, Headers, Message, Method, Request, Response};
pub use parse::{parse, ParseError, MAX_MESSAGE_BYTES};
pub use uri::Uri;

/// Does a Content-Type (or Accept) value name this media type? Parameters
/// are ignored, case is not significant.
pub fn media_type_is(value: &str, ty: &str) -> bool {
    split_byte(value, b';').next().is_some_and(|t| trim_space(t).eq_ignore_ascii_case(ty))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn media_types() {
        assert!(media_type_is("Application/SDP ; charset=x", "application/sdp"));
        assert!(!media_type_is("application/sdp2", "application/sdp"));
    }
}
