//! Property test: random actions (good and bad), network events, media
//! replies (late, failed, missing), SIP answers and requests from the peer.
//! Restarts inherit earlier states (a handover to the same phone).
//! After every input: each state parses, `rev` grows by one, no credentials
//! anywhere the app sees, no call leaves the state without an end cause.
//! At the end (after a stop and the timeouts): every action got exactly one
//! result. And never a panic.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use tabphone_phone::{PhoneEvent, PhoneInput, PhoneState};
use tabphone_sip::msg::{Message, Request};

#[derive(Debug, Clone)]
enum Step {
    /// An action: name index, call pick, argument variant.
    Action(u8, u8, u8),
    /// Answer the phone's n-th outstanding request with a status (index).
    Answer(u8, u8),
    /// bob calls: offer variant.
    Incoming(u8),
    /// bob's request in a dialog: kind, dialog pick, variant.
    InDialog(u8, u8, u8),
    /// bob ACKs one of our 200s.
    Ack(u8),
    /// bob cancels one of his INVITEs.
    Cancel(u8),
    /// The media layer replies to its n-th pending request.
    Media(u8, bool),
    Opened,
    Closed,
    Online,
    Offline,
    Advance(u16),
    /// Stop: unregister, hang up.
    Stop(bool, bool),
    /// Start, inheriting nothing, the last state, an earlier one, a stale or a bad one.
    Start(u8),
    Garbage(Vec<u8>),
    /// A cooperative moment: the socket opens, the media layer replies to
    /// everything, the peer accepts every request and ACKs every 200.
    Settle,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| Step::Action(a, b, c)),
        6 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Step::Answer(a, b)),
        2 => any::<u8>().prop_map(Step::Incoming),
        3 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| Step::InDialog(a, b, c)),
        2 => any::<u8>().prop_map(Step::Ack),
        1 => any::<u8>().prop_map(Step::Cancel),
        6 => (any::<u8>(), prop::bool::weighted(0.85)).prop_map(|(a, b)| Step::Media(a, b)),
        1 => Just(Step::Opened),
        1 => Just(Step::Closed),
        1 => Just(Step::Online),
        1 => Just(Step::Offline),
        2 => (0u16..40_000).prop_map(Step::Advance),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(u, h)| Step::Stop(u, h)),
        2 => any::<u8>().prop_map(Step::Start),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Step::Garbage),
        6 => Just(Step::Settle),
    ]
}

/// Names, the call-setup ones more often.
const ACTIONS: [&str; 22] = [
    "call",
    "call",
    "call",
    "answer",
    "answer",
    "answer",
    "decline",
    "hangup",
    "hangup",
    "hold",
    "hold",
    "unhold",
    "unhold",
    "mute",
    "unmute",
    "dtmf",
    "transfer",
    "attendedTransfer",
    "message",
    "register",
    "unregister",
    "bogus",
];
const STATUSES: [u16; 14] = [100, 180, 183, 200, 401, 407, 408, 481, 486, 488, 491, 202, 500, 503];
const DIRECTIONS: [&str; 4] = ["sendrecv", "sendonly", "recvonly", "inactive"];

#[derive(Debug, Clone)]
struct Dialog {
    call_id: String,
    bob_tag: String,
    alice_tag: String,
    cseq: u32,
}

/// bob and the server, as far as the property needs them.
#[derive(Default)]
struct Peer {
    requests: Vec<Request>,
    dialogs: Vec<Dialog>,
    /// Our 200s to INVITEs awaiting ACK: (dialog index, cseq, the ACK must
    /// carry the answer).
    oks: Vec<(usize, u32, bool)>,
    /// bob's offerless INVITEs: (Call-ID, CSeq).
    offerless: BTreeSet<(String, u32)>,
    /// bob's INVITEs not answered finally: Call-IDs.
    invites: Vec<String>,
    next: u32,
    /// Connections the phone asked for that were opened.
    opened: usize,
    /// Digest answers the phone sent.
    digests: BTreeSet<String>,
}

impl Peer {
    /// Take what the phone sent: its requests to answer, its dialogs, digests.
    fn absorb(&mut self, w: &mut World) {
        for m in std::mem::take(&mut w.sent) {
            match m {
                Message::Request(r) if r.method.as_str() == "ACK" => {}
                Message::Request(r) => {
                    for h in ["Authorization", "Proxy-Authorization"] {
                        if let Some(d) = r.headers.get(h).and_then(|v| v.split("response=\"").nth(1)) {
                            self.digests.insert(d.split('"').next().unwrap_or("").to_string());
                        }
                    }
                    self.requests.push(r);
                }
                Message::Response(r) => {
                    let call_id = r.headers.get("Call-ID").unwrap_or("").to_string();
                    let invite = r.headers.get("CSeq").is_some_and(|c| c.ends_with("INVITE"));
                    let tag = r.headers.get("To").and_then(|t| tabphone_sip::msg::NameAddr::parse(t).ok());
                    let tag = tag.and_then(|t| t.tag().map(str::to_string));
                    if !invite || r.status < 101 {
                        continue;
                    }
                    if r.status >= 200 {
                        self.invites.retain(|c| *c != call_id);
                    }
                    let Some(tag) = tag else { continue };
                    let d = match self.dialogs.iter().position(|d| d.call_id == call_id) {
                        Some(d) => d,
                        None => {
                            let bob_tag = "bobtag".to_string();
                            self.dialogs.push(Dialog { call_id, bob_tag, alice_tag: tag, cseq: 10 });
                            self.dialogs.len() - 1
                        }
                    };
                    if r.status == 200 {
                        let seq = r.cseq().map_or(0, |c| c.seq);
                        let needs_answer = self.offerless.contains(&(self.dialogs[d].call_id.clone(), seq));
                        self.oks.push((d, seq, needs_answer));
                    }
                }
            }
        }
    }

    fn answer(&mut self, w: &mut World, pick: u8, status: u8) {
        if self.requests.is_empty() {
            return;
        }
        let i = pick as usize % self.requests.len();
        let status = STATUSES[status as usize % STATUSES.len()];
        let req = self.requests[i].clone();
        let is_invite = req.method.as_str() == "INVITE";
        let body = match (is_invite, status) {
            (true, 183 | 200) => sdp(DIRECTIONS[pick as usize % 4], 9),
            _ => String::new(),
        };
        let challenge = "Digest realm=\"example.com\", nonce=\"n\", qop=\"auth\"";
        let extra: &[(&str, &str)] = match status {
            401 => &[("WWW-Authenticate", challenge)],
            407 => &[("Proxy-Authenticate", challenge)],
            _ => &[],
        };
        if status >= 200 {
            self.requests.remove(i);
        }
        let tagged = req.headers.get("To").is_some_and(|t| t.contains("tag="));
        if is_invite && status == 200 && !tagged {
            let call_id = req.headers.get("Call-ID").unwrap_or("").to_string();
            let alice_tag = req.headers.get("From").map(|f| tag_of(Some(f))).unwrap_or_default();
            self.dialogs.push(Dialog { call_id, bob_tag: "peer1".into(), alice_tag, cseq: 20 });
        }
        w.reply(&req, status, extra, &body);
    }

    fn settle(&mut self, w: &mut World) {
        for _ in 0..6 {
            if w.connects.len() > self.opened {
                self.opened = w.connects.len();
                w.input(PhoneInput::Opened);
            }
            for r in std::mem::take(&mut w.media_pending) {
                let result = Ok(w.media_answer(&r));
                w.input(PhoneInput::Media { request: r.id, result });
            }
            self.absorb(w);
            while !self.requests.is_empty() {
                let good = match self.requests[0].method.as_str() {
                    "REFER" => 11,
                    _ => 3,
                };
                self.answer(w, 0, good as u8);
                self.absorb(w);
            }
            while !self.oks.is_empty() {
                self.ack(w, 0, false);
                self.absorb(w);
            }
        }
    }

    fn in_dialog(&mut self, w: &mut World, kind: u8, pick: u8, variant: u8) {
        if self.dialogs.is_empty() {
            return;
        }
        let d = pick as usize % self.dialogs.len();
        self.dialogs[d].cseq += 1;
        let Dialog { call_id, bob_tag, alice_tag, cseq } = self.dialogs[d].clone();
        let ct = "Content-Type: application/sdp\r\n";
        let offer = sdp(DIRECTIONS[variant as usize % 4], 30 + cseq);
        let refer_to = match variant % 3 {
            0 => "Refer-To: <sip:carol@example.com>\r\n".to_string(),
            1 => format!(
                "Refer-To: <sip:carol@example.com?Replaces={call_id}%3Bto-tag%3Dx%3Bfrom-tag%3Dy>\r\n"
            ),
            _ => "Refer-To: <tel:123>\r\n".to_string(),
        };
        let frag = format!("SIP/2.0 {} X\r\n", STATUSES[variant as usize % STATUSES.len()]);
        let (method, extra, body) = match kind % 6 {
            0 => ("BYE", String::new(), String::new()),
            1 if variant.is_multiple_of(4) => {
                self.offerless.insert((call_id.clone(), cseq));
                ("INVITE", String::new(), String::new())
            }
            1 => ("INVITE", ct.to_string(), offer),
            2 => (
                "INFO",
                "Content-Type: application/dtmf-relay\r\n".into(),
                "Signal=5\r\nDuration=100\r\n".into(),
            ),
            3 => ("REFER", refer_to, String::new()),
            4 => ("NOTIFY", "Event: refer\r\nContent-Type: message/sipfrag\r\n".into(), frag),
            _ => ("OPTIONS", String::new(), String::new()),
        };
        w.receive(&from_bob(method, &call_id, &bob_tag, &alice_tag, cseq, &extra, &body));
    }

    fn incoming(&mut self, w: &mut World, variant: u8) {
        self.next += 1;
        let call_id = format!("pc{}", self.next);
        let offer = match variant % 5 {
            4 => None,
            v => Some(sdp(DIRECTIONS[v as usize], 1)),
        };
        if offer.is_none() {
            self.offerless.insert((call_id.clone(), 10));
        }
        let mut text = invite_from_bob(&call_id, offer.as_deref());
        if variant % 7 == 6 {
            if let Some(d) = self.dialogs.first() {
                let replaces =
                    format!("Replaces: {};to-tag={};from-tag={}\r\n", d.call_id, d.alice_tag, d.bob_tag);
                text = text.replacen("Max-Forwards", &format!("{replaces}Max-Forwards"), 1);
            }
        }
        self.invites.push(call_id);
        w.receive(&text);
    }

    /// ACK one of our 200s, with the answer when it carried an offer (a
    /// `wrong` peer does the opposite).
    fn ack(&mut self, w: &mut World, pick: u8, wrong: bool) {
        if self.oks.is_empty() {
            return;
        }
        let (d, seq, needs_answer) = self.oks.remove(pick as usize % self.oks.len());
        let Dialog { call_id, bob_tag, alice_tag, .. } = self.dialogs[d].clone();
        let (extra, body) = match needs_answer != wrong {
            true => ("Content-Type: application/sdp\r\n", sdp("sendrecv", 77)),
            false => ("", String::new()),
        };
        w.receive(&from_bob("ACK", &call_id, &bob_tag, &alice_tag, seq, extra, &body));
    }

    fn cancel(&mut self, w: &mut World, pick: u8) {
        if self.invites.is_empty() {
            return;
        }
        let call_id = self.invites.remove(pick as usize % self.invites.len());
        let invite = invite_from_bob(&call_id, None).replacen("INVITE sip:", "CANCEL sip:", 1);
        w.receive(&invite.replace("CSeq: 10 INVITE", "CSeq: 10 CANCEL"));
    }
}

fn action_args(w: &World, name: &str, pick: u8, variant: u8) -> String {
    let calls: Vec<String> = w.state_texts.last().map_or(Vec::new(), |t| {
        PhoneState::parse(t).map(|s| s.calls.into_iter().map(|c| c.id).collect()).unwrap_or_default()
    });
    let call = match calls.len() {
        0 => "none".to_string(),
        n if variant % 8 == 7 => format!("{}x", calls[pick as usize % n]),
        n => calls[pick as usize % n].clone(),
    };
    let with = calls.get((pick as usize + 1) % calls.len().max(1)).cloned().unwrap_or_default();
    match (name, variant % 5) {
        (_, 4) => "{not json".into(),
        ("call", v) => {
            format!(r#"{{"to":"{}"}}"#, ["bob", "sip:carol@example.org", "tel:1", "bob"][v as usize])
        }
        ("message", _) => r#"{"to":"bob","text":"hi"}"#.into(),
        ("transfer", _) => format!(r#"{{"call":"{call}","to":"carol"}}"#),
        ("attendedTransfer", _) => format!(r#"{{"call":"{call}","with":"{with}"}}"#),
        ("dtmf", v) => {
            format!(r#"{{"call":"{call}","tones":"12#","via":"{}"}}"#, ["rtp", "info"][v as usize % 2])
        }
        ("decline", _) => format!(r#"{{"call":"{call}","status":486}}"#),
        ("register" | "unregister", _) => String::new(),
        _ => format!(r#"{{"call":"{call}"}}"#),
    }
}

/// Checks of each input: the state it published (one at most) and its events.
struct Checker {
    rev: u64,
    /// The last state, for the events a tab derives from it and the next.
    last: Option<PhoneState>,
    calls: BTreeSet<String>,
    /// Inputs checked (an index into `World::marks`).
    checked: usize,
}

impl Checker {
    fn check(&mut self, w: &World, secrets: &BTreeSet<String>) {
        while self.checked < w.marks.len() {
            let (s0, e0) = if self.checked == 0 { (0, 0) } else { w.marks[self.checked - 1] };
            let (s1, e1) = w.marks[self.checked];
            self.checked += 1;
            assert!(s1 - s0 <= 1, "one state per input at most");
            self.check_input(&w.state_texts[s0..s1], &w.events[e0..e1], secrets);
        }
    }

    fn check_input(&mut self, states: &[String], events: &[PhoneEvent], secrets: &BTreeSet<String>) {
        let ended: BTreeSet<&str> = events
            .iter()
            .filter_map(|e| match e {
                PhoneEvent::CallEnded { call, .. } => Some(call.as_str()),
                _ => None,
            })
            .collect();
        for text in states {
            for s in secrets {
                assert!(!text.contains(s.as_str()), "credential in the state: {text}");
            }
            let s = PhoneState::parse(text).unwrap();
            assert_eq!(s.rev, self.rev + 1);
            assert_eq!(&s.to_json(), text);
            self.rev = s.rev;
            let now: BTreeSet<String> = s.calls.iter().map(|c| c.id.clone()).collect();
            let derived = tabphone_phone::state::changes(self.last.as_ref(), Some(&s));
            for gone in self.calls.difference(&now) {
                assert!(ended.contains(gone.as_str()), "call {gone} left without an end event");
                let many = ended.len() > tabphone_phone::state::ENDED_KEPT;
                assert!(many || s.ended.iter().any(|e| e.id == *gone), "call {gone} is not in ended");
                // Every tab is told of it, with the cause the phone gave.
                let told = |e: &&PhoneEvent| matches!(e, PhoneEvent::CallEnded { call, .. } if call == gone);
                let mine = events.iter().find(told);
                assert!(many || derived.iter().find(told) == mine, "call {gone}: {derived:?} vs {mine:?}");
            }
            self.calls = now;
            self.last = Some(s);
        }
        for e in events {
            let text = format!("{e:?}");
            assert!(secrets.iter().all(|s| !text.contains(s.as_str())), "credential in an event: {text}");
        }
    }
}

fn run(steps: Vec<Step>) {
    let mut w = World::registered();
    w.auto_media = false;
    let mut peer = Peer { opened: w.connects.len(), ..Peer::default() };
    let mut asked = Vec::new();
    let mut checker = Checker { rev: 0, last: None, calls: BTreeSet::new(), checked: 0 };
    for s in steps {
        match s {
            Step::Action(a, pick, v) => {
                let name = ACTIONS[a as usize % ACTIONS.len()];
                let args = action_args(&w, name, pick, v);
                asked.push(w.action(name, &args));
            }
            Step::Answer(pick, status) => peer.answer(&mut w, pick, status),
            Step::Incoming(v) => peer.incoming(&mut w, v),
            Step::InDialog(k, pick, v) => peer.in_dialog(&mut w, k, pick, v),
            Step::Ack(pick) => peer.ack(&mut w, pick, pick % 8 == 7),
            Step::Cancel(pick) => peer.cancel(&mut w, pick),
            Step::Media(pick, ok) if !w.media_pending.is_empty() => {
                let r = w.media_pending.remove(pick as usize % w.media_pending.len());
                let result = if ok { Ok(w.media_answer(&r)) } else { Err("media failed".into()) };
                w.input(PhoneInput::Media { request: r.id, result });
            }
            Step::Media(..) => {}
            Step::Opened => w.input(PhoneInput::Opened),
            Step::Closed => {
                w.input(PhoneInput::Closed);
                peer.requests.clear();
            }
            Step::Online => w.input(PhoneInput::Online),
            Step::Offline => w.input(PhoneInput::Offline),
            Step::Advance(ms) => w.advance(Duration::from_millis(u64::from(ms))),
            Step::Stop(unregister, hang_up) => w.input(PhoneInput::Stop { unregister, hang_up }),
            Step::Start(v) => start(&mut w, v),
            Step::Garbage(bytes) => w.input(PhoneInput::Received(&bytes)),
            Step::Settle => peer.settle(&mut w),
        }
        peer.absorb(&mut w);
        let mut secrets = peer.digests.clone();
        secrets.insert(PASSWORD.to_string());
        checker.check(&w, &secrets);
        let mut once = BTreeMap::new();
        for (id, _) in &w.results {
            *once.entry(*id).or_insert(0) += 1;
        }
        assert!(once.values().all(|n| *n == 1), "an action answered twice: {:?}", w.results);
    }
    finish(w, peer, asked, checker);
}

/// Start again, as a successor would: inheriting nothing, the last state
/// published, an earlier one, or a stale or unreadable one.
fn start(w: &mut World, v: u8) {
    let n = w.state_texts.len();
    let (text, age) = match v % 5 {
        0 => return w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None }),
        1 => (w.state_texts.last().cloned().unwrap_or_default(), 0),
        2 => (w.state_texts.get(v as usize % n.max(1)).cloned().unwrap_or_default(), 5_000),
        3 => (w.state_texts.last().cloned().unwrap_or_default(), 60_000),
        _ => (r#"{"v":1,"rev":"#.to_string(), 0),
    };
    let inherit = Some(tabphone_phone::Inherited { state: &text, as_of_unix_ms: T0_UNIX_MS - age });
    w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit });
}

/// A cooperative 40 s (more than the SIP timers, 64*T1, less than the action
/// timeout): the socket reconnects and opens, the media layer and the peer
/// answer everything. Every action then has its one result, and those asked
/// in the last 20 s of the steps got a real outcome, not a timeout. Then
/// stop, and still one result each.
fn finish(mut w: World, mut peer: Peer, asked: Vec<u64>, mut checker: Checker) {
    w.input(PhoneInput::Online);
    for _ in 0..40 {
        peer.settle(&mut w);
        w.advance(Duration::from_secs(1));
    }
    peer.settle(&mut w);
    for id in &asked {
        let _exactly_one = w.result(*id);
    }
    w.input(PhoneInput::Stop { unregister: true, hang_up: true });
    peer.settle(&mut w);
    w.advance(Duration::from_secs(120));
    for id in asked {
        let _exactly_one = w.result(id);
    }
    peer.absorb(&mut w);
    let mut secrets = peer.digests.clone();
    secrets.insert(PASSWORD.to_string());
    checker.check(&w, &secrets);
    let results = format!("{:?}", w.results);
    assert!(secrets.iter().all(|s| !results.contains(s.as_str())));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_phone_keeps_its_promises(steps in prop::collection::vec(step(), 1..120)) {
        run(steps);
    }
}
