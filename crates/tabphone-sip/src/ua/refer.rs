//! Transfer (RFC 3515, RFC 3891): our REFER, blind or attended (Refer-To
//! carrying the other call's dialog as `?Replaces=`), and its progress by
//! NOTIFY with a `message/sipfrag` status line; a REFER we receive is
//! answered 202 and reported, and we report progress by NOTIFY; an INVITE
//! with Replaces is matched to the call it replaces.

use super::txn::Owner;
use super::{CallId, Event, SessionState, UserAgent};
use crate::msg::{self, lines, name_addr_text, split_byte, trim_space, Method, Replaces, Request};
use crate::Instant;
use tabphone_json::push_u64;

impl UserAgent {
    /// [`super::Command::Refer`]: blind to `target`, or attended, telling the
    /// peer to replace call `replaces` (its dialog seen from its far end).
    pub(super) fn refer(&mut self, now: Instant, id: CallId, target: &str, replaces: Option<CallId>) {
        if self.calls.get(&id).map(|c| c.state) != Some(SessionState::Established) {
            return self.call_problem(id, " is not established");
        }
        let refer_to = match replaces {
            Some(other) => {
                let Some(o) = self.calls.get(&other) else {
                    return self.no_call(other);
                };
                let Some(remote_tag) = &o.dialog.remote_tag else {
                    return self.call_problem(other, " has no dialog");
                };
                // The peer of `other` is told to INVITE with Replaces: its dialog seen from there.
                let rep = Replaces {
                    call_id: o.dialog.call_id.clone(),
                    to_tag: remote_tag.clone(),
                    from_tag: o.dialog.local_tag.clone(),
                };
                rep.refer_to_uri(&o.dialog.remote_uri)
            }
            None => match self.me.target_uri(target) {
                Ok(u) => u,
                Err(e) => return self.call_error(id, e),
            },
        };
        let Some((mut r, key)) = self.in_dialog_request(id, Method::Refer) else { return };
        r.headers.push("Refer-To", name_addr_text(None, &refer_to, None));
        r.headers.push("Referred-By", name_addr_text(None, &self.me.aor, None));
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// [`super::Command::NotifyRefer`]: a NOTIFY with the new call's status;
    /// a final one ends the implicit subscription.
    pub(super) fn notify_refer(&mut self, now: Instant, id: CallId, status: u16) {
        let Some(seq) = self.calls.get(&id).and_then(|c| c.refer_in) else {
            return self.call_problem(id, " has no transfer to report");
        };
        let Some((mut r, key)) = self.in_dialog_request(id, Method::Notify) else { return };
        let mut event = String::from("refer;id=");
        push_u64(&mut event, seq.into());
        r.headers.push("Event", event);
        r.headers.push("Subscription-State", subscription_state(status));
        r.headers.push("Content-Type", "message/sipfrag;version=2.0");
        let mut frag = String::from("SIP/2.0 ");
        push_u64(&mut frag, status.into());
        frag.push(' ');
        frag.push_str(msg::reason_phrase(status));
        frag.push_str("\r\n");
        r.body = frag.into_bytes();
        if status >= 200 {
            if let Some(c) = self.calls.get_mut(&id) {
                c.refer_in = None;
            }
        }
        self.send_request(now, Owner::Call(id), key, r);
    }

    /// The peer's REFER (CSeq `seq`): 202, [`Event::Refer`], and a first NOTIFY
    /// (100 Trying); 400 without a usable Refer-To.
    pub(super) fn on_refer(&mut self, now: Instant, id: CallId, req: &Request, seq: u32, tag: &str) {
        let Some(target) = req.headers.name_addr("Refer-To") else {
            return self.respond(req, 400, Some(tag), &[]);
        };
        if let Some(call) = self.calls.get_mut(&id) {
            call.refer_in = Some(seq);
        }
        self.respond(req, 202, Some(tag), &[]);
        self.event(Event::Refer { call: id, target: target.uri });
        self.notify_refer(now, id, 100);
    }

    /// A NOTIFY: 200; for a REFER's subscription, the sipfrag's status as
    /// [`Event::ReferProgress`].
    pub(super) fn on_notify(&mut self, id: CallId, req: &Request, tag: &str) {
        self.respond(req, 200, Some(tag), &[]);
        // Compared in place: no lowercase copy of the value.
        let is_refer = req.headers.get("Event").is_some_and(|e| {
            trim_space(e).as_bytes().get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"refer"))
        });
        if !is_refer {
            return;
        }
        let body = req.body_text().unwrap_or_default();
        let status = lines(&body)
            .next()
            .and_then(|l| split_byte(l, b' ').nth(1))
            .and_then(|s| crate::msg::parse_int(s, u16::MAX as u64))
            .map(|n| n as u16);
        if let Some(status) = status {
            self.event(Event::ReferProgress { call: id, status });
        }
    }

    /// The call a Replaces header names: its to-tag is our tag (RFC 3891 3).
    pub(super) fn match_replaces(&self, v: &str) -> Option<CallId> {
        let r = Replaces::parse(v).ok()?;
        self.find_dialog(&r.call_id, Some(&r.to_tag), Some(&r.from_tag))
    }
}

/// The Subscription-State of a NOTIFY reporting `status`: a final one ends
/// the subscription (written as the [`crate::msg::SubscriptionState`] would write it,
/// without building one).
fn subscription_state(status: u16) -> &'static str {
    if status >= 200 {
        "terminated;reason=noresource"
    } else {
        "active;expires=60"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::SubscriptionState;

    #[test]
    fn subscription_states_as_the_header_type_writes_them() {
        let done = SubscriptionState::Terminated { reason: Some("noresource".into()) };
        assert_eq!(subscription_state(200), done.text());
        assert_eq!(subscription_state(486), done.text());
        assert_eq!(subscription_state(180), SubscriptionState::Active { expires: Some(60) }.text());
    }
}
