//! Messages in: size and shape checks, joining (`hello`), a rejoining real's
//! claim, focus, and the candidate's `claimed`.
use web_time::Instant;

use super::{tab_mut, Coordinator, Gone, Output, PortId, Real, Status};
use crate::protocol::PROTOCOL_VERSION;
use crate::protocol::{parse_from_tab, tab_lock_name, Claim, ErrorCode, FromTab, Hello, Role, ToTab};

impl Coordinator {
    pub(super) fn on_message(&mut self, now: Instant, port: PortId, text: &str) {
        let Some(tab) = tab_mut(&mut self.tabs, port) else { return };
        tab.last_seen = now;
        let status = tab.status;
        if text.len() > self.config.max_message_bytes {
            let limit = self.config.max_message_bytes;
            let msg = format!("message of {} bytes over the limit of {limit}", text.len());
            return self.error(port, ErrorCode::TooLarge, &msg, None);
        }
        let msg = match parse_from_tab(text) {
            Ok(msg) => msg,
            Err(e) => return self.error(port, e.code, &e.message, e.id),
        };
        if status == Status::Connected && !matches!(msg, FromTab::Hello(_)) {
            let id = match msg {
                FromTab::Action { id, .. } | FromTab::Takeover { id } => Some(id),
                _ => None,
            };
            return self.error(port, ErrorCode::NotJoined, "say hello first", id);
        }
        if status == Status::Lost {
            self.revive(port);
        }
        // By reference: one drop of the message, after it.
        match &msg {
            FromTab::Hello(hello) => self.on_hello(port, hello),
            FromTab::Focus { visible, focused } => self.on_focus(port, *visible, *focused),
            FromTab::Claimed { epoch } => self.on_claimed(port, *epoch),
            FromTab::Demoted { epoch } => {
                if self.in_reign(port, *epoch) {
                    self.real_lost(port, false);
                }
            }
            FromTab::Sync { epoch, state } => self.on_sync(port, *epoch, state),
            FromTab::Event { epoch, event } => self.on_event(port, *epoch, event),
            FromTab::Action { id, name, args } => self.on_action(now, port, *id, name, *args),
            FromTab::Result { id, ok, error } => self.on_result(port, *id, *ok, *error),
            FromTab::Close { last } => {
                if *last && self.real.is_some_and(|r| r.port == port) {
                    // Its phone ended the calls: nothing for a successor to resume.
                    self.publish("null", true);
                }
                self.tab_gone(port, Gone::Closed)
            }
            FromTab::Takeover { id } => self.on_takeover(port, *id),
            // After everything before it, and after `revive` told a thawed
            // tab its role: the answer arrives behind that role.
            FromTab::Check { seq } => self.send(port, ToTab::Checked { seq: *seq }),
            FromTab::Pong { .. } => {}
        }
    }

    /// Whether `port` is the real (or candidate) and `epoch` belongs to its reign.
    pub(super) fn in_reign(&self, port: PortId, epoch: u64) -> bool {
        self.real.is_some_and(|r| r.port == port && r.since <= epoch) && epoch <= self.epoch
    }

    pub(super) fn status(&self, port: PortId) -> Option<Status> {
        self.tab(port).map(|t| t.status)
    }

    fn on_hello(&mut self, port: PortId, hello: &Hello<'_>) {
        if hello.v != PROTOCOL_VERSION {
            let msg =
                format!("protocol version {} not spoken; this worker speaks {PROTOCOL_VERSION}", hello.v);
            return self.error(port, ErrorCode::Version, &msg, None);
        }
        if hello.claim.is_none() {
            // Before this tab counts as live: it hears the epoch in its role.
            self.learn_epoch(hello.epoch);
        }
        self.join(port, hello);
        let welcome = ToTab::Welcome {
            v: PROTOCOL_VERSION,
            worker: self.worker_lock.as_str().into(),
            tabs: self.live_count(),
            max: self.config.max_message_bytes,
            ping: self.config.ping_interval.as_millis() as u64,
            timeout: self.config.ping_timeout.as_millis() as u64,
            relay: true,
        };
        // Written before it is sent: it borrows the worker's lock name.
        let text = welcome.to_text();
        self.post(port, text);
        if let Some(claim) = &hello.claim {
            return self.on_claim(port, claim);
        }
        self.broadcast_tabs();
        if let Some(state) =
            hello.state.filter(|_| self.cache.is_none() && !self.real.is_some_and(|r| r.claimed))
        {
            // A restarted worker: the state this tab saw last is the best known.
            self.publish(state, false);
        }
        // The latest state first: it shows it, and resumes its calls if promoted.
        self.send_cache(port);
        if let Some(r) = self.real.filter(|r| self.status(r.port) == Some(Status::Lost)) {
            // The real is silent (frozen) and kept only for want of another tab.
            self.real_lost(r.port, true);
        }
        if hello.rejoin {
            self.start_restart_check();
        }
        if self.may_promote() {
            self.promote();
        } else if self.real.map(|r| r.port) != Some(port) {
            self.send(port, ToTab::Role { role: Role::Dummy, epoch: self.epoch, steal: false });
        }
    }

    /// The tab is live: its id, focus, place in the join order, and a watch on its life lock.
    fn join(&mut self, port: PortId, hello: &Hello<'_>) {
        let order = self.next_order;
        self.next_order += 1;
        let Some(tab) = tab_mut(&mut self.tabs, port) else { return };
        if tab.status == Status::Connected {
            tab.joined = order;
            tab.id = hello.tab.to_string();
            self.out.push(Output::WatchTab { port, lock: tab_lock_name(&hello.tab).into() });
        }
        tab.status = Status::Live;
        tab.visible = hello.visible;
        if hello.focused {
            tab.focus_order = order;
        }
    }

    fn on_claim(&mut self, port: PortId, claim: &Claim<'_>) {
        self.broadcast_tabs();
        // The claimant holds the real lock; a candidate that has not taken
        // it yet (it cannot: the claimant has it) yields.
        if self.real.is_some_and(|r| r.port != port && r.claimed) {
            self.learn_epoch(claim.epoch);
            return self.send_dummy(port);
        }
        let epoch = self.claim_epoch(claim.epoch);
        self.fail_takeovers(None, "the real rejoined the restarted worker; ask again");
        self.real = Some(Real { port, claimed: true, since: claim.epoch.min(epoch) });
        self.steal = false;
        self.end_lock_check();
        self.announce();
        self.publish(claim.state, false);
        self.forward_queued();
    }

    fn on_focus(&mut self, port: PortId, visible: bool, focused: bool) {
        let order = self.next_order;
        self.next_order += 1;
        if let Some(tab) = tab_mut(&mut self.tabs, port) {
            tab.visible = visible;
            if focused {
                tab.focus_order = order;
            }
        }
    }

    fn on_claimed(&mut self, port: PortId, epoch: u64) {
        if self.in_reign(port, epoch) {
            if let Some(r) = self.real.as_mut() {
                r.claimed = true;
            }
            self.steal = false;
            self.end_lock_check();
            // Confirm: the tab starts the real client on this message.
            self.send(port, ToTab::Role { role: Role::Real, epoch: self.epoch, steal: false });
            self.takeovers_done(port);
            self.forward_queued();
        } else if self.real.is_some_and(|r| r.port == port) {
            // A claim for an older epoch from the tab that is the candidate of
            // a newer one: its newer claim follows. A dummy role here would
            // read as a demotion from the newer epoch.
        } else {
            // A stale promotion: tell it who it is now so it lets the lock go.
            self.send_dummy(port);
        }
    }
}
