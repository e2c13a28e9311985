//! Non-trickle ICE gathering: the [`GatheringPolicy`] as a pure decision
//! ([`Gathering`], tested natively) and the browser wait around it.
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::time::Duration;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionIceEvent};
use web_time::Instant;

use super::{GatheringPolicy, MediaError};
use crate::listen::Listener;
use crate::timer::Timer;

/// Why gathering ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringEnd {
    /// The browser said `complete`.
    Complete,
    /// `settle_ms` passed after the first useful candidate.
    Settled,
    /// `max_ms` passed (with some candidates).
    Cap,
}

/// How one gathering went: what the policy saved shows in `elapsed` against
/// a `wait_for_complete` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatheringReport {
    /// From the start (just before `setLocalDescription`) to the end.
    pub elapsed: Duration,
    /// When the first useful candidate came, from the start.
    pub first_useful: Option<Duration>,
    /// Candidates the browser surfaced in this gathering.
    pub candidates: u32,
    /// Why it ended.
    pub end: GatheringEnd,
}

/// The policy's decision, fed with candidates and the clock.
#[derive(Debug, Clone)]
pub(crate) struct Gathering {
    policy: GatheringPolicy,
    need_server: bool,
    started: Instant,
    first_useful: Option<Instant>,
    candidates: u32,
}

impl Gathering {
    /// A gathering starting `now`; `need_server` when ICE servers are configured.
    pub(crate) fn new(policy: GatheringPolicy, need_server: bool, now: Instant) -> Gathering {
        Gathering { policy, need_server, started: now, first_useful: None, candidates: 0 }
    }

    /// A candidate surfaced (its `candidate:` line).
    pub(crate) fn on_candidate(&mut self, now: Instant, line: &str) {
        self.candidates += 1;
        if self.first_useful.is_none() && useful(line, self.need_server) {
            self.first_useful = Some(now);
        }
    }

    /// When the decision may change with no new candidate.
    pub(crate) fn deadline(&self) -> Instant {
        let cap = self.started + Duration::from_millis(self.policy.max_ms.into());
        match self.first_useful {
            Some(at) if !self.policy.wait_for_complete => {
                cap.min(at + Duration::from_millis(self.policy.settle_ms.into()))
            }
            _ => cap,
        }
    }

    /// Whether gathering is over: `complete` is the browser's state, `usable`
    /// whether the local description holds a candidate. `Err` when the cap
    /// passed with nothing usable.
    pub(crate) fn end(
        &self,
        now: Instant,
        complete: bool,
        usable: bool,
    ) -> Option<Result<GatheringReport, MediaError>> {
        let end = if complete && usable {
            GatheringEnd::Complete
        } else if now >= self.deadline() && now < self.cap() {
            GatheringEnd::Settled
        } else if now >= self.cap() {
            GatheringEnd::Cap
        } else {
            return None;
        };
        if !usable {
            let waited_ms = now.saturating_duration_since(self.started).as_millis() as u32;
            return Some(Err(MediaError::NoCandidates { waited_ms }));
        }
        Some(Ok(GatheringReport {
            elapsed: now.saturating_duration_since(self.started),
            first_useful: self.first_useful.map(|at| at.saturating_duration_since(self.started)),
            candidates: self.candidates,
            end,
        }))
    }

    fn cap(&self) -> Instant {
        self.started + Duration::from_millis(self.policy.max_ms.into())
    }
}

/// Whether a `candidate:` line (RFC 8839 section 5.1) is enough to stop
/// waiting soon: UDP, and server-reflexive or relay when servers are configured.
fn useful(line: &str, need_server: bool) -> bool {
    let line = line.strip_prefix("a=").unwrap_or(line);
    // The third field (the transport), and the one after the first `typ`.
    let (mut udp, mut kind, mut typ_seen) = (false, None, false);
    for (i, field) in line.split_ascii_whitespace().enumerate() {
        if i == 2 {
            udp = field.eq_ignore_ascii_case("udp");
        }
        if typ_seen && kind.is_none() {
            kind = Some(field);
        }
        typ_seen |= field == "typ";
    }
    let kind_ok = match kind {
        Some(k) if need_server => k == "srflx" || k == "relay",
        Some(_) => true,
        None => false,
    };
    udp && kind_ok
}

/// The browser side of one gathering, shared by its listeners and its timer.
struct Wait {
    state: Gathering,
    pc: RtcPeerConnection,
    resolve: Option<Function>,
    outcome: Option<Result<GatheringReport, MediaError>>,
    timer: Option<Timer>,
}

/// Run `set_local` (the `setLocalDescription` that starts gathering) and wait
/// until gathering is good enough by `policy`. Listening starts before
/// `set_local`, so no early candidate is missed.
pub(crate) async fn gather(
    pc: &RtcPeerConnection,
    policy: GatheringPolicy,
    need_server: bool,
    set_local: impl Future<Output = Result<(), MediaError>>,
) -> Result<GatheringReport, MediaError> {
    let mut slot = None;
    let done = Promise::new(&mut |resolve, _| slot = Some(resolve));
    let wait = Rc::new(RefCell::new(Wait {
        state: Gathering::new(policy, need_server, Instant::now()),
        pc: pc.clone(),
        resolve: slot,
        outcome: None,
        timer: None,
    }));
    let weak = Rc::downgrade(&wait);
    wait.borrow_mut().timer = Some(Timer::new(move || check(&weak)));
    let target: &web_sys::EventTarget = pc.as_ref();
    let weak = Rc::downgrade(&wait);
    let _candidates = Listener::new(target, "icecandidate", move |e| {
        let e = e.unchecked_into::<RtcPeerConnectionIceEvent>();
        let line = e.candidate().map(|c| c.candidate()).filter(|l| !l.is_empty());
        if let (Some(line), Some(rc)) = (line, weak.upgrade()) {
            rc.borrow_mut().state.on_candidate(Instant::now(), &line);
        }
        check(&weak);
    });
    let weak = Rc::downgrade(&wait);
    let _state = Listener::new(target, "icegatheringstatechange", move |_| check(&weak));
    set_local.await?;
    check(&Rc::downgrade(&wait));
    // The promise only resolves (never rejects); the outcome is in `wait`.
    let _ = super::settle(done).await;
    let outcome = wait.borrow_mut().outcome.take();
    outcome.unwrap_or(Err(MediaError::Closed))
}

/// Decide now; resolve the wait when over, else re-arm the timer.
fn check(weak: &Weak<RefCell<Wait>>) {
    let Some(rc) = weak.upgrade() else { return };
    let mut wait = rc.borrow_mut();
    if wait.resolve.is_none() {
        return;
    }
    let complete = wait.pc.ice_gathering_state() == RtcIceGatheringState::Complete;
    let usable = wait.pc.local_description().is_some_and(|d| d.sdp().contains("\na=candidate:"));
    let now = Instant::now();
    match wait.state.end(now, complete, usable) {
        Some(outcome) => {
            wait.outcome = Some(outcome);
            wait.timer = None;
            if let Some(resolve) = wait.resolve.take() {
                drop(wait);
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
        None => {
            let deadline = wait.state.deadline();
            if let Some(timer) = wait.timer.as_mut() {
                timer.set(Some(deadline));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "candidate:1 1 udp 2122260223 192.168.1.5 50000 typ host generation 0";
    const TCP: &str = "candidate:2 1 tcp 1518280447 192.168.1.5 9 typ host tcptype active";
    const SRFLX: &str =
        "candidate:3 1 udp 1686052607 203.0.113.7 50000 typ srflx raddr 192.168.1.5 rport 50000";

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn usefulness_by_protocol_and_type() {
        assert!(useful(HOST, false));
        assert!(useful(&format!("a={HOST}"), false));
        assert!(!useful(TCP, false));
        assert!(!useful(HOST, true), "a host candidate alone is not enough with ICE servers");
        assert!(useful(SRFLX, true));
        assert!(!useful("candidate:garbage", false));
    }

    #[test]
    fn settles_after_the_first_udp_candidate() {
        let t0 = Instant::now();
        let mut g = Gathering::new(GatheringPolicy::default(), false, t0);
        g.on_candidate(t0 + ms(2), TCP);
        assert_eq!(g.deadline(), t0 + ms(2000), "a TCP candidate does not start the settle time");
        g.on_candidate(t0 + ms(5), HOST);
        assert_eq!(g.deadline(), t0 + ms(15));
        assert!(g.end(t0 + ms(14), false, true).is_none());
        let report = g.end(t0 + ms(15), false, true).expect("over").expect("usable");
        assert_eq!(report.end, GatheringEnd::Settled);
        assert_eq!(report.first_useful, Some(ms(5)));
        assert_eq!(report.candidates, 2);
        assert_eq!(report.elapsed, ms(15));
    }

    #[test]
    fn complete_ends_at_once_and_waiting_for_it_ignores_settling() {
        let t0 = Instant::now();
        let policy = GatheringPolicy { wait_for_complete: true, ..GatheringPolicy::default() };
        let mut g = Gathering::new(policy, false, t0);
        g.on_candidate(t0 + ms(5), HOST);
        assert!(g.end(t0 + ms(100), false, true).is_none());
        let report = g.end(t0 + ms(130), true, true).expect("over").expect("usable");
        assert_eq!(report.end, GatheringEnd::Complete);
    }

    #[test]
    fn the_cap_ends_it_and_nothing_usable_is_an_error() {
        let t0 = Instant::now();
        let policy = GatheringPolicy { max_ms: 50, ..GatheringPolicy::default() };
        let mut g = Gathering::new(policy, true, t0);
        g.on_candidate(t0 + ms(5), HOST);
        assert!(g.end(t0 + ms(49), false, true).is_none(), "host only: wait for a server candidate");
        let report = g.end(t0 + ms(50), false, true).expect("over").expect("host is usable");
        assert_eq!(report.end, GatheringEnd::Cap);
        let empty = Gathering::new(policy, false, t0);
        assert_eq!(
            empty.end(t0 + ms(50), false, false),
            Some(Err(MediaError::NoCandidates { waited_ms: 50 }))
        );
        assert!(
            empty.end(t0 + ms(10), true, false).is_none(),
            "complete with no candidate: wait for the cap"
        );
    }
}
