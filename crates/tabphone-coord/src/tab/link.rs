//! The tab's link to the worker: joining once the life lock is held, the
//! `hello`, the worker's death or failure, and the worker's messages.
use super::{ActionId, Job, TabCore, TabEvent, TabOutput, TabRole};
use crate::protocol::{
    error_value, parse_to_tab, prefixed, Claim, ErrorCode, FromTab, Hello, ToTab, PROTOCOL_VERSION,
};

impl TabCore {
    pub(super) fn on_tab_lock_held(&mut self) {
        if self.alive || self.role == TabRole::Closed || self.failed {
            return;
        }
        self.alive = true;
        self.out.push(TabOutput::Connect);
    }

    pub(super) fn on_connected(&mut self) {
        self.connected = true;
        let claim = (self.role == TabRole::Real).then_some(Claim { epoch: self.epoch, state: &self.state });
        // A dummy's state seeds a restarted worker (see `Hello::state`).
        let state = (claim.is_none() && self.rejoin && self.state != "null").then_some(self.state.as_str());
        let hello = Hello {
            v: PROTOCOL_VERSION,
            tab: self.config.tab_id.as_str().into(),
            visible: self.visible,
            focused: self.focused,
            claim,
            rejoin: self.rejoin,
            epoch: self.epoch,
            state,
        };
        // One message, its state taken out if too big (no copy of the hello).
        let mut msg = FromTab::Hello(hello);
        let mut text = msg.to_text();
        let retry = match &mut msg {
            FromTab::Hello(h) if text.len() > self.config.max_message_bytes => h.state.take().is_some(),
            _ => false,
        };
        if retry {
            text = msg.to_text(); // too big to join with its state: join without
        }
        self.out.push(TabOutput::Send(text));
        self.out.append(&mut self.outbox);
        self.vouch();
        if self.held || self.suspect {
            // A check sent to a dead worker is lost: ask the new one.
            self.probe();
        }
    }

    pub(super) fn on_worker_died(&mut self) {
        if self.role == TabRole::Closed {
            return;
        }
        self.connected = false;
        self.rejoin = true;
        self.worker_lock = None;
        self.fail_waiting("the worker died before answering");
        if matches!(self.role, TabRole::Claiming | TabRole::Confirming) {
            // The promotion died with the worker; the new one decides again.
            self.out.push(TabOutput::ReleaseRealLock);
            self.set_role(TabRole::Connecting, self.epoch);
        } else if self.role == TabRole::Dummy {
            self.set_role(TabRole::Connecting, self.epoch);
        }
        self.out.push(TabOutput::Connect);
    }

    /// No worker: answer what waits, refuse what comes, tell the app. A real
    /// tab stays real (it holds the lock) and performs its own actions.
    pub(super) fn on_worker_failed(&mut self, message: &str) {
        if self.failed || self.role == TabRole::Closed {
            return;
        }
        self.failed = true;
        self.connected = false;
        self.outbox.clear();
        self.fail_waiting(message);
        // No worker to ask: a held real goes on (nobody can replace it).
        self.release();
        let message = prefixed("the worker cannot run: ", message);
        self.error_event(ErrorCode::WorkerGone, message);
    }

    pub(super) fn on_message(&mut self, text: &str) {
        let msg = match parse_to_tab(text) {
            Ok(m) => m,
            Err(e) => {
                let message = prefixed("unreadable message from the worker: ", &e.message);
                return self.error_event(ErrorCode::BadWorkerMessage, message);
            }
        };
        // By reference: one drop of the message, after it.
        match &msg {
            ToTab::Welcome { worker, tabs, max, ping, timeout, relay, .. } => {
                self.on_timing(*ping, *timeout);
                self.worker_relays = *relay;
                // Refuse locally what the worker would refuse without an id.
                self.config.max_message_bytes = self.config.max_message_bytes.min(*max);
                if self.worker_lock.as_deref() != Some(&**worker) {
                    self.worker_lock = Some(worker.to_string());
                    self.out.push(TabOutput::WatchWorker(worker.to_string()));
                }
                // The role (and epoch) follows in the worker's next message.
                self.on_tabs(*tabs);
            }
            ToTab::Role { role, epoch, steal } => self.on_role(*role, *epoch, *steal),
            ToTab::Sync { state, .. } => {
                if self.role != TabRole::Real {
                    self.set_state((*state).to_owned());
                }
            }
            ToTab::Event { event } => {
                if self.role != TabRole::Real {
                    self.event(TabEvent::Relayed { event: (*event).to_owned() });
                }
            }
            ToTab::Action { id, name, args } => self.on_forwarded(*id, name, *args),
            ToTab::Result { id, ok, error } => {
                if self.answered(*id) {
                    let result = match error {
                        Some(e) => Err((*e).to_owned()),
                        None => Ok(ok.unwrap_or("null").to_owned()),
                    };
                    self.out.push(TabOutput::Resolve { id: ActionId(*id), result });
                }
            }
            ToTab::Tabs { count } => self.on_tabs(*count),
            ToTab::Ping { seq } => self.send(FromTab::Pong { seq: *seq }),
            ToTab::Checked { seq } => self.on_checked(*seq),
            ToTab::Error { code: ErrorCode::UnknownType, id: None, .. } if self.stale_after.is_none() => {
                self.on_unknown_type()
            }
            ToTab::Error { code, message, id } => match id {
                Some(id) if self.answered(*id) => self.fail(ActionId(*id), *code, message),
                _ => self.error_event(*code, message.to_string()),
            },
            ToTab::Failed { message } => self.on_worker_failed(message),
        }
    }

    /// Tell the app of an error with no action to fail.
    fn error_event(&mut self, code: ErrorCode, message: String) {
        self.event(TabEvent::Error { code: code.as_str().into(), message });
    }

    /// The worker is gone: what waits for it fails with `worker_gone`.
    fn fail_waiting(&mut self, message: &str) {
        self.unwait(false, ErrorCode::WorkerGone, message);
    }

    /// The worker answered `id`: false if nothing waits for it.
    fn answered(&mut self, id: u64) -> bool {
        let i = self.waiting.iter().position(|(w, _)| *w == id);
        i.map(|i| self.waiting.remove(i)).is_some()
    }

    /// Stop waiting for the takeovers (every id without `only_takeovers`):
    /// each fails with `code` and `message`, in order.
    pub(super) fn unwait(&mut self, only_takeovers: bool, code: ErrorCode, message: &str) {
        let mut i = 0;
        while i < self.waiting.len() {
            match self.waiting[i] {
                (id, takeover) if takeover || !only_takeovers => {
                    self.waiting.remove(i);
                    self.fail(ActionId(id), code, message);
                }
                _ => i += 1,
            }
        }
    }

    fn on_tabs(&mut self, count: usize) {
        self.tabs = count;
        self.event(TabEvent::Tabs { count });
    }

    /// An action forwarded by the worker: performed if real, refused otherwise.
    fn on_forwarded(&mut self, id: u64, name: &str, args: Option<&str>) {
        if self.role == TabRole::Real {
            let args = args.unwrap_or("null").to_owned();
            self.perform(Job::Remote(id), name.to_owned(), args);
        } else {
            let err = error_value(ErrorCode::NotReal, "this tab is no longer real");
            self.send(FromTab::Result { id, ok: None, error: Some(err.get()) });
        }
    }
}
