//! Registration (RFC 3261 10, RFC 5626 outbound): REGISTER with
//! `+sip.instance` and `reg-id`, refresh before expiry, 423 Interval Too
//! Brief (ask again with Min-Expires), retry after server failures
//! (Retry-After, else 30 s), a REGISTER unanswered in time presumes the
//! connection dead, and unregister (expires=0).
//!
//! Credentials go with every REGISTER after the first challenge (RFC 3261
//! 22.1: the last challenge's nonce with the next count): a refresh takes one
//! round trip instead of two, and an un-REGISTER sent from a closing page,
//! which cannot wait for a challenge, still carries them. A 401 to such a
//! request (say, a stale nonce) is answered once, as for any other.

use std::time::Duration;

use super::auth::digest;
use super::send::new_request;
use super::timer::Timer;
use super::txn::{Owner, TxnKey};
use super::{Event, UserAgent, ALLOW};
use crate::auth::Challenge;
use crate::msg::{
    decimal, name_addr_text, param, parse_int, parse_u32, trim_end_bytes, trim_space, trim_start_bytes,
    write_param, Method, NameAddr, Request, Response, RetryAfter,
};
use crate::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// A C int as the tag, not one byte: less code to read and compare it
// (measured in the shipped wasm).
#[repr(C)]
pub(super) enum RegState {
    Idle,
    Registering,
    Registered,
    Unregistering,
}

/// The registration's state: its own Call-ID, From tag and CSeq (RFC 3261
/// 10.2: one per registrar), what is in flight and what is wanted.
#[derive(Debug)]
pub(super) struct Registration {
    pub(super) state: RegState,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// A REGISTER is in flight.
    pub(super) pending: Option<TxnKey>,
    /// The agent wants to be registered.
    pub(super) want: bool,
    /// Expiry to ask for (raised by 423).
    pub(super) expires: u32,
    /// A registered event is owed after recovery.
    pub(super) recovering: bool,
    /// The registrar's last challenge, and whether a proxy sent it (407).
    pub(super) challenge: Option<(Challenge, bool)>,
}

impl Registration {
    /// Not registered; asks for `expires` seconds when it does.
    pub(super) fn new(call_id: String, from_tag: String, expires: u32) -> Registration {
        Registration {
            state: RegState::Idle,
            call_id,
            from_tag,
            cseq: 0,
            pending: None,
            want: false,
            expires,
            recovering: false,
            challenge: None,
        }
    }

    /// The CSeq of the next REGISTER.
    pub(super) fn next_cseq(&mut self) -> u32 {
        self.cseq += 1;
        self.cseq
    }
}

impl UserAgent {
    /// [`super::Command::Register`]: register now, or once connected.
    pub(super) fn register(&mut self, now: Instant) {
        self.reg.want = true;
        if self.connected {
            self.send_register(now, self.reg.expires);
        } else {
            self.transport.start(now);
        }
    }

    /// [`super::Command::Unregister`]: remove our binding.
    pub(super) fn unregister(&mut self, now: Instant) {
        self.reg.want = false;
        self.timers.stop(Timer::RegisterRefresh);
        if self.connected && self.reg.state == RegState::Registered {
            self.send_register(now, 0);
        } else {
            self.reg.state = RegState::Idle;
            self.event(Event::Unregistered);
        }
    }
    /// Send a REGISTER asking for `expires` seconds (0: unregister),
    /// replacing any in flight.
    pub(super) fn send_register(&mut self, now: Instant, expires: u32) {
        if let Some(old) = self.reg.pending.take() {
            self.txns.remove(&old);
        }
        let cseq = self.reg.next_cseq();
        let (via, branch) = self.via();
        let mut r = new_request(via, Method::Register, &self.me.registrar(), &self.reg.call_id, cseq);
        r.headers.push("From", self.me.from(&self.reg.from_tag));
        r.headers.push("To", name_addr_text(None, &self.me.aor, None));
        // Our Contact with `+sip.instance`, `reg-id` and `expires`, written
        // onto its text.
        let (mut contact, seconds) = (self.me.contact_text.clone(), decimal(expires.into()));
        write_param(&mut contact, "+sip.instance", Some(&(String::from("<") + &self.me.instance + ">")));
        write_param(&mut contact, "reg-id", Some("1"));
        write_param(&mut contact, "expires", Some(&seconds));
        r.headers.push("Contact", contact);
        r.headers.push("Expires", seconds);
        r.headers.push("Allow", ALLOW);
        r.headers.push("Supported", "path, outbound, gruu");
        self.authorize_register(&mut r);
        self.reg.state = if expires == 0 { RegState::Unregistering } else { RegState::Registering };
        self.reg.pending = Some(branch.clone());
        self.timers.set(Timer::RegisterTimeout, now + self.config.register_timeout);
        self.send_request(now, Owner::Register, branch, r);
    }

    /// Tell the app a REGISTER failed ([`Event::RegistrationFailed`]; not
    /// inlined: five callers).
    #[inline(never)]
    pub(super) fn registration_failed(&mut self, status: Option<u16>) {
        self.event(Event::RegistrationFailed { status });
    }

    /// Credentials for the last challenge, if there was one.
    fn authorize_register(&mut self, r: &mut Request) {
        let Some((challenge, proxy)) = &self.reg.challenge else { return };
        let value = digest(&mut self.nonces, &mut self.rng, &self.config, challenge, "REGISTER", &r.uri);
        r.headers.push(if *proxy { "Proxy-Authorization" } else { "Authorization" }, value);
    }

    /// [`Timer::RegisterTimeout`]: the REGISTER had no answer in time.
    pub(super) fn register_timed_out(&mut self, now: Instant) {
        if let Some(b) = self.reg.pending.take() {
            self.txns.remove(&b);
        }
        let unregistering = self.reg.state == RegState::Unregistering;
        self.reg.state = RegState::Idle;
        self.registration_failed(None);
        if unregistering {
            self.event(Event::Unregistered);
        } else {
            // No answer in time: the connection is presumed dead.
            self.transport.restart(now);
            self.drain_transport(now);
        }
    }

    /// [`Timer::RegisterRefresh`]: register again if still wanted.
    pub(super) fn refresh_register(&mut self, now: Instant) {
        if self.connected && self.reg.want {
            self.send_register(now, self.reg.expires);
        }
    }

    /// The final answer to our REGISTER.
    pub(super) fn on_register_response(&mut self, now: Instant, req: &Request, resp: &Response) {
        self.reg.pending = None;
        self.timers.stop(Timer::RegisterTimeout);
        let requested = req.headers.get("Expires").and_then(parse_u32).unwrap_or(0);
        let status = resp.status;
        if requested == 0 {
            self.reg.state = RegState::Idle;
            if !(200..300).contains(&status) {
                self.registration_failed(Some(status));
            }
            self.event(Event::Unregistered);
            return;
        }
        match status {
            200..=299 => self.registered(now, requested, resp),
            423 => self.interval_too_brief(now, resp),
            _ => self.register_failed(now, resp),
        }
    }

    /// A 2xx: registered; refresh with a margin, half the time for short
    /// expiries, 30 s for long ones.
    fn registered(&mut self, now: Instant, requested: u32, resp: &Response) {
        let expires = self.granted_expires(resp).unwrap_or(requested);
        self.reg.state = RegState::Registered;
        let margin = (expires / 2).min(30);
        let refresh = Duration::from_secs(u64::from(expires - margin).max(1));
        self.timers.set(Timer::RegisterRefresh, now + refresh);
        let mut bindings = 0;
        for contact in resp.headers.list("Contact") {
            bindings += u32::from(!contact.is_empty());
        }
        self.event(Event::Registered { expires, bindings });
        if std::mem::take(&mut self.reg.recovering) {
            self.recovered();
        }
    }

    /// A 423: ask again for the registrar's Min-Expires, if it is more.
    fn interval_too_brief(&mut self, now: Instant, resp: &Response) {
        let min = resp.headers.get("Min-Expires").and_then(|e| parse_u32(trim_space(e)));
        match min {
            Some(min) if min > self.reg.expires => {
                self.reg.expires = min;
                self.send_register(now, min);
            }
            _ => {
                self.reg.state = RegState::Idle;
                self.registration_failed(Some(423));
            }
        }
    }

    /// Any other final status.
    fn register_failed(&mut self, now: Instant, resp: &Response) {
        let status = resp.status;
        self.reg.state = RegState::Idle;
        self.registration_failed(Some(status));
        if status == 408 {
            // No answer in 64*T1 either: the connection is presumed dead.
            self.transport.restart(now);
        } else if !matches!(status, 401 | 403 | 404 | 407) && self.reg.want {
            // A server-side failure (5xx, 480, ...): try again later
            // (Retry-After if given, else 30 s); credentials errors do not heal.
            let retry = resp
                .headers
                .get("Retry-After")
                .and_then(|v| RetryAfter::parse(v).ok())
                .map_or(30, |r| r.seconds.clamp(1, 3600));
            self.timers.set(Timer::RegisterRefresh, now + Duration::from_secs(retry));
        }
    }

    /// Our binding's expiry in a 200 to REGISTER.
    fn granted_expires(&self, resp: &Response) -> Option<u32> {
        let ours = self.me.contact_uri();
        for c in resp.headers.list("Contact") {
            let Ok(na) = NameAddr::parse(c) else { continue };
            let inst = param(&na.params, "+sip.instance").flatten();
            let mine = inst.is_some_and(|v| trim_angles(v) == self.me.instance) || na.uri.starts_with(&ours);
            if mine {
                if let Some(e) = param(&na.params, "expires").flatten() {
                    return Some(parse_int(e, u64::MAX).map_or(3600, |e| e.min(u64::from(u32::MAX)) as u32));
                }
            }
        }
        resp.headers.get("Expires").and_then(|e| parse_u32(trim_space(e)))
    }
}

/// `v` without the angle brackets around it (any number of either, at
/// either end).
fn trim_angles(v: &str) -> &str {
    let angle = |b: u8| b == b'<' || b == b'>';
    trim_end_bytes(trim_start_bytes(v, angle), angle)
}
