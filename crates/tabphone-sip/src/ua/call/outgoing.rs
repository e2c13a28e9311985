//! Calling out: the INVITE, its provisional responses, CANCEL (only after a
//! provisional, RFC 3261 9.1), the final answer (a 2xx makes the dialog and is
//! ACKed end to end; a failure ends the call), and 2xx responses that come
//! again or from another fork (RFC 3261 13.2.2.4).

use super::super::dialog::Dialog;
use super::super::txn::{hop_by_hop, Owner, TxnKey};
use super::super::{CallId, EndCause, Event, SessionState, UserAgent, ALLOW};
use super::Call;
use crate::msg::{name_addr_text, Header, Method, Request, Response, Role};
use crate::Instant;
use tabphone_json::quote;

/// Our initial INVITE until its final answer: the transaction CANCEL copies
/// the request of (it lives until that answer).
#[derive(Debug)]
pub(in crate::ua) struct ClientInvite {
    /// Its transaction.
    pub(in crate::ua) key: TxnKey,
    /// A provisional came: a CANCEL may go.
    pub(in crate::ua) provisional: bool,
    /// Hung up before a provisional: CANCEL when one comes.
    pub(in crate::ua) cancel_wanted: bool,
}

/// Headers the agent writes itself (and their compact forms): an extra
/// header may not repeat or override them. (A list, not words split out of
/// one string: the splitter cost the wasm more than the slice.)
const OWN_HEADERS: &[&str] = &[
    "via",
    "v",
    "max-forwards",
    "from",
    "f",
    "to",
    "t",
    "call-id",
    "i",
    "cseq",
    "contact",
    "m",
    "content-type",
    "c",
    "content-length",
    "l",
    "route",
    "record-route",
    "allow",
    "supported",
    "k",
    "user-agent",
    "authorization",
    "proxy-authorization",
];

/// Can `name: value` go into our INVITE as an extra header
/// ([`super::super::Command::Call`])? The name must be a token and not one
/// the agent writes itself; the value one line of text (no control
/// characters but tab). `Err` says why not.
pub fn check_extra_header(name: &str, value: &str) -> Result<(), String> {
    if !crate::msg::is_token(name) {
        return Err(format!("header name {} is not a token", quote(name)));
    }
    if OWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        return Err(format!("header {name} is the agent's own"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("header {name}: its value has control characters"));
    }
    Ok(())
}

impl UserAgent {
    /// [`super::super::Command::Call`].
    pub(in crate::ua) fn call(
        &mut self,
        now: Instant,
        id: CallId,
        target: &str,
        sdp: String,
        headers: &[(String, String)],
    ) {
        if self.calls.contains_key(&id) {
            return self.call_problem(id, " exists");
        }
        if !self.connected {
            return self.ended(id, EndCause::Transport);
        }
        let checked = headers.iter().try_for_each(|(n, v)| check_extra_header(n, v));
        let uri = match checked.and_then(|()| self.me.target_uri(target)) {
            Ok(u) => u,
            Err(e) => {
                self.call_error(id, e);
                return self.ended(id, EndCause::Failed(400));
            }
        };
        self.next_call = self.next_call.max(id.0 + 1);
        let call_id = self.random_hex(20);
        let local_tag = self.random_hex(10);
        let cseq = 1; // the INVITE's, and so the dialog's local CSeq
        let (mut r, key) = self.base_request(Method::Invite, &uri, &call_id, cseq);
        r.headers.push("From", self.me.from(&local_tag));
        r.headers.push("To", name_addr_text(None, &uri, None));
        r.headers.push("Contact", self.me.contact_text.clone());
        r.headers.push("Allow", ALLOW);
        r.headers.push("Supported", "outbound, replaces");
        for (name, value) in headers {
            // As a `Header`: `Headers::push` with two `String`s was one more copy of it.
            r.headers.0.push(Header { name: name.clone().into(), value: value.clone() });
        }
        r.headers.push("Content-Type", "application/sdp");
        r.body = sdp.into_bytes();
        let mut dialog = Dialog::new(call_id, local_tag, self.me.aor.clone(), uri.clone(), uri);
        dialog.local_cseq = cseq;
        let mut call = Call::new(true, dialog);
        call.invite = Some(ClientInvite { key: key.clone(), provisional: false, cancel_wanted: false });
        self.calls.insert(id, call);
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// CANCEL our INVITE (as its transaction last sent it): its Request-URI,
    /// Via, Route, From, To and Call-ID, its CSeq number; a transaction of its
    /// own on the same branch.
    pub(in crate::ua) fn send_cancel(&mut self, now: Instant, id: CallId) {
        let Some(invite) = self.calls.get(&id).and_then(|c| c.invite.as_ref()) else { return };
        let Some(txn) = self.txns.get(&invite.key) else { return };
        let (key, r) = (invite.key.cancel(), hop_by_hop(&txn.request, Method::Cancel, None));
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// A provisional response to an INVITE of call `id`: reported (but 100),
    /// and the CANCEL a hangup was waiting for goes.
    pub(in crate::ua) fn on_provisional(&mut self, now: Instant, id: CallId, resp: &Response) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if let Some(invite) = &mut call.invite {
            invite.provisional = true;
        }
        if resp.status != 100 {
            if let Some(tag) = to_tag(resp) {
                call.dialog.remote_tag = Some(tag);
            }
            let sdp = resp.body_text();
            self.event(Event::Progress { call: id, status: resp.status, sdp });
        }
        let cancel = self.calls.get_mut(&id).and_then(|c| c.invite.as_mut()).is_some_and(|i| {
            let wanted = i.cancel_wanted;
            i.cancel_wanted = false;
            wanted
        });
        if cancel {
            self.send_cancel(now, id);
        }
    }

    /// The final answer to our initial INVITE.
    pub(in crate::ua) fn on_invite_answer(
        &mut self,
        now: Instant,
        id: CallId,
        req: &Request,
        resp: &Response,
    ) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let status = resp.status;
        if (200..300).contains(&status) {
            return self.invite_accepted(now, id, req, resp);
        }
        let cause = match (status, call.state) {
            (487, SessionState::Terminating) => EndCause::Local,
            (408, _) => EndCause::Timeout,
            _ => EndCause::Failed(status),
        };
        call.state = SessionState::Terminated;
        if status != 408 {
            self.ack_failure(req, resp);
        }
        self.ended(id, cause);
    }

    /// A 2xx: the dialog takes the callee's tag, Contact and the route set
    /// (Record-Route reversed); ACK it; BYE at once if we hung up meanwhile.
    fn invite_accepted(&mut self, now: Instant, id: CallId, req: &Request, resp: &Response) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        call.dialog.remote_tag = to_tag(resp);
        call.dialog.refresh_target(&resp.headers);
        call.dialog.route_set = resp.headers.route_set(Role::Uac);
        call.invite = None;
        let seq = req.headers.cseq_seq().unwrap_or(1);
        let terminating = call.state == SessionState::Terminating;
        call.state = SessionState::Established;
        self.send_ack(now, id, seq);
        if terminating {
            // Hung up while the 200 was on its way: BYE now.
            self.send_bye(now, id);
            self.ended(id, EndCause::Local);
        } else {
            self.event(Event::Established { call: id, sdp: resp.body_text() });
        }
    }

    /// The ACK of a 2xx to our INVITE `seq` (initial or re-INVITE): a request
    /// in the dialog with the INVITE's CSeq number.
    pub(in crate::ua) fn send_ack(&mut self, now: Instant, id: CallId, seq: u32) {
        let Some((r, key)) = self.dialog_request(id, Method::Ack, seq) else { return };
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// A 2xx whose transaction is over: a retransmission (ACK it again), or
    /// the answer of another fork (ACK that dialog, then BYE it: the call goes
    /// on with the first answer).
    pub(in crate::ua) fn reack(&mut self, now: Instant, resp: &Response) {
        let call_id = resp.headers.get("Call-ID").unwrap_or("");
        let seq = resp.headers.cseq_seq().unwrap_or(0);
        let to_tag = to_tag(resp);
        let mut found = None;
        for (id, call) in self.calls.iter() {
            if call.dialog.call_id == call_id && call.outgoing {
                found = Some((*id, call));
                break;
            }
        }
        let Some((id, call)) = found else { return };
        if call.dialog.remote_tag == to_tag {
            return self.send_ack(now, id, seq);
        }
        let d = &call.dialog;
        let target = resp.headers.first_contact_uri().unwrap_or_else(|| d.remote_uri.clone());
        let (call_id, tag, remote) = (d.call_id.clone(), d.local_tag.clone(), d.remote_uri.clone());
        let mut fork = Dialog::new(call_id, tag, d.local_uri.clone(), remote, target);
        fork.remote_tag = to_tag;
        fork.route_set = resp.headers.route_set(Role::Uac);
        // By index: an array of methods by value brings its own iterator code.
        for bye in 0..2 {
            let (method, cseq) =
                if bye == 0 { (Method::Ack, seq) } else { (Method::Bye, seq.wrapping_add(1)) };
            let (mut r, _) = self.base_request(method, &fork.remote_target, &fork.call_id, cseq);
            fork.address(&mut r, &self.me);
            // The BYE's answer matches no call and is dropped; nothing waits for it.
            r.headers.push("User-Agent", self.config.user_agent.clone());
            self.send_text(r.encode());
        }
    }
}

/// The To tag of a response: the callee's, which names its dialog.
fn to_tag(resp: &Response) -> Option<String> {
    resp.headers.name_addr("To").and_then(|t| t.tag().map(str::to_string))
}
