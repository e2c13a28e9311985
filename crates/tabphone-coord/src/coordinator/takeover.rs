//! `takeover`: a dummy asks to become the real (the app's `takeOver`, for
//! example where the user just clicked, to have the user gesture).
//!
//! The worker hands the role over as it does when a real leaves, but the old
//! real is alive: it is told to be a dummy (a `role` with the new epoch), so
//! it stops its phone without unregistering and releases the real lock, and
//! the requester, promoted first of all tabs, takes the lock when it is free
//! (no steal: a frozen old real is dealt with by the claim check, as for any
//! candidate). Actions in flight at the old real fail with `real_gone`.
//!
//! Every `takeover` gets one answer: `result {ok: {"epoch": n}}` once the
//! requester holds the real lock (at once if it already does), or an `error`
//! with its `id` (`real_gone`) when another tab was made the real meanwhile
//! (a later takeover by another tab, the old real rejoining a restarted
//! worker), the requester lost its promotion, or the real lock turns out to
//! be held by the real of another script version (found by the claim check,
//! a ping timeout after the promotion). A requester that closes or dies has
//! nobody to answer.
use super::{earliest, latest, Answer, Coordinator, PortId};
use crate::json::Obj;
use crate::protocol::{ErrorCode, ToTab};

impl Coordinator {
    pub(super) fn on_takeover(&mut self, port: PortId, id: u64) {
        if self.real.is_some_and(|r| r.port == port && r.claimed) {
            return self.answer_takeover(port, id);
        }
        if let Some(other) = self.takeovers.first().map(|t| t.from).filter(|p| *p != port) {
            self.fail_takeovers(Some(other), "another tab took over");
        }
        self.takeovers.push(Answer { from: port, id });
        match self.real {
            Some(r) if r.port == port => {} // a candidate: answered when it claims
            Some(r) => {
                // The old real releases the lock itself when told it is a dummy;
                // a frozen one cannot: when its silence would be noticed anyway.
                let silent_at = self.tab(r.port).map(|t| t.last_seen + self.config.ping_timeout);
                self.real = None;
                let failed = self.actions.fail_in_flight(r.port);
                self.answer_errors(
                    failed,
                    ErrorCode::RealGone,
                    "the real tab was taken over before answering",
                );
                self.promote();
                self.steal_by(silent_at);
            }
            None if self.may_promote() => self.promote(),
            None => {} // the real lock's holder is not known yet: promoted then
        }
    }

    /// Look at the real lock's holder (and steal from it if it still holds
    /// the lock) no later than `at`: a takeover from a real that froze must
    /// not wait a whole ping timeout more than its freeze alone would.
    pub(super) fn steal_by(&mut self, at: Option<web_time::Instant>) {
        let Some(at) = at.map(|a| latest(a, self.now)) else { return };
        // Two plain calls: an iterator over the two costs the wasm more.
        bring_forward(&mut self.timers.steal_at, at);
        bring_forward(&mut self.timers.lock_check, at);
    }

    /// `port` claimed the real lock: answer its takeovers.
    pub(super) fn takeovers_done(&mut self, port: PortId) {
        for t in &self.take_takeovers(Some(port)) {
            self.answer_takeover(port, t.id);
        }
    }

    fn answer_takeover(&mut self, port: PortId, id: u64) {
        let ok = Obj::new().num("epoch", self.epoch).end();
        self.send(port, ToTab::Result { id, ok: Some(&ok), error: None });
    }

    /// Fail the pending takeovers of `port` (all when `None`), as actions
    /// that lost their real are.
    pub(super) fn fail_takeovers(&mut self, port: Option<PortId>, message: &str) {
        let failed = self.take_takeovers(port);
        self.answer_errors(failed, ErrorCode::RealGone, message);
    }

    /// `port` is gone for good: nobody to answer.
    pub(super) fn forget_takeovers(&mut self, port: PortId) {
        self.take_takeovers(Some(port));
    }

    /// Remove and return the pending takeovers of `port` (all when `None`), in order.
    fn take_takeovers(&mut self, port: Option<PortId>) -> Vec<Answer> {
        let mut taken = Vec::new();
        // By reference (`Answer` is `Copy`): no `IntoIter` copy for the type.
        for t in &std::mem::take(&mut self.takeovers) {
            match port.is_none_or(|q| q == t.from) {
                true => taken.push(*t),
                false => self.takeovers.push(*t),
            }
        }
        taken
    }
}

/// A running deadline `t` no later than `at`.
fn bring_forward(t: &mut Option<web_time::Instant>, at: web_time::Instant) {
    if t.is_some() {
        *t = earliest(*t, at);
    }
}
