//! [`MediaFactory`]: the microphone, prepared ahead, and new calls.
use std::cell::RefCell;
use std::rc::Rc;

use web_sys::{MediaStream, MediaStreamTrack, MediaStreamTrackState};

use super::{error_parts, settle, AudioConstraints, CallMedia, EventSink, MediaError, MediaEvent};
use super::{MediaOptions, OfferOptions};

/// Makes each call's [`CallMedia`], and prepares ahead what it can.
///
/// Without preparation, an outgoing call waits for `getUserMedia` (8-80 ms
/// in Chromium) and ICE gathering before its INVITE can leave.
/// [`MediaFactory::prewarm`] does both before the user dials: it keeps the
/// microphone open and a peer connection with a gathered offer, which the
/// next [`MediaFactory::outgoing`] takes. Cloning shares the factory.
#[derive(Clone)]
pub struct MediaFactory {
    state: Rc<RefCell<State>>,
}

struct State {
    options: MediaOptions,
    /// The open microphone; each call sends its own clone of this track.
    microphone: Option<MediaStreamTrack>,
    /// A call with a gathered offer, for the next outgoing call.
    warm: Option<CallMedia>,
    warming: bool,
}

impl MediaFactory {
    /// A factory with `options`; nothing is opened until asked.
    pub fn new(options: MediaOptions) -> MediaFactory {
        let state = State { options, microphone: None, warm: None, warming: false };
        MediaFactory { state: Rc::new(RefCell::new(state)) }
    }

    /// The options in use.
    pub fn options(&self) -> MediaOptions {
        self.state.borrow().options.clone()
    }

    /// Open the microphone (if it is not open) and prepare a peer connection
    /// with a gathered offer (if none is ready), for the next outgoing call.
    /// Returns at once when preparation is already under way.
    pub async fn prewarm(&self) -> Result<(), MediaError> {
        {
            let mut state = self.state.borrow_mut();
            if state.warming || state.warm.as_ref().is_some_and(|w| !w.is_closed()) {
                return Ok(());
            }
            state.warming = true;
        }
        let result = self.prepare().await;
        self.state.borrow_mut().warming = false;
        result
    }

    async fn prepare(&self) -> Result<(), MediaError> {
        let track = self.track().await?;
        let call = CallMedia::start(track, &self.options(), sink(|_| {}))?;
        let offer = call.create_offer(OfferOptions::default()).await?;
        call.keep_ready_offer(offer);
        if let Some(old) = self.state.borrow_mut().warm.replace(call) {
            old.close();
        }
        Ok(())
    }

    /// Open the microphone only (if it is not open).
    pub async fn open_microphone(&self) -> Result<(), MediaError> {
        self.track().await.map(|t| t.stop())
    }

    /// The media for a call we place: the prewarmed one when ready (its first
    /// plain [`CallMedia::create_offer`] returns at once), else a new one.
    /// With [`MediaOptions::keep_warm`], the next is prepared in the background.
    pub async fn outgoing(&self, on_event: impl Fn(MediaEvent) + 'static) -> Result<CallMedia, MediaError> {
        let warm = self.state.borrow_mut().warm.take().filter(|w| !w.is_closed());
        let call = match warm {
            Some(call) => {
                call.set_event_handler(on_event);
                call
            }
            None => CallMedia::start(self.track().await?, &self.options(), sink(on_event))?,
        };
        if self.state.borrow().options.keep_warm {
            let factory = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // A failure here is the next call's to report, when it asks again.
                let _ = factory.prewarm().await;
            });
        }
        Ok(call)
    }

    /// The media for a call we answer (never the prewarmed one: its pending
    /// offer would have to be rolled back).
    pub async fn incoming(&self, on_event: impl Fn(MediaEvent) + 'static) -> Result<CallMedia, MediaError> {
        CallMedia::start(self.track().await?, &self.options(), sink(on_event))
    }

    /// Use microphone `device_id` (the default when `None`) for calls made
    /// from now on; the prepared microphone and call are released. Switch a
    /// live call with [`CallMedia::set_input_device`].
    pub fn set_input_device(&self, device_id: Option<String>) {
        self.release();
        self.state.borrow_mut().options.audio.device_id = device_id;
    }

    /// Play calls made from now on through output device `sink_id` (the
    /// default when `None`). Switch a live call with [`CallMedia::set_output_device`].
    pub fn set_output_device(&self, sink_id: Option<String>) {
        self.state.borrow_mut().options.output_device_id = sink_id;
    }

    /// Close the microphone (the browser's recording indicator goes off once
    /// no call uses it) and the prepared call.
    pub fn release(&self) {
        let (microphone, warm) = {
            let mut state = self.state.borrow_mut();
            (state.microphone.take(), state.warm.take())
        };
        if let Some(track) = microphone {
            track.stop();
        }
        if let Some(call) = warm {
            call.close();
        }
    }

    /// A new clone of the open microphone's track, opening it if needed.
    async fn track(&self) -> Result<MediaStreamTrack, MediaError> {
        let live = |t: &MediaStreamTrack| t.ready_state() == MediaStreamTrackState::Live;
        if let Some(track) = self.state.borrow().microphone.as_ref().filter(|t| live(t)) {
            return Ok(track.clone());
        }
        let constraints = self.state.borrow().options.audio.clone();
        let opened = microphone(&constraints).await?;
        let mut state = self.state.borrow_mut();
        match state.microphone.as_ref().filter(|t| live(t)) {
            // Another caller opened it meanwhile: keep one.
            Some(track) => {
                opened.stop();
                Ok(track.clone())
            }
            None => {
                let track = opened.clone();
                state.microphone = Some(opened);
                Ok(track)
            }
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(track) = self.microphone.take() {
            track.stop();
        }
        if let Some(call) = self.warm.take() {
            call.close();
        }
    }
}

/// An event sink with `handler`.
fn sink(handler: impl Fn(MediaEvent) + 'static) -> EventSink {
    Rc::new(RefCell::new(Rc::new(handler)))
}

/// `getUserMedia` for audio with `constraints`: the audio track.
pub(crate) async fn microphone(constraints: &AudioConstraints) -> Result<MediaStreamTrack, MediaError> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or(MediaError::Unsupported { what: "navigator.mediaDevices (a secure page is needed)" })?;
    let microphone_error = |e: wasm_bindgen::JsValue| {
        let (name, message) = error_parts(&e);
        MediaError::Microphone { name, message }
    };
    let promise = devices.get_user_media_with_constraints(&constraints.to_js()).map_err(microphone_error)?;
    let stream: MediaStream =
        wasm_bindgen::JsCast::unchecked_into(settle(promise).await.map_err(microphone_error)?);
    let track = stream.get_audio_tracks().get(0);
    if track.is_undefined() {
        return Err(MediaError::Microphone {
            name: String::from("NotFoundError"),
            message: String::from("getUserMedia gave no audio track"),
        });
    }
    Ok(wasm_bindgen::JsCast::unchecked_into(track))
}
