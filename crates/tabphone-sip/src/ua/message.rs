//! MESSAGE (RFC 3428): ours, outside any dialog, with its result as
//! [`Event::MessageResult`] (408 when unanswered, 503 when the connection is
//! gone); one received, in a call's dialog or outside, answered 200 and
//! reported.

use super::txn::Owner;
use super::{Event, UserAgent};
use crate::msg::{name_addr_text, Method, Request};
use crate::Instant;

impl UserAgent {
    /// [`super::Command::Message`].
    pub(super) fn message(&mut self, now: Instant, id: u64, target: &str, content_type: &str, body: String) {
        if !self.connected {
            return self.message_result(id, 503);
        }
        let uri = match self.me.target_uri(target) {
            Ok(u) => u,
            Err(e) => {
                self.error(e);
                return self.message_result(id, 400);
            }
        };
        let call_id = self.random_hex(20);
        let tag = self.random_hex(10);
        let (mut r, key) = self.base_request(Method::Message, &uri, &call_id, 1);
        r.headers.push("From", self.me.from(&tag));
        r.headers.push("To", name_addr_text(None, &uri, None));
        r.headers.push("Content-Type", content_type.to_string());
        r.body = body.into_bytes();
        self.send_request(now, Owner::Message(id), key, r);
    }

    /// Tell the app our MESSAGE `id` ended with `status`
    /// ([`Event::MessageResult`]; not inlined: six callers).
    #[inline(never)]
    pub(super) fn message_result(&mut self, id: u64, status: u16) {
        self.event(Event::MessageResult { id, status });
    }

    /// A MESSAGE from `from`: 200 (tagged `tag` in a dialog), and
    /// [`Event::MessageReceived`].
    pub(super) fn on_message(&mut self, req: &Request, from: String, tag: Option<&str>) {
        self.respond(req, 200, tag, &[]);
        let content_type = req.headers.get("Content-Type").unwrap_or("text/plain").to_string();
        let body = req.body_text().unwrap_or_default();
        self.event(Event::MessageReceived { from, content_type, body });
    }
}
