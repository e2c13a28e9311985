//! A scripted world around one [`Phone`]: a fake clock, a SIP server whose
//! answers the tests write (messages parsed with `tabphone_sip::msg`), and a
//! media layer that replies at once (or is left to the test).
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use tabphone_phone::media::{MediaKind, MediaRequest};
use tabphone_phone::state::CallView;
use tabphone_phone::{Config, Instant, Phone, PhoneError, PhoneEvent, PhoneInput, PhoneOutput, PhoneState};
use tabphone_sip::msg::{self, Message, NameAddr, Request, Response};

pub const SERVER: &str = "ws://127.0.0.1:5066";
pub const PASSWORD: &str = "s3cr3t-pw";
pub const T0_UNIX_MS: u64 = 1_700_000_000_000;

pub fn config() -> Config {
    let mut c = Config::new(&[SERVER], "alice", PASSWORD, "example.com");
    c.sip.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000001".into();
    c.sip.display_name = Some("Alice".into());
    c.sip.seed = 7;
    c
}

/// An SDP with this direction; `version` tells offers apart.
pub fn sdp(direction: &str, version: u32) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na={direction}\r\n"
    )
}

pub struct World {
    pub phone: Phone,
    pub now: Instant,
    /// SIP messages the phone sent, parsed, not yet taken.
    pub sent: Vec<Message>,
    /// Every text the phone sent.
    pub wire: Vec<String>,
    pub events: Vec<PhoneEvent>,
    /// Results, the JSON text of each read with serde_json.
    pub results: Vec<(u64, Result<Value, PhoneError>)>,
    /// Every state text published.
    pub state_texts: Vec<String>,
    /// Every media request, in order.
    pub media_log: Vec<MediaRequest>,
    /// Requests waiting for a reply (only when `auto_media` is off).
    pub media_pending: Vec<MediaRequest>,
    pub auto_media: bool,
    pub connects: Vec<String>,
    pub closes: usize,
    /// After each input: (states published, events) so far.
    pub marks: Vec<(usize, usize)>,
    next_action: u64,
    sdp_version: u32,
}

impl World {
    pub fn new(config: Config) -> World {
        World {
            phone: Phone::new(config),
            now: Instant::now(),
            sent: Vec::new(),
            wire: Vec::new(),
            events: Vec::new(),
            results: Vec::new(),
            state_texts: Vec::new(),
            media_log: Vec::new(),
            media_pending: Vec::new(),
            auto_media: true,
            connects: Vec::new(),
            closes: 0,
            marks: Vec::new(),
            next_action: 1,
            sdp_version: 1,
        }
    }

    /// Started, connected, REGISTER answered 200: registered.
    pub fn registered() -> World {
        let mut w = World::new(config());
        w.input(PhoneInput::Start { unix_ms: T0_UNIX_MS, inherit: None });
        w.input(PhoneInput::Opened);
        let reg = w.take_request("REGISTER");
        let contact = format!("{};expires=600", reg.headers.get("Contact").unwrap());
        w.reply(&reg, 200, &[("Contact", &contact)], "");
        assert!(matches!(w.state().registration, tabphone_phone::state::Registration::Registered { .. }));
        w
    }

    pub fn input(&mut self, input: PhoneInput<'_>) {
        self.phone.handle_input(self.now, input);
        self.drain();
    }

    fn drain(&mut self) {
        let mut replies = Vec::new();
        while let Some(o) = self.phone.poll_output() {
            match o {
                PhoneOutput::Send(text) => self.on_sent(text),
                PhoneOutput::Connect { url } => self.connects.push(url),
                PhoneOutput::Close => self.closes += 1,
                PhoneOutput::Media(r) => {
                    self.media_log.push(r.clone());
                    if !r.kind.expects_reply() {
                        continue;
                    }
                    match self.auto_media {
                        true => replies.push(r),
                        false => self.media_pending.push(r),
                    }
                }
                PhoneOutput::Result { id, result } => {
                    let value = result.map(|text| serde_json::from_str(&text).expect("a result is JSON"));
                    self.results.push((id, value));
                }
                PhoneOutput::State(text) => self.state_texts.push(text),
                PhoneOutput::Event(e) => self.events.push(e),
                _ => {}
            }
        }
        self.marks.push((self.state_texts.len(), self.events.len()));
        for r in replies {
            let result = Ok(self.media_answer(&r));
            self.input(PhoneInput::Media { request: r.id, result });
        }
    }

    /// What a working media layer replies.
    pub fn media_answer(&mut self, r: &MediaRequest) -> String {
        self.sdp_version += 1;
        match &r.kind {
            MediaKind::Offer { direction, .. } | MediaKind::Answer { direction, .. } => {
                sdp(direction.as_str(), self.sdp_version)
            }
            _ => String::new(),
        }
    }

    /// Reply to the oldest pending media request of `kind` (by its name).
    pub fn media_reply(&mut self, kind: &str, result: Result<String, String>) -> MediaRequest {
        let i = self
            .media_pending
            .iter()
            .position(|r| kind_name(&r.kind) == kind)
            .unwrap_or_else(|| panic!("no pending {kind}; pending: {:?}", self.media_pending));
        let r = self.media_pending.remove(i);
        self.input(PhoneInput::Media { request: r.id, result });
        r
    }

    fn on_sent(&mut self, text: String) {
        self.wire.push(text.clone());
        if text.trim().is_empty() {
            return;
        }
        let m = msg::parse(text.as_bytes()).unwrap_or_else(|e| panic!("the phone sent garbage: {e}\n{text}"));
        self.sent.push(m);
    }

    pub fn action(&mut self, name: &str, args: &str) -> u64 {
        let id = self.next_action;
        self.next_action += 1;
        self.input(PhoneInput::Action { id, name, args });
        id
    }

    /// The one result of action `id` (panics if none or more than one).
    pub fn result(&self, id: u64) -> Result<Value, PhoneError> {
        let r: Vec<_> = self.results.iter().filter(|(i, _)| *i == id).collect();
        assert_eq!(r.len(), 1, "action {id}: results {:?}", self.results);
        r[0].1.clone()
    }

    pub fn has_result(&self, id: u64) -> bool {
        self.results.iter().any(|(i, _)| *i == id)
    }

    /// `call` and its id, the call placed and its INVITE answered by the
    /// media layer's offer.
    pub fn call(&mut self, to: &str) -> String {
        let id = self.action("call", &format!(r#"{{"to":"{to}"}}"#));
        self.result(id).unwrap()["call"].as_str().unwrap().to_string()
    }

    pub fn state(&self) -> PhoneState {
        PhoneState::parse(self.state_texts.last().expect("a state was published")).unwrap()
    }

    pub fn call_view(&self, id: &str) -> CallView {
        self.state().call(id).cloned().unwrap_or_else(|| panic!("no call {id} in {:?}", self.state()))
    }

    pub fn take_events(&mut self) -> Vec<PhoneEvent> {
        std::mem::take(&mut self.events)
    }

    /// Move the clock, firing every timer on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.phone.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.input(PhoneInput::Timeout);
        }
        self.now = end;
    }

    pub fn receive(&mut self, text: &str) {
        self.input(PhoneInput::Received(text.as_bytes()));
    }

    pub fn take_request(&mut self, method: &str) -> Request {
        self.try_take_request(method)
            .unwrap_or_else(|| panic!("no {method} sent; sent: {:?}", self.summary()))
    }

    pub fn try_take_request(&mut self, method: &str) -> Option<Request> {
        let i =
            self.sent.iter().position(|m| matches!(m, Message::Request(r) if r.method.as_str() == method))?;
        match self.sent.remove(i) {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// Statuses of the responses sent, in order, removed (with their bodies).
    pub fn take_responses(&mut self) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        self.sent.retain(|m| match m {
            Message::Response(r) => {
                out.push((r.status, String::from_utf8_lossy(&r.body).into_owned()));
                false
            }
            Message::Request(_) => true,
        });
        out
    }

    /// Our tag in the last response we sent (the To tag of an incoming call's dialog).
    pub fn our_tag(&self) -> String {
        let resp = self.wire.iter().rev().find(|t| t.starts_with("SIP/2.0")).expect("a response was sent");
        let to = resp.lines().find_map(|l| l.strip_prefix("To:")).expect("a To header");
        tag_of(Some(to.trim()))
    }

    pub fn summary(&self) -> Vec<String> {
        self.sent
            .iter()
            .map(|m| match m {
                Message::Request(r) => format!("{} {}", r.method.as_str(), r.uri),
                Message::Response(r) => format!("{} {}", r.status, r.reason),
            })
            .collect()
    }

    /// Answer `req` as the server (or the peer behind it) would.
    pub fn reply(&mut self, req: &Request, status: u16, extra: &[(&str, &str)], body: &str) {
        let text = response(req, status, extra, body);
        self.receive(&text);
    }
}

pub fn kind_name(k: &MediaKind) -> &'static str {
    match k {
        MediaKind::Offer { .. } => "offer",
        MediaKind::Answer { .. } => "answer",
        MediaKind::ApplyAnswer { .. } => "apply",
        MediaKind::Rollback => "rollback",
        MediaKind::Mute { .. } => "mute",
        MediaKind::Dtmf { .. } => "dtmf",
        MediaKind::Close => "close",
        _ => "other",
    }
}

/// A response to `req`: its Via, From, To (with the peer's tag), Call-ID and CSeq.
pub fn response(req: &Request, status: u16, extra: &[(&str, &str)], body: &str) -> String {
    let mut resp = Response::to(req, status, Some("peer1"));
    if req.method.as_str() == "INVITE" && (200..300).contains(&status) {
        resp.headers.push("Contact", "<sip:bob@192.0.2.9;transport=ws>");
        resp.headers.push("Record-Route", "<sip:127.0.0.1:5066;transport=ws;lr>");
    }
    for (name, value) in extra {
        resp.headers.push(name.to_string(), value.to_string());
    }
    if !body.is_empty() {
        resp.headers.push("Content-Type", "application/sdp");
    }
    resp.body = body.as_bytes().to_vec();
    resp.encode()
}

/// An INVITE from bob, relayed by the server, with this offer (none: offerless).
pub fn invite_from_bob(call_id: &str, offer: Option<&str>) -> String {
    let body = offer.unwrap_or("");
    let ct = if offer.is_some() { "Content-Type: application/sdp\r\n" } else { "" };
    format!(
        "INVITE sip:alice@x.invalid;transport=ws SIP/2.0\r\n\
Record-Route: <sip:127.0.0.1:5066;transport=ws;lr>\r\n\
Via: SIP/2.0/WS 127.0.0.1:5066;branch=z9hG4bKsrv{call_id}\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:bob@example.com>;tag=bobtag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:bob@192.0.2.9;transport=ws>\r\n\
{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A request from bob in the dialog of [`invite_from_bob`] (or of our call to
/// bob: then `alice_tag` is ours and bob's tag is `peer1`).
pub fn from_bob(
    method: &str,
    call_id: &str,
    bob_tag: &str,
    alice_tag: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "{method} sip:alice@x.invalid;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WS 127.0.0.1:5066;branch=z9hG4bK{method}{cseq}{call_id}\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:bob@example.com>;tag={bob_tag}\r\n\
To: <sip:alice@example.com>;tag={alice_tag}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\n\
{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

pub fn tag_of(header: Option<&str>) -> String {
    NameAddr::parse(header.unwrap()).unwrap().tag().unwrap().to_string()
}

/// The `a=` direction in an SDP body.
pub fn direction_of(body: &[u8]) -> String {
    tabphone_phone::sdp::offer_direction(&String::from_utf8_lossy(body)).as_str().to_string()
}

/// A call from alice to bob, answered and acknowledged: (call id, SIP
/// Call-ID, our tag). bob's tag is `peer1`.
pub fn established(w: &mut World) -> (String, String, String) {
    let call = w.call("bob");
    let invite = w.take_request("INVITE");
    w.reply(&invite, 200, &[], &sdp("sendrecv", 100));
    w.take_request("ACK");
    assert_eq!(w.call_view(&call).state, tabphone_phone::state::CallState::Established);
    let call_id = invite.headers.get("Call-ID").unwrap().to_string();
    (call, call_id, tag_of(invite.headers.get("From")))
}

pub fn call_args(call: &str) -> String {
    format!(r#"{{"call":"{call}"}}"#)
}
