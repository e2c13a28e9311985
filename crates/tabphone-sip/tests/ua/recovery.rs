//! Stopping, a lost connection, a network change: what survives and what ends.

use super::*;

#[test]
fn unregister_and_stop() {
    let mut h = Harness::registered();
    h.command(Command::Unregister);
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.headers.get("Expires"), Some("0"));
    assert!(reg.headers.get("Contact").unwrap().ends_with(";expires=0"));
    h.reply(&reg, 200, &[], "");
    assert_eq!(h.take_events(), vec![Event::Unregistered]);
    // No refresh after an unregister.
    h.advance(secs(3600));
    assert!(h.try_take_request("REGISTER").is_none());

    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Stop);
    let bye = h.take_request("BYE");
    let reg = h.take_request("REGISTER");
    assert_eq!(reg.headers.get("Expires"), Some("0"));
    h.reply(&bye, 200, &[], "");
    assert_eq!(h.closes, 0, "waits for the unregister");
    h.reply(&reg, 200, &[], "");
    assert_eq!(h.closes, 1);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Ended { call, cause: EndCause::Local }), "{ev:?}");
    assert_eq!(ev.last(), Some(&Event::Stopped), "{ev:?}");
    // A stopped agent never reconnects on its own.
    h.input(Input::Closed);
    h.advance(secs(600));
    assert_eq!(h.connects.len(), 1);
}

#[test]
fn an_unregister_lost_with_the_connection_is_reported() {
    let mut h = Harness::registered();
    h.command(Command::Unregister);
    h.take_request("REGISTER");
    h.input(Input::Closed);
    let ev = h.take_events();
    assert_eq!(
        ev[ev.len() - 2..],
        [Event::RegistrationFailed { status: None }, Event::Unregistered],
        "{ev:?}"
    );
    // Not sent again on the next connection, and nothing registers.
    h.advance(secs(0));
    h.input(Input::Opened);
    assert!(h.try_take_request("REGISTER").is_none());
    assert!(!h.ua.is_registered());
}

#[test]
fn stop_does_not_wait_forever_for_a_silent_server() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Stop);
    h.take_request("BYE");
    h.take_request("REGISTER");
    h.advance(secs(2));
    assert_eq!(h.closes, 1);
    // The BYE was never answered: the call still ends with its event (the
    // property test found it vanishing silently here).
    let ev = h.take_events();
    assert_eq!(ev[ev.len() - 2..], [Event::Ended { call, cause: EndCause::Local }, Event::Stopped], "{ev:?}");
}

#[test]
fn messages_pending_or_sent_while_stopping_get_a_result() {
    let mut h = Harness::registered();
    let msg = |id| Command::Message {
        id,
        target: "bob".into(),
        content_type: "text/plain".into(),
        body: "x".into(),
    };
    h.command(msg(1));
    h.take_request("MESSAGE");
    h.command(Command::Stop);
    h.command(msg(2));
    h.advance(secs(2));
    let results: Vec<Event> =
        h.take_events().into_iter().filter(|e| matches!(e, Event::MessageResult { .. })).collect();
    assert_eq!(
        results,
        vec![Event::MessageResult { id: 2, status: 503 }, Event::MessageResult { id: 1, status: 503 }]
    );
}

#[test]
fn recovery_keeps_calls_reregisters_and_reinvites() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.take_events();
    h.input(Input::Closed);
    let ev = h.take_events();
    assert_eq!(ev[0], Event::Disconnected { cause: Cause::SocketClosed });
    assert_eq!(h.ua.call_state(call), Some(SessionState::Established), "the dialog stays");
    // The server is down: the retries fail, then recovery rounds with backoff.
    for _ in 0..3 {
        h.advance(secs(4));
        h.input(Input::Closed);
    }
    let ev = h.take_events();
    let retry = ev.iter().find_map(|e| match e {
        Event::RecoveryError { retry_in } => Some(*retry_in),
        _ => None,
    });
    let retry = retry.unwrap_or_else(|| panic!("{ev:?}"));
    assert!(retry <= secs(2) && retry >= secs(1), "{retry:?}");
    // A re-INVITE while disconnected is refused with a reason.
    h.command(Command::Reinvite { call, sdp: OFFER.into() });
    assert!(matches!(h.take_events()[..], [Event::Error { .. }]));
    h.advance(retry);
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    let ev = h.take_events();
    assert_eq!(
        ev,
        vec![
            Event::Connecting { url: SERVER.into() },
            Event::Connected { url: SERVER.into() },
            Event::Registered { expires: 600, bindings: 0 },
            Event::Recovered,
            Event::RecoveryOfferNeeded { call }
        ]
    );
    let restart_offer = OFFER.replace("a=sendrecv", "a=sendrecv\r\na=ice-options:trickle");
    h.command(Command::Reinvite { call, sdp: restart_offer.clone() });
    let inv = h.take_request("INVITE");
    assert_eq!(String::from_utf8_lossy(&inv.body), restart_offer);
    assert_eq!(inv.headers.get_all("Route").count(), 2, "the route set survived");
    assert_eq!(tag_of(inv.headers.get("To")), "srvtag");
    h.reply(&inv, 200, &[("Content-Type", "application/sdp")], ANSWER);
    h.take_request("ACK");
    assert_eq!(h.take_events(), vec![Event::ReinviteAnswered { call, sdp: Some(ANSWER.into()) }]);
}

#[test]
fn a_network_change_reconnects_reregisters_and_asks_for_ice_restart_offers() {
    let mut h = Harness::registered();
    let call = establish_outgoing(&mut h);
    h.command(Command::Reconnect);
    assert_eq!(h.closes, 1);
    assert_eq!(h.connects.len(), 2, "a new connection at once");
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    h.reply(&reg, 200, &[], "");
    let ev = h.take_events();
    assert!(ev.contains(&Event::Disconnected { cause: Cause::Requested }), "{ev:?}");
    assert_eq!(ev[ev.len() - 2..], [Event::Recovered, Event::RecoveryOfferNeeded { call }]);
    // A switch to the backup proxy takes effect on the next connect.
    h.command(Command::SetBackupProxy(Some("wss://backup.example.com".into())));
    h.command(Command::UseBackupProxy(true));
    assert_eq!(h.connects.len(), 2);
    h.command(Command::Reconnect);
    assert_eq!(h.connects.last().map(String::as_str), Some("wss://backup.example.com"));
    h.input(Input::Opened);
    let reg = h.take_request("REGISTER");
    assert!(reg.headers.get("Via").unwrap().starts_with("SIP/2.0/WSS "), "wss: Via says WSS");
}

#[test]
fn a_call_being_set_up_ends_when_the_connection_drops() {
    let mut h = Harness::registered();
    let call = h.ua.new_call_id();
    h.command(Command::Call { call, target: "bob".into(), sdp: OFFER.into(), headers: vec![] });
    h.take_request("INVITE");
    h.input(Input::Closed);
    assert!(h.take_events().contains(&Event::Ended { call, cause: EndCause::Transport }));
}
