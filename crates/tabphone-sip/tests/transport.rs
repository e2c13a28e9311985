//! Transport policy scenarios on a fake clock.
use std::time::Duration;

use tabphone_sip::transport::{
    Cause, Server, SocketEvent, State, Transport, TransportConfig, TransportEvent, TransportOutput,
};
use tabphone_sip::Instant;

struct Clock {
    now: Instant,
    t: Transport,
    log: Vec<(Duration, TransportOutput)>,
    start: Instant,
}

impl Clock {
    fn new(config: TransportConfig) -> Clock {
        let now = Instant::now();
        Clock { now, start: now, t: Transport::new(config), log: Vec::new() }
    }

    fn drain(&mut self) -> Vec<TransportOutput> {
        let out: Vec<_> = std::iter::from_fn(|| self.t.poll_output()).collect();
        for o in &out {
            self.log.push((self.now - self.start, o.clone()));
        }
        out
    }

    /// Jump to each deadline up to `d` from now (a fake clock).
    fn advance(&mut self, d: Duration) -> Vec<TransportOutput> {
        let end = self.now + d;
        let mut out = Vec::new();
        while let Some(t) = self.t.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.t.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = end;
        out
    }

    /// Fail the current attempt now, then jump to the next deadline; repeat.
    fn fail_attempts(&mut self, n: usize) -> Vec<TransportOutput> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.extend(self.socket(SocketEvent::Closed));
            if let Some(t) = self.t.poll_timeout() {
                let d = t.saturating_duration_since(self.now);
                out.extend(self.advance(d));
            }
        }
        out
    }

    fn socket(&mut self, e: SocketEvent) -> Vec<TransportOutput> {
        self.t.handle_socket(self.now, e);
        self.drain()
    }

    fn connects(&self) -> Vec<(u64, String)> {
        self.log
            .iter()
            .filter_map(|(at, o)| match o {
                TransportOutput::Connect { url } => Some((at.as_millis() as u64, url.clone())),
                _ => None,
            })
            .collect()
    }
}

fn servers(list: &[(&str, u32)]) -> Vec<Server> {
    list.iter().map(|(u, w)| Server { url: (*u).into(), weight: *w }).collect()
}

fn config(list: &[(&str, u32)]) -> TransportConfig {
    TransportConfig { servers: servers(list), ..TransportConfig::default() }
}

#[test]
fn connects_to_the_heaviest_server_and_reports_it() {
    let mut c = Clock::new(config(&[("wss://b", 1), ("wss://a", 5)]));
    c.t.start(c.now);
    let out = c.drain();
    assert_eq!(out[1], TransportOutput::Connect { url: "wss://a".into() });
    assert_eq!(c.t.state(), State::Connecting);
    let out = c.socket(SocketEvent::Opened);
    assert_eq!(
        out,
        vec![TransportOutput::Event(TransportEvent::Connected { url: "wss://a".into(), recovered: false })]
    );
    assert_eq!(c.t.state(), State::Open);
    assert_eq!(c.t.poll_timeout(), None, "no keepalive by default, nothing to wait for");
}

#[test]
fn ties_are_broken_at_random_but_deterministically() {
    let first = |seed| {
        let mut c =
            Clock::new(TransportConfig { seed, ..config(&[("wss://x", 1), ("wss://y", 1), ("wss://z", 1)]) });
        c.t.start(c.now);
        c.drain();
        c.connects()[0].1.clone()
    };
    let picks: std::collections::BTreeSet<String> = (1..40).map(first).collect();
    assert!(picks.len() > 1, "random among ties: {picks:?}");
    assert_eq!(first(7), first(7), "same seed, same choice");
}

#[test]
fn retries_then_moves_on_then_recovers_with_backoff() {
    let mut c =
        Clock::new(TransportConfig { recovery_jitter: 0.0, ..config(&[("wss://a", 2), ("wss://b", 1)]) });
    c.t.start(c.now);
    c.drain();
    c.fail_attempts(9);
    let connects = c.connects();
    let expected = [
        (0, "wss://a"),    // first attempt
        (0, "wss://a"),    // first retry at once
        (4000, "wss://a"), // then every 4 s
        (8000, "wss://a"), // third retry; then a is marked in error
        (8000, "wss://b"), // the next server at once
        (8000, "wss://b"),
        (12000, "wss://b"),
        (16000, "wss://b"),
        (18000, "wss://a"), // every server failed: recovery after 2 s, marks cleared
    ];
    let got: Vec<(u64, &str)> = connects.iter().take(expected.len()).map(|(t, u)| (*t, u.as_str())).collect();
    assert_eq!(got, expected);
    let delays: Vec<Duration> = c
        .log
        .iter()
        .filter_map(|(_, o)| match o {
            TransportOutput::Event(TransportEvent::RecoveryError { retry_in }) => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(delays[0], Duration::from_secs(2));
}

#[test]
fn recovery_delays_double_to_the_cap_with_jitter() {
    let mut c = Clock::new(TransportConfig {
        max_reconnection_attempts: 0,
        recovery_jitter: 0.5,
        ..config(&[("wss://a", 1)])
    });
    c.t.start(c.now);
    c.drain();
    let delays: Vec<Duration> = c
        .fail_attempts(10)
        .into_iter()
        .filter_map(|o| match o {
            TransportOutput::Event(TransportEvent::RecoveryError { retry_in }) => Some(retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 10);
    for (n, d) in delays.iter().enumerate() {
        let base = Duration::from_secs(2).saturating_mul(1 << n).min(Duration::from_secs(60));
        assert!(*d <= base && *d >= base / 2, "round {n}: {d:?} outside [{:?}, {base:?}]", base / 2);
    }
}

#[test]
fn a_connection_that_never_opens_times_out() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.start(c.now);
    c.drain();
    let out = c.advance(Duration::from_secs(5));
    assert_eq!(out[0], TransportOutput::Close);
    assert_eq!(out[1], TransportOutput::Event(TransportEvent::Disconnected { cause: Cause::ConnectTimeout }));
    assert!(out.contains(&TransportOutput::Connect { url: "wss://a".into() }), "retried at once: {out:?}");
}

#[test]
fn stop_is_never_undone_and_start_never_doubles() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.start(c.now);
    c.t.start(c.now);
    c.drain();
    assert_eq!(c.connects().len(), 1, "one attempt at a time");
    c.socket(SocketEvent::Opened);
    c.t.stop();
    assert_eq!(c.drain(), vec![TransportOutput::Close]);
    c.socket(SocketEvent::Closed);
    assert_eq!(c.t.state(), State::Closed);
    c.advance(Duration::from_secs(600));
    assert_eq!(c.connects().len(), 1, "a deliberate stop is not retried");
}

#[test]
fn a_dropped_connection_reconnects_and_says_recovered() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.start(c.now);
    c.drain();
    c.socket(SocketEvent::Opened);
    let out = c.socket(SocketEvent::Closed);
    assert_eq!(out[0], TransportOutput::Event(TransportEvent::Disconnected { cause: Cause::SocketClosed }));
    c.advance(Duration::ZERO);
    let out = c.socket(SocketEvent::Opened);
    assert_eq!(
        out,
        vec![TransportOutput::Event(TransportEvent::Connected { url: "wss://a".into(), recovered: true })]
    );
}

#[test]
fn a_first_connection_after_failed_attempts_is_not_a_recovery() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.start(c.now);
    c.drain();
    c.socket(SocketEvent::Closed);
    c.advance(Duration::ZERO);
    let out = c.socket(SocketEvent::Opened);
    assert_eq!(
        out,
        vec![TransportOutput::Event(TransportEvent::Connected { url: "wss://a".into(), recovered: false })]
    );
    // Once it has worked, a loss and a failed retry end in a recovery.
    c.socket(SocketEvent::Closed);
    c.advance(Duration::ZERO);
    c.socket(SocketEvent::Closed);
    c.advance(Duration::from_secs(4));
    let out = c.socket(SocketEvent::Opened);
    assert_eq!(
        out,
        vec![TransportOutput::Event(TransportEvent::Connected { url: "wss://a".into(), recovered: true })]
    );
}

#[test]
fn backup_proxy_applies_on_the_next_connect() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.set_backup(Some("wss://backup".into()));
    c.t.start(c.now);
    c.drain();
    c.socket(SocketEvent::Opened);
    c.t.use_backup(true);
    assert!(c.drain().is_empty(), "not before the next connect");
    c.t.restart(c.now);
    c.drain();
    assert_eq!(c.connects().last().map(|(_, u)| u.as_str()), Some("wss://backup"));
}

#[test]
fn keepalive_pings_and_a_missing_pong_starts_recovery() {
    let mut c = Clock::new(TransportConfig {
        keepalive_interval: Duration::from_secs(30),
        keepalive_debounce: Duration::from_secs(10),
        pong_timeout: Duration::from_secs(5),
        ..config(&[("wss://a", 1)])
    });
    c.t.start(c.now);
    c.drain();
    c.socket(SocketEvent::Opened);
    let out = c.advance(Duration::from_secs(30));
    assert_eq!(out, vec![TransportOutput::Send("\r\n\r\n")]);
    c.socket(SocketEvent::Received { is_pong: true });
    let out = c.advance(Duration::from_secs(30));
    assert_eq!(out, vec![TransportOutput::Send("\r\n\r\n")], "answered: no teardown");
    let out = c.advance(Duration::from_secs(5));
    assert_eq!(out[0], TransportOutput::Close, "{out:?}");
    assert_eq!(out[1], TransportOutput::Event(TransportEvent::Disconnected { cause: Cause::NoPong }));
    assert!(out.contains(&TransportOutput::Connect { url: "wss://a".into() }));
}

#[test]
fn gives_up_after_the_configured_recovery_rounds() {
    let mut c = Clock::new(TransportConfig {
        max_reconnection_attempts: 0,
        max_recovery_rounds: Some(2),
        ..config(&[("wss://a", 1)])
    });
    c.t.start(c.now);
    c.drain();
    let out = c.fail_attempts(5);
    let failed = out.contains(&TransportOutput::Event(TransportEvent::RecoveryFailed));
    assert!(failed);
    assert_eq!(c.connects().len(), 3, "first attempt and two recovery rounds");
}

#[test]
fn start_while_closing_connects_once_the_old_socket_is_gone() {
    let mut c = Clock::new(config(&[("wss://a", 1)]));
    c.t.start(c.now);
    c.drain();
    c.socket(SocketEvent::Opened);
    c.t.stop();
    c.t.start(c.now);
    assert_eq!(c.drain(), vec![TransportOutput::Close], "not while the old socket closes");
    c.socket(SocketEvent::Closed);
    assert_eq!(c.connects().len(), 2);
    assert_eq!(c.t.state(), State::Connecting);
}
