//! One call as the phone keeps it: what the state shows, plus the work in
//! progress (the answer, offer/answer exchanges, transfers) and the actions
//! waiting on it.

use tabphone_sip::msg::{split_byte, split_once_byte};
use tabphone_sip::ua::{CallId, DialogSnapshot};

use crate::sdp::{with_setup, DtlsRole};
use crate::state::{CallDirection, CallState, CallView, DialogState, EndCause, Held, Peer};

/// A change of the session that needs an offer from us (a re-INVITE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `hold` (true) or `unhold` (false), for this action.
    Hold { action: u64, hold: bool },
    /// An ICE-restart offer after the connection was recovered.
    IceRestart,
}

/// Our side of an offer/answer exchange in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Own {
    Idle,
    /// The media layer makes the offer (request id).
    Offering {
        op: Op,
        request: u64,
    },
    /// The re-INVITE with it is out.
    Reinviting {
        op: Op,
    },
    /// It met glare (491) and was rolled back; the SIP core asks for a
    /// fresh offer after its wait (RFC 3261 14.1).
    GlareWait {
        op: Op,
    },
    /// The media layer applies the answer (request id).
    Applying {
        op: Op,
        request: u64,
    },
}

/// The peer's side: a re-INVITE from the peer.
/// Compared with `matches!` (a derived `PartialEq` is code in the wasm).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Remote {
    Idle,
    /// The media layer answers its offer, or makes an offer for an offerless
    /// re-INVITE (request id). `peer_holds`: what its offer says of hold,
    /// shown once it is answered.
    Answering {
        request: u64,
        offerless: bool,
        peer_holds: Option<bool>,
    },
    /// We sent an offer in our 200; its answer comes in the ACK.
    AwaitingAck,
    /// The media layer applies the ACK's answer.
    ApplyingAck {
        request: u64,
    },
}

/// Offer/answer exchanges after the call is established, one at a time.
#[derive(Debug)]
pub(crate) struct Nego {
    pub own: Own,
    pub remote: Remote,
    /// Changes waiting their turn, the next one LAST (taken with `pop`:
    /// no `Vec::remove` copy for this element type); see the methods.
    pub queue: Vec<Op>,
    /// A re-offer from the peer that came while we were making or applying
    /// our own; answered as soon as that is done (`None` inside: offerless).
    pub deferred: Option<Option<String>>,
}

impl Nego {
    /// Queue `op` after the others.
    pub fn enqueue(&mut self, op: Op) {
        self.queue.insert(0, op);
    }

    /// Put `op` back before the others: it is tried again next.
    pub fn requeue(&mut self, op: Op) {
        self.queue.push(op);
    }
}

/// Taking the call over from a previous real tab (a handover): a fresh
/// offer from new media, then a target-refresh re-INVITE, then its answer.
/// Compared with `matches!` (a derived `PartialEq` is code in the wasm).
#[derive(Debug, Clone)]
pub(crate) enum Resume {
    /// The media layer makes the fresh offer (request id).
    Offering { request: u64 },
    /// The offer is ready; the re-INVITE leaves once connected.
    Ready { sdp: String },
    /// The re-INVITE is out.
    Reinviting,
    /// It met glare (491) and was rolled back; the SIP core asks for a
    /// fresh offer after its wait.
    GlareWait,
    /// The media layer applies the peer's answer (request id).
    Applying { request: u64 },
}

/// Our REFER on this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReferOut {
    pub action: u64,
    /// The peer accepted it (2xx); what follows are NOTIFY statuses.
    pub accepted: bool,
}

/// A live call: what the state shows of it (its [`CallView`], which it
/// derefs to: `c.state` is `c.view.state`), plus the work in progress.
/// The view is kept here and written as it is (its `dialog` and `resuming`
/// refreshed first, [`Call::refresh_view`]): no copy of it per state.
#[derive(Debug)]
pub(crate) struct Call {
    pub view: CallView,
    pub ua: CallId,
    /// Incoming: the INVITE's offer (`None`: offerless, we offer in the 200).
    pub offer: Option<String>,
    /// Incoming: an answer is under way (media or 200 sent).
    pub answering: bool,
    /// Incoming: the pending `answer` action (none when the phone answers itself).
    pub answer_action: Option<u64>,
    /// Outgoing: extra headers for the INVITE (the app's, or a Refer-To's).
    pub headers: Vec<(String, String)>,
    /// Outgoing: the early answer applied (a 183's SDP).
    pub early: Option<String>,
    /// The end cause decided here (hangup, decline, media failure, transfer),
    /// reported when the SIP core ends the call.
    pub end: Option<EndCause>,
    /// This call follows a REFER received on that call: report progress there.
    pub referred_by: Option<String>,
    /// The peer's REFER on this call awaits our final NOTIFY.
    pub refer_in: bool,
    pub refer_out: Option<ReferOut>,
    pub nego: Nego,
    /// Being taken over from a previous real tab (see `resume.rs`).
    pub resume: Option<Resume>,
    /// The dialog inherited from the previous real tab, until the SIP core
    /// has its own (rebuilt from it).
    pub inherited: Option<DialogSnapshot>,
    /// Our offers claim a DTLS role: until the peer refused one with 488.
    pub claim_dtls: bool,
    /// Our last offer went out with a role it claimed (not as the media layer made it).
    pub claimed: bool,
    /// The DTLS fingerprint of the last SDP the peer sent (offer or answer)
    /// that went to the media layer: a re-offer with another one comes from
    /// a new endpoint (see "A peer that moved" in [`crate::sdp`]).
    pub remote_fingerprint: Option<String>,
}

impl Call {
    /// Out of line: three callers (a new outgoing, incoming or inherited call).
    #[inline(never)]
    pub fn new(id: String, ua: CallId, direction: CallDirection, peer: Peer, started_at: u64) -> Call {
        let state = match direction {
            CallDirection::Outgoing => CallState::Initial,
            CallDirection::Incoming => CallState::Ringing,
        };
        let view = CallView {
            id,
            direction,
            peer,
            state,
            held: Held::default(),
            muted: false,
            started_at,
            answered_at: None,
            replaces: None,
            dialog: None,
            handovers: 0,
            resuming: false,
            dtls: None,
        };
        Call {
            view,
            ua,
            offer: None,
            answering: false,
            answer_action: None,
            headers: Vec::new(),
            early: None,
            end: None,
            referred_by: None,
            refer_in: false,
            refer_out: None,
            nego: Nego { own: Own::Idle, remote: Remote::Idle, queue: Vec::new(), deferred: None },
            resume: None,
            inherited: None,
            claim_dtls: true,
            claimed: false,
            remote_fingerprint: None,
        }
    }

    /// The view as the state shows the call now: its dialog as the SIP
    /// core has it (else as it was inherited), and whether it is resuming.
    pub fn refresh_view(&mut self, dialog: Option<DialogSnapshot>) {
        let dialog = dialog.or_else(|| self.inherited.clone());
        self.view.dialog = dialog.map(dialog_state);
        self.view.resuming = self.resume.is_some();
    }

    /// Our offer (`sdp`, as the media layer made it) as it goes on the
    /// wire: with the DTLS role this side has in the call, or `active` in
    /// the call's `first` offer; as it was when the role is unknown (an
    /// inherited state without one, a peer whose answers never said one),
    /// and after the peer refused such an offer with 488.
    pub fn wire_offer(&mut self, sdp: String, first: bool) -> String {
        let role = self.dtls.or(first.then_some(DtlsRole::Active)).filter(|_| self.claim_dtls);
        let wire = role.map(|role| with_setup(&sdp, role));
        self.claimed = wire.as_ref().is_some_and(|w| *w != sdp);
        wire.unwrap_or(sdp)
    }

    /// The peer refused our last offer with 488: if it claimed a DTLS role,
    /// the call's offers go as the media layer makes them from now on, and
    /// the refused change is worth trying again (true).
    pub fn drop_dtls_claim(&mut self) -> bool {
        let retry = self.claimed && self.claim_dtls;
        self.claim_dtls &= !retry;
        self.claimed = false;
        retry
    }

    /// An answer of the exchange: the peer's to our offer (`ours`: our
    /// role is the other one), or ours to its offer. One with no definite
    /// role leaves the role as it was.
    pub fn note_answer(&mut self, answer: &str, ours: bool) {
        if let Some(role) = DtlsRole::of(answer) {
            self.dtls = Some(if ours { role.peer() } else { role });
        }
    }

    /// Incoming and still ringing: it can be answered or declined.
    pub fn is_unanswered_incoming(&self) -> bool {
        self.direction == CallDirection::Incoming && self.state == CallState::Ringing
    }

    /// The re-INVITE change under way, then the queued ones, in order.
    fn ops(&self) -> Vec<Op> {
        let mut ops = Vec::with_capacity(self.nego.queue.len() + 1);
        if let Own::Offering { op, .. }
        | Own::Reinviting { op }
        | Own::GlareWait { op }
        | Own::Applying { op, .. } = self.nego.own
        {
            ops.push(op);
        }
        for op in self.nego.queue.iter().rev() {
            ops.push(*op);
        }
        ops
    }

    /// Where hold is headed: the last hold change queued or under way, else
    /// what the peer last confirmed.
    pub fn want_hold(&self) -> bool {
        let mut hold = self.held.local;
        for op in self.ops() {
            if let Op::Hold { hold: h, .. } = op {
                hold = h;
            }
        }
        hold
    }

    /// Every action still waiting on this call (to fail when it ends).
    pub fn waiting_actions(&self) -> Vec<u64> {
        // Pushes, not `collect`/`extend` (a copy of std's iterator code each).
        let mut actions = Vec::new();
        if let Some(action) = self.answer_action {
            actions.push(action);
        }
        for op in self.ops() {
            if let Op::Hold { action, .. } = op {
                actions.push(action);
            }
        }
        if let Some(r) = self.refer_out {
            actions.push(r.action);
        }
        actions
    }
}

impl std::ops::Deref for Call {
    type Target = CallView;

    fn deref(&self) -> &CallView {
        &self.view
    }
}

impl std::ops::DerefMut for Call {
    fn deref_mut(&mut self) -> &mut CallView {
        &mut self.view
    }
}

/// The SIP core's dialog snapshot as the state shows it (who sent the INVITE
/// is the call's `direction`).
fn dialog_state(d: DialogSnapshot) -> DialogState {
    DialogState {
        call_id: d.call_id,
        local_tag: d.local_tag,
        remote_tag: d.remote_tag,
        local_uri: d.local_uri,
        remote_uri: d.remote_uri,
        local_cseq: d.local_cseq,
        remote_cseq: d.remote_cseq,
        remote_target: d.remote_target,
        route_set: d.route_set,
    }
}

/// The dialog of the state as the SIP core takes it back
/// ([`tabphone_sip::ua::Command::Resume`]).
pub(crate) fn dialog_snapshot(d: DialogState, direction: CallDirection) -> DialogSnapshot {
    DialogSnapshot {
        call_id: d.call_id,
        local_tag: d.local_tag,
        remote_tag: d.remote_tag,
        local_uri: d.local_uri,
        remote_uri: d.remote_uri,
        local_cseq: d.local_cseq,
        remote_cseq: d.remote_cseq,
        remote_target: d.remote_target,
        route_set: d.route_set,
        outgoing: direction == CallDirection::Outgoing,
    }
}

/// The NOTIFY status that reports a call placed for a transfer that ended
/// before it was established (RFC 3515: the sipfrag of its final response).
pub(crate) fn transfer_status(cause: EndCause) -> u16 {
    match cause {
        EndCause::Failed { status } | EndCause::Declined { status } => status,
        EndCause::Timeout => 408,
        EndCause::Transport => 503,
        EndCause::MediaFailed => 488,
        EndCause::Local | EndCause::HandedOver | EndCause::Remote | EndCause::NotResumable => 487,
        EndCause::Transferred | EndCause::Replaced => 500,
        EndCause::ResumeFailed { status } => status,
        EndCause::Expired => 408,
    }
}

/// `n` as 16 lowercase hex digits, a call id (`{:016x}` without the
/// formatting machinery).
pub(crate) fn hex_id(n: u64) -> String {
    let mut id = String::with_capacity(16);
    tabphone_json::push_hex(&mut id, &n.to_be_bytes());
    id
}

/// Split the headers off a URI (`sip:b@x?Replaces=a%3Bb` → `sip:b@x`,
/// `[("Replaces", "a;b")]`), percent-decoding their values (RFC 3261 19.1.1).
pub(crate) fn split_uri_headers(uri: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = split_once_byte(uri, b'?') else { return (uri.to_string(), Vec::new()) };
    let mut headers = Vec::new();
    // Byte-wise splits (the SIP core's): no char searcher.
    for kv in split_byte(query, b'&') {
        if let Some((k, v)) = split_once_byte(kv, b'=') {
            headers.push((percent_decode(k), percent_decode(v)));
        }
    }
    (base.to_string(), headers)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    tabphone_json::lossy(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_headers_are_split_and_decoded() {
        let (base, h) =
            split_uri_headers("sip:carol@example.com?Replaces=abc%40x%3Bto-tag%3D1%3Bfrom-tag%3D2");
        assert_eq!(base, "sip:carol@example.com");
        assert_eq!(h, vec![("Replaces".to_string(), "abc@x;to-tag=1;from-tag=2".to_string())]);
        assert_eq!(split_uri_headers("sip:b@x"), ("sip:b@x".to_string(), Vec::new()));
        assert_eq!(
            split_uri_headers("sip:b@x?A=%4&B=%zz").1,
            vec![("A".to_string(), "%4".to_string()), ("B".to_string(), "%zz".to_string())]
        );
    }

    #[test]
    fn hex_ids_are_016x() {
        for n in [0, 1, 0xab, 0x0123_4567_89ab_cdef, u64::MAX] {
            assert_eq!(hex_id(n), format!("{n:016x}"));
        }
    }

    #[test]
    fn want_hold_follows_the_last_queued_change() {
        let peer = Peer { uri: "sip:b@x".into(), name: None };
        let mut c = Call::new("c".into(), CallId(1), CallDirection::Outgoing, peer, 0);
        assert!(!c.want_hold());
        c.nego.own = Own::Reinviting { op: Op::Hold { action: 1, hold: true } };
        assert!(c.want_hold());
        c.nego.enqueue(Op::IceRestart);
        c.nego.enqueue(Op::Hold { action: 2, hold: false });
        assert!(!c.want_hold());
        c.answer_action = Some(9);
        assert_eq!(c.waiting_actions(), vec![9, 1, 2]);
    }
}
