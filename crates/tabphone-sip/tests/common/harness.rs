//! A scripted peer around one [`UserAgent`]: a fake clock, the messages the
//! agent sent (parsed), its events, and helpers to answer like a server.

use std::time::Duration;

use tabphone_sip::msg::{Message, NameAddr, Request, Response};
use tabphone_sip::testing::{read_sent, Sent};
use tabphone_sip::ua::{Command, Config, Event, Input, Output, UserAgent};
use tabphone_sip::Instant;

/// SDP offer and answer of the scenarios (signaling only).
pub const OFFER: &str = tabphone_sip::sdp::AUDIO_OFFER;
pub const ANSWER: &str = tabphone_sip::sdp::AUDIO_ANSWER;

pub const SERVER: &str = "ws://127.0.0.1:5066";

pub struct Harness {
    pub ua: UserAgent,
    pub now: Instant,
    pub sent: Vec<Message>,
    pub raw: Vec<String>,
    pub events: Vec<Event>,
    pub connects: Vec<String>,
    pub closes: usize,
}

pub fn config() -> Config {
    let mut c = Config::new(SERVER, "sip:alice@example.com", "secret");
    c.instance_id = "6c1f1c9e-1111-4a4a-8b8b-000000000001".into();
    c.seed = 42;
    c
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        Harness {
            ua: UserAgent::new(config),
            now: Instant::now(),
            sent: Vec::new(),
            raw: Vec::new(),
            events: Vec::new(),
            connects: Vec::new(),
            closes: 0,
        }
    }

    /// Started and connected; the first REGISTER it sent, not answered yet.
    pub fn connected(config: Config) -> (Harness, Request) {
        let mut h = Harness::new(config);
        h.command(Command::Start);
        h.input(Input::Opened);
        let reg = h.take_request("REGISTER");
        (h, reg)
    }

    /// Started, connected, registered (answering REGISTER with 200).
    pub fn registered() -> Harness {
        let (mut h, reg) = Harness::connected(config());
        h.reply(
            &reg,
            200,
            &[("Contact", &format!("{};expires=600", reg.headers.get("Contact").unwrap()))],
            "",
        );
        assert!(h.take_events().contains(&Event::Registered { expires: 600, bindings: 1 }));
        h
    }

    pub fn input(&mut self, input: Input<'_>) {
        self.ua.handle_input(self.now, input);
        self.drain();
    }

    pub fn command(&mut self, c: Command) {
        self.input(Input::Command(c));
    }

    pub fn receive(&mut self, text: &str) {
        self.input(Input::Received(text.as_bytes()));
    }

    fn drain(&mut self) {
        while let Some(o) = self.ua.poll_output() {
            match o {
                Output::Send(text) => {
                    match read_sent(&text).unwrap_or_else(|e| panic!("{e}")) {
                        Sent::Keepalive => {}
                        Sent::Message(m) => self.sent.push(m),
                        // The status line is all there is to read.
                        Sent::BadRequestAnswer(status) => self.sent.push(Message::Response(Response {
                            status,
                            reason: String::new(),
                            headers: Default::default(),
                            body: Vec::new(),
                        })),
                    }
                    self.raw.push(text);
                }
                Output::Event(e) => self.events.push(e),
                Output::Connect { url } => self.connects.push(url),
                Output::Close => self.closes += 1,
                _ => {}
            }
        }
    }

    /// Move the clock, firing every timer on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.ua.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.input(Input::Timeout);
        }
        self.now = end;
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn requests(&self, method: &str) -> Vec<&Request> {
        self.sent
            .iter()
            .filter_map(|m| match m {
                Message::Request(r) if r.method.as_str() == method => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Remove and return the first request sent with `method`.
    pub fn take_request(&mut self, method: &str) -> Request {
        let i = self
            .sent
            .iter()
            .position(|m| matches!(m, Message::Request(r) if r.method.as_str() == method))
            .unwrap_or_else(|| panic!("no {method} sent; sent: {:#?}", self.summary()));
        match self.sent.remove(i) {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    pub fn try_take_request(&mut self, method: &str) -> Option<Request> {
        self.sent.iter().position(|m| matches!(m, Message::Request(r) if r.method.as_str() == method)).map(
            |i| match self.sent.remove(i) {
                Message::Request(r) => r,
                Message::Response(_) => unreachable!(),
            },
        )
    }

    /// Remove and return the first response sent with `status`.
    pub fn take_response(&mut self, status: u16) -> Response {
        let i = self
            .sent
            .iter()
            .position(|m| matches!(m, Message::Response(r) if r.status == status))
            .unwrap_or_else(|| panic!("no {status} sent; sent: {:#?}", self.summary()));
        match self.sent.remove(i) {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    /// Status codes of the responses sent, in order, removed.
    pub fn take_statuses(&mut self) -> Vec<u16> {
        let mut out = Vec::new();
        self.sent.retain(|m| match m {
            Message::Response(r) => {
                out.push(r.status);
                false
            }
            Message::Request(_) => true,
        });
        out
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

    /// Answer `req` as a server would: Via, From, To (+tag), Call-ID, CSeq.
    pub fn reply(&mut self, req: &Request, status: u16, extra: &[(&str, &str)], body: &str) {
        let text = response_text(req, status, Some("srvtag"), extra, body);
        self.receive(&text);
    }
}

/// `req` answered as a server would: [`Response::to`], the Vias marked
/// `received`, then `extra` headers and `body`.
pub fn response_text(
    req: &Request,
    status: u16,
    tag: Option<&str>,
    extra: &[(&str, &str)],
    body: &str,
) -> String {
    let mut resp = Response::to(req, status, tag);
    for h in resp.headers.0.iter_mut().filter(|h| h.name == "Via") {
        h.value.push_str(";received=127.0.0.1");
    }
    for (n, v) in extra {
        resp.headers.push(n.to_string(), v.to_string());
    }
    resp.body = body.as_bytes().to_vec();
    resp.encode()
}

/// An INVITE from bob to the agent's contact, as Kamailio would relay it.
pub fn incoming_invite(call_id: &str, branch: &str) -> String {
    format!(
        "INVITE sip:contact@x.invalid;transport=ws SIP/2.0\r\n\
Record-Route: <sip:127.0.0.1:5066;transport=ws;r2=on;lr>\r\n\
Record-Route: <sip:127.0.0.1;r2=on;lr>\r\n\
Via: SIP/2.0/WS  127.0.0.1:5066;branch={branch}\r\n\
Via: SIP/2.0/WS bob.invalid;branch=z9hG4bKbob;rport=5000;received=127.0.0.1\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:bob@example.com>;tag=bobtag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:bob@bob.invalid;transport=ws;alias=127.0.0.1~5000~6>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    )
}

/// An in-dialog request from bob for a dialog created by [`incoming_invite`].
pub fn bob_request(
    method: &str,
    call_id: &str,
    alice_tag: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "{method} sip:contact@x.invalid;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WS 127.0.0.1:5066;branch=z9hG4bK{method}{cseq}\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:bob@example.com>;tag=bobtag\r\n\
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
