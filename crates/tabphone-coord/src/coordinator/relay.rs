//! Between the real and the dummies: the real's state (cached, broadcast),
//! actions forwarded to the real, and their one answer each.
use web_time::Instant;

use super::actions::Answer;
use super::{Coordinator, PortId, Real, Status};
use crate::protocol::{error_value, ErrorCode, ToTab};

impl Coordinator {
    pub(super) fn on_sync(&mut self, port: PortId, epoch: u64, state: &str) {
        if self.real_says(port, epoch, "sync") {
            self.publish(state, false);
        }
    }

    /// The real's event to every other live tab, as it came; not kept (a
    /// tab that joins later gets the state, not past events).
    pub(super) fn on_event(&mut self, port: PortId, epoch: u64, event: &str) {
        if self.real_says(port, epoch, "event") {
            self.send_live(Some(port), ToTab::Event { event });
        }
    }

    /// Whether `port` is the real holding its lock in `epoch`'s reign; if
    /// not, its message `t` is refused.
    fn real_says(&mut self, port: PortId, epoch: u64, t: &str) -> bool {
        let real = self.in_reign(port, epoch) && self.real.is_some_and(|r| r.claimed);
        if !real {
            let msg = format!("{t} refused: not the real of epoch {}", self.epoch);
            self.error(port, ErrorCode::NotReal, &msg, None);
        }
        real
    }

    /// Cache `state` and send it to every live dummy. The cache outlives the
    /// real: dummies keep showing its calls, joining tabs get it, and the
    /// successor resumes them from it, until the next real publishes. Only a
    /// real that closed as the last tab ends its calls: `reset`.
    pub(super) fn publish(&mut self, state: &str, reset: bool) {
        // Not to the real, whose state it is; but to a candidate, which
        // resumes from it.
        let real = self.real.filter(|r| r.claimed).map(|r| r.port);
        self.cache = Some(self.send_live(real, ToTab::Sync { epoch: self.epoch, state, reset }));
    }

    pub(super) fn on_action(&mut self, now: Instant, port: PortId, id: u64, name: &str, args: Option<&str>) {
        match self.actions.admit(now, port, id, name, args) {
            Ok(()) => self.forward_queued(),
            Err(code) => self.error(port, code, "too many actions waiting for a real tab", Some(id)),
        }
    }

    pub(super) fn on_result(&mut self, port: PortId, id: u64, ok: Option<&str>, error: Option<&str>) {
        if !self.real.is_some_and(|r| r.port == port && r.claimed) {
            let msg = "result refused: not the current real";
            return self.error(port, ErrorCode::NotReal, msg, None);
        }
        // A result for an action that already timed out has nobody to go to.
        if let Some(ans) = self.actions.complete(id, port) {
            self.answer(ans, ok, error);
        }
    }

    /// Send queued actions to a real that holds its lock.
    pub(super) fn forward_queued(&mut self) {
        let Some(Real { port, claimed: true, .. }) = self.real else { return };
        while let Some(text) = self.actions.forward_next(port) {
            self.post(port, text);
        }
    }

    pub(super) fn answer_errors(&mut self, answers: Vec<Answer>, code: ErrorCode, message: &str) {
        let err = error_value(code, message);
        for ans in &answers {
            self.answer(*ans, None, Some(err.get()));
        }
    }

    /// Send the `result` for `ans`, unless its tab is gone.
    fn answer(&mut self, ans: Answer, ok: Option<&str>, error: Option<&str>) {
        if self.tab(ans.from).is_some_and(|t| t.status != Status::Connected) {
            self.send(ans.from, ToTab::Result { id: ans.id, ok, error });
        }
    }
}
