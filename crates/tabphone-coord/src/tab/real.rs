//! Roles and the real lock: claiming, confirming, demoting, leaving; and the
//! real client's answers to the actions it performs.
use super::{Job, TabCore, TabOutput, TabRole};
use crate::protocol::{error_value, real_lock_name, ErrorCode, FromTab, Raw, Role};

impl TabCore {
    pub(super) fn holds_or_wants_lock(&self) -> bool {
        matches!(self.role, TabRole::Real | TabRole::Claiming | TabRole::Confirming)
    }

    pub(super) fn on_role(&mut self, role: Role, epoch: u64, steal: bool) {
        match (role, self.role) {
            (_, TabRole::Closed) => {}
            // Held: the worker's `checked` starts it (see `gate.rs`).
            (Role::Real, TabRole::Confirming) if epoch == self.epoch && self.held => {}
            (Role::Real, TabRole::Confirming) if epoch == self.epoch => {
                if self.stale() {
                    // A confirmation queued while frozen: ask first.
                    self.await_check();
                } else {
                    self.start_real(epoch);
                }
            }
            (Role::Real, TabRole::Confirming) => {
                // Promoted again under a new number while holding the lock:
                // claim that one (the lock is kept).
                self.set_role(TabRole::Confirming, epoch);
                self.send(FromTab::Claimed { epoch });
            }
            // Confirmation of a claim, possibly under a newer epoch.
            (Role::Real, TabRole::Real) => self.set_role(TabRole::Real, epoch),
            (Role::Real, TabRole::Claiming) => {
                // Promoted again while waiting for the lock: keep the place in
                // the lock's queue, unless the worker now says to steal.
                if steal && !self.stealing {
                    match self.stale() {
                        true => self.steal_on_check(),
                        false => self.acquire(true),
                    }
                }
                self.set_role(TabRole::Claiming, epoch);
            }
            (Role::Real, _) => {
                let defer = steal && self.stale();
                self.acquire(steal && !defer);
                if defer {
                    self.steal_on_check();
                }
                self.set_role(TabRole::Claiming, epoch);
            }
            (Role::Dummy, TabRole::Real | TabRole::Claiming | TabRole::Confirming) => {
                self.demote(epoch, false)
            }
            (Role::Dummy, _) => self.set_role(TabRole::Dummy, epoch),
        }
    }

    /// Start the real phone with the state it resumes the calls from.
    pub(super) fn start_real(&mut self, epoch: u64) {
        let inherit = (self.state != "null").then(|| self.state.clone());
        self.out.push(TabOutput::StartReal { inherit });
        self.set_role(TabRole::Real, epoch);
    }

    /// Told to steal the real lock while this tab was silent too long: the
    /// order may be one it was sent before it was taken for gone, and the
    /// lock may be a later real's, which would then act without it. Steal
    /// only once the worker's `checked` says the order still stands (it
    /// comes after any later role: see `gate.rs`); meanwhile wait for the
    /// lock without stealing.
    fn steal_on_check(&mut self) {
        self.steal_when_checked = true;
        self.await_check();
    }

    pub(super) fn acquire(&mut self, steal: bool) {
        self.stealing = steal;
        let lock = real_lock_name(&self.config.app);
        self.out.push(TabOutput::AcquireRealLock { lock, steal });
    }

    pub(super) fn on_lock_granted(&mut self) {
        self.steal_when_checked = false;
        if self.role == TabRole::Claiming {
            self.set_role(TabRole::Confirming, self.epoch);
            self.send(FromTab::Claimed { epoch: self.epoch });
        } else if !self.holds_or_wants_lock() {
            // Granted too late: the promotion was withdrawn meanwhile.
            self.out.push(TabOutput::ReleaseRealLock);
        }
    }

    pub(super) fn on_lock_lost(&mut self) {
        if self.holds_or_wants_lock() {
            let epoch = self.epoch;
            self.demote(epoch, false);
            self.send(FromTab::Demoted { epoch });
        }
    }

    pub(super) fn on_page_hide(&mut self) {
        if self.role == TabRole::Closed {
            return;
        }
        // Stop and let the real lock go before saying `close`: the
        // successor asks for the lock as soon as the worker hears it.
        let last = self.role == TabRole::Real && self.tabs <= 1;
        if self.holds_or_wants_lock() {
            self.demote(self.epoch, true);
        }
        self.send(FromTab::Close { last });
        self.set_role(TabRole::Closed, self.epoch);
    }

    /// Stop being real (or wanting to be), now, and be a dummy in `epoch`.
    /// `closing`: the tab is leaving; with no other tab left to take over, the
    /// real phone unregisters (a successor would replace the binding instead).
    /// Its state stays: the successor resumes its calls from it. Its phone's
    /// last publishes while stopping are refused: it is a dummy before the
    /// glue performs `StopReal`.
    fn demote(&mut self, epoch: u64, closing: bool) {
        if self.role == TabRole::Real {
            self.out.push(TabOutput::StopReal { last: closing && self.tabs <= 1 });
        }
        self.drop_held();
        self.steal_when_checked = false;
        self.out.push(TabOutput::ReleaseRealLock);
        self.set_role(TabRole::Dummy, epoch);
    }

    /// The real client finished an action: resolve a local dispatch, or
    /// answer the worker for a forwarded one.
    pub(super) fn on_done(&mut self, job: Job, result: Result<String, String>) {
        match job {
            Job::Local(id) => self.out.push(TabOutput::Resolve { id, result }),
            Job::Remote(id) => {
                let (Ok(text) | Err(text)) = &result;
                let (ok, error) = match Raw::new(text) {
                    Ok(raw) if result.is_ok() => (Some(raw), None),
                    Ok(raw) => (None, Some(raw)),
                    Err(_) => {
                        let msg = "the action handler returned a value that is not JSON";
                        (None, Some(error_value(ErrorCode::Malformed, msg)))
                    }
                };
                let msg = FromTab::Result {
                    id,
                    ok: ok.as_ref().map(Raw::get),
                    error: error.as_ref().map(Raw::get),
                };
                self.send(msg);
            }
        }
    }
}
