//! [`CallMedia`]: one call's `RTCPeerConnection`, microphone track, remote
//! audio and DTMF sender.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack, RtcIceConnectionState, RtcOfferOptions, RtcPeerConnection};
use web_sys::{RtcRtpSender, RtcRtpTransceiver, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent};

use super::options::dict;

use super::dtmf::Dtmf;
use super::gather::gather;
use super::playback::RemoteAudio;
use super::{emit, error_parts, settle, EventSink, GatheringReport, MediaError, MediaEvent, MediaOptions};
use crate::listen::Listener;

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

/// What sends our microphone: the transceiver of the call's audio section.
struct Sending {
    sender: RtcRtpSender,
    transceiver: Option<RtcRtpTransceiver>,
    dtmf: Option<Dtmf>,
}

struct Inner {
    pc: RtcPeerConnection,
    sending: RefCell<Sending>,
    track: RefCell<MediaStreamTrack>,
    muted: Cell<bool>,
    held: Cell<bool>,
    closed: Cell<bool>,
    audio: Rc<RemoteAudio>,
    events: EventSink,
    options: MediaOptions,
    ready_offer: RefCell<Option<String>>,
    gathering: Cell<Option<GatheringReport>>,
    listeners: RefCell<Vec<Listener>>,
    track_ended: RefCell<Option<Listener>>,
}

impl CallMedia {
    /// A peer connection sending `track` (this call's own microphone track,
    /// stopped on close).
    pub(crate) fn start(
        track: MediaStreamTrack,
        options: &MediaOptions,
        events: EventSink,
    ) -> Result<CallMedia, MediaError> {
        let unsupported = |_| MediaError::Unsupported { what: "RTCPeerConnection" };
        let pc =
            RtcPeerConnection::new_with_configuration(&options.rtc_configuration()).map_err(unsupported)?;
        let stream = MediaStream::new().map_err(unsupported)?;
        stream.add_track(&track);
        let sender = pc.add_track_0(&track, &stream);
        let transceiver = pc
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
            .find(|t| JsValue::from(t.sender()) == JsValue::from(sender.clone()));
        let audio = Rc::new(RemoteAudio::new(events.clone())?);
        let listeners = pc_listeners(&pc, &audio, &events);
        let inner = Inner {
            sending: RefCell::new(Sending { dtmf: Dtmf::new(&sender, events.clone()), sender, transceiver }),
            track_ended: RefCell::new(Some(ended_listener(&track, &events))),
            pc,
            track: RefCell::new(track),
            muted: Cell::new(false),
            held: Cell::new(false),
            closed: Cell::new(false),
            audio,
            events,
            options: options.clone(),
            ready_offer: RefCell::new(None),
            gathering: Cell::new(None),
            listeners: RefCell::new(listeners),
        };
        let media = CallMedia { inner: Rc::new(inner) };
        if let Some(sink) = options.output_device_id.clone() {
            media.route_output(sink);
        }
        Ok(media)
    }

    /// Send the events of this call to `handler` from now on.
    pub fn set_event_handler(&self, handler: impl Fn(MediaEvent) + 'static) {
        *self.inner.events.borrow_mut() = Rc::new(handler);
    }

    /// A complete local offer (initial, re-offer, ICE restart, hold or resume).
    /// A prewarmed call's first plain offer is ready at once.
    pub async fn create_offer(&self, options: OfferOptions) -> Result<String, MediaError> {
        self.check_open()?;
        let ready = self.inner.ready_offer.borrow_mut().take();
        if let Some(sdp) = ready.filter(|_| options == OfferOptions::default()) {
            return Ok(sdp);
        }
        self.set_direction(if options.hold { Direction::SendOnly } else { Direction::SendRecv })?;
        self.set_held(options.hold);
        let offer_options: RtcOfferOptions =
            dict(&[("iceRestart", options.ice_restart.into())]).unchecked_into();
        let offer = settle(self.inner.pc.create_offer_with_rtc_offer_options(&offer_options))
            .await
            .map_err(negotiation("create_offer"))?;
        self.set_local(offer).await
    }

    /// Keep `sdp` (just gathered) as the first plain offer.
    pub(crate) fn keep_ready_offer(&self, sdp: String) {
        *self.inner.ready_offer.borrow_mut() = Some(sdp);
    }

    /// Apply the peer's offer and return a complete answer, asking for
    /// `direction` (see [`Direction`]).
    pub async fn create_answer(
        &self,
        remote_offer: &str,
        direction: Direction,
    ) -> Result<String, MediaError> {
        self.check_open()?;
        self.inner.ready_offer.borrow_mut().take();
        self.set_remote(RtcSdpType::Offer, remote_offer).await?;
        self.adopt_offered_transceiver().await?;
        self.set_direction(direction)?;
        self.set_held(matches!(direction, Direction::SendOnly | Direction::Inactive));
        let answer = settle(self.inner.pc.create_answer()).await.map_err(negotiation("create_answer"))?;
        self.set_local(answer).await
    }

    /// Apply the peer's answer to our last offer.
    pub async fn apply_answer(&self, remote_answer: &str) -> Result<(), MediaError> {
        self.check_open()?;
        self.set_remote(RtcSdpType::Answer, remote_answer).await
    }

    /// Drop our pending offer (the peer refused it, e.g. a 488 or 491 to a
    /// re-INVITE): back to the last agreed session.
    pub async fn rollback(&self) -> Result<(), MediaError> {
        self.check_open()?;
        self.inner.ready_offer.borrow_mut().take();
        let init: RtcSessionDescriptionInit = dict(&[("type", RtcSdpType::Rollback.into())]).unchecked_into();
        settle(self.inner.pc.set_local_description(&init)).await.map_err(negotiation("rollback"))?;
        let current = self.inner.sending.borrow().transceiver.as_ref().and_then(|t| t.current_direction());
        use web_sys::RtcRtpTransceiverDirection as D;
        self.set_held(matches!(current, Some(D::Sendonly | D::Inactive)));
        Ok(())
    }

    /// Mute or unmute the microphone (`track.enabled`: silence is still sent).
    pub fn set_muted(&self, muted: bool) {
        self.inner.muted.set(muted);
        self.inner.enable_track();
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
        let sending = self.inner.sending.borrow();
        sending.dtmf.as_ref().ok_or(MediaError::DtmfUnavailable)?.insert(tones, duration_ms, gap_ms)
    }

    /// Switch the microphone to `device_id` (the default device when `None`)
    /// without renegotiating (`replaceTrack`); the mute state carries over.
    pub async fn set_input_device(&self, device_id: Option<&str>) -> Result<(), MediaError> {
        self.check_open()?;
        let mut constraints = self.inner.options.audio.clone();
        constraints.device_id = device_id.map(str::to_owned);
        let track = super::factory::microphone(&constraints).await?;
        track.set_enabled(self.inner.sending_sound());
        let replaced = self.inner.sending.borrow().sender.replace_track(Some(&track));
        if let Err(e) = settle(replaced).await {
            track.stop();
            return Err(negotiation("replace_track")(e));
        }
        if self.inner.closed.get() {
            track.stop();
            return Err(MediaError::Closed);
        }
        *self.inner.track_ended.borrow_mut() = Some(ended_listener(&track, &self.inner.events));
        self.inner.track.replace(track).stop();
        Ok(())
    }

    /// Play remote audio on output device `sink_id` (`""`: the default).
    pub async fn set_output_device(&self, sink_id: &str) -> Result<(), MediaError> {
        self.check_open()?;
        self.inner.audio.set_sink(sink_id).await
    }

    /// Try playing remote audio again: call it from a user gesture after
    /// [`MediaEvent::PlaybackBlocked`]; the outcome comes as an event.
    pub fn retry_playback(&self) {
        if !self.inner.closed.get() {
            self.inner.audio.play();
        }
    }

    /// Whether the browser's autoplay policy blocked the remote audio.
    pub fn playback_blocked(&self) -> bool {
        self.inner.audio.blocked()
    }

    /// How the last offer's or answer's ICE gathering went.
    pub fn last_gathering(&self) -> Option<GatheringReport> {
        self.inner.gathering.get()
    }

    /// The peer connection, for statistics (`getStats`).
    pub fn peer_connection(&self) -> &RtcPeerConnection {
        &self.inner.pc
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

    /// While we hold the peer, our microphone is disabled too (the offer
    /// is `sendonly`, so RTP still flows: silence), as SIP.js does.
    fn set_held(&self, held: bool) {
        self.inner.held.set(held);
        self.inner.enable_track();
    }

    /// A remote offer that holds us (`sendonly`, `inactive`) is not matched
    /// to the transceiver our track was added with (JSEP 5.10 matches only
    /// `sendrecv` and `recvonly` sections to them): the browser made another
    /// one for it, which would never send. Our track goes on that one, ours
    /// is stopped (or a later offer of ours would add a section), so that an
    /// unhold finds our microphone. Nothing changes when ours was matched.
    async fn adopt_offered_transceiver(&self) -> Result<(), MediaError> {
        let ours = self.inner.sending.borrow().transceiver.clone();
        let Some(ours) = ours.filter(|t| t.mid().is_none()) else { return Ok(()) };
        let offered = self
            .inner
            .pc
            .get_transceivers()
            .iter()
            .map(|t| t.unchecked_into::<RtcRtpTransceiver>())
            .find(|t| t.mid().is_some() && receives_audio(t));
        let Some(offered) = offered else { return Ok(()) };
        let sender = offered.sender();
        let replaced = sender.replace_track(Some(&self.inner.track.borrow()));
        settle(replaced).await.map_err(negotiation("replace_track"))?;
        ours.stop();
        let dtmf = Dtmf::new(&sender, self.inner.events.clone());
        *self.inner.sending.borrow_mut() = Sending { sender, transceiver: Some(offered), dtmf };
        Ok(())
    }

    fn set_direction(&self, direction: Direction) -> Result<(), MediaError> {
        let sending = self.inner.sending.borrow();
        let Some(t) = &sending.transceiver else { return Ok(()) };
        Reflect::set(t, &JsValue::from_str("direction"), &JsValue::from_str(direction.as_str()))
            .map(|_| ())
            .map_err(negotiation("set_direction"))
    }

    async fn set_remote(&self, kind: RtcSdpType, sdp: &str) -> Result<(), MediaError> {
        let init: RtcSessionDescriptionInit =
            dict(&[("type", kind.into()), ("sdp", sdp.into())]).unchecked_into();
        settle(self.inner.pc.set_remote_description(&init)).await.map_err(negotiation("set_remote"))?;
        Ok(())
    }

    /// Apply our offer or answer (`description`, from createOffer or
    /// createAnswer), gather by the policy, return the local SDP with its candidates.
    async fn set_local(&self, description: JsValue) -> Result<String, MediaError> {
        let pc = self.inner.pc.clone();
        let policy = self.inner.options.gathering;
        let need_server = !self.inner.options.ice_servers.is_empty();
        let apply = {
            let pc = pc.clone();
            async move {
                let promise = pc.set_local_description(description.unchecked_ref());
                settle(promise).await.map(|_| ()).map_err(negotiation("set_local"))
            }
        };
        let report = gather(&pc, policy, need_server, apply).await?;
        self.check_open()?;
        self.inner.gathering.set(Some(report));
        pc.local_description().map(|d| d.sdp()).ok_or(MediaError::Closed)
    }

    fn route_output(&self, sink: String) {
        let media = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(MediaError::OutputDevice { name, message }) = media.set_output_device(&sink).await {
                emit(&media.inner.events, MediaEvent::PlaybackFailed { name, message });
            }
        });
    }
}

impl Inner {
    fn sending_sound(&self) -> bool {
        !self.muted.get() && !self.held.get()
    }

    fn enable_track(&self) {
        self.track.borrow().set_enabled(self.sending_sound());
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.listeners.borrow_mut().clear();
        self.track_ended.borrow_mut().take();
        self.track.borrow().stop();
        self.pc.close();
        self.audio.remove();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// The peer connection's listeners: remote audio to the element, ICE states.
fn pc_listeners(pc: &RtcPeerConnection, audio: &Rc<RemoteAudio>, events: &EventSink) -> Vec<Listener> {
    let target: &web_sys::EventTarget = pc.as_ref();
    let audio = audio.clone();
    let on_track = Listener::new(target, "track", move |e| {
        let track = e.unchecked_into::<RtcTrackEvent>().track();
        if track.kind() == "audio" {
            audio.play_track(&track);
        }
    });
    let (events, ice_pc) = (events.clone(), pc.clone());
    let on_ice = Listener::new(target, "iceconnectionstatechange", move |_| {
        emit(&events, MediaEvent::Ice { state: ice_state(ice_pc.ice_connection_state()) });
    });
    vec![on_track, on_ice]
}

/// Whether a transceiver's receiver takes audio (`receiver.track.kind`).
fn receives_audio(t: &RtcRtpTransceiver) -> bool {
    let get = |v: &JsValue, key: &str| Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    get(&get(&get(t, "receiver"), "track"), "kind").as_string().as_deref() == Some("audio")
}

fn ended_listener(track: &MediaStreamTrack, events: &EventSink) -> Listener {
    let events = events.clone();
    Listener::new(track.as_ref(), "ended", move |_| emit(&events, MediaEvent::InputEnded))
}

fn ice_state(state: RtcIceConnectionState) -> &'static str {
    match state {
        RtcIceConnectionState::New => "new",
        RtcIceConnectionState::Checking => "checking",
        RtcIceConnectionState::Connected => "connected",
        RtcIceConnectionState::Completed => "completed",
        RtcIceConnectionState::Failed => "failed",
        RtcIceConnectionState::Disconnected => "disconnected",
        RtcIceConnectionState::Closed => "closed",
        _ => "unknown",
    }
}

/// The error of a refused negotiation `step`.
fn negotiation(step: &'static str) -> impl Fn(JsValue) -> MediaError {
    move |e| {
        let (name, message) = error_parts(&e);
        MediaError::Negotiation { step, name, message }
    }
}
