//! The gate: a real that may have been replaced without knowing it stays
//! silent until the worker confirms it.
//!
//! A real frozen by the browser (lifecycle freeze, a debugger pause) or
//! starved of its worker's messages may have been replaced: past the ping
//! timeout of silence the worker promotes another tab, which steals the real
//! lock. When the tab runs again it runs its queued tasks (phone timers,
//! socket frames, the worker's stale pings, the lock's loss) in an order the
//! browser does not define, so it may not learn it was replaced before its
//! phone acts. The gate keeps that phone from sending anything meanwhile:
//!
//! - The tab knows when the worker last counted it alive (`vouched`): when it
//!   last sent a message (the worker's silence timer restarts when it
//!   arrives) or the worker answered its check. The worker gives the real
//!   role away only after a ping timeout without hearing from it (a claim
//!   check, a worker restart: the same timeout from a moment the tab was
//!   silent too).
//! - A real silent for longer than halfway between the worker's ping interval
//!   and its ping timeout (both from `welcome`; a live tab answers a ping
//!   every interval) is *held*: [`TabOutput::HoldReal`], and a `check` goes
//!   to the worker. Any tab silent that long *suspects* the messages queued
//!   meanwhile until the worker answers that check: answering a stale ping
//!   (which vouches for the tab from now on) does not make a stale role that
//!   follows it fresh. The check is checked at every input with a time and at
//!   every [`TabCore::real_may_act`], so it comes before anything the tab
//!   does with a stale message.
//! - Nothing else releases the hold (a stale ping does not): the worker's
//!   `checked` comes after it handled the check, so after any role it sent
//!   the tab because the tab spoke again (a thawed tab the worker took for
//!   gone is told it is a dummy first). Still the real then:
//!   [`TabOutput::ResumeReal`]. Demoted first: [`TabOutput::StopReal`] with
//!   `last: false` (no unregistration, no SIP).
//! - A candidate whose confirmation is stale in the same way starts the real
//!   phone only on `checked`; one told to steal the lock by a role message
//!   that may be stale waits for the lock without stealing and steals only
//!   on `checked` (a later real may hold it, frozen for an instant itself). Performs wait while held; a demotion fails the
//!   tab's own (`real_gone`); the worker has answered the forwarded ones.
//! - A worker that did not say its timeout (older) has no `check`: no gate.
use std::time::Duration;

use web_time::Instant;

use super::{Job, TabCore, TabOutput, TabRole};
use crate::protocol::{ErrorCode, FromTab};

impl TabCore {
    /// May the real phone act now? The glue asks before it feeds the real
    /// phone anything (a timer, a socket frame, an app call): on `false`, it
    /// holds the input until [`TabOutput::ResumeReal`] (then feeds the held
    /// inputs in order) or drops it at [`TabOutput::StopReal`]. `false` also
    /// for a tab that is not the real. May start a check: drain the outputs.
    pub fn real_may_act(&mut self, now: Instant) -> bool {
        self.tick(now);
        self.role == TabRole::Real && !self.held
    }

    /// Take `now`; after a long silence, suspect what was queued meanwhile
    /// (ask the worker) and hold the real: it may have been replaced.
    pub(super) fn tick(&mut self, now: Instant) {
        self.now = Some(self.now.map_or(now, |n| n.max(now)));
        if !self.suspect && self.silent_too_long() {
            self.suspect = true;
            if self.role == TabRole::Real && !self.held {
                self.held = true;
                self.out.push(TabOutput::HoldReal);
            }
            self.probe();
        }
    }

    /// Silent for longer than the worker's tolerance allows to be sure.
    fn silent_too_long(&self) -> bool {
        match (self.stale_after, self.vouched, self.now) {
            (Some(after), Some(v), Some(now)) => !self.failed && now.saturating_duration_since(v) > after,
            _ => false,
        }
    }

    /// A message from the worker may be stale: this tab was silent too long
    /// (every input with a time ticks first) and the worker has not answered
    /// a check since (see `suspect`).
    pub(super) fn stale(&self) -> bool {
        self.suspect && !self.failed
    }

    /// Hold until the worker answers a check: the one sent when this tab
    /// became suspect covers every message queued before it, so only a tab
    /// not yet suspect sends one.
    pub(super) fn await_check(&mut self) {
        self.held = true;
        if !self.suspect {
            self.suspect = true;
            self.probe();
        }
    }

    pub(super) fn probe(&mut self) {
        self.probe += 1;
        self.send(FromTab::Check { seq: self.probe });
    }

    /// The worker's `welcome` said its ping interval and timeout (ms; 0: not said).
    pub(super) fn on_timing(&mut self, ping: u64, timeout: u64) {
        self.stale_after = (timeout > 0).then(|| Duration::from_millis((ping.min(timeout) + timeout) / 2));
        if self.stale_after.is_none() {
            self.release();
        }
    }

    pub(super) fn on_checked(&mut self, seq: u64) {
        if seq != self.probe {
            return;
        }
        self.suspect = false;
        self.vouch();
        self.release();
    }

    /// The worker counts this tab alive now (see `vouched`).
    pub(super) fn vouch(&mut self) {
        self.vouched = self.vouched.max(self.now);
    }

    /// The worker confirmed this tab (or cannot: no `check`): go on.
    pub(super) fn release(&mut self) {
        self.suspect = false;
        if !std::mem::take(&mut self.held) {
            return;
        }
        match self.role {
            TabRole::Real => {
                self.out.push(TabOutput::ResumeReal);
                self.out.append(&mut self.held_jobs);
            }
            TabRole::Confirming => self.start_real(self.epoch),
            TabRole::Claiming if std::mem::take(&mut self.steal_when_checked) => self.acquire(true),
            _ => {}
        }
    }

    /// No longer real: what was held is dropped; the tab's own actions fail.
    pub(super) fn drop_held(&mut self) {
        self.held = false;
        let held = std::mem::take(&mut self.held_jobs);
        for job in &held {
            if let TabOutput::Perform { job: Job::Local(id), .. } = job {
                self.fail(*id, ErrorCode::RealGone, "this tab stopped being the real before performing it");
            }
        }
    }

    /// Perform now, or once the real is confirmed.
    pub(super) fn perform(&mut self, job: Job, name: String, args: String) {
        let perform = TabOutput::Perform { job, name, args };
        if self.held {
            self.held_jobs.push(perform);
        } else {
            self.out.push(perform);
        }
    }

    /// An older worker refused a message it does not know (`takeover` or
    /// `check`): fail the takeovers, lift the gate.
    pub(super) fn on_unknown_type(&mut self) {
        if self.stale_after.is_some() {
            return; // a worker that knows both: about something else
        }
        self.unwait(true, ErrorCode::UnknownType, "this worker does not know takeover");
        self.release();
    }
}
