//! What the server sends: frames (CRLF keepalives, messages, garbage, which
//! gets an error event and, for a request, the 400 or 505 RFC 3261 asks for),
//! requests in a dialog (the CSeq check, then each method to its subsystem) and
//! outside one (RFC 3261 8.2: method, URI scheme, Require, then the content of
//! an INVITE; OPTIONS answered here). Responses go to [`super::txn`].

use super::{CallId, Event, Output, UserAgent, ALLOW, SUPPORTED};
use crate::msg::{self, split_byte, trim_space, Message, Method, NameAddr, Request, Response, Uri};
use crate::trace::{self, Direction};
use crate::transport::SocketEvent;
use crate::Instant;

impl UserAgent {
    /// One frame from the socket.
    pub(super) fn on_data(&mut self, now: Instant, data: &[u8]) {
        if data == b"\r\n" {
            return self.transport.handle_socket(now, SocketEvent::Received { is_pong: true });
        }
        self.transport.handle_socket(now, SocketEvent::Received { is_pong: false });
        if data == b"\r\n\r\n" {
            // A keepalive ping from the server (RFC 5626 4.4.1): pong.
            return self.out.push(Output::Send("\r\n".into()));
        }
        if self.config.trace {
            let line = trace::trace_line(Direction::In, &self.url, &tabphone_json::lossy(data));
            self.event(Event::Trace { line });
        }
        match msg::parse(data) {
            Ok(Message::Request(r)) => self.on_request(now, r),
            Ok(Message::Response(r)) => self.on_response(now, r),
            Err(e) => {
                self.error(format!("bad message from the server: {}", e.reason));
                if let Some((status, headers)) = e.answer {
                    if headers.get("Via").is_some() {
                        let tag = self.random_hex(10);
                        let mut resp = Response::to_headers(&headers, status, Some(&tag));
                        resp.reason = printable(&e.reason, 100);
                        self.send_text(resp.encode());
                    }
                }
            }
        }
    }

    /// A request: ACK and CANCEL to the call they concern, one with a To tag
    /// to its dialog (or 481), others to the out-of-dialog checks.
    fn on_request(&mut self, now: Instant, req: Request) {
        let (from, to) = (req.headers.name_addr("From"), req.headers.name_addr("To"));
        let call_id = req.headers.get("Call-ID").unwrap_or("").to_string();
        let (Some(from), Some(to)) = (from, to) else { return };
        match req.method {
            Method::Ack => return self.on_ack(&req, &call_id, &from, &to),
            Method::Cancel => return self.on_cancel(&req),
            _ => {}
        }
        if let Some(to_tag) = to.tag() {
            return match self.find_dialog(&call_id, Some(to_tag), from.tag()) {
                Some(id) => self.on_dialog_request(now, id, req),
                None => self.respond(&req, 481, None, &[]),
            };
        }
        self.on_out_of_dialog(req, from, to.uri, call_id);
    }

    /// A request outside any dialog, checked in RFC 3261 8.2 order: method,
    /// URI scheme, Require; then OPTIONS, MESSAGE or a new INVITE (`to`: its
    /// To URI).
    fn on_out_of_dialog(&mut self, req: Request, from: NameAddr, to: String, call_id: String) {
        let allow = [("Allow", ALLOW)];
        match req.method {
            Method::Invite | Method::Options | Method::Message => {}
            Method::Bye | Method::Info | Method::Notify | Method::Prack | Method::Update => {
                return self.respond(&req, 481, None, &[]);
            }
            Method::Register | Method::Subscribe | Method::Publish | Method::Refer => {
                return self.respond(&req, 405, None, &allow);
            }
            _ => return self.respond(&req, 501, None, &allow),
        }
        if let Ok(scheme) = Uri::check(&req.uri) {
            if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
                return self.respond(&req, 416, None, &[]);
            }
        }
        let mut unsupported = String::new();
        for option in req.headers.list("Require") {
            if !msg::split_list(SUPPORTED).any(|s| s.eq_ignore_ascii_case(option)) {
                if !unsupported.is_empty() {
                    unsupported.push_str(", ");
                }
                unsupported.push_str(option);
            }
        }
        if !unsupported.is_empty() {
            return self.respond(&req, 420, None, &[("Unsupported", &unsupported)]);
        }
        match req.method {
            Method::Options => {
                let extra = [("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", SUPPORTED)];
                self.respond(&req, 200, None, &extra);
            }
            Method::Message => self.on_message(&req, from.uri, None),
            _ => self.on_invite(req, from, to, call_id),
        }
    }

    /// A new INVITE's content (RFC 3261 8.2.3): an SDP body if any (else 415),
    /// an Accept that takes SDP if any (else 406).
    fn on_invite(&mut self, req: Request, from: NameAddr, to: String, call_id: String) {
        if let Some(ct) = req.headers.get("Content-Type") {
            if !req.body.is_empty() && !msg::media_type_is(ct, "application/sdp") {
                return self.respond(&req, 415, None, &[("Accept", "application/sdp")]);
            }
        }
        let (mut accept, mut sdp) = (false, false);
        for a in req.headers.list("Accept") {
            accept = true;
            sdp |= accepts_sdp(a);
        }
        if accept && !sdp {
            return self.respond(&req, 406, None, &[("Accept", "application/sdp")]);
        }
        self.on_new_invite(req, from, to, call_id);
    }

    /// A request in call `id`'s dialog: 500 for an old CSeq (RFC 3261
    /// 12.2.2), else to the method's subsystem.
    fn on_dialog_request(&mut self, now: Instant, id: CallId, req: Request) {
        let seq = req.headers.cseq_seq().unwrap_or(0);
        let Some(call) = self.calls.get_mut(&id) else { return };
        if !call.dialog.take_remote_cseq(seq) {
            return self.respond(&req, 500, None, &[]);
        }
        let tag = call.dialog.local_tag.clone();
        match req.method {
            Method::Bye => self.on_bye(id, &req, &tag),
            Method::Invite => self.on_reinvite(id, req, &tag),
            Method::Info => self.on_info(id, &req, &tag),
            Method::Refer => self.on_refer(now, id, &req, seq, &tag),
            Method::Notify => self.on_notify(id, &req, &tag),
            Method::Options => self.respond(&req, 200, Some(&tag), &[("Allow", ALLOW)]),
            Method::Message => {
                let from = call.dialog.remote_uri.clone();
                self.on_message(&req, from, Some(&tag));
            }
            _ => self.respond(&req, 501, Some(&tag), &[("Allow", ALLOW)]),
        }
    }
}

/// The first `max` characters of `text` that are not control characters
/// (a loop: the iterator chain brought its own `Extend` copy).
fn printable(text: &str, max: usize) -> String {
    let (mut out, mut n) = (String::new(), 0);
    for c in text.chars().filter(|c| !c.is_control()) {
        if n == max {
            break;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// Does an Accept value take SDP?
fn accepts_sdp(a: &str) -> bool {
    let t = trim_space(split_byte(a, b';').next().unwrap_or(""));
    ["application/sdp", "application/*", "*/*"].iter().any(|x| t.eq_ignore_ascii_case(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_drops_control_characters_and_stops_at_max() {
        assert_eq!(printable("a\u{7}b\u{85}cé\r\nd", 4), "abcé");
        assert_eq!(printable("xy", 100), "xy");
        let want: String = "a\u{7}b\u{85}cé\r\nd".chars().filter(|c| !c.is_control()).take(4).collect();
        assert_eq!(printable("a\u{7}b\u{85}cé\r\nd", 4), want);
    }
}
