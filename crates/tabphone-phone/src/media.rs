//! What the phone asks of the media layer (one `RTCPeerConnection` per call
//! in the browser, an SDP template in the CLI), and the rule for replies.
//!
//! Each [`MediaRequest`] names its call; requests for one call come in the
//! order they must be performed. Every request except [`MediaKind::Rollback`]
//! and [`MediaKind::Close`] gets exactly one reply,
//! `PhoneInput::Media { request, result }`: `Ok(local SDP)` for
//! [`MediaKind::Offer`] and [`MediaKind::Answer`], `Ok` with any text (empty)
//! for the others, or `Err(reason)`. A reply to a request the phone no longer
//! waits for (its call ended, the phone stopped) is ignored.
//!
//! Offers and answers are complete (non-trickle ICE: the candidates are in the
//! SDP). The direction given is the one the SDP must carry: the phone decides
//! hold and RFC 3264 answers, the media layer sets its transceiver to match.

use tabphone_json::Obj;

use crate::sdp::Direction;

/// One request to the media layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "serde"), derive(serde::Serialize))]
pub struct MediaRequest {
    /// Request id, echoed in the reply.
    pub id: u64,
    /// The call.
    pub call: String,
    /// What to do.
    pub kind: MediaKind,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    any(test, feature = "serde"),
    derive(serde::Serialize),
    serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")
)]
#[non_exhaustive]
// A tag, then each variant's fields in their order (as `Action`): the SDP
// of `Answer` and `ApplyAnswer` at one place ([`crate::Phone`] reads it).
#[repr(C)]
pub enum MediaKind {
    /// Make an offer (get the microphone first if the call has none yet).
    /// Reply: the offer SDP.
    Offer {
        /// Direction of the audio section: `sendrecv`, or `sendonly` to hold.
        direction: Direction,
        /// New ICE credentials (after the connection was recovered).
        ice_restart: bool,
    },
    /// Take the peer's offer and answer it. Reply: the answer SDP. On
    /// failure leave the media as they were: the phone refuses the offer
    /// (488) and the call goes on (a failed answer to an incoming call's
    /// INVITE refuses the call).
    Answer {
        /// The peer's offer.
        offer: String,
        /// Direction the answer must carry (RFC 3264 6.1; see [`crate::sdp`]).
        direction: Direction,
        /// The peer moved to a new media endpoint (its offer has another
        /// DTLS fingerprint than its last SDP): answer from a fresh
        /// connection with the call's microphone, mute and output, and close
        /// the old one once the answer is made (on failure keep the old one,
        /// as for any failed answer). See "A peer that moved" in
        /// [`crate::sdp`]. A media layer without connections (the CLI's
        /// template) ignores it.
        fresh: bool,
    },
    /// Apply the peer's answer to our last offer. Reply: empty.
    ApplyAnswer {
        /// The answer SDP.
        answer: String,
        /// An early answer (a 183's SDP, `pranswer`); the final one may follow.
        provisional: bool,
    },
    /// Forget our last offer: it was refused, or the peer's offer came first.
    /// No reply.
    Rollback,
    /// Mute or unmute the microphone (`track.enabled`). Reply: empty.
    Mute {
        /// Muted after this.
        muted: bool,
    },
    /// Play DTMF tones into the media (RFC 4733). Reply: empty, once sent.
    Dtmf {
        /// `0-9A-D*#` and `,` (a pause).
        tones: String,
        /// Per tone, ms.
        duration_ms: u32,
        /// Between tones, ms.
        gap_ms: u32,
    },
    /// The call is over: stop its tracks and connection. No reply. It may
    /// name a call the media layer has nothing for (an incoming call never
    /// answered): nothing to do then.
    Close,
}

impl MediaRequest {
    /// The JSON text: `{"id": 1, "call": ..., "kind": {"kind": "offer",
    /// "direction": "sendrecv", "iceRestart": false}}` (camelCase).
    pub fn to_json(&self) -> String {
        let o = &mut Obj::new();
        o.num("id", self.id).str("call", &self.call).open("kind", '{').str("kind", self.kind.name());
        match &self.kind {
            MediaKind::Offer { direction, ice_restart } => {
                o.str("direction", direction.as_str()).bool("iceRestart", *ice_restart)
            }
            MediaKind::Answer { offer, direction, fresh } => {
                o.str("offer", offer).str("direction", direction.as_str()).bool("fresh", *fresh)
            }
            MediaKind::ApplyAnswer { answer, provisional } => {
                o.str("answer", answer).bool("provisional", *provisional)
            }
            MediaKind::Rollback | MediaKind::Close => o,
            MediaKind::Mute { muted } => o.bool("muted", *muted),
            MediaKind::Dtmf { tones, duration_ms, gap_ms } => o
                .str("tones", tones)
                .num("durationMs", u64::from(*duration_ms))
                .num("gapMs", u64::from(*gap_ms)),
        }
        .close('}')
        .end()
    }
}

impl MediaKind {
    /// The request's name in JSON: `offer`, `answer`, `applyAnswer`,
    /// `rollback`, `mute`, `dtmf`, `close`.
    fn name(&self) -> &'static str {
        match self {
            MediaKind::Offer { .. } => "offer",
            MediaKind::Answer { .. } => "answer",
            MediaKind::ApplyAnswer { .. } => "applyAnswer",
            MediaKind::Rollback => "rollback",
            MediaKind::Mute { .. } => "mute",
            MediaKind::Dtmf { .. } => "dtmf",
            MediaKind::Close => "close",
        }
    }

    /// Does this request get a reply?
    pub fn expects_reply(&self) -> bool {
        !matches!(self, MediaKind::Rollback | MediaKind::Close)
    }
}
