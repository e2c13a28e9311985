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

    /// A request: From, To and Call-ID read once, and dropped here in one
    /// place (the handlers borrow them: parts moved out on some paths made
    /// a drop of what was left at every exit).
    fn on_request(&mut self, now: Instant, req: Request) {
        let (from, to) = (req.headers.name_addr("From"), req.headers.name_addr("To"));
        let call_id = req.headers.get("Call-ID").unwrap_or("").to_string();
        if let (Some(from), Some(to)) = (&from, &to) {
            self.route_request(now, req, from, to, &call_id);
        }
    }

    /// ACK and CANCEL to the call they concern, a request with a To tag to
    /// its dialog (or 481), others to the out-of-dialog checks.
    fn route_request(&mut self, now: Instant, req: Request, from: &NameAddr, to: &NameAddr, call_id: &str) {
        match req.method {
            Method::Ack => return self.on_ack(&req, call_id, from, to),
            Method::Cancel => return self.on_cancel(&req),
            _ => {}
        }
        if let Some(to_tag) = to.tag() {
            return match self.find_dialog(call_id, Some(to_tag), from.tag()) {
                Some(id) => self.on_dialog_request(now, id, req),
                None => self.respond(&req, 481, None, &[]),
            };
        }
        self.on_out_of_dialog(req, from, &to.uri, call_id);
    }

    /// A request outside any dialog, once [`UserAgent::refused`] lets it
    /// through: OPTIONS, MESSAGE or a new INVITE (`to`: its To URI).
    fn on_out_of_dialog(&mut self, req: Request, from: &NameAddr, to: &str, call_id: &str) {
        if self.refused(&req) {
            return;
        }
        match req.method {
            Method::Options => {
                let extra = [("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", SUPPORTED)];
                self.respond(&req, 200, None, &extra);
            }
            Method::Message => self.on_message(&req, from.uri.clone(), None),
            _ => self.on_new_invite(req, from, to, call_id),
        }
    }

    /// The checks of a request outside any dialog, in RFC 3261 8.2 order:
    /// method, URI scheme, Require; then a new INVITE's content (8.2.3). The
    /// first that fails is answered here, and the request goes no further.
    /// (By reference: the callers' owned parts are dropped in one place.)
    fn refused(&mut self, req: &Request) -> bool {
        let allow = [("Allow", ALLOW)];
        let (status, extra): (u16, &[(&'static str, &str)]) = match req.method {
            Method::Invite | Method::Options | Method::Message => (0, &[]),
            Method::Bye | Method::Info | Method::Notify | Method::Prack | Method::Update => (481, &[]),
            Method::Register | Method::Subscribe | Method::Publish | Method::Refer => (405, &allow),
            _ => (501, &allow),
        };
        if status != 0 {
            self.respond(req, status, None, extra);
            return true;
        }
        if let Ok(scheme) = Uri::check(&req.uri) {
            if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
                self.respond(req, 416, None, &[]);
                return true;
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
            self.respond(req, 420, None, &[("Unsupported", &unsupported)]);
            return true;
        }
        if !matches!(req.method, Method::Invite) {
            return false;
        }
        // A new INVITE: an SDP body if any (else 415), an Accept that takes
        // SDP if any (else 406).
        let sdp_body = req.body.is_empty()
            || req.headers.get("Content-Type").is_none_or(|ct| msg::media_type_is(ct, "application/sdp"));
        let (mut accept, mut sdp) = (false, false);
        for a in req.headers.list("Accept") {
            accept = true;
            sdp |= accepts_sdp(a);
        }
        let status = if !sdp_body {
            415
        } else if accept && !sdp {
            406
        } else {
            return false;
        };
        self.respond(req, status, None, &[("Accept", "application/sdp")]);
        true
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
