//! Random inputs to the user agent: server bytes (garbage, mutated RFC 4475
//! messages, plausible answers), app commands, socket events and time.
//! Never a panic; every message it sends parses; timers always move forward;
//! and nothing is lost silently: every `Call` command is refused with an error,
//! ends with an `Ended` event, or is still a call the agent knows; every
//! `Message` gets exactly one `MessageResult` once Timer F has passed.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use proptest::prelude::*;
use tabphone_sip::msg;
use tabphone_sip::testing::{read_sent, Sent};
use tabphone_sip::ua::{CallId, Command, Event, Input, Output, UserAgent};
use tabphone_sip::Instant;

#[derive(Debug, Clone)]
enum Op {
    Garbage(Vec<u8>),
    Mutated(usize, Vec<(usize, u8)>),
    Answer(usize, u16),
    Cmd(u8, u64),
    Opened,
    Closed,
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(Op::Garbage),
        (0usize..49, proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4))
            .prop_map(|(i, m)| Op::Mutated(i, m)),
        (
            any::<usize>(),
            prop_oneof![Just(100u16), Just(180), Just(200), Just(401), Just(407), Just(486), Just(423)]
        )
            .prop_map(|(i, s)| Op::Answer(i, s)),
        (0u8..15, 1u64..4).prop_map(|(c, id)| Op::Cmd(c, id)),
        Just(Op::Opened),
        Just(Op::Closed),
        (0u64..40_000).prop_map(Op::Wait),
    ]
}

fn command(c: u8, id: u64) -> Command {
    let call = CallId(id);
    let sdp = common::harness::OFFER.to_string();
    match c {
        0 => Command::Start,
        1 => Command::Stop,
        2 => Command::Register,
        3 => Command::Unregister,
        4 => Command::Call { call, target: "bob".into(), sdp },
        5 => Command::Answer { call, sdp },
        6 => Command::Reject { call, status: 486 },
        7 => Command::Hangup { call },
        8 => Command::Reinvite { call, sdp },
        9 => Command::Hold { call, sdp },
        10 => Command::AnswerReoffer { call, sdp },
        11 => Command::Refer { call, target: "carol".into(), replaces: Some(CallId(id % 3 + 1)) },
        12 => Command::Dtmf { call, digits: "12#".into(), duration_ms: 100 },
        14 => Command::Message {
            id,
            target: "bob".into(),
            content_type: "text/plain".into(),
            body: "hi".into(),
        },
        _ => Command::Reconnect,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_sends_only_wellformed_messages(ops in proptest::collection::vec(op(), 1..60)) {
        let corpus = common::corpus();
        let mut ua = UserAgent::new(common::harness::config());
        let mut now = Instant::now();
        let mut sent: Vec<msg::Request> = Vec::new();
        // Calls placed and not yet refused or ended.
        let mut placed: Vec<CallId> = Vec::new();
        // MESSAGE commands sent and results received, per id (ids made unique below).
        let (mut messages, mut results) = (Vec::new(), Vec::new());
        let mut next_message = 0u64;
        ua.handle_input(now, Input::Command(Command::Start));
        for op in ops {
            match op {
                Op::Garbage(b) => ua.handle_input(now, Input::Received(&b)),
                Op::Mutated(i, muts) => {
                    let mut b = corpus[i].2.clone();
                    for (at, byte) in muts {
                        if !b.is_empty() {
                            let n = b.len();
                            b[at % n] = byte;
                        }
                    }
                    ua.handle_input(now, Input::Received(&b));
                }
                Op::Answer(i, status) => {
                    if !sent.is_empty() {
                        let req = &sent[i % sent.len()];
                        let text = common::harness::response_text(req, status, Some("t"), &[
                            ("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", qop=\"auth\""),
                            ("Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n\""),
                            ("Contact", "<sip:bob@10.0.0.2>"),
                            ("Min-Expires", "900"),
                        ], "");
                        ua.handle_input(now, Input::Received(text.as_bytes()));
                    }
                }
                Op::Cmd(c, id) => {
                    if c == 4 && !placed.contains(&CallId(id)) && ua.call_state(CallId(id)).is_none() {
                        placed.push(CallId(id));
                    }
                    let id = if c == 14 {
                        next_message += 1;
                        messages.push(next_message);
                        next_message
                    } else {
                        id
                    };
                    ua.handle_input(now, Input::Command(command(c, id)))
                }
                Op::Opened => ua.handle_input(now, Input::Opened),
                Op::Closed => ua.handle_input(now, Input::Closed),
                Op::Wait(ms) => {
                    let end = now + Duration::from_millis(ms);
                    let mut steps = 0;
                    while let Some(t) = ua.poll_timeout() {
                        if t > end { break; }
                        now = now.max(t);
                        ua.handle_input(now, Input::Timeout);
                        steps += 1;
                        prop_assert!(steps < 10_000, "timers do not move forward");
                    }
                    now = end;
                }
            }
            let mut refused = false;
            while let Some(o) = ua.poll_output() {
                match &o {
                    Output::Event(Event::Ended { call, .. }) => placed.retain(|c| c != call),
                    Output::Event(Event::Error { .. }) => refused = true,
                    Output::Event(Event::MessageResult { id, .. }) => results.push(*id),
                    _ => {}
                }
                if let Output::Send(text) = o {
                    match read_sent(&text) {
                        Ok(Sent::Message(msg::Message::Request(r))) => {
                            sent.push(r);
                            if sent.len() > 50 { sent.remove(0); }
                        }
                        Ok(_) => {}
                        Err(e) => prop_assert!(false, "{}", e),
                    }
                }
            }
            for call in placed.clone() {
                if ua.call_state(call).is_none() {
                    // Gone without an Ended: only a refusal (an Error) may explain it.
                    prop_assert!(refused, "call {call:?} vanished without an event");
                    placed.retain(|c| *c != call);
                }
            }
        }
        // Past Timer F, every MESSAGE has its one result.
        let end = now + Duration::from_secs(40);
        while let Some(t) = ua.poll_timeout() {
            if t > end { break; }
            now = now.max(t);
            ua.handle_input(now, Input::Timeout);
            while let Some(o) = ua.poll_output() {
                if let Output::Event(Event::MessageResult { id, .. }) = o {
                    results.push(id);
                }
            }
        }
        results.sort_unstable();
        prop_assert_eq!(&results, &messages, "one MessageResult per MESSAGE");
    }
}
