//! Call media in the browser: one [`CallMedia`] per call around an
//! `RTCPeerConnection`, made by a [`MediaFactory`].
//!
//! Thin glue with no protocol logic: the phone core decides what to offer
//! (plain, ICE restart, hold), which direction to answer with (RFC 3264
//! section 6.1: a `sendonly` offer is answered `recvonly`), and when to mute,
//! send DTMF or close; this module does it with the browser's WebRTC and
//! returns the local SDP or a coded [`MediaError`].
//!
//! - SDP is non-trickle (SIP carries one complete offer or answer): each
//!   offer and answer waits for ICE gathering to be good enough by a
//!   [`GatheringPolicy`], not for `iceGatheringState == "complete"` (which in
//!   Chromium waits ~130 ms for TCP candidates that a UDP candidate makes
//!   needless).
//! - [`MediaFactory::prewarm`] gets the microphone and a peer connection with
//!   a gathered offer before the user dials, so an outgoing call's first offer
//!   is ready at once.
//! - Remote audio plays in an `<audio>` element each call creates and removes;
//!   when the browser's autoplay policy blocks it, [`MediaEvent::PlaybackBlocked`]
//!   is reported and [`CallMedia::retry_playback`] on a user gesture plays it.
//!
//! ## Layout
//! - `options.rs`: [`MediaOptions`], [`AudioConstraints`], [`IceServer`], [`GatheringPolicy`].
//! - `gather.rs`: the gathering policy as a pure decision ([`GatheringReport`]) and its wait.
//! - `factory.rs`: [`MediaFactory`]: the microphone, prewarming, new calls.
//! - `call.rs`: [`CallMedia`]: offer, answer, mute, devices, close.
//! - `playback.rs`: the remote audio element, autoplay, output device.
//! - `dtmf.rs`: RFC 4733 tones through `RTCDTMFSender`.
use std::fmt;
use std::rc::Rc;

use tabphone_json::quote;
use wasm_bindgen::prelude::*;

mod call;
mod dtmf;
mod factory;
mod gather;
mod options;
mod playback;

pub use call::{CallMedia, Direction, OfferOptions};
pub use factory::MediaFactory;
pub use gather::{GatheringEnd, GatheringReport};
pub use options::{AudioConstraints, GatheringPolicy, IceServer, MediaOptions};

/// What a call's media reports, outside of any method call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// A DTMF tone started playing (`RTCDTMFSender`'s `tonechange`).
    TonePlayed {
        /// The tone: `0`-`9`, `A`-`D`, `*`, `#`, or `,` for a pause.
        tone: char,
    },
    /// Every queued DTMF tone has been played.
    TonesDone,
    /// Remote audio is playing.
    PlaybackStarted,
    /// The browser refused to play remote audio without a user gesture
    /// (autoplay policy, `NotAllowedError`). Call [`CallMedia::retry_playback`]
    /// from a user gesture (a click, a key press) in this tab.
    PlaybackBlocked,
    /// Remote audio could not play for another reason.
    PlaybackFailed {
        /// The error's name (e.g. `NotSupportedError`).
        name: String,
        /// The browser's message.
        message: String,
    },
    /// The ICE connection state changed.
    Ice {
        /// `new`, `checking`, `connected`, `completed`, `disconnected`,
        /// `failed` or `closed`.
        state: &'static str,
    },
    /// The microphone track ended (device unplugged or permission revoked).
    InputEnded,
}

/// Why a media step failed. Each has a stable [`MediaError::code`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaError {
    /// The browser lacks an API this needs (no `window`, no
    /// `navigator.mediaDevices` outside a secure context, no `RTCPeerConnection`).
    Unsupported {
        /// What is missing.
        what: &'static str,
    },
    /// `getUserMedia` failed: `NotAllowedError` (permission denied),
    /// `NotFoundError` (no microphone), `OverconstrainedError` (no device
    /// with that id), `NotReadableError` (device busy), ...
    Microphone {
        /// The error's name.
        name: String,
        /// The browser's message.
        message: String,
    },
    /// The browser refused a negotiation step (a bad or incompatible remote
    /// SDP, a step in the wrong signaling state).
    Negotiation {
        /// The step: `create_offer`, `create_answer`, `set_local`, `set_remote`,
        /// `set_direction`, `rollback`, `replace_track`.
        step: &'static str,
        /// The error's name (e.g. `InvalidStateError`, `OperationError`).
        name: String,
        /// The browser's message.
        message: String,
    },
    /// ICE gathering found no candidate before the policy's cap: the SDP
    /// would be unreachable.
    NoCandidates {
        /// How long gathering ran, in milliseconds.
        waited_ms: u32,
    },
    /// DTMF tones outside `0-9 A-D * # ,`, or none.
    BadTones {
        /// The tones given.
        tones: String,
    },
    /// DTMF cannot be sent now (no sender, or the sender is not sending:
    /// the call is not connected or is held with `inactive`).
    DtmfUnavailable,
    /// The output device could not be set (`setSinkId` missing or refused).
    OutputDevice {
        /// The error's name (`NotSupportedError` when the browser has no `setSinkId`).
        name: String,
        /// The browser's message.
        message: String,
    },
    /// The media was closed.
    Closed,
}

impl MediaError {
    /// A stable code: `unsupported`, `microphone`, `negotiation`,
    /// `no_candidates`, `bad_tones`, `dtmf_unavailable`, `output_device`, `closed`.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Unsupported { .. } => "unsupported",
            MediaError::Microphone { .. } => "microphone",
            MediaError::Negotiation { .. } => "negotiation",
            MediaError::NoCandidates { .. } => "no_candidates",
            MediaError::BadTones { .. } => "bad_tones",
            MediaError::DtmfUnavailable => "dtmf_unavailable",
            MediaError::OutputDevice { .. } => "output_device",
            MediaError::Closed => "closed",
        }
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::Unsupported { what } => write!(f, "this browser has no {what}"),
            MediaError::Microphone { name, message } => write!(f, "microphone: {name}: {message}"),
            MediaError::Negotiation { step, name, message } => write!(f, "{step}: {name}: {message}"),
            MediaError::NoCandidates { waited_ms } => write!(f, "no ICE candidate after {waited_ms} ms"),
            MediaError::BadTones { tones } => write!(f, "bad DTMF tones {}: use 0-9 A-D * # ,", quote(tones)),
            MediaError::DtmfUnavailable => f.write_str("DTMF cannot be sent now"),
            MediaError::OutputDevice { name, message } => write!(f, "output device: {name}: {message}"),
            MediaError::Closed => f.write_str("the call media is closed"),
        }
    }
}

impl std::error::Error for MediaError {}

/// Where a call's events go. Shared so that a prewarmed call can be given
/// its handler when it is taken.
pub(crate) type EventSink = Rc<std::cell::RefCell<Rc<dyn Fn(MediaEvent)>>>;

/// Send `event` to the sink's current handler, with no borrow held (the
/// handler may replace itself).
pub(crate) fn emit(sink: &EventSink, event: MediaEvent) {
    let handler = sink.borrow().clone();
    handler(event);
}

/// The name and message of a rejected or thrown value (`DOMException` or `Error`).
pub(crate) fn error_parts(e: &JsValue) -> (String, String) {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return (String::from(err.name()), String::from(err.message()));
    }
    (String::from("Error"), e.as_string().unwrap_or_else(|| String::from("unknown error")))
}

/// Await a promise from the browser; `Err` is its rejection value.
pub(crate) fn settle(promise: js_sys::Promise) -> wasm_bindgen_futures::JsFuture {
    wasm_bindgen_futures::JsFuture::from(promise)
}
