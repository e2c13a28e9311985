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
use proptest::test_runner::TestCaseError;
use tabphone_sip::msg;
use tabphone_sip::testing::{read_sent, Sent};
use tabphone_sip::ua::{CallId, Command, DialogSnapshot, Event, Input, Output, UserAgent};
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
        (0u8..17, 1u64..4).prop_map(|(c, id)| Op::Cmd(c, id)),
        Just(Op::Opened),
        Just(Op::Closed),
        (0u64..40_000).prop_map(Op::Wait),
    ]
}

/// A dialog another agent held (with a route set that does not parse, for id 3).
fn snapshot(id: u64) -> DialogSnapshot {
    DialogSnapshot {
        call_id: format!("resumed-{id}"),
        local_tag: "ours".into(),
        remote_tag: "theirs".into(),
        local_uri: "sip:alice@example.com".into(),
        remote_uri: "sip:bob@example.com".into(),
        local_cseq: 7,
        remote_cseq: Some(3),
        remote_target: "sip:bob@10.0.0.2;transport=ws".into(),
        route_set: vec![if id == 3 { "<sip:p;lr".into() } else { "<sip:p;lr>".into() }],
        outgoing: id.is_multiple_of(2),
    }
}

/// None, one the peer may read, one the agent refuses (it writes Via itself).
fn extra_headers(id: u64) -> Vec<(String, String)> {
    match id % 3 {
        0 => Vec::new(),
        1 => vec![("X-App".into(), "1".into())],
        _ => vec![("Via".into(), "SIP/2.0/WS x.invalid".into())],
    }
}

fn command(c: u8, id: u64) -> Command {
    let call = CallId(id);
    let sdp = common::harness::OFFER.to_string();
    match c {
        0 => Command::Start,
        1 => Command::Stop,
        2 => Command::Register,
        3 => Command::Unregister,
        4 => Command::Call { call, target: "bob".into(), sdp, headers: extra_headers(id) },
        5 => Command::Answer { call, sdp },
        6 => Command::Reject { call, status: 486 },
        7 => Command::Hangup { call },
        8 => Command::Reinvite { call, sdp },
        9 => Command::Hold { call, sdp },
        10 => Command::AnswerReoffer { call, sdp },
        11 => Command::Refer { call, target: "carol".into(), replaces: Some(CallId(id % 3 + 1)) },
        12 => Command::Dtmf { call, digits: "12#".into(), duration_ms: 100 },
        13 => Command::RejectReoffer { call, status: 488 },
        15 => Command::Resume { call, dialog: snapshot(id), sdp },
        14 => Command::Message {
            id,
            target: "bob".into(),
            content_type: "text/plain".into(),
            body: "hi".into(),
        },
        _ => Command::Reconnect,
    }
}

/// One run: the agent, its clock, and what the properties remember.
struct Run {
    corpus: Vec<(String, String, Vec<u8>)>,
    ua: UserAgent,
    now: Instant,
    /// The last requests it sent, to answer.
    sent: Vec<msg::Request>,
    /// Calls placed and not yet refused or ended.
    placed: Vec<CallId>,
    /// MESSAGE commands sent and results received, per id (ids made unique below).
    messages: Vec<u64>,
    results: Vec<u64>,
    next_message: u64,
}

impl Run {
    fn start() -> Run {
        let mut ua = UserAgent::new(common::harness::config());
        let now = Instant::now();
        ua.handle_input(now, Input::Command(Command::Start));
        let (sent, placed, messages, results) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        Run { corpus: common::corpus(), ua, now, sent, placed, messages, results, next_message: 0 }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        let (ua, now) = (&mut self.ua, self.now);
        match op {
            Op::Garbage(b) => ua.handle_input(now, Input::Received(&b)),
            Op::Mutated(i, muts) => {
                let mut b = self.corpus[i].2.clone();
                for (at, byte) in muts {
                    if !b.is_empty() {
                        let n = b.len();
                        b[at % n] = byte;
                    }
                }
                ua.handle_input(now, Input::Received(&b));
            }
            Op::Answer(i, status) => {
                if !self.sent.is_empty() {
                    let req = &self.sent[i % self.sent.len()];
                    let text = common::harness::response_text(
                        req,
                        status,
                        Some("t"),
                        &[
                            ("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", qop=\"auth\""),
                            ("Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n\""),
                            ("Contact", "<sip:bob@10.0.0.2>"),
                            ("Min-Expires", "900"),
                        ],
                        "",
                    );
                    ua.handle_input(now, Input::Received(text.as_bytes()));
                }
            }
            Op::Cmd(c, id) => self.command(c, id),
            Op::Opened => ua.handle_input(now, Input::Opened),
            Op::Closed => ua.handle_input(now, Input::Closed),
            Op::Wait(ms) => self.wait(ms)?,
        }
        Ok(())
    }

    fn command(&mut self, c: u8, id: u64) {
        let places = c == 4 || c == 15;
        if places && !self.placed.contains(&CallId(id)) && self.ua.call_state(CallId(id)).is_none() {
            self.placed.push(CallId(id));
        }
        let id = if c == 14 {
            self.next_message += 1;
            self.messages.push(self.next_message);
            self.next_message
        } else {
            id
        };
        self.ua.handle_input(self.now, Input::Command(command(c, id)))
    }

    fn wait(&mut self, ms: u64) -> Result<(), TestCaseError> {
        let end = self.now + Duration::from_millis(ms);
        let mut steps = 0;
        while let Some(t) = self.ua.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.ua.handle_input(self.now, Input::Timeout);
            steps += 1;
            prop_assert!(steps < 10_000, "timers do not move forward");
        }
        self.now = end;
        Ok(())
    }

    /// The outputs of the last input: every message well-formed, no call gone
    /// without its event.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        let mut refused = false;
        while let Some(o) = self.ua.poll_output() {
            match &o {
                Output::Event(Event::Ended { call, .. }) => self.placed.retain(|c| c != call),
                Output::Event(Event::Error { .. }) => refused = true,
                Output::Event(Event::MessageResult { id, .. }) => self.results.push(*id),
                _ => {}
            }
            if let Output::Send(text) = o {
                match read_sent(&text) {
                    Ok(Sent::Message(msg::Message::Request(r))) => {
                        self.sent.push(r);
                        if self.sent.len() > 50 {
                            self.sent.remove(0);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
        }
        for call in self.placed.clone() {
            if self.ua.call_state(call).is_none() {
                // Gone without an Ended: only a refusal (an Error) may explain it.
                prop_assert!(refused, "call {call:?} vanished without an event");
                self.placed.retain(|c| *c != call);
            }
        }
        Ok(())
    }

    /// Past Timer F, every MESSAGE has its one result.
    fn finish(mut self) -> Result<(), TestCaseError> {
        let end = self.now + Duration::from_secs(40);
        while let Some(t) = self.ua.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.ua.handle_input(self.now, Input::Timeout);
            while let Some(o) = self.ua.poll_output() {
                if let Output::Event(Event::MessageResult { id, .. }) = o {
                    self.results.push(id);
                }
            }
        }
        self.results.sort_unstable();
        prop_assert_eq!(&self.results, &self.messages, "one MessageResult per MESSAGE");
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_sends_only_wellformed_messages(ops in proptest::collection::vec(op(), 1..60)) {
        let mut run = Run::start();
        for op in ops {
            run.apply(op)?;
            run.drain()?;
        }
        run.finish()?;
    }
}
