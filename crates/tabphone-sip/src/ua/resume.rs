//! Resuming a dialog from its [`DialogSnapshot`] on this agent's connection
//! (a handover between tabs, RFC 3261 12.2 target refresh): the dialog is
//! rebuilt (Call-ID, tags, URIs, remote target, route set, the peer's CSeq),
//! our CSeq jumps [`RESUME_CSEQ_JUMP`] past the snapshot's, and a re-INVITE
//! with our Contact and a fresh offer goes along the route set. Any RFC 3261
//! peer then sends its requests to our Contact. A peer that refuses it (481,
//! no answer, any other failure but glare) ends the call.

use super::call::Call;
use super::dialog::Dialog;
use super::{CallId, DialogSnapshot, EndCause, SessionState, UserAgent};
use crate::msg::{NameAddr, ParseError, Uri};
use crate::Instant;
use tabphone_json::quote;

/// How far a resumed dialog's CSeq jumps past the snapshot's: past any
/// requests the previous holder sent after the snapshot the app kept (one
/// input's worth, up to 64 INFOs of a DTMF string, several times over).
/// The peer only checks that it grows (RFC 3261 12.2.2).
pub const RESUME_CSEQ_JUMP: u32 = 1000;

/// The CSeq stays below 2^31 (RFC 3261 8.1.1.5).
const CSEQ_MAX: u32 = (1 << 31) - 1;

impl UserAgent {
    /// [`super::Command::Resume`].
    pub(super) fn resume(&mut self, now: Instant, id: CallId, s: DialogSnapshot, sdp: String) {
        if self.calls.contains_key(&id) {
            return self.call_problem(id, " exists");
        }
        if !self.connected {
            return self.ended(id, EndCause::Transport);
        }
        if let Err(e) = check_snapshot(&s) {
            self.call_error(id, format!("call {}: cannot resume: {e}", id.0));
            return self.ended(id, EndCause::Failed(400));
        }
        self.next_call = self.next_call.max(id.0 + 1);
        let mut dialog = Dialog::new(s.call_id, s.local_tag, s.local_uri, s.remote_uri, s.remote_target);
        dialog.remote_tag = Some(s.remote_tag);
        dialog.route_set = s.route_set;
        dialog.remote_cseq = s.remote_cseq;
        dialog.local_cseq = s.local_cseq.saturating_add(RESUME_CSEQ_JUMP).min(CSEQ_MAX - 1);
        let mut call = Call::new(s.outgoing, dialog);
        call.state = SessionState::Established;
        call.resuming = true;
        self.calls.insert(id, call);
        self.reinvite(now, id, sdp);
    }
}

/// What a dialog is rebuilt from must be usable as it is written into our
/// requests: tags and Call-ID without spaces, URIs and routes that parse.
fn check_snapshot(s: &DialogSnapshot) -> Result<(), String> {
    let word =
        |what: &str, v: &str| match v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            true => Err(format!("{what} {} is empty or has spaces", quote(v))),
            false => Ok(()),
        };
    word("Call-ID", &s.call_id)?;
    word("local tag", &s.local_tag)?;
    word("remote tag", &s.remote_tag)?;
    // By reference: an array by value brings its own iterator code.
    for &(what, uri) in
        &[("local URI", &s.local_uri), ("remote URI", &s.remote_uri), ("remote target", &s.remote_target)]
    {
        Uri::check(uri).map_err(|e| refused(what, uri, e))?;
    }
    for route in &s.route_set {
        NameAddr::check(route).map_err(|e| refused("route", route, e))?;
    }
    Ok(())
}

/// "`what` "`v`": `e`": a snapshot field that does not parse (one text for
/// the URIs and the routes).
fn refused(what: &str, v: &str, e: ParseError) -> String {
    format!("{what} {}: {e}", quote(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> DialogSnapshot {
        DialogSnapshot {
            call_id: "c1".into(),
            local_tag: "a".into(),
            remote_tag: "b".into(),
            local_uri: "sip:alice@a".into(),
            remote_uri: "sip:bob@b".into(),
            local_cseq: 1,
            remote_cseq: None,
            remote_target: "sip:bob@10.0.0.2".into(),
            route_set: vec!["<sip:p1;lr>".into()],
            outgoing: true,
        }
    }

    #[test]
    fn a_bad_snapshot_field_is_named_quoted_and_explained() {
        assert_eq!(check_snapshot(&snapshot()), Ok(()));
        let mut s = snapshot();
        s.local_tag = "a b".into();
        assert_eq!(check_snapshot(&s), Err("local tag \"a b\" is empty or has spaces".into()));
        let mut s = snapshot();
        s.remote_target = "bob".into();
        let reason = Uri::parse("bob").unwrap_err().reason;
        assert_eq!(check_snapshot(&s), Err(format!("remote target \"bob\": {reason}")));
        let mut s = snapshot();
        s.route_set.push("<sip:p2".into());
        let reason = NameAddr::parse("<sip:p2").unwrap_err().reason;
        assert_eq!(check_snapshot(&s), Err(format!("route \"<sip:p2\": {reason}")));
    }
}
