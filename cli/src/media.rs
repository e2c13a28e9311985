//! The CLI's media layer: signaling only. Offers and answers come from one
//! SDP template (plain RTP audio, PCMU, PCMA, telephone-event, on a port
//! nobody listens on) with the direction the phone asks for, so a hold offer
//! (`sendonly`) is answered `recvonly` and an `inactive` one `inactive`
//! (RFC 3264 6.1). Applying an answer and muting succeed (there is nothing to
//! apply or mute); DTMF in the media cannot be played (the phone's `dtmf`
//! with `via: "info"` sends it by SIP INFO instead).

use tabphone_phone::media::{MediaKind, MediaRequest};
use tabphone_sip::sdp::{with_version, AUDIO_OFFER};
use tabphone_sip::ua::set_direction;

/// The template media layer: one session, its version raised by every
/// offer and answer (RFC 3264 8).
#[derive(Debug, Default)]
pub struct TemplateMedia {
    version: u32,
}

impl TemplateMedia {
    /// The reply to `r` (`PhoneInput::Media`), or `None` for the requests
    /// that get none (rollback, close).
    pub fn perform(&mut self, r: &MediaRequest) -> Option<Result<String, String>> {
        Some(match &r.kind {
            MediaKind::Offer { direction, .. } | MediaKind::Answer { direction, .. } => {
                self.version += 1;
                Ok(set_direction(&with_version(AUDIO_OFFER, self.version), direction.as_str()))
            }
            MediaKind::ApplyAnswer { .. } | MediaKind::Mute { .. } => Ok(String::new()),
            MediaKind::Dtmf { .. } => {
                Err("the CLI carries no media: send DTMF with via \"info\"".to_string())
            }
            MediaKind::Rollback | MediaKind::Close => return None,
            other => Err(format!("the CLI's media layer does not know {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabphone_phone::sdp::{answer_direction, offer_direction};
    use tabphone_phone::Direction;

    fn request(kind: MediaKind) -> MediaRequest {
        MediaRequest { id: 1, call: "c".into(), kind }
    }

    fn hold_offer(direction: &str) -> String {
        set_direction(AUDIO_OFFER, direction)
    }

    #[test]
    fn a_held_call_is_answered_recvonly_and_an_inactive_one_inactive() {
        let mut media = TemplateMedia::default();
        for (offer, answer) in [("sendonly", "recvonly"), ("inactive", "inactive"), ("sendrecv", "sendrecv")]
        {
            let offer = hold_offer(offer);
            // The direction the phone asks for: RFC 3264 6.1.
            let direction = answer_direction(&offer);
            let kind = MediaKind::Answer { offer, direction, fresh: false };
            let Some(Ok(sdp)) = media.perform(&request(kind)) else { panic!("no answer") };
            assert_eq!(offer_direction(&sdp).as_str(), answer, "{sdp}");
            let dirs = ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"];
            assert_eq!(sdp.lines().filter(|l| dirs.contains(l)).count(), 1, "one direction: {sdp}");
        }
    }

    #[test]
    fn offers_carry_the_direction_and_a_rising_version() {
        let mut media = TemplateMedia::default();
        let hold = MediaKind::Offer { direction: Direction::SendOnly, ice_restart: false };
        let Some(Ok(first)) = media.perform(&request(hold)) else { panic!() };
        assert!(first.contains("a=sendonly\r\n") && !first.contains("a=sendrecv"), "{first}");
        let again = MediaKind::Offer { direction: Direction::SendRecv, ice_restart: true };
        let Some(Ok(second)) = media.perform(&request(again)) else { panic!() };
        assert!(first.contains("o=tabphone 4242 1 ") && second.contains("o=tabphone 4242 2 "), "{second}");
    }

    #[test]
    fn dtmf_fails_and_rollback_or_close_get_no_reply() {
        let mut media = TemplateMedia::default();
        let dtmf = MediaKind::Dtmf { tones: "1".into(), duration_ms: 100, gap_ms: 70 };
        assert!(matches!(media.perform(&request(dtmf)), Some(Err(_))));
        assert_eq!(media.perform(&request(MediaKind::Mute { muted: true })), Some(Ok(String::new())));
        let apply = MediaKind::ApplyAnswer { answer: AUDIO_OFFER.into(), provisional: false };
        assert_eq!(media.perform(&request(apply)), Some(Ok(String::new())));
        assert_eq!(media.perform(&request(MediaKind::Rollback)), None);
        assert_eq!(media.perform(&request(MediaKind::Close)), None);
    }
}
