//! Retry with credentials (RFC 3261 22.2, 22.3): a 401 or 407 to a request
//! sent without them is answered once, with the request again under a new
//! branch, the next CSeq of its owner (the registration or the dialog), and an
//! `Authorization` or `Proxy-Authorization` computed by [`crate::auth`]. The
//! nonce counts are kept here ([`Nonces`]).

use super::txn::{ClientTxn, Owner, TxnKey};
use super::{Config, UserAgent};
use crate::auth::{self, Challenge, Credentials};
use crate::msg::{cseq_text, Request, Response};
use crate::rng::Rng;
use crate::Instant;

/// Nonce counts (`nc`) by server nonce.
#[derive(Debug, Default)]
pub(super) struct Nonces(Vec<(String, u32)>);

impl Nonces {
    /// The next count for `nonce`, from 1.
    pub(super) fn next(&mut self, nonce: &str) -> u32 {
        // A plain loop: a `position` closure brought its own copy.
        let mut i = 0;
        while i < self.0.len() && self.0[i].0 != nonce {
            i += 1;
        }
        if i == self.0.len() {
            if self.0.len() > 32 {
                // Nonces are short-lived; keep the table small over a long uptime.
                self.0.clear();
            }
            self.0.push((nonce.to_string(), 0));
            i = self.0.len() - 1;
        }
        self.0[i].1 += 1;
        self.0[i].1
    }
}

/// The `Authorization` (or `Proxy-Authorization`) value answering
/// `challenge` for `method` and `uri`: the nonce's next count and a new client
/// nonce (the one digest writer of the registration and the retries; by
/// fields, so that a challenge borrowed from the agent can be answered).
pub(super) fn digest(
    nonces: &mut Nonces,
    rng: &mut Rng,
    config: &Config,
    challenge: &Challenge,
    method: &str,
    uri: &str,
) -> String {
    let nc = nonces.next(&challenge.nonce);
    let cnonce = rng.hex(16);
    let creds = Credentials { username: &config.auth_user, password: &config.password };
    auth::answer(challenge, &creds, method, uri, nc, &cnonce)
}

impl UserAgent {
    /// Answer the challenge in `resp` to `txn`'s request: `txn` back when it
    /// has no usable digest (or its owner is gone), and the response stands.
    pub(super) fn retry_with_auth(
        &mut self,
        now: Instant,
        txn: ClientTxn,
        resp: &Response,
    ) -> Option<ClientTxn> {
        let (hdr, answer_hdr) = if resp.status == 401 {
            ("WWW-Authenticate", "Authorization")
        } else {
            ("Proxy-Authenticate", "Proxy-Authorization")
        };
        let challenge: Option<Challenge> =
            resp.headers.get_all(hdr).find_map(|v| auth::parse_challenge(v).ok());
        let Some(challenge) = challenge else {
            let message = format!("{} challenge without a usable digest", resp.status);
            match txn.owner {
                Owner::Call(id) => self.call_error(id, message),
                Owner::Register | Owner::Message(_) => self.error(message),
            }
            return Some(txn);
        };
        let (via, key) = self.via();
        let Some(seq) = self.next_cseq(txn.owner, &txn.request) else { return Some(txn) };
        let (owner, mut req) = (txn.owner, txn.request);
        // Our requests carry one Via, their first field (`new_request`,
        // `hop_by_hop`): the new one takes its place.
        if let Some(h) = req.headers.0.iter_mut().find(|h| h.name == "Via") {
            h.value = via;
        }
        req.headers.remove("User-Agent");
        req.headers.remove("CSeq");
        req.headers.push("CSeq", cseq_text(seq, req.method.as_str()));
        let value =
            digest(&mut self.nonces, &mut self.rng, &self.config, &challenge, req.method.as_str(), &req.uri);
        req.headers.remove(answer_hdr);
        req.headers.push(answer_hdr, value);
        if owner == Owner::Register {
            // Later REGISTERs carry credentials for it from the start.
            self.reg.challenge = Some((challenge, resp.status == 407));
        }
        self.resent(owner, &key, &req);
        self.send_request(now, owner, key.clone(), req);
        if let Some(t) = self.txns.get_mut(&key) {
            t.authed = true;
        }
        None
    }

    /// The next CSeq of `owner` for its request sent again: the
    /// registration's, the dialog's, or (outside both) the request's own plus one.
    fn next_cseq(&mut self, owner: Owner, req: &Request) -> Option<u32> {
        match owner {
            Owner::Register => Some(self.reg.next_cseq()),
            Owner::Call(id) => self.calls.get_mut(&id).map(|c| c.dialog.next_cseq()),
            Owner::Message(_) => Some(req.headers.cseq_seq().map_or(1, |seq| seq + 1)),
        }
    }

    /// `owner`'s request now runs as transaction `key`: it follows.
    fn resent(&mut self, owner: Owner, key: &TxnKey, req: &Request) {
        match owner {
            Owner::Register => self.reg.pending = Some(key.clone()),
            Owner::Call(id) => {
                if let Some(c) = self.calls.get_mut(&id) {
                    c.resent(key, req);
                }
            }
            Owner::Message(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_counts_rise_per_nonce_and_the_table_stays_small() {
        let mut n = Nonces::default();
        assert_eq!((n.next("a"), n.next("a"), n.next("b")), (1, 2, 1));
        for i in 0..40 {
            n.next(&i.to_string());
        }
        assert!(n.0.len() <= 33);
        assert_eq!(n.next("39"), 2, "a live nonce keeps its count");
    }
}
