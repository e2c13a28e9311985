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
//! The browser work is hand-written JavaScript, `tab-client/js/browser.js`
//! (minified in the shipped build): the same steps as web-sys calls from
//! Rust cost the wasm several times the bytes. The Rust side is typed handles
//! on its objects; its rejections (`[code, ...fields]`) become [`MediaError`]s
//! and its events (`[kind, ...fields]`) [`MediaEvent`]s here.
//! - `mod.rs`: [`MediaEvent`], [`MediaError`], the `browser.js` bindings and conversions.
//! - `options.rs`: [`MediaOptions`], [`AudioConstraints`], [`IceServer`], [`GatheringPolicy`].
//! - `gather.rs`: [`GatheringReport`]; the policy's decision is `browser.js`'s `decide`.
//! - `factory.rs`: [`MediaFactory`] (`browser.js` `Factory`): the microphone, prewarming, new calls.
//! - `call.rs`: [`CallMedia`] (`browser.js` `Call`): offer, answer, mute, DTMF,
//!   devices, remote audio and autoplay, close.
use std::fmt;
use std::rc::Rc;

use tabphone_json::push_u64;
use tabphone_json::quote;

use crate::cat;
use wasm_bindgen::prelude::*;

mod call;
mod factory;
mod gather;
mod options;

pub(crate) use call::{sdp, Step};
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
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
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

impl MediaError {
    /// What went wrong, in words (its `Display`): built by pushes, as the
    /// shipped wasm avoids `core::fmt`.
    pub(crate) fn message(&self) -> String {
        match self {
            MediaError::Unsupported { what } => cat(&["this browser has no ", what]),
            MediaError::Microphone { name, message } => cat(&["microphone: ", name, ": ", message]),
            MediaError::Negotiation { step, name, message } => cat(&[step, ": ", name, ": ", message]),
            MediaError::NoCandidates { waited_ms } => {
                let mut m = String::from("no ICE candidate after ");
                push_u64(&mut m, u64::from(*waited_ms));
                m.push_str(" ms");
                m
            }
            MediaError::BadTones { tones } => cat(&["bad DTMF tones ", &quote(tones), ": use 0-9 A-D * # ,"]),
            MediaError::DtmfUnavailable => String::from("DTMF cannot be sent now"),
            MediaError::OutputDevice { name, message } => cat(&["output device: ", name, ": ", message]),
            MediaError::Closed => String::from("the call media is closed"),
        }
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for MediaError {}

/// Where a call's events go. Shared so that a prewarmed call can be given
/// its handler when it is taken.
pub(crate) type EventSink = Rc<std::cell::RefCell<Rc<dyn Fn(MediaEvent)>>>;

/// The hand-written browser side (`tab-client/js/browser.js`).
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/js/browser.js")]
    extern "C" {
        pub type Factory;
        #[wasm_bindgen(constructor)]
        pub fn new(options: &str) -> Factory;
        #[wasm_bindgen(method)]
        pub fn configure(this: &Factory, options: &str);
        #[wasm_bindgen(method)]
        pub fn prewarm(this: &Factory) -> js_sys::Promise;
        #[wasm_bindgen(method, js_name = isWarm)]
        pub fn is_warm(this: &Factory) -> bool;
        #[wasm_bindgen(method)]
        pub fn open(this: &Factory) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn call(this: &Factory, outgoing: bool, on: &JsValue) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn release(this: &Factory);

        pub type Call;
        #[wasm_bindgen(method, getter)]
        pub fn pc(this: &Call) -> web_sys::RtcPeerConnection;
        #[wasm_bindgen(method)]
        pub fn settled(this: &Call, ms: u32) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn offer(this: &Call, ice_restart: bool, hold: bool) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn answer(this: &Call, sdp: &str, direction: &str) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn apply(this: &Call, sdp: &str) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn rollback(this: &Call) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn mute(this: &Call, muted: bool);
        #[wasm_bindgen(method, catch)]
        pub fn tones(this: &Call, tones: &str, duration_ms: u32, gap_ms: u32) -> Result<(), JsValue>;
        #[wasm_bindgen(method)]
        pub fn input(this: &Call, device_id: Option<&str>) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn output(this: &Call, sink_id: &str) -> js_sys::Promise;
        #[wasm_bindgen(method)]
        pub fn play(this: &Call);
        #[wasm_bindgen(method, getter)]
        pub fn blocked(this: &Call) -> bool;
        #[wasm_bindgen(method, getter)]
        pub fn report(this: &Call) -> JsValue;
    }
}

/// Send `event` to the sink's current handler, with no borrow held (the
/// handler may replace itself).
pub(crate) fn emit(sink: &EventSink, event: MediaEvent) {
    let handler = sink.borrow().clone();
    handler(event);
}

/// The `browser.js` callback of a call: each `[kind, ...fields]` to `sink`.
pub(crate) fn event_callback(sink: EventSink) -> Closure<dyn FnMut(JsValue)> {
    Closure::new(move |e: JsValue| {
        if let Some(event) = to_event(&e.unchecked_into()) {
            emit(&sink, event);
        }
    })
}

/// The ICE connection states `browser.js` reports (`unknown` for others).
const ICE_STATES: &[&str] =
    &["new", "checking", "connected", "completed", "failed", "disconnected", "closed"];
/// What `browser.js` finds missing.
const MISSING: &[&str] = &[
    "RTCPeerConnection",
    "navigator.mediaDevices (a secure page is needed)",
    "document (call media runs in a page)",
];
/// The negotiation steps `browser.js` names.
const STEPS: &[&str] = &[
    "create_offer",
    "create_answer",
    "set_local",
    "set_remote",
    "set_direction",
    "rollback",
    "replace_track",
];

/// `text` as one of `known`, else `unknown`.
fn known(text: &str, known: &[&'static str]) -> &'static str {
    known.iter().find(|k| **k == text).copied().unwrap_or("unknown")
}

fn to_event(e: &js_sys::Array) -> Option<MediaEvent> {
    let text = |i| crate::text_at(e, i);
    Some(match text(0).as_str() {
        "tone" => MediaEvent::TonePlayed { tone: text(1).chars().next()? },
        "done" => MediaEvent::TonesDone,
        "playing" => MediaEvent::PlaybackStarted,
        "blocked" => MediaEvent::PlaybackBlocked,
        "failed" => MediaEvent::PlaybackFailed { name: text(1), message: text(2) },
        "ice" => MediaEvent::Ice { state: known(&text(1), ICE_STATES) },
        "ended" => MediaEvent::InputEnded,
        _ => return None,
    })
}

/// The error `browser.js` rejected with (`[code, ...fields]`); anything else
/// (a browser's exception it did not expect) as a refused `step`.
pub(crate) fn to_error(e: JsValue, step: &'static str) -> MediaError {
    let Some(a) = e.dyn_ref::<js_sys::Array>() else {
        let (name, message) = crate::sip_socket::any_error_parts(&e);
        return MediaError::Negotiation { step, name, message };
    };
    let text = |i| crate::text_at(a, i);
    match text(0).as_str() {
        "unsupported" => MediaError::Unsupported { what: known(&text(1), MISSING) },
        "microphone" => MediaError::Microphone { name: text(1), message: text(2) },
        "negotiation" => {
            MediaError::Negotiation { step: known(&text(1), STEPS), name: text(2), message: text(3) }
        }
        "no_candidates" => MediaError::NoCandidates { waited_ms: a.get(1).as_f64().unwrap_or(0.0) as u32 },
        "bad_tones" => MediaError::BadTones { tones: text(1) },
        "dtmf_unavailable" => MediaError::DtmfUnavailable,
        "output_device" => MediaError::OutputDevice { name: text(1), message: text(2) },
        "closed" => MediaError::Closed,
        code => MediaError::Negotiation { step, name: String::from("Error"), message: code.to_owned() },
    }
}

/// What a media step's promise settled into: its value, or its rejection
/// as a [`MediaError`] (see [`to_error`]).
pub(crate) type Settled = Box<dyn FnOnce(Result<JsValue, MediaError>)>;

/// Run `f` once a promise of `browser.js`, the step `step`, settles (the
/// phone's path: no futures runtime in the shipped wasm).
pub(crate) fn settle(promise: &js_sys::Promise, step: &'static str, f: Settled) {
    crate::later::then(promise, Box::new(move |outcome| f(outcome.map_err(|e| to_error(e, step)))));
}

/// Await a promise of `browser.js`, the step `step`: [`settle`] for the
/// public async API (which the phone does not use).
pub(crate) async fn settled(promise: js_sys::Promise, step: &'static str) -> Result<JsValue, MediaError> {
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| to_error(e, step))
}
