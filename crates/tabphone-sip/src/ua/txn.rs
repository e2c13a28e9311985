//! Transactions over a reliable transport (RFC 3261 17, as RFC 7118 runs
//! them on WebSocket): no request is retransmitted.
//!
//! - Client transactions, keyed by [`TxnKey`] (the branch, and whether it is
//!   the CANCEL that shares an INVITE's branch): a response finds its
//!   transaction here, a provisional keeps an INVITE's alive without Timer B,
//!   and one with no final answer in 64*T1 gets a local 408. The CANCEL of
//!   our INVITE and the ACK of a failure are one copy of it ([`hop_by_hop`]).
//! - The server side of an INVITE: the request the app must answer, and our
//!   2xx, resent from T1 doubling to T2 until its ACK comes ([`Retransmit`],
//!   RFC 3261 13.3.1.4).

use std::time::Duration;

use super::{CallId, UserAgent};
use crate::msg::{cseq_text, Method, Request, Response};
use crate::Instant;

/// Who a client transaction reports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// The registration.
    Register,
    /// A call (initial INVITE, CANCEL, or a request in its dialog).
    Call(CallId),
    /// A MESSAGE outside any dialog, by the app's handle.
    Message(u64),
}

/// A client transaction's key: the top Via branch (RFC 3261 17.1.3), and
/// whether it is a CANCEL, which shares the branch of its INVITE (RFC 3261 9.1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TxnKey {
    branch: String,
    cancel: bool,
}

impl TxnKey {
    /// The transaction of a request sent with this branch.
    pub(super) fn new(branch: String) -> TxnKey {
        TxnKey { branch, cancel: false }
    }

    /// The CANCEL of this INVITE transaction.
    pub(super) fn cancel(&self) -> TxnKey {
        TxnKey { branch: self.branch.clone(), cancel: true }
    }

    /// The transaction `resp` answers, by its top Via branch and CSeq method.
    pub(super) fn of_response(resp: &Response) -> Option<TxnKey> {
        let branch = resp.headers.top_branch()?;
        let cancel = resp.headers.cseq_parts()?.1 == "CANCEL";
        Some(TxnKey { branch, cancel })
    }
}

/// A request waiting for its final response.
#[derive(Debug)]
pub(super) struct ClientTxn {
    pub(super) owner: Owner,
    pub(super) request: Request,
    /// Timer B or F; none once an INVITE got a provisional.
    pub(super) deadline: Option<Instant>,
    /// Sent again with credentials: a second challenge is final.
    pub(super) authed: bool,
}

/// The client transactions, in key order: a plain `Vec` searched in full
/// (a handful at a time; a map's code per key type costs more).
#[derive(Debug, Default)]
pub(super) struct Transactions(Vec<(TxnKey, ClientTxn)>);

impl Transactions {
    /// A request sent (a new branch), or a transaction put back: its entry.
    pub(super) fn insert(&mut self, key: TxnKey, txn: ClientTxn) {
        // Plain loops here: each `position` closure brought its own copy.
        let mut at = 0;
        while at < self.0.len() && self.0[at].0 <= key {
            at += 1;
        }
        self.0.insert(at, (key, txn));
    }

    /// The transaction, finished (or replaced).
    pub(super) fn remove(&mut self, key: &TxnKey) -> Option<ClientTxn> {
        let mut i = 0;
        while i < self.0.len() {
            if self.0[i].0 == *key {
                return Some(self.0.remove(i).1);
            }
            i += 1;
        }
        None
    }

    /// The transaction.
    pub(super) fn get(&self, key: &TxnKey) -> Option<&ClientTxn> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }

    /// The transaction, to update.
    pub(super) fn get_mut(&mut self, key: &TxnKey) -> Option<&mut ClientTxn> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, t)| t)
    }

    /// Every transaction, removed (the connection that would answer is gone),
    /// to take in key order with [`Transactions::pop_first`].
    pub(super) fn take_all(&mut self) -> Transactions {
        std::mem::take(self)
    }

    /// The transaction with the smallest key, removed (no `Vec` iterator by
    /// value: one more copy of its code per element type).
    pub(super) fn pop_first(&mut self) -> Option<ClientTxn> {
        (!self.0.is_empty()).then(|| self.0.remove(0).1)
    }

    /// The earliest Timer B or F.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let mut first = None;
        for (_, txn) in &self.0 {
            first = crate::earliest(&[first, txn.deadline]);
        }
        first
    }

    /// The transactions whose deadline passed, in key order.
    pub(super) fn expired(&self, now: Instant) -> Vec<TxnKey> {
        let mut keys = Vec::new();
        for (key, txn) in &self.0 {
            if txn.deadline.is_some_and(|d| d <= now) {
                keys.push(key.clone());
            }
        }
        keys
    }
}

/// Our 2xx to an INVITE, resent until its ACK (RFC 3261 13.3.1.4).
#[derive(Debug)]
pub(super) struct Retransmit {
    pub(super) text: String,
    next: Instant,
    interval: Duration,
    give_up: Instant,
    /// The INVITE's CSeq, which its ACK carries.
    pub(super) cseq: u32,
    /// The 2xx carries our offer (the INVITE had none): its ACK must bring
    /// the answer (RFC 3261 13.2.1).
    pub(super) offer: bool,
}

/// What a [`Retransmit`] asks for at a timeout.
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub(super) enum Resend {
    /// Nothing yet.
    Wait,
    /// Send the 2xx again.
    Again(String),
    /// 64*T1 without an ACK.
    GiveUp,
}

impl Retransmit {
    /// The 2xx `text` to the INVITE with CSeq `cseq`, sent at `now`, with
    /// our `offer` or an answer.
    pub(super) fn new(text: String, cseq: u32, offer: bool, now: Instant, t1: Duration) -> Retransmit {
        Retransmit { text, next: now + t1, interval: t1, give_up: now + t1 * 64, cseq, offer }
    }

    /// The next resend or the give-up time.
    pub(super) fn poll_timeout(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// What is due at `now`; the interval doubles up to `t2`.
    pub(super) fn on_timeout(&mut self, now: Instant, t2: Duration) -> Resend {
        if self.give_up <= now {
            Resend::GiveUp
        } else if self.next <= now {
            self.interval = (self.interval * 2).min(t2);
            self.next = now + self.interval;
            Resend::Again(self.text.clone())
        } else {
            Resend::Wait
        }
    }
}

impl UserAgent {
    /// A response: to its transaction, or (a 2xx to an INVITE whose
    /// transaction is over) to its call's dialog to be ACKed again.
    pub(super) fn on_response(&mut self, now: Instant, resp: Response) {
        let Some(key) = TxnKey::of_response(&resp) else { return };
        let Some(txn) = self.txns.remove(&key) else {
            // A 2xx retransmission for an INVITE whose transaction is over: ACK it again.
            if resp.headers.cseq_parts().is_some_and(|c| c.1 == "INVITE") && (200..300).contains(&resp.status)
            {
                self.reack(now, &resp);
            }
            return;
        };
        if matches!(txn.request.method, Method::Invite) && resp.status < 200 {
            // Provisional: keep the transaction, without Timer B from now on.
            let owner = txn.owner;
            self.txns.insert(key, ClientTxn { deadline: None, ..txn });
            if let Owner::Call(id) = owner {
                self.on_provisional(now, id, &resp);
            }
            return;
        }
        if resp.status < 200 {
            self.txns.insert(key, txn);
            return;
        }
        self.on_txn_response(now, txn, resp);
    }

    /// Transactions with no answer in 64*T1.
    pub(super) fn txn_timeouts(&mut self, now: Instant) {
        // One at a time: handling one may end others (a lost connection).
        // By reference: a `Vec` iterated by value brings its own iterator code.
        for key in &self.txns.expired(now) {
            if let Some(txn) = self.txns.remove(key) {
                self.txn_timeout(now, txn);
            }
        }
    }

    /// A local 408, handled like a received one.
    fn txn_timeout(&mut self, now: Instant, txn: ClientTxn) {
        let resp = Response::to(&txn.request, 408, None);
        self.on_txn_response(now, txn, resp);
    }

    /// A final response: a challenge is answered once, anything else goes to
    /// the transaction's owner.
    fn on_txn_response(&mut self, now: Instant, mut txn: ClientTxn, resp: Response) {
        let status = resp.status;
        if (status == 401 || status == 407) && !txn.authed && !matches!(txn.request.method, Method::Cancel) {
            if matches!(txn.request.method, Method::Invite) {
                self.ack_failure(&txn.request, &resp);
            }
            match self.retry_with_auth(now, txn, &resp) {
                Some(unanswered) => txn = unanswered,
                None => return,
            }
        }
        match txn.owner {
            Owner::Register => self.on_register_response(now, &txn.request, &resp),
            Owner::Message(id) => self.message_result(id, status),
            Owner::Call(id) => self.on_call_response(now, id, &txn.request, &resp),
        }
    }

    /// The ACK of a non-2xx final response to an INVITE: same branch, hop by hop.
    pub(super) fn ack_failure(&mut self, invite: &Request, resp: &Response) {
        let r = hop_by_hop(invite, Method::Ack, Some(resp.headers.get("To").unwrap_or("")));
        self.send_text(r.encode());
    }
}

/// A request that goes hop by hop with our INVITE, its CANCEL (RFC 3261
/// 9.1) or the ACK of a failure (17.1.1.3): the INVITE's Request-URI, Via,
/// Route, Max-Forwards, From, To and Call-ID, in that order, and its CSeq
/// number. Every field of each name is copied (every Route: 9.1, 17.1.1.3;
/// our INVITE has one Via, which is the ACK's one Via), but the ACK has the
/// response's `to` instead of the INVITE's, after the Call-ID.
pub(super) fn hop_by_hop(invite: &Request, method: Method, to: Option<&str>) -> Request {
    let seq = invite.headers.cseq_seq().unwrap_or(1);
    let cseq = cseq_text(seq, method.as_str());
    let mut r = Request::new(method, invite.uri.as_str());
    for &name in &["Via", "Route", "Max-Forwards", "From", "To", "Call-ID"] {
        if !(name == "To" && to.is_some()) {
            r.headers.copy_from(&invite.headers, name);
        }
    }
    if let Some(to) = to {
        r.headers.push("To", to.to_string());
    }
    r.headers.push("CSeq", cseq);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_is_its_own_transaction_after_its_invite() {
        let invite = TxnKey::new("z9hG4bKa".into());
        assert_ne!(invite.cancel(), invite);
        assert!(invite < invite.cancel());
        assert!(invite.cancel() < TxnKey::new("z9hG4bKb".into()));
    }

    #[test]
    fn cancel_and_failure_ack_copy_the_invite_hop_by_hop() {
        let mut invite = Request::new(Method::Invite, "sip:bob@b");
        for (n, v) in [
            ("Via", "SIP/2.0/WSS h.invalid;branch=z9hG4bK1;rport"),
            ("Max-Forwards", "70"),
            ("Route", "<sip:p1;lr>"),
            ("Route", "<sip:p2;lr>"),
            ("Call-ID", "c1"),
            ("CSeq", "7 INVITE"),
            ("From", "<sip:a@a>;tag=f"),
            ("To", "<sip:bob@b>"),
            ("Contact", "<sip:x@h.invalid>"),
        ] {
            invite.headers.push(n, v);
        }
        let head = "Via: SIP/2.0/WSS h.invalid;branch=z9hG4bK1;rport\r\nRoute: <sip:p1;lr>\r\n";
        let cancel = hop_by_hop(&invite, Method::Cancel, None).encode();
        assert_eq!(
            cancel,
            String::from("CANCEL sip:bob@b SIP/2.0\r\n")
                + head
                + "Route: <sip:p2;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:a@a>;tag=f\r\nTo: <sip:bob@b>\r\n\
                   Call-ID: c1\r\nCSeq: 7 CANCEL\r\nContent-Length: 0\r\n\r\n"
        );
        // RFC 3261 17.1.1.3: the ACK carries every Route of the INVITE.
        let ack = hop_by_hop(&invite, Method::Ack, Some("<sip:bob@b>;tag=t")).encode();
        assert_eq!(
            ack,
            String::from("ACK sip:bob@b SIP/2.0\r\n")
                + head
                + "Route: <sip:p2;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:a@a>;tag=f\r\nCall-ID: c1\r\n\
                   To: <sip:bob@b>;tag=t\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn a_2xx_is_resent_at_t1_doubling_to_t2_until_64_t1() {
        let (t1, t2) = (Duration::from_millis(500), Duration::from_secs(4));
        let start = Instant::now();
        let mut r = Retransmit::new("SIP/2.0 200 OK\r\n\r\n".into(), 1, false, start, t1);
        let mut sent = Vec::new();
        loop {
            let now = r.poll_timeout();
            match r.on_timeout(now, t2) {
                Resend::Wait => unreachable!("woken at {now:?} for nothing"),
                Resend::Again(_) => sent.push((now - start).as_millis()),
                Resend::GiveUp => break,
            }
        }
        assert_eq!(sent[..6], [500, 1500, 3500, 7500, 11500, 15500]);
        assert_eq!(sent.last(), Some(&31500));
    }
}
