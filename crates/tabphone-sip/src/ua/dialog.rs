//! Dialogs (RFC 3261 12): the state an in-dialog request is built from, and
//! what a request, an ACK or a Replaces header is matched against, both
//! written once here; and [`DialogSnapshot`], that state as the app keeps it.

use super::identity::Identity;
use super::send::new_request;
use super::txn::TxnKey;
use super::{CallId, UserAgent};
use crate::msg::{name_addr_text, Headers, Method, Request};

/// A dialog's state as the app may keep it ([`UserAgent::dialog`]): what
/// another agent, on another connection, needs to continue the dialog with
/// a target refresh (RFC 3261 12.2). Credentials are not part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogSnapshot {
    /// The SIP Call-ID.
    pub call_id: String,
    /// Our tag: From in our requests, To in the peer's.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our URI: From in our requests.
    pub local_uri: String,
    /// The peer's URI: To in our requests.
    pub remote_uri: String,
    /// The CSeq of our last request in the dialog (0: none yet).
    pub local_cseq: u32,
    /// The CSeq of the peer's last request, if any.
    pub remote_cseq: Option<u32>,
    /// The peer's Contact: the Request-URI of our requests.
    pub remote_target: String,
    /// The Route headers of our requests, in order.
    pub route_set: Vec<String>,
    /// We sent the INVITE that made the dialog: the Call-ID is ours (the
    /// longer glare wait is ours, RFC 3261 14.1).
    pub outgoing: bool,
}

/// A dialog's state (RFC 3261 12.1): enough to send a request in it, from
/// this connection or another, and to recognise one sent in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dialog {
    /// Call-ID.
    pub(super) call_id: String,
    /// Our tag: From in our requests, To in theirs.
    pub(super) local_tag: String,
    /// Theirs; `None` while no answer brought it.
    pub(super) remote_tag: Option<String>,
    /// Our address: From in our requests.
    pub(super) local_uri: String,
    /// The peer's address: To in our requests.
    pub(super) remote_uri: String,
    /// Where our requests go (their Request-URI): the peer's Contact.
    pub(super) remote_target: String,
    /// The Route headers of our requests, from Record-Route.
    pub(super) route_set: Vec<String>,
    /// The CSeq of our last request.
    pub(super) local_cseq: u32,
    /// The CSeq of their last request.
    pub(super) remote_cseq: Option<u32>,
}

impl Dialog {
    /// A dialog being set up: no remote tag, no route set, no CSeq yet.
    pub(super) fn new(
        call_id: String,
        local_tag: String,
        local_uri: String,
        remote_uri: String,
        remote_target: String,
    ) -> Dialog {
        Dialog {
            call_id,
            local_tag,
            remote_tag: None,
            local_uri,
            remote_uri,
            remote_target,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
        }
    }

    /// Is this the dialog of a message with this Call-ID and these tags (ours,
    /// theirs)? A `local_tag` of `None`, from a request that did not know ours
    /// (a retransmitted INVITE), matches on the Call-ID and their tag alone.
    pub(super) fn matches(&self, call_id: &str, local_tag: Option<&str>, remote_tag: Option<&str>) -> bool {
        self.call_id == call_id
            && local_tag.is_none_or(|t| t == self.local_tag)
            && self.remote_tag.as_deref() == remote_tag
    }

    /// The CSeq of our next request.
    pub(super) fn next_cseq(&mut self) -> u32 {
        self.local_cseq += 1;
        self.local_cseq
    }

    /// Take the CSeq of a request from the peer: false when it is not above
    /// the last one (RFC 3261 12.2.2 answers that with 500).
    pub(super) fn take_remote_cseq(&mut self, seq: u32) -> bool {
        if self.remote_cseq.is_some_and(|r| seq <= r) {
            return false;
        }
        self.remote_cseq = Some(seq);
        true
    }

    /// A target refresh (RFC 3261 12.2): the first Contact, if any, becomes
    /// the remote target.
    pub(super) fn refresh_target(&mut self, headers: &Headers) {
        if let Some(target) = headers.first_contact_uri() {
            self.remote_target = target;
        }
    }

    /// Route, From and To of a request in this dialog (RFC 3261 12.2.1.1).
    pub(super) fn address(&self, r: &mut Request, me: &Identity) {
        for route in &self.route_set {
            r.headers.push("Route", route.clone());
        }
        r.headers.push("From", me.addressed_as(&self.local_uri, &self.local_tag));
        r.headers.push("To", name_addr_text(None, &self.remote_uri, self.remote_tag.as_deref()));
    }
}

impl UserAgent {
    /// Call `call`'s dialog, once the peer's tag is known (an early dialog
    /// from a tagged provisional answer, or a confirmed one). It is current
    /// after every input: a request in the dialog counts in `local_cseq`
    /// as soon as it is queued, before it leaves.
    pub fn dialog(&self, call: CallId) -> Option<DialogSnapshot> {
        let c = self.calls.get(&call)?;
        let d = &c.dialog;
        // The peer's tag first: without it, nothing is copied.
        let remote_tag = d.remote_tag.clone()?;
        Some(DialogSnapshot {
            call_id: d.call_id.clone(),
            local_tag: d.local_tag.clone(),
            remote_tag,
            local_uri: d.local_uri.clone(),
            remote_uri: d.remote_uri.clone(),
            local_cseq: d.local_cseq,
            remote_cseq: d.remote_cseq,
            remote_target: d.remote_target.clone(),
            route_set: d.route_set.clone(),
            outgoing: c.outgoing,
        })
    }

    /// The first call (by handle) whose dialog [`Dialog::matches`].
    pub(super) fn find_dialog(
        &self,
        call_id: &str,
        local_tag: Option<&str>,
        remote_tag: Option<&str>,
    ) -> Option<CallId> {
        for (id, call) in self.calls.iter() {
            if call.dialog.matches(call_id, local_tag, remote_tag) {
                return Some(*id);
            }
        }
        None
    }

    /// The handle of the `i`th call (in handle order), to visit the calls
    /// while changing them by position: no call comes or goes meanwhile (only
    /// commands and new INVITEs add them, only [`UserAgent::gc`] and the stop
    /// deadline remove them). No `Vec` of handles is built for it.
    pub(super) fn call_at(&self, i: usize) -> Option<CallId> {
        self.calls.id_at(i)
    }

    /// A request in call `id`'s dialog with the dialog's next CSeq.
    pub(super) fn in_dialog_request(&mut self, id: CallId, method: Method) -> Option<(Request, TxnKey)> {
        let cseq = self.calls.get_mut(&id)?.dialog.next_cseq();
        self.dialog_request(id, method, cseq)
    }

    /// A request in call `id`'s dialog with CSeq `cseq`; with our Contact
    /// when it refreshes the target or opens a subscription (INVITE, REFER,
    /// NOTIFY).
    pub(super) fn dialog_request(
        &mut self,
        id: CallId,
        method: Method,
        cseq: u32,
    ) -> Option<(Request, TxnKey)> {
        // No call, no request: and no random bytes drawn for its Via.
        self.calls.get(&id)?;
        let (via, key) = self.via();
        let dialog = &self.calls.get(&id)?.dialog;
        let mut r = new_request(via, method, &dialog.remote_target, &dialog.call_id, cseq);
        dialog.address(&mut r, &self.me);
        if matches!(r.method, Method::Invite | Method::Refer | Method::Notify) {
            r.headers.push("Contact", self.me.contact_text.clone());
        }
        Some((r, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> Dialog {
        let (bob, target) = ("sip:bob@b".to_string(), "sip:bob@10.0.0.2".to_string());
        let mut d = Dialog::new("c1".into(), "ours".into(), "sip:alice@a".into(), bob, target);
        d.remote_tag = Some("theirs".into());
        d
    }

    #[test]
    fn matching_by_call_id_and_both_tags() {
        let d = dialog();
        assert!(d.matches("c1", Some("ours"), Some("theirs")));
        assert!(d.matches("c1", None, Some("theirs")), "a request that did not know our tag");
        assert!(!d.matches("c1", Some("theirs"), Some("ours")), "tags the other way round");
        assert!(!d.matches("c2", Some("ours"), Some("theirs")));
        assert!(!d.matches("c1", Some("ours"), None));
    }

    #[test]
    fn cseqs_rise() {
        let mut d = dialog();
        assert_eq!((d.next_cseq(), d.next_cseq()), (1, 2));
        assert!(d.take_remote_cseq(10));
        assert!(!d.take_remote_cseq(10), "a repeat");
        assert!(!d.take_remote_cseq(9), "an old one");
        assert!(d.take_remote_cseq(11));
    }

    #[test]
    fn requests_carry_route_from_and_to() {
        let mut d = dialog();
        d.route_set = vec!["<sip:p1;lr>".into(), "<sip:p2;lr>".into()];
        let me = Identity::new(&super::super::Config::new("ws://x", "sip:alice@a", "pw"));
        let mut r = Request::new(Method::Bye, d.remote_target.clone());
        d.address(&mut r, &me);
        let routes: Vec<&str> = r.headers.get_all("Route").collect();
        assert_eq!(routes, ["<sip:p1;lr>", "<sip:p2;lr>"]);
        assert_eq!(r.headers.get("From"), Some("<sip:alice@a>;tag=ours"));
        assert_eq!(r.headers.get("To"), Some("<sip:bob@b>;tag=theirs"));
        let mut target = Headers::default();
        target.push("Contact", "<sip:bob@10.0.0.9;transport=ws>");
        d.refresh_target(&target);
        assert_eq!(d.remote_target, "sip:bob@10.0.0.9;transport=ws");
        d.refresh_target(&Headers::default());
        assert_eq!(d.remote_target, "sip:bob@10.0.0.9;transport=ws", "no Contact, no change");
    }
}
