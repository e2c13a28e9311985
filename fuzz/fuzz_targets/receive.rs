//! The receive path: frames from the server into a registered user agent with
//! a call set up, and into the parser alone. Frames are separated by the bytes
//! `0xFE 0xFF` so one input can drive a conversation. Any panic is a bug, and
//! so is a message the agent sends that its own parser refuses (other than
//! the 400/505 answers that copy a bad request's headers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabphone_sip::msg;
use tabphone_sip::testing::read_sent;
use tabphone_sip::ua::{CallId, Command, Config, Input, Output, UserAgent};
use tabphone_sip::Instant;

fn drain(ua: &mut UserAgent) {
    while let Some(o) = ua.poll_output() {
        if let Output::Send(text) = o {
            if let Err(e) = read_sent(&text) {
                panic!("{e}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = msg::parse(data);
    let mut config = Config::new("ws://127.0.0.1:5066", "sip:alice@example.com", "secret");
    config.register = false;
    let mut ua = UserAgent::new(config);
    let mut now = Instant::now();
    ua.handle_input(now, Input::Command(Command::Start));
    ua.handle_input(now, Input::Opened);
    let call = CallId(1);
    let call_bob = Command::Call { call, target: "bob".into(), sdp: "v=0\r\n".into(), headers: vec![] };
    ua.handle_input(now, Input::Command(call_bob));
    drain(&mut ua);
    let mut rest = data;
    loop {
        let (frame, next) = match rest.windows(2).position(|w| w == [0xFE, 0xFF]) {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        ua.handle_input(now, Input::Received(frame));
        drain(&mut ua);
        now += std::time::Duration::from_millis(700);
        ua.handle_input(now, Input::Timeout);
        drain(&mut ua);
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
});
