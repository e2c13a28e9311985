//! Epochs never go back, across worker restarts too. A tab's `hello` says
//! the highest epoch it has seen (in an earlier worker: a tab says hello once
//! per worker), and this worker goes on from there:
//! - with no real, it takes the number over and tells the dummies;
//! - with a reign of its own, whose number another worker may have used too,
//!   it renumbers the reign past what the tab saw (the real stays real);
//! - a rejoining real keeps its epoch unless a tab saw a later one (or this
//!   worker handed that number out to another tab meanwhile).
use super::Coordinator;
use crate::protocol::{Role, ToTab};

impl Coordinator {
    /// A joining tab (not a claimant) saw `seen`.
    pub(super) fn learn_epoch(&mut self, seen: u64) {
        let ours = self.real.is_some() && self.assigned == self.epoch;
        if seen < self.epoch || (seen == self.epoch && !(ours && seen > 0)) {
            return;
        }
        if self.real.is_some() {
            self.renumber(seen + 1);
        } else {
            self.epoch = seen;
            self.send_live(None, ToTab::Role { role: Role::Dummy, epoch: seen, steal: false });
        }
    }

    /// The epoch under which a rejoining real that claims `claimed` goes on.
    pub(super) fn claim_epoch(&mut self, claimed: u64) -> u64 {
        if claimed > self.epoch || (claimed == self.epoch && self.assigned < claimed) {
            self.epoch = claimed;
        } else {
            self.epoch += 1;
            self.assigned = self.epoch;
        }
        self.epoch
    }

    /// The current reign goes on under a new number; everyone is told.
    fn renumber(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.assigned = epoch;
        self.announce();
    }
}
