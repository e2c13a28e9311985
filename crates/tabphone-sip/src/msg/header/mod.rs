//! Typed headers, one per file, each with its parser, its writer (`Display`)
//! and, where the agent reads it from [`Headers`], an accessor there:
//!
//! - [`cseq`](CSeq): `CSeq`, [`Headers::cseq`];
//! - [`name_addr`](NameAddr): From, To, Contact, Route, Record-Route, Refer-To;
//! - [`via`](Via): `Via`, [`Headers::top_branch`];
//! - [`replaces`](Replaces): `Replaces`, and its form inside a Refer-To URI;
//! - [`retry_after`](RetryAfter), [`subscription_state`](SubscriptionState);
//! - [`dialog`](Role): [`Headers::first_contact_uri`] and [`Headers::route_set`];
//! - [`Response::to`]: the response to a request, with the headers RFC 3261
//!   8.2.6.2 copies.

mod cseq;
mod dialog;
mod name_addr;
mod replaces;
mod retry_after;
mod subscription_state;
mod via;

pub(crate) use cseq::cseq_text;
pub use cseq::CSeq;
pub use dialog::Role;
pub(crate) use name_addr::name_addr_text;
pub use name_addr::NameAddr;
pub(super) use name_addr::NameAddrRef;
pub use replaces::Replaces;
pub use retry_after::RetryAfter;
pub use subscription_state::SubscriptionState;
pub use via::Via;
pub(super) use via::ViaRef;

use super::{reason_phrase, Headers, Request, Response};

impl Response {
    /// The response to `req` with `status`: Via, From, To, Call-ID and CSeq
    /// copied, Record-Route too for 101-299, and `;tag=to_tag` added to To
    /// when it has none (not on a 100).
    pub fn to(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
        Response::to_headers(&req.headers, status, to_tag)
    }

    /// [`Response::to`] from the request's headers alone (a request that did
    /// not parse whole, say).
    pub fn to_headers(req: &Headers, status: u16, to_tag: Option<&str>) -> Response {
        let mut h = Headers::default();
        h.copy_from(req, "Via");
        if (101..300).contains(&status) {
            h.copy_from(req, "Record-Route");
        }
        // By reference: an array by value brings its own iterator code.
        for &name in &["From", "To", "Call-ID", "CSeq"] {
            if let Some(v) = req.get(name) {
                let mut v = v.to_string();
                if name == "To" && status > 100 {
                    if let Some(tag) = to_tag {
                        if NameAddrRef::scan(&v).map_or(true, |n| n.raw_tag().is_none()) {
                            v.push_str(";tag=");
                            v.push_str(tag);
                        }
                    }
                }
                h.push(name, v);
            }
        }
        Response { status, reason: reason_phrase(status).to_string(), headers: h, body: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Message, Method};
    use super::*;

    #[test]
    fn a_response_copies_what_rfc_3261_says() {
        let text = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nVia: SIP/2.0/WS g;branch=z9hG4bK0\r\n\
Record-Route: <sip:p;lr>\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 7 INVITE\r\n\
Max-Forwards: 70\r\n\r\n";
        let Ok(Message::Request(req)) = parse(text.as_bytes()) else { panic!("{text}") };
        assert_eq!(req.method, Method::Invite);
        let ok = Response::to(&req, 200, Some("t"));
        let names: Vec<&str> = ok.headers.0.iter().map(|h| &*h.name).collect();
        assert_eq!(names, ["Via", "Via", "Record-Route", "From", "To", "Call-ID", "CSeq"]);
        assert_eq!(ok.headers.get("To"), Some("<sip:a@b>;tag=t"));
        assert_eq!((ok.status, ok.reason.as_str()), (200, "OK"));
        let trying = Response::to(&req, 100, Some("t"));
        assert_eq!(trying.headers.get("To"), Some("<sip:a@b>"));
        assert_eq!(trying.headers.count("Record-Route"), 0);
        assert!(parse(ok.encode().as_bytes()).is_ok());
    }
}
