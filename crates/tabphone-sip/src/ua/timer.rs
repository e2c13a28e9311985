//! The agent's own deadlines, in one named table (the quinn-proto way).
//! Transactions and calls keep theirs and say so through their own
//! `poll_timeout`; [`super::UserAgent::poll_timeout`] takes the earliest of
//! all, and `on_timeout` walks this table in [`Timer::VALUES`] order.

use crate::Instant;

/// A deadline of the agent itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A REGISTER unanswered this long presumes the connection dead.
    RegisterTimeout = 0,
    /// Register again: a refresh before expiry, or a retry after a failure.
    RegisterRefresh = 1,
    /// [`super::Command::Stop`] waits no longer for answers to its BYEs,
    /// CANCELs and unregister.
    Stop = 2,
}

impl Timer {
    /// Every timer, in the order `on_timeout` handles those that are due.
    pub(super) const VALUES: [Timer; 3] = [Timer::RegisterTimeout, Timer::RegisterRefresh, Timer::Stop];
}

/// When each [`Timer`] fires, if armed.
#[derive(Debug, Default)]
pub(super) struct TimerTable {
    data: [Option<Instant>; 3],
}

impl TimerTable {
    /// Arm `timer` for `at` (replacing any earlier setting).
    pub(super) fn set(&mut self, timer: Timer, at: Instant) {
        self.data[timer as usize] = Some(at);
    }

    /// Disarm `timer`.
    pub(super) fn stop(&mut self, timer: Timer) {
        self.data[timer as usize] = None;
    }

    /// The earliest armed deadline.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        crate::earliest(&self.data)
    }

    /// Is `timer` due at `now`? If so it is disarmed: it fires once.
    pub(super) fn expire(&mut self, timer: Timer, now: Instant) -> bool {
        let due = self.data[timer as usize].is_some_and(|t| t <= now);
        if due {
            self.stop(timer);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_once_when_due() {
        let now = Instant::now();
        let mut t = TimerTable::default();
        assert_eq!(t.next_timeout(), None);
        t.set(Timer::Stop, now + Duration::from_secs(2));
        t.set(Timer::RegisterRefresh, now + Duration::from_secs(1));
        assert_eq!(t.next_timeout(), Some(now + Duration::from_secs(1)));
        assert!(!t.expire(Timer::Stop, now + Duration::from_secs(1)));
        assert!(t.expire(Timer::RegisterRefresh, now + Duration::from_secs(1)));
        assert!(!t.expire(Timer::RegisterRefresh, now + Duration::from_secs(1)));
        t.stop(Timer::Stop);
        assert_eq!(t.next_timeout(), None);
    }
}
