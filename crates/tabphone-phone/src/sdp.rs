//! The little SDP the phone reads: media directions (RFC 3264), for hold
//! detection and for answering an offer the way section 6.1 says; and the
//! DTLS role (`a=setup`, RFC 4145/5763), the one thing it writes.
//!
//! A template-based media layer (the CLI's) answers with
//! `tabphone_sip::ua::set_direction(template, answer_direction(offer).as_str())`.
//!
//! ## The DTLS role on the wire
//! RFC 8842 (5.2, 5.3) says an offer carries `a=setup:actpass` (an initial one
//! must), and browsers make every local offer that way; the answerer picks.
//! Tabphone instead sends a definite role in every offer it puts on the wire
//! ([`with_setup`]), leaving the browser's own local description as it made it
//! (`actpass`: the browser refuses to apply a local offer with another
//! value): `active` in a call's first offer, then the role this side has in
//! the call (see [`DtlsRole`]). Why: a handover makes the offer of a resumed
//! call from a *new* `RTCPeerConnection`, so the DTLS handshake starts over.
//! When the peer is the DTLS server it answers the new ClientHello at once
//! (first audio at the peer in about 0.1 s, measured with Chromium); when it
//! is the client it has to start a new handshake itself and a browser peer
//! took 3.5 to 6.5 s (its retransmission backoff). Offering `active` from the
//! start makes the peer the server for the whole call. Any RFC 5763/8842
//! answerer accepts it: to an offer of `active` it must answer `passive`
//! (RFC 4145 4.1), and an offer of the role the offerer already has is what
//! RFC 8842 5.3 asks of re-offers. The browser's own `actpass` then applies
//! the peer's answer in either role, so a peer that answers `active` anyway
//! still gets a working call (this side becomes the server, and is recorded
//! so); an answer with no definite role fails to apply as before (a clear
//! media error). A peer that refuses such an offer with 488 gets, for a
//! re-INVITE, the same change offered once more as the media layer made it,
//! and the call's later offers too; a refused first INVITE (or resume) ends
//! the call as any 488 does, with an error event that names the claimed role.
//!
//! ## A peer that moved
//! The role rule makes the mover fast when it is the DTLS client. When it is
//! the server (it answered a call the peer placed), the peer, still on its
//! old connection, has to start the new handshake: Chromium starts it at once
//! on its old ICE path (still writable: the moved side's old address answers
//! no more, but that takes seconds to show) and retransmits the ClientHello
//! with a doubling backoff (50, 100, 200 ms...) until its ICE agent moved to
//! the new path: 0.1-0.4 s of silence, measured. So a tabphone peer whose
//! peer moved (a re-offer with another DTLS [`fingerprint`] than the last
//! SDP the peer sent: a new DTLS endpoint) answers from a fresh connection
//! (`MediaKind::Answer`'s `fresh`): nothing old to send on, so its handshake
//! starts the moment its new ICE path works, as in a new call.
use tabphone_sip::msg::find_byte;

/// A media stream direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Direction {
    /// `a=sendrecv` (the default when none is given).
    SendRecv,
    /// `a=sendonly`: the side that wrote it sends and does not receive (it holds the other).
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute value: `sendrecv`, `sendonly`, `recvonly` or `inactive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn parse(s: &str) -> Option<Direction> {
        match s {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The direction to answer an offer of this direction with (RFC 3264
    /// 6.1), when this side holds the call (`local_hold`) or not: `sendonly`
    /// is answered `recvonly` (`inactive` while holding), `recvonly` with
    /// `sendonly`, `inactive` with `inactive`, and `sendrecv` with `sendrecv`
    /// (`sendonly` while holding).
    pub fn answer(self, local_hold: bool) -> Direction {
        match (self, local_hold) {
            (Direction::SendRecv, false) => Direction::SendRecv,
            (Direction::SendRecv, true) => Direction::SendOnly,
            (Direction::SendOnly, false) => Direction::RecvOnly,
            (Direction::SendOnly, true) => Direction::Inactive,
            (Direction::RecvOnly, _) => Direction::SendOnly,
            (Direction::Inactive, _) => Direction::Inactive,
        }
    }

    /// Does an offer in this direction put the answerer on hold (RFC 6337)?
    pub fn holds_peer(self) -> bool {
        matches!(self, Direction::SendOnly | Direction::Inactive)
    }
}

/// The direction of the first media section of `sdp` (its own attribute, else
/// the session-level one, else `sendrecv`).
pub fn offer_direction(sdp: &str) -> Direction {
    first_attr(sdp, Direction::parse).unwrap_or(Direction::SendRecv)
}

/// The direction an answer to `offer_sdp` must carry when this side does not
/// hold the call: RFC 3264 6.1 (a `sendonly` offer is answered `recvonly`,
/// `inactive` with `inactive`).
pub fn answer_direction(offer_sdp: &str) -> Direction {
    offer_direction(offer_sdp).answer(false)
}

/// This side's DTLS role in a call (RFC 5763 5): `active` is the DTLS
/// client (it sends the ClientHello), `passive` the server. In the shared
/// state as `"active"` or `"passive"` (`null` before an answer said it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum DtlsRole {
    /// `a=setup:active`: the DTLS client.
    Active,
    /// `a=setup:passive`: the DTLS server.
    Passive,
}

impl DtlsRole {
    /// The attribute value: `active` or `passive`.
    pub fn as_str(self) -> &'static str {
        match self {
            DtlsRole::Active => "active",
            DtlsRole::Passive => "passive",
        }
    }

    /// The other side's role.
    pub fn peer(self) -> DtlsRole {
        match self {
            DtlsRole::Active => DtlsRole::Passive,
            DtlsRole::Passive => DtlsRole::Active,
        }
    }

    /// The definite role an SDP claims for its writer (`a=setup:active` or
    /// `passive` of the first media section, else of the session), `None`
    /// for `actpass`, `holdconn` or none.
    pub fn of(sdp: &str) -> Option<DtlsRole> {
        match attr_value(sdp, "setup:")? {
            "active" => Some(DtlsRole::Active),
            "passive" => Some(DtlsRole::Passive),
            _ => None,
        }
    }
}

/// `offer` with every `a=setup:` attribute set to `role` (the line endings
/// kept); an SDP without one (plain RTP) comes back as it was.
pub fn with_setup(offer: &str, role: DtlsRole) -> String {
    let mut out = String::with_capacity(offer.len() + 8);
    for line in lines(offer) {
        match line.strip_prefix("a=setup:") {
            Some(rest) => {
                let end = |b| find_byte(rest, b).unwrap_or(rest.len());
                let value_end = end(b'\r').min(end(b'\n'));
                out.push_str("a=setup:");
                out.push_str(role.as_str());
                out.push_str(&rest[value_end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The DTLS certificate fingerprint an SDP carries (`a=fingerprint:` of the
/// first media section, else of the session: `sha-256 AB:CD:..`), `None`
/// for plain RTP.
pub fn fingerprint(sdp: &str) -> Option<&str> {
    attr_value(sdp, "fingerprint:")
}

/// The lines of `s`, each with its `\n` if it has one: `split_inclusive('\n')`
/// byte-wise (std's char searcher ships for nothing else).
fn lines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let end = find_byte(rest, b'\n').map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        (!line.is_empty()).then_some(line)
    })
}

/// The trimmed value of the first attribute `a={name}value`, of the first
/// media section, else of the session: one copy of [`first_attr`] for the
/// attributes found by name.
fn attr_value<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    first_attr(sdp, |a| a.strip_prefix(name)).map(tabphone_json::trim)
}

/// The first attribute (`a=` stripped) `pick` takes, of the first media
/// section, else of the session.
fn first_attr<'a, T>(sdp: &'a str, pick: impl Fn(&'a str) -> Option<T>) -> Option<T> {
    let mut session = None;
    let mut in_media = false;
    for line in lines(sdp) {
        let line = tabphone_json::trim_end(line);
        if line.starts_with("m=") {
            if in_media {
                break;
            }
            in_media = true;
            continue;
        }
        if let Some(v) = line.strip_prefix("a=").and_then(&pick) {
            if in_media {
                return Some(v);
            }
            session = Some(v);
        }
    }
    session
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: &str =
        "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\n";

    #[test]
    fn lines_are_split_inclusive_on_newlines() {
        for text in ["", "\n", "a", "a\n", "a\r\nb", "a\n\nb\r\n", "é\nü\r\n\n", "\r\r\n"] {
            let ours: Vec<&str> = lines(text).collect();
            assert_eq!(ours, text.split_inclusive('\n').collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn a_hold_offer_is_answered_recvonly() {
        assert_eq!(offer_direction(HOLD), Direction::SendOnly);
        assert_eq!(answer_direction(HOLD), Direction::RecvOnly);
        assert!(offer_direction(HOLD).holds_peer());
    }

    #[test]
    fn every_offer_direction_has_its_rfc3264_answer() {
        let cases = [
            ("sendrecv", "sendrecv", "sendonly"),
            ("sendonly", "recvonly", "inactive"),
            ("recvonly", "sendonly", "sendonly"),
            ("inactive", "inactive", "inactive"),
        ];
        for (offer, answer, answer_holding) in cases {
            let sdp = format!("v=0\nm=audio 9 RTP/AVP 0\na={offer}\n");
            assert_eq!(answer_direction(&sdp).as_str(), answer, "{offer}");
            assert_eq!(offer_direction(&sdp).answer(true).as_str(), answer_holding, "{offer} holding");
        }
    }

    #[test]
    fn session_level_and_default_directions() {
        assert_eq!(offer_direction("v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\n"), Direction::Inactive);
        // The media section's own attribute wins over the session's.
        let sdp = "v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\na=recvonly\r\n";
        assert_eq!(offer_direction(sdp), Direction::RecvOnly);
        assert_eq!(offer_direction("v=0\r\nm=audio 9 RTP/AVP 0\r\n"), Direction::SendRecv);
        // Only the first media section counts.
        let two = "v=0\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\n";
        assert_eq!(offer_direction(two), Direction::SendRecv);
        assert_eq!(offer_direction(""), Direction::SendRecv);
    }

    const CHROME_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=mid:0\r\n\
        a=sendrecv\r\n";

    #[test]
    fn an_offer_gets_a_definite_role_and_nothing_else_changes() {
        assert_eq!(DtlsRole::of(CHROME_OFFER), None);
        let wire = with_setup(CHROME_OFFER, DtlsRole::Active);
        assert_eq!(wire, CHROME_OFFER.replace("a=setup:actpass", "a=setup:active"));
        assert_eq!(DtlsRole::of(&wire), Some(DtlsRole::Active));
        let passive = with_setup(&wire, DtlsRole::Passive);
        assert_eq!(DtlsRole::of(&passive), Some(DtlsRole::Passive));
        assert_eq!(passive.matches("a=setup:").count(), 1);
        // Every section (no BUNDLE), and bare LF line endings, are kept as they are.
        let two = "v=0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=setup:actpass\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=setup:actpass";
        let out = with_setup(two, DtlsRole::Passive);
        assert_eq!(out, two.replace("actpass", "passive"));
        // Plain RTP has no setup: untouched.
        assert_eq!(with_setup(HOLD, DtlsRole::Active), HOLD);
    }

    #[test]
    fn the_role_an_sdp_claims() {
        let answer = |v: &str| format!("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:{v}\r\n");
        assert_eq!(DtlsRole::of(&answer("active")), Some(DtlsRole::Active));
        assert_eq!(DtlsRole::of(&answer("passive")), Some(DtlsRole::Passive));
        assert_eq!(DtlsRole::of(&answer("actpass")), None);
        assert_eq!(DtlsRole::of(&answer("holdconn")), None);
        assert_eq!(DtlsRole::of(HOLD), None);
        // Session level when the media section has none.
        assert_eq!(
            DtlsRole::of("v=0\r\na=setup:passive\r\nm=audio 9 RTP/AVP 0\r\n"),
            Some(DtlsRole::Passive)
        );
        assert_eq!(DtlsRole::Active.peer(), DtlsRole::Passive);
        assert_eq!(DtlsRole::Passive.peer(), DtlsRole::Active);
        assert_eq!(serde_json::to_string(&DtlsRole::Passive).unwrap(), "\"passive\"");
    }
}
