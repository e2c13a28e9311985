//! Observations of the simulated profile, and the safety invariants that
//! hold at every instant.
use tabphone_coord::protocol::real_lock_name;
use tabphone_coord::{ActionId, TabRole};

use super::locks::Owner;
use super::{Sim, APP};

impl Sim {
    /// The tab holding the real lock, if a tab does.
    pub fn real_lock_holder(&self) -> Option<usize> {
        self.locks.holders(&real_lock_name(APP)).iter().find_map(|o| match o {
            Owner::Tab(t) => Some(*t),
            Owner::Worker(_) => None,
        })
    }

    /// Tabs that run the real client and can act (alive, not frozen).
    pub fn active_reals(&self) -> Vec<usize> {
        (0..self.tabs.len()).filter(|i| self.tabs[*i].can_act() && self.tabs[*i].running_real).collect()
    }

    pub fn role(&self, i: usize) -> TabRole {
        self.tabs[i].core.role()
    }

    pub fn answers(&self, i: usize, id: ActionId) -> &[Result<String, String>] {
        self.tabs[i].answers.get(&id).map_or(&[], |v| v.as_slice())
    }

    /// Check the safety invariants that hold at every instant.
    pub fn check_safety(&self) {
        let reals = self.active_reals();
        assert!(reals.len() <= 1, "two active reals: {reals:?}");
        for &r in &reals {
            assert_eq!(self.real_lock_holder(), Some(r), "active real tab{r} without the real lock");
            assert_eq!(self.role(r), TabRole::Real);
        }
        for (i, t) in self.tabs.iter().enumerate() {
            for (id, answers) in &t.answers {
                assert!(answers.len() <= 1, "tab{i} action {id:?} answered {} times", answers.len());
            }
        }
    }
}
