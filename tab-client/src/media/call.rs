//! [`CallMedia`]: one call's `RTCPeerConnection`, microphone track, remote
//! audio and DTMF sender, a typed handle on a `browser.js` `Call`.
use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::RtcPeerConnection;

use super::{js, settle, settled, EventSink, GatheringReport, MediaError, MediaEvent, Settled};

/// What kind of offer to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfferOptions {
    /// New ICE credentials (after a network change or a reconnection).
    pub ice_restart: bool,
    /// The call is held locally: offer `sendonly` and send silence. Keep it
    /// set on every offer while held (an ICE restart of a held call too);
    /// clear it to resume.
    pub hold: bool,
}

/// The media direction to answer with, before the browser intersects it
/// with the offer's (JSEP): ask `RecvOnly` for a `sendonly` (hold) offer,
/// `SendRecv` for a normal one, `SendOnly` while holding the peer yourself.
/// The phone core's type: it decides the direction (RFC 3264 6.1).
pub use tabphone_phone::Direction;

/// One call's media. Cloning shares it; the peer connection closes on
/// [`CallMedia::close`] or when the last clone is dropped.
///
/// Offers and answers are complete (non-trickle): each method that returns
/// SDP has gathered ICE candidates by the factory's [`super::GatheringPolicy`].
#[derive(Clone)]
pub struct CallMedia {
    inner: Rc<Inner>,
}

struct Inner {
    call: js::Call,
    /// The `Call`'s peer connection, fetched when first asked for (the
    /// phone never asks).
    pc: OnceCell<RtcPeerConnection>,
    muted: Cell<bool>,
    closed: Cell<bool>,
    events: EventSink,
    /// The `Call`'s event callback; it calls none after its close.
    _on: Closure<dyn FnMut(JsValue)>,
}

impl CallMedia {
    /// The handle on `call`, which reports to `events` through `on`.
    pub(crate) fn new(call: js::Call, events: EventSink, on: Closure<dyn FnMut(JsValue)>) -> CallMedia {
        let pc = OnceCell::new();
        let inner = Inner { call, pc, muted: Cell::new(false), closed: Cell::new(false), events, _on: on };
        CallMedia { inner: Rc::new(inner) }
    }

    /// Send the events of this call to `handler` from now on.
    pub fn set_event_handler(&self, handler: impl Fn(MediaEvent) + 'static) {
        *self.inner.events.borrow_mut() = Rc::new(handler);
    }

    /// A complete local offer (initial, re-offer, ICE restart, hold or resume).
    /// A prewarmed call's first plain offer is ready at once.
    pub async fn create_offer(&self, options: OfferOptions) -> Result<String, MediaError> {
        sdp(self.step_async(Step::Offer(options)).await?)
    }

    /// Apply the peer's offer and return a complete answer, asking for
    /// `direction` (see [`Direction`]).
    pub async fn create_answer(
        &self,
        remote_offer: &str,
        direction: Direction,
    ) -> Result<String, MediaError> {
        sdp(self.step_async(Step::Answer(remote_offer, direction)).await?)
    }

    /// Apply the peer's answer to our last offer.
    pub async fn apply_answer(&self, remote_answer: &str) -> Result<(), MediaError> {
        self.step_async(Step::Apply(remote_answer)).await.map(drop)
    }

    /// Drop our pending offer (the peer refused it, e.g. a 488 or 491 to a
    /// re-INVITE): back to the last agreed session.
    pub async fn rollback(&self) -> Result<(), MediaError> {
        self.step_async(Step::Rollback).await.map(drop)
    }

    /// Start a negotiation step ([`Started::then`] gets what its promise
    /// resolved with: the SDP of an offer or answer). The phone's media
    /// requests take this path, with no futures runtime.
    pub(crate) fn start(&self, step: Step<'_>) -> Started {
        let started = self.check_open().map(|()| {
            let call = &self.inner.call;
            match step {
                Step::Offer(o) => (call.offer(o.ice_restart, o.hold), "create_offer"),
                Step::Answer(offer, direction) => (call.answer(offer, direction.as_str()), "create_answer"),
                Step::Apply(answer) => (call.apply(answer), "set_remote"),
                Step::Rollback => (call.rollback(), "rollback"),
            }
        });
        Started(started)
    }

    /// A negotiation step awaited, for the public async methods.
    async fn step_async(&self, step: Step<'_>) -> Result<JsValue, MediaError> {
        let (promise, name) = self.start(step).0?;
        settled(promise, name).await
    }

    /// Mute or unmute the microphone (`track.enabled`: silence is still sent).
    pub fn set_muted(&self, muted: bool) {
        self.inner.muted.set(muted);
        self.inner.call.mute(muted);
    }

    /// Whether the microphone is muted.
    pub fn muted(&self) -> bool {
        self.inner.muted.get()
    }

    /// Send DTMF tones as RFC 4733 events (`0-9 A-D * # ,`), each
    /// `duration_ms` long with `gap_ms` between them; replaces tones still
    /// queued. Each tone is reported as [`MediaEvent::TonePlayed`] when it plays.
    pub fn send_dtmf(&self, tones: &str, duration_ms: u32, gap_ms: u32) -> Result<(), MediaError> {
        self.check_open()?;
        self.inner.call.tones(tones, duration_ms, gap_ms).map_err(|e| super::to_error(e, "insert_dtmf"))
    }

    /// Switch the microphone to `device_id` (the default device when `None`)
    /// without renegotiating (`replaceTrack`); the mute state carries over.
    pub async fn set_input_device(&self, device_id: Option<&str>) -> Result<(), MediaError> {
        self.check_open()?;
        settled(self.inner.call.input(device_id), "replace_track").await.map(drop)
    }

    /// Play remote audio on output device `sink_id` (`""`: the default).
    pub async fn set_output_device(&self, sink_id: &str) -> Result<(), MediaError> {
        self.check_open()?;
        settled(self.inner.call.output(sink_id), "set_sink_id").await.map(drop)
    }

    /// Try playing remote audio again: call it from a user gesture after
    /// [`MediaEvent::PlaybackBlocked`]; the outcome comes as an event.
    pub fn retry_playback(&self) {
        self.inner.call.play();
    }

    /// Whether the browser's autoplay policy blocked the remote audio.
    pub fn playback_blocked(&self) -> bool {
        self.inner.call.blocked()
    }

    /// How the last offer's or answer's ICE gathering went.
    pub fn last_gathering(&self) -> Option<GatheringReport> {
        GatheringReport::from_js(&self.inner.call.report())
    }

    /// The peer connection, for statistics (`getStats`).
    pub fn peer_connection(&self) -> &RtcPeerConnection {
        self.inner.pc.get_or_init(|| self.inner.call.pc())
    }

    /// Resolves once the connection's ICE has left `new` and `checking`
    /// (connected, failed...) or after `ms`.
    pub(crate) fn ice_settled(&self, ms: u32) -> js_sys::Promise {
        self.inner.call.settled(ms)
    }

    /// Stop the microphone track, close the peer connection, remove the audio
    /// element. No event follows. Idempotent.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether `other` is this call's media (a clone of it).
    pub fn same(&self, other: &CallMedia) -> bool {
        std::rc::Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Whether [`CallMedia::close`] ran.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    fn check_open(&self) -> Result<(), MediaError> {
        if self.inner.closed.get() {
            Err(MediaError::Closed)
        } else {
            Ok(())
        }
    }
}

impl Inner {
    fn close(&self) {
        if !self.closed.replace(true) {
            self.call.unchecked_ref::<crate::Closable>().close();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// A negotiation step under way ([`CallMedia::start`]): its promise and
/// its name for errors, or why it could not start.
pub(crate) struct Started(Result<(js_sys::Promise, &'static str), MediaError>);

impl Started {
    /// Run `f` with the step's outcome (at once when it could not start).
    pub(crate) fn then(self, f: Settled) {
        match self.0 {
            Ok((promise, name)) => settle(&promise, name, f),
            Err(e) => f(Err(e)),
        }
    }
}

/// A negotiation step ([`CallMedia::start`]).
// A plain tag, then each variant's fields in declared order: matches and drop
// glue need less code than with Rust's own layout (measured in the shipped wasm).
#[repr(C)]
pub(crate) enum Step<'a> {
    /// [`CallMedia::create_offer`].
    Offer(OfferOptions),
    /// [`CallMedia::create_answer`] to this offer.
    Answer(&'a str, Direction),
    /// [`CallMedia::apply_answer`].
    Apply(&'a str),
    /// [`CallMedia::rollback`].
    Rollback,
}

/// The SDP an offer or answer resolved with.
pub(crate) fn sdp(value: JsValue) -> Result<String, MediaError> {
    value.as_string().ok_or(MediaError::Closed)
}
