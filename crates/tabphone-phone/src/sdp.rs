//! The little SDP the phone reads: media directions (RFC 3264), for hold
//! detection and for answering an offer the way section 6.1 says.
//!
//! A template-based media layer (the CLI's) answers with
//! `tabphone_sip::ua::set_direction(template, answer_direction(offer).as_str())`.

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
    let mut session = None;
    let mut in_media = false;
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            if in_media {
                break;
            }
            in_media = true;
            continue;
        }
        if let Some(d) = line.strip_prefix("a=").and_then(Direction::parse) {
            if in_media {
                return d;
            }
            session = Some(d);
        }
    }
    session.unwrap_or(Direction::SendRecv)
}

/// The direction an answer to `offer_sdp` must carry when this side does not
/// hold the call: RFC 3264 6.1 (a `sendonly` offer is answered `recvonly`,
/// `inactive` with `inactive`).
pub fn answer_direction(offer_sdp: &str) -> Direction {
    offer_direction(offer_sdp).answer(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: &str =
        "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=sendonly\r\n";

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
}
