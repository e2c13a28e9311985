//! Roles: a tab leaving (closed, dead, silent), the real leaving, choosing the
//! next real, telling dummies, and a silent tab coming back.
use super::{tab_mut, Coordinator, Gone, PortId, Real, Status};
use crate::protocol::{ErrorCode, Role, ToTab};

impl Coordinator {
    pub(super) fn tab_gone(&mut self, port: PortId, why: Gone) {
        let Some(i) = self.tabs.iter().position(|t| t.port == port) else { return };
        let was_live = self.tabs[i].status == Status::Live;
        if why == Gone::Silent {
            self.tabs[i].status = Status::Lost;
            if self.real.is_some_and(|r| !r.claimed && r.port != port) {
                // It may hold the lock a candidate waits for (an old real
                // that froze during a takeover): look now.
                self.query_locks();
            }
        } else {
            self.tabs.remove(i);
            self.out.push(super::Output::ClosePort { port });
            // Its own actions have nobody to answer to. A silent tab keeps
            // them: it may thaw and read the answers.
            self.actions.forget_from(port);
            self.forget_takeovers(port);
        }
        if self.real.is_some_and(|r| r.port == port) {
            // A silent real with nobody to replace it stays real: if it thaws
            // it goes on without re-registering; a tab that joins meanwhile
            // takes over (see `on_hello`).
            if why != Gone::Silent || self.live_count() > 0 {
                // A frozen real keeps the real lock; so does a closing one until
                // its page is torn down (tens of ms), though it stopped its phone
                // in the same `pagehide` handler that sent `close`: take it. A
                // candidate that closes before it claimed holds nothing to take
                // (the lock may be a frozen old real's: its own silence decides);
                // a silent one may hold it (granted, then frozen).
                let claimed = self.real.is_some_and(|r| r.claimed);
                self.real_lost(port, why == Gone::Silent || (claimed && why != Gone::Dead));
            }
        }
        if was_live {
            self.broadcast_tabs();
        }
    }

    pub(super) fn real_lost(&mut self, port: PortId, holds_lock: bool) {
        // A candidate that never claimed held no lock: the deadline for
        // whoever holds it runs on for the next candidate.
        let running = self.real.filter(|r| !r.claimed).and(self.timers.steal_at);
        self.real = None;
        // The old real may still hold the real lock: the next real must steal.
        self.steal |= holds_lock;
        let failed = self.actions.fail_in_flight(port);
        self.answer_errors(failed, ErrorCode::RealGone, "the real tab went away before answering");
        // Its calls go on in the successor: the cached state stays (see `publish`).
        self.fail_takeovers(Some(port), "this tab stopped being the real before it held the real lock");
        self.promote();
        if self.real.is_some() {
            self.steal_by(running);
        }
    }

    /// Choose a new real among live tabs: one heard from within the last ping
    /// round and a half (a tab that froze since is not known silent yet, and
    /// would hold up the promotion until it is); then a visible tab, most
    /// recently focused first; else the oldest. A tab that asked to take
    /// over comes before all.
    pub(super) fn promote(&mut self) {
        let heard = self.now.checked_sub(self.config.ping_interval * 3 / 2);
        let wanted = self.takeovers.first().map(|t| t.from);
        let mut best = None;
        for t in &self.tabs {
            if t.status != Status::Live {
                continue;
            }
            let fresh = heard.is_none_or(|h| t.last_seen >= h);
            // The three yes/no criteria in order as one number (fewer comparisons).
            let flags = u8::from(Some(t.port) == wanted) * 4 + u8::from(fresh) * 2 + u8::from(t.visible);
            let key = (flags, t.focus_order, std::cmp::Reverse(t.joined));
            // The last of equal keys, as `max_by_key`.
            if best.is_none_or(|(k, _)| key >= k) {
                best = Some((key, t.port));
            }
        }
        let best = best.map(|(_, p)| p);
        let Some(port) = best else {
            // Nobody to tell to steal now; the lock may be another's by the
            // time a tab joins (another script's real): that promotion
            // looks at the lock again (`holder.rs`) rather than steal blindly.
            self.steal = false;
            return;
        };
        if let Some(w) = wanted.filter(|w| *w != port) {
            self.fail_takeovers(Some(w), "another tab was made the real");
        }
        self.epoch += 1;
        self.assigned = self.epoch;
        self.real = Some(Real { port, claimed: false, since: self.epoch });
        self.restart = false;
        self.announce();
        self.arm_claim_check();
    }

    /// Tell the real (or candidate) and every live dummy the current epoch.
    pub(super) fn announce(&mut self) {
        let Some(r) = self.real else { return };
        let steal = self.steal && !r.claimed;
        self.send(r.port, ToTab::Role { role: Role::Real, epoch: self.epoch, steal });
        self.send_live(Some(r.port), ToTab::Role { role: Role::Dummy, epoch: self.epoch, steal: false });
    }

    pub(super) fn send_dummy(&mut self, port: PortId) {
        self.send(port, ToTab::Role { role: Role::Dummy, epoch: self.epoch, steal: false });
        self.send_cache(port);
    }

    /// The latest state, to a tab that joins or thaws (it may hold a stale
    /// one). None yet (a restarted worker before its real published): the
    /// tab keeps the one it has.
    pub(super) fn send_cache(&mut self, port: PortId) {
        if let Some(text) = self.cache.clone() {
            self.out.push(super::Output::Send { port, text });
        }
    }

    /// A tab declared lost spoke again: it is alive after all (was frozen).
    pub(super) fn revive(&mut self, port: PortId) {
        if let Some(tab) = tab_mut(&mut self.tabs, port) {
            tab.status = Status::Live;
        }
        self.broadcast_tabs();
        if let Some(r) = self.real.filter(|r| r.port == port) {
            // The real thawed before anyone replaced it. A candidate that has
            // not claimed may wait for a lock that changed hands meanwhile
            // (its claim check found nobody to steal for): look again.
            if !r.claimed {
                self.query_locks();
            }
            return;
        }
        self.send_dummy(port);
        if let Some(r) = self.real.filter(|r| self.status(r.port) == Some(Status::Lost)) {
            // A silent real kept only for want of another tab: this one takes over.
            self.real_lost(r.port, true);
        } else if self.may_promote() {
            self.promote();
        }
    }

    pub(super) fn live_count(&self) -> usize {
        let mut n = 0;
        for tab in &self.tabs {
            n += usize::from(tab.status == Status::Live);
        }
        n
    }

    pub(super) fn broadcast_tabs(&mut self) {
        self.send_live(None, ToTab::Tabs { count: self.live_count() });
    }
}
