//! Actions between their arrival and their one answer: a bounded queue while
//! no real holds its lock, then in flight to the real.
//!
//! Every action gets a worker-wide id on arrival and a deadline of arrival +
//! timeout, so ids and deadlines grow together: the earliest deadline is
//! always at the front of the queue or the first in-flight entry.
use std::time::Duration;

use web_time::Instant;

use super::PortId;
use crate::protocol::{ErrorCode, Raw};
use tabphone_vecmap::VecMap;

/// Who gets the answer: the asking port and its own action id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub from: PortId,
    pub id: u64,
}

#[derive(Debug)]
struct Queued {
    fwd: u64,
    answer: Answer,
    name: String,
    args: Option<Raw>,
    deadline: Instant,
}

#[derive(Debug)]
struct InFlight {
    answer: Answer,
    to: PortId,
    deadline: Instant,
}

#[derive(Debug)]
pub(crate) struct Actions {
    max_queued: usize,
    timeout: Duration,
    next_fwd: u64,
    /// In arrival order (a `Vec`: it is short, and a `VecDeque` costs wasm).
    queue: Vec<Queued>,
    in_flight: VecMap<u64, InFlight>,
}

impl Actions {
    pub fn new(max_queued: usize, timeout: Duration) -> Self {
        Actions { max_queued, timeout, next_fwd: 1, queue: Vec::new(), in_flight: VecMap::new() }
    }

    /// Queue an action; refused when the queue is full.
    pub fn admit(
        &mut self,
        now: Instant,
        from: PortId,
        id: u64,
        name: String,
        args: Option<Raw>,
    ) -> Result<(), ErrorCode> {
        if self.queue.len() >= self.max_queued {
            return Err(ErrorCode::QueueFull);
        }
        let fwd = self.next_fwd;
        self.next_fwd += 1;
        let deadline = now + self.timeout;
        self.queue.push(Queued { fwd, answer: Answer { from, id }, name, args, deadline });
        Ok(())
    }

    /// Move the oldest queued action in flight to `to`; its worker id, name and args.
    pub fn forward_next(&mut self, to: PortId) -> Option<(u64, String, Option<Raw>)> {
        if self.queue.is_empty() {
            return None;
        }
        let q = self.queue.remove(0);
        self.in_flight.insert(q.fwd, InFlight { answer: q.answer, to, deadline: q.deadline });
        Some((q.fwd, q.name, q.args))
    }

    /// The answer address of in-flight action `fwd`, if `port` is where it went.
    pub fn complete(&mut self, fwd: u64, port: PortId) -> Option<Answer> {
        match self.in_flight.get(&fwd) {
            Some(f) if f.to == port => self.in_flight.remove(&fwd).map(|f| f.answer),
            _ => None,
        }
    }

    /// Every action in flight to `to`, removed.
    pub fn fail_in_flight(&mut self, to: PortId) -> Vec<Answer> {
        self.remove_in_flight(to, false)
    }

    /// Drop everything asked by `from` (it is gone; no one to answer).
    pub fn forget_from(&mut self, from: PortId) {
        let mut i = 0;
        while i < self.queue.len() {
            match self.queue[i].answer.from == from {
                true => drop(self.queue.remove(i)),
                false => i += 1,
            }
        }
        self.remove_in_flight(from, true);
    }

    /// Remove the actions in flight to `port` (asked by it, with `asked`).
    fn remove_in_flight(&mut self, port: PortId, asked: bool) -> Vec<Answer> {
        let mut out = Vec::new();
        self.in_flight.retain(|_, f| {
            let hit = port == if asked { f.answer.from } else { f.to };
            if hit {
                out.push(f.answer);
            }
            !hit
        });
        out
    }

    /// Remove and return every action past its deadline.
    pub fn expire(&mut self, now: Instant) -> Vec<Answer> {
        let mut out = Vec::new();
        while self.queue.first().is_some_and(|q| q.deadline <= now) {
            out.push(self.queue.remove(0).answer);
        }
        while let Some((_, f)) = self.in_flight.first().filter(|(_, f)| f.deadline <= now) {
            out.push(f.answer);
            self.in_flight.pop_first();
        }
        out
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let q = self.queue.first().map(|q| q.deadline);
        let f = self.in_flight.first().map(|(_, f)| f.deadline);
        match (q, f) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queue.len() + self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_bounded_and_expires_in_order() {
        let t0 = Instant::now();
        let mut a = Actions::new(2, Duration::from_secs(1));
        a.admit(t0, PortId(1), 1, "x".into(), None).unwrap();
        a.admit(t0 + Duration::from_millis(10), PortId(1), 2, "y".into(), None).unwrap();
        assert_eq!(a.admit(t0, PortId(1), 3, "z".into(), None), Err(ErrorCode::QueueFull));
        let (fwd, name, _) = a.forward_next(PortId(9)).unwrap();
        assert_eq!((fwd, name.as_str()), (1, "x"));
        assert_eq!(a.next_deadline(), Some(t0 + Duration::from_secs(1)));
        let gone = a.expire(t0 + Duration::from_secs(1));
        assert_eq!(gone, vec![Answer { from: PortId(1), id: 1 }]);
        assert_eq!(a.len(), 1);
        assert_eq!(a.complete(1, PortId(9)), None, "already answered by the timeout");
    }

    #[test]
    fn complete_only_from_the_port_it_went_to() {
        let t0 = Instant::now();
        let mut a = Actions::new(8, Duration::from_secs(1));
        a.admit(t0, PortId(1), 5, "x".into(), None).unwrap();
        let (fwd, ..) = a.forward_next(PortId(2)).unwrap();
        assert_eq!(a.complete(fwd, PortId(3)), None);
        assert_eq!(a.complete(fwd, PortId(2)), Some(Answer { from: PortId(1), id: 5 }));
        assert_eq!(a.len(), 0);
    }
}
