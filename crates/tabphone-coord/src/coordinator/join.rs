//! Messages in: size and shape checks, joining (`hello`), a rejoining real's
//! claim, focus, and the candidate's `claimed`.
use web_time::Instant;

use super::{Coordinator, Gone, PortId, Real, Status};
use crate::protocol::{parse_from_tab, tab_lock_name, Claim, ErrorCode, FromTab, Hello, Role, ToTab};
use crate::protocol::{Raw, PROTOCOL_VERSION};

impl Coordinator {
    pub(super) fn on_message(&mut self, now: Instant, port: PortId, text: &str) {
        let Some(tab) = self.tabs.get_mut(&port) else { return };
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
            let id = if let FromTab::Action { id, .. } = msg { Some(id) } else { None };
            return self.error(port, ErrorCode::NotJoined, "say hello first", id);
        }
        if status == Status::Lost {
            self.revive(port);
        }
        match msg {
            FromTab::Hello(hello) => self.on_hello(now, port, hello),
            FromTab::Focus { visible, focused } => self.on_focus(port, visible, focused),
            FromTab::Claimed { epoch } => self.on_claimed(port, epoch),
            FromTab::Demoted { epoch } => {
                if self.is_real(port, epoch) {
                    self.real_lost(port, false);
                }
            }
            FromTab::Sync { epoch, state } => self.on_sync(port, epoch, state),
            FromTab::Action { id, name, args } => {
                self.on_action(now, port, id, name.into_owned(), args.map(Raw::trusted))
            }
            FromTab::Result { id, ok, error } => self.on_result(port, id, ok, error),
            FromTab::Close => self.tab_gone(port, Gone::Closed),
            FromTab::Pong { .. } => {}
        }
    }

    pub(super) fn is_real(&self, port: PortId, epoch: u64) -> bool {
        self.real.is_some_and(|r| r.port == port) && epoch == self.epoch
    }

    pub(super) fn status(&self, port: PortId) -> Option<Status> {
        self.tabs.get(&port).map(|t| t.status)
    }

    fn on_hello(&mut self, now: Instant, port: PortId, hello: Hello<'_>) {
        if hello.v != PROTOCOL_VERSION {
            let msg =
                format!("protocol version {} not spoken; this worker speaks {PROTOCOL_VERSION}", hello.v);
            return self.error(port, ErrorCode::Version, &msg, None);
        }
        let order = self.next_order;
        self.next_order += 1;
        let Some(tab) = self.tabs.get_mut(&port) else { return };
        let first = tab.status == Status::Connected;
        tab.status = Status::Live;
        tab.visible = hello.visible;
        if first {
            tab.joined = order;
            self.out.push_back(super::Output::WatchTab { port, lock: tab_lock_name(&hello.tab) });
        }
        if hello.focused {
            tab.focus_order = order;
        }
        let welcome = ToTab::Welcome {
            v: PROTOCOL_VERSION,
            worker: self.worker_lock.clone().into(),
            tabs: self.live_count(),
            max: self.config.max_message_bytes,
        };
        self.send(port, &welcome);
        if let Some(claim) = hello.claim {
            return self.on_claim(port, claim);
        }
        if hello.rejoin && !self.restarted && self.real.is_none() {
            // A restarted worker: give the old real time to rejoin with its claim.
            self.restarted = true;
            self.timers.grace = Some(now + self.config.rejoin_grace);
        }
        self.broadcast_tabs();
        if let Some(r) = self.real.filter(|r| self.status(r.port) == Some(Status::Lost)) {
            // The real is silent (frozen) and kept only for want of another tab.
            self.real_lost(r.port, true);
            if self.real.is_some_and(|r| r.port == port) {
                return;
            }
        }
        if self.real.is_none() && self.timers.grace.is_none() {
            self.promote();
        } else {
            self.send_dummy(port);
        }
    }

    fn on_claim(&mut self, port: PortId, claim: Claim<'_>) {
        self.broadcast_tabs();
        // The claimant holds the real lock; a candidate that has not taken
        // it yet (it cannot: the claimant has it) yields.
        let accept = match self.real {
            None => true,
            Some(r) => r.port == port || !r.claimed,
        };
        if !accept {
            return self.send_dummy(port);
        }
        if let Some(r) = self.real.take() {
            if r.port != port {
                self.send(r.port, &ToTab::Role { role: Role::Dummy, epoch: claim.epoch, steal: false });
            }
        }
        self.timers.grace = None;
        self.epoch = self.epoch.max(claim.epoch);
        self.real = Some(Real { port, claimed: true });
        self.steal = false;
        self.send(port, &ToTab::Role { role: Role::Real, epoch: self.epoch, steal: false });
        self.publish(claim.state, false);
        self.forward_queued();
    }

    fn on_focus(&mut self, port: PortId, visible: bool, focused: bool) {
        let order = self.next_order;
        self.next_order += 1;
        if let Some(tab) = self.tabs.get_mut(&port) {
            tab.visible = visible;
            if focused {
                tab.focus_order = order;
            }
        }
    }

    fn on_claimed(&mut self, port: PortId, epoch: u64) {
        if self.is_real(port, epoch) {
            if let Some(r) = self.real.as_mut() {
                r.claimed = true;
            }
            self.steal = false;
            // Confirm: the tab starts the real client on this message.
            self.send(port, &ToTab::Role { role: Role::Real, epoch, steal: false });
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
