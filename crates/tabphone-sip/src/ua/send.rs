//! Everything the agent sends goes through here: requests get a Via with a
//! new branch, Max-Forwards, Call-ID, CSeq and User-Agent, and (but ACK) a
//! client transaction with Timer B or F; responses copy what RFC 3261 says;
//! the text is traced when asked, then queued as [`Output::Send`].

use super::txn::{ClientTxn, Owner, TxnKey};
use super::{CallId, EndCause, Event, Output, UserAgent};
use crate::msg::{cseq_text, Method, Request, Response};
use crate::trace::{self, Direction};
use crate::Instant;

impl UserAgent {
    /// `n` random hex digits (tags, Call-IDs, branches, client nonces).
    pub(super) fn random_hex(&mut self, n: usize) -> String {
        self.rng.hex(n)
    }

    /// Tell the app. Not inlined: a queue push at each of some seventy
    /// callers cost the shipped wasm more than the call.
    #[inline(never)]
    pub(super) fn event(&mut self, e: Event) {
        self.out.push(Output::Event(e));
    }

    /// Tell the app call `id` ended ([`Event::Ended`]; not inlined: some
    /// fifteen callers).
    #[inline(never)]
    pub(super) fn ended(&mut self, id: CallId, cause: EndCause) {
        self.event(Event::Ended { call: id, cause });
    }

    /// Tell the app something went wrong ([`Event::Error`]), about no call in particular.
    pub(super) fn error(&mut self, message: String) {
        self.event(Event::Error { call: None, message });
    }

    /// Tell the app something went wrong with call `id` ([`Event::Error`]).
    pub(super) fn call_error(&mut self, id: CallId, message: String) {
        self.event(Event::Error { call: Some(id), message });
    }

    /// [`Self::call_error`] "call N`what`" (`what` starts with a space or a colon).
    pub(super) fn call_problem(&mut self, id: CallId, what: &str) {
        self.call_error(id, format!("call {}{what}", id.0));
    }

    /// [`Self::call_error`] "no call N": a command named a call that does not exist.
    pub(super) fn no_call(&mut self, id: CallId) {
        self.call_error(id, format!("no call {}", id.0));
    }

    /// Send a message's text (traced first when [`super::Config::trace`]).
    pub(super) fn send_text(&mut self, text: String) {
        if self.config.trace {
            let line = trace::trace_line(Direction::Out, &self.url, &text);
            self.event(Event::Trace { line });
        }
        self.out.push(Output::Send(text));
    }

    /// `WSS` or `WS` for Via, as the current server's URL says.
    fn transport_name(&self) -> &'static str {
        if self.url.starts_with("wss:") {
            "WSS"
        } else {
            "WS"
        }
    }

    /// A Via with a new branch (RFC 3261 8.1.1.7), and the transaction it
    /// names: [`crate::msg::Via::new`]'s text, written here (no Via built for it).
    pub(super) fn via(&mut self) -> (String, TxnKey) {
        let branch = String::from("z9hG4bK") + &self.random_hex(16);
        let mut via = String::from("SIP/2.0/");
        via.push_str(self.transport_name());
        via.push(' ');
        via.push_str(&self.me.via_host);
        via.push_str(";branch=");
        via.push_str(&branch);
        via.push_str(";rport");
        (via, TxnKey::new(branch))
    }

    /// A request with Via (a new branch), Max-Forwards, Call-ID and CSeq, and
    /// the transaction its branch names.
    pub(super) fn base_request(
        &mut self,
        method: Method,
        uri: &str,
        call_id: &str,
        cseq: u32,
    ) -> (Request, TxnKey) {
        let (via, key) = self.via();
        (new_request(via, method, uri, call_id, cseq), key)
    }

    /// Send a request with our User-Agent; but an ACK, it becomes a client
    /// transaction with Timer B or F (64*T1).
    pub(super) fn send_request(&mut self, now: Instant, owner: Owner, key: TxnKey, mut req: Request) {
        req.headers.push("User-Agent", self.config.user_agent.clone());
        let text = req.encode();
        let deadline = if matches!(req.method, Method::Ack) { None } else { Some(now + self.config.t1 * 64) };
        if !matches!(req.method, Method::Ack) {
            self.txns.insert(key, ClientTxn { owner, request: req, deadline, authed: false });
        }
        self.send_text(text);
    }

    /// Answer `req` with `status` ([`Response::to`]); our To tag is `tag`, or
    /// a new one above 100; `extra` headers follow.
    pub(super) fn respond(
        &mut self,
        req: &Request,
        status: u16,
        tag: Option<&str>,
        extra: &[(&'static str, &str)],
    ) {
        let fresh;
        let tag = match tag {
            None if status > 100 => {
                fresh = self.random_hex(10);
                Some(fresh.as_str())
            }
            tag => tag,
        };
        let mut resp = Response::to(req, status, tag);
        for (n, v) in extra {
            resp.headers.push(*n, *v);
        }
        self.send_text(resp.encode());
    }
}

/// A request with this Via, Max-Forwards, Call-ID and CSeq.
pub(super) fn new_request(via: String, method: Method, uri: &str, call_id: &str, cseq: u32) -> Request {
    let cseq = cseq_text(cseq, method.as_str());
    let mut r = Request::new(method, uri);
    r.headers.push("Via", via);
    r.headers.push("Max-Forwards", "70");
    r.headers.push("Call-ID", call_id.to_string());
    r.headers.push("CSeq", cseq);
    r
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;
    use crate::msg::Via;

    #[test]
    fn our_via_is_the_text_of_via_new() {
        let mut ua = UserAgent::new(Config::new("wss://x", "sip:alice@a", "pw"));
        for (url, transport) in [("wss://x", "WSS"), ("ws://x", "WS")] {
            ua.url = url.into();
            let (via, _) = ua.via();
            let branch = Via::parse(&via).unwrap().branch().unwrap().to_string();
            assert_eq!(via, Via::new(transport, &ua.me.via_host, &branch).text());
            assert!(via.ends_with(";rport"));
        }
    }
}
