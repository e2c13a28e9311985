//! Random sequences of app calls, socket events and time against the
//! transport policy: never two sockets at once, a stop is never undone, and
//! a transport that should be connected always has an attempt under way or
//! scheduled (unless recovery was capped).
use std::time::Duration;

use proptest::prelude::*;
use tabphone_sip::transport::{Server, SocketEvent, State, Transport, TransportConfig, TransportOutput};
use tabphone_sip::Instant;

#[derive(Debug, Clone)]
enum Op {
    Start,
    Stop,
    Restart,
    Backup(bool),
    Opened,
    Closed,
    Pong,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Start),
        1 => Just(Op::Stop),
        1 => Just(Op::Restart),
        1 => any::<bool>().prop_map(Op::Backup),
        3 => Just(Op::Opened),
        3 => Just(Op::Closed),
        1 => Just(Op::Pong),
        4 => (0u64..20_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn invariants(ops in prop::collection::vec(op(), 1..80), seed in 1u64..1000) {
        let config = TransportConfig {
            servers: vec![
                Server { url: "wss://a".into(), weight: 2 },
                Server { url: "wss://b".into(), weight: 1 },
                Server { url: "wss://c".into(), weight: 1 },
            ],
            keepalive_interval: Duration::from_secs(15),
            seed,
            ..TransportConfig::default()
        };
        let mut t = Transport::new(config);
        t.set_backup(Some("wss://backup".into()));
        let mut now = Instant::now();
        // The glue's view: is a socket open or opening?
        let mut socket = false;
        let mut stopped = true;
        for op in ops {
            match op {
                Op::Start => { stopped = false; t.start(now) }
                Op::Stop => { stopped = true; t.stop() }
                Op::Restart => { stopped = false; t.restart(now) }
                Op::Backup(on) => t.use_backup(on),
                // The socket only reports on a socket that exists.
                Op::Opened if socket => t.handle_socket(now, SocketEvent::Opened),
                Op::Closed if socket => { socket = false; t.handle_socket(now, SocketEvent::Closed) }
                Op::Pong if socket => t.handle_socket(now, SocketEvent::Received { is_pong: true }),
                Op::Advance(ms) => {
                    let end = now + Duration::from_millis(ms);
                    while let Some(at) = t.poll_timeout().filter(|at| *at <= end) {
                        now = now.max(at);
                        t.handle_timeout(now);
                        for o in std::iter::from_fn(|| t.poll_output()) {
                            check(&o, &mut socket, stopped)?;
                        }
                    }
                    now = end;
                }
                _ => {}
            }
            for o in std::iter::from_fn(|| t.poll_output()) {
                check(&o, &mut socket, stopped)?;
            }
            // The glue reports the end of a socket it was told to close.
            if t.state() == State::Closing {
                t.handle_socket(now, SocketEvent::Closed);
                for o in std::iter::from_fn(|| t.poll_output()) {
                    check(&o, &mut socket, stopped)?;
                }
            }
            if !stopped {
                // Should be connected: something is under way, or scheduled.
                let busy = matches!(t.state(), State::Connecting | State::Open) || t.poll_timeout().is_some();
                prop_assert!(busy, "idle while it should be connected: {:?}", t.state());
            }
        }
    }
}

fn check(o: &TransportOutput, socket: &mut bool, stopped: bool) -> Result<(), TestCaseError> {
    match o {
        TransportOutput::Connect { .. } => {
            prop_assert!(!*socket, "a second socket while one is open");
            prop_assert!(!stopped, "a connect after a deliberate stop");
            *socket = true;
        }
        TransportOutput::Close => *socket = false,
        _ => {}
    }
    Ok(())
}
