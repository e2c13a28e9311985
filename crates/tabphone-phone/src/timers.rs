//! The phone's own timers, in one table (the SIP timers live in the user
//! agent's; [`crate::Phone::poll_timeout`] gives the earlier of both). Every
//! pending action has its timer: the table is also the set of pending actions.

use crate::Instant;

/// A timer of the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The action with this id gives up ([`crate::Config::action_timeout`]).
    Action(u64),
    /// Inherited calls whose re-INVITE has not left yet end `expired`
    /// ([`crate::Config::resume_within`]).
    Resume,
}

/// Deadlines by timer, in timer order (a plain sorted `Vec` searched from
/// the start: a handful of entries, and no generic map's code).
#[derive(Debug, Default)]
pub(crate) struct Timers {
    at: Vec<(Timer, Instant)>,
}

impl Timers {
    /// Where `timer` is, or would be inserted.
    fn find(&self, timer: Timer) -> Result<usize, usize> {
        match self.at.iter().position(|(t, _)| *t >= timer) {
            Some(i) if self.at[i].0 == timer => Ok(i),
            Some(i) => Err(i),
            None => Err(self.at.len()),
        }
    }

    pub fn set(&mut self, timer: Timer, at: Instant) {
        match self.find(timer) {
            Ok(i) => self.at[i].1 = at,
            Err(i) => self.at.insert(i, (timer, at)),
        }
    }

    /// Clear `timer`; whether it was set.
    pub fn clear(&mut self, timer: Timer) -> bool {
        let found = self.find(timer);
        if let Ok(i) = found {
            self.at.remove(i);
        }
        found.is_ok()
    }

    pub fn is_set(&self, timer: Timer) -> bool {
        self.find(timer).is_ok()
    }

    /// The actions whose timer is set (the pending ones), by id.
    pub fn actions(&self) -> Vec<u64> {
        let mut ids = Vec::new();
        for (t, _) in &self.at {
            if let Timer::Action(id) = t {
                ids.push(*id);
            }
        }
        ids
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for &(_, at) in &self.at {
            match next {
                Some(n) if n <= at => {}
                _ => next = Some(at),
            }
        }
        next
    }

    /// Remove and return the timers due at `now`, in timer order.
    pub fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.at.len() {
            match self.at[i].1 <= now {
                true => due.push(self.at.remove(i).0),
                false => i += 1,
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fires_what_is_due_once() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.set(Timer::Action(2), t0 + Duration::from_secs(2));
        t.set(Timer::Action(1), t0 + Duration::from_secs(1));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.expired(t0 + Duration::from_secs(1)), vec![Timer::Action(1)]);
        assert!(t.expired(t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(t.actions(), vec![2]);
        assert!(t.is_set(Timer::Action(2)));
        assert!(t.clear(Timer::Action(2)));
        assert!(!t.clear(Timer::Action(2)));
        assert_eq!(t.next(), None);
    }
}
