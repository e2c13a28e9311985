//! Actions between their arrival and their one answer: a bounded queue while
//! no real holds its lock, then in flight to the real.
//!
//! Every action gets a worker-wide id on arrival and a deadline of arrival +
//! timeout, so ids and deadlines grow together. Queued and in-flight actions
//! are kept in one list in arrival order (a queued one only moves in flight,
//! in order): the earliest deadline is always at its front.
use std::time::Duration;

use web_time::Instant;

use super::PortId;
use crate::protocol::{ErrorCode, ToTab};

/// Who gets the answer: the asking port and its own action id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub from: PortId,
    pub id: u64,
}

#[derive(Debug)]
struct Entry {
    fwd: u64,
    answer: Answer,
    /// Where it went; `None` while queued.
    to: Option<PortId>,
    /// The `action` message for the real (written on arrival, when its
    /// worker id is known), taken when it is forwarded.
    text: String,
    deadline: Instant,
}

/// Which actions [`Actions::remove_where`] removes (one copy of its loop,
/// where a closure per caller costs the wasm a copy each).
#[derive(Clone, Copy)]
enum Which {
    /// In flight to this port.
    InFlightTo(PortId),
    /// Asked by this port.
    From(PortId),
    /// Due by this instant.
    DueBy(Instant),
    /// This forward id, answered by this port (the one it went to).
    Answered(u64, PortId),
}

#[derive(Debug)]
pub(crate) struct Actions {
    max_queued: usize,
    timeout: Duration,
    next_fwd: u64,
    /// Queued and in flight, in arrival order (a plain `Vec`: it is short;
    /// a `VecDeque` or a map per state costs wasm).
    all: Vec<Entry>,
}

impl Actions {
    pub fn new(max_queued: usize, timeout: Duration) -> Self {
        Actions { max_queued, timeout, next_fwd: 1, all: Vec::new() }
    }

    /// Queue an action; refused when the queue is full.
    pub fn admit(
        &mut self,
        now: Instant,
        from: PortId,
        id: u64,
        name: &str,
        args: Option<&str>,
    ) -> Result<(), ErrorCode> {
        let mut queued = 0;
        for e in &self.all {
            queued += usize::from(e.to.is_none());
        }
        if queued >= self.max_queued {
            return Err(ErrorCode::QueueFull);
        }
        let fwd = self.next_fwd;
        self.next_fwd += 1;
        let deadline = now + self.timeout;
        let text = ToTab::Action { id: fwd, name: name.into(), args }.to_text();
        self.all.push(Entry { fwd, answer: Answer { from, id }, to: None, text, deadline });
        Ok(())
    }

    /// Move the oldest queued action in flight to `to`; its `action` message.
    pub fn forward_next(&mut self, to: PortId) -> Option<String> {
        let e = self.all.iter_mut().find(|e| e.to.is_none())?;
        e.to = Some(to);
        Some(std::mem::take(&mut e.text))
    }

    /// The answer address of in-flight action `fwd`, if `port` is where it went.
    pub fn complete(&mut self, fwd: u64, port: PortId) -> Option<Answer> {
        // At most one (forward ids are unique); by the one removal loop: a
        // `position` costs the wasm a copy of its own.
        self.remove_where(Which::Answered(fwd, port)).first().copied()
    }

    /// Every action in flight to `to`, removed.
    pub fn fail_in_flight(&mut self, to: PortId) -> Vec<Answer> {
        self.remove_where(Which::InFlightTo(to))
    }

    /// Drop everything asked by `from` (it is gone; no one to answer).
    pub fn forget_from(&mut self, from: PortId) {
        self.remove_where(Which::From(from));
    }

    /// Remove and return every action past its deadline, in arrival order
    /// (those in flight are older than those queued).
    pub fn expire(&mut self, now: Instant) -> Vec<Answer> {
        self.remove_where(Which::DueBy(now))
    }

    /// Remove the actions `which` names; their answer addresses, in order.
    fn remove_where(&mut self, which: Which) -> Vec<Answer> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.all.len() {
            let e = &self.all[i];
            let hit = match which {
                Which::InFlightTo(to) => e.to == Some(to),
                Which::From(from) => e.answer.from == from,
                Which::DueBy(now) => e.deadline <= now,
                Which::Answered(fwd, to) => e.fwd == fwd && e.to == Some(to),
            };
            match hit {
                true => out.push(self.all.remove(i).answer),
                false => i += 1,
            }
        }
        out
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.all.first().map(|e| e.deadline)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.all.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_bounded_and_expires_in_order() {
        let t0 = Instant::now();
        let mut a = Actions::new(2, Duration::from_secs(1));
        a.admit(t0, PortId(1), 1, "x", Some("[1]")).unwrap();
        a.admit(t0 + Duration::from_millis(10), PortId(1), 2, "y", None).unwrap();
        assert_eq!(a.admit(t0, PortId(1), 3, "z", None), Err(ErrorCode::QueueFull));
        let text = a.forward_next(PortId(9)).unwrap();
        assert_eq!(text, r#"{"t":"action","id":1,"name":"x","args":[1]}"#, "the worker's id");
        assert_eq!(a.next_deadline(), Some(t0 + Duration::from_secs(1)));
        let gone = a.expire(t0 + Duration::from_secs(1));
        assert_eq!(gone, vec![Answer { from: PortId(1), id: 1 }]);
        assert_eq!(a.len(), 1);
        assert_eq!(a.complete(1, PortId(9)), None, "already answered by the timeout");
    }

    #[test]
    fn in_flight_actions_neither_fill_the_queue_nor_go_out_twice() {
        let t0 = Instant::now();
        let mut a = Actions::new(1, Duration::from_secs(1));
        a.admit(t0, PortId(1), 1, "x", None).unwrap();
        assert_eq!(a.forward_next(PortId(9)).as_deref(), Some(r#"{"t":"action","id":1,"name":"x"}"#));
        // Action 1 is in flight at the front: the queue is empty again.
        a.admit(t0, PortId(1), 2, "y", None).unwrap();
        assert_eq!(a.admit(t0, PortId(1), 3, "z", None), Err(ErrorCode::QueueFull));
        let text = a.forward_next(PortId(9)).unwrap();
        assert_eq!(
            text, r#"{"t":"action","id":2,"name":"y"}"#,
            "the first queued one, behind the one in flight"
        );
        assert_eq!(a.forward_next(PortId(9)), None, "nothing left queued");
    }

    #[test]
    fn queued_and_in_flight_actions_expire_together_in_arrival_order() {
        let t0 = Instant::now();
        let mut a = Actions::new(8, Duration::from_secs(1));
        for id in 1..=3 {
            a.admit(t0, PortId(id), id, "x", None).unwrap();
        }
        a.forward_next(PortId(9)).unwrap();
        let gone = a.expire(t0 + Duration::from_secs(1));
        let ids: Vec<u64> = gone.iter().map(|g| g.id).collect();
        assert_eq!(ids, [1, 2, 3], "the one in flight (1) first, then the queued ones");
        assert_eq!(a.len(), 0);
    }

    #[test]
    fn complete_only_from_the_port_it_went_to() {
        let t0 = Instant::now();
        let mut a = Actions::new(8, Duration::from_secs(1));
        a.admit(t0, PortId(1), 5, "x", None).unwrap();
        a.forward_next(PortId(2)).unwrap();
        // The worker's id of the first action is 1.
        assert_eq!(a.complete(1, PortId(3)), None);
        assert_eq!(a.complete(1, PortId(2)), Some(Answer { from: PortId(1), id: 5 }));
        assert_eq!(a.len(), 0);
    }
}
