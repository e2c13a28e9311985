//! [`MediaFactory`]: the microphone, prepared ahead, and new calls.
use std::cell::RefCell;
use std::rc::Rc;

use web_sys::{MediaStream, MediaStreamTrack, MediaStreamTrackState};

use super::{error_parts, settle, AudioConstraints, CallMedia, EventSink, MediaError, MediaEvent};
use super::{MediaOptions, OfferOptions};

/// With [`MediaOptions::keep_warm`], how long after a call takes the prepared
/// peer connection the next one is prepared: off the call's own setup path.
const REWARM_AFTER_MS: i32 = 1000;

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
    /// The generation a preparation under way was started in.
    warming: Option<u64>,
    /// Bumped by `release`: what was being prepared before is not kept.
    generation: u64,
}

impl MediaFactory {
    /// A factory with `options`; nothing is opened until asked.
    pub fn new(options: MediaOptions) -> MediaFactory {
        let state = State { options, microphone: None, warm: None, warming: None, generation: 0 };
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
        let generation = {
            let mut state = self.state.borrow_mut();
            let busy = state.warming == Some(state.generation);
            if busy || state.warm.as_ref().is_some_and(|w| !w.is_closed()) {
                return Ok(());
            }
            state.warming = Some(state.generation);
            state.generation
        };
        let result = self.prepare(generation).await;
        let mut state = self.state.borrow_mut();
        if state.warming == Some(generation) {
            state.warming = None;
        }
        result
    }

    /// Whether a prepared call is ready for the next [`MediaFactory::outgoing`].
    pub fn is_warm(&self) -> bool {
        self.state.borrow().warm.as_ref().is_some_and(|w| !w.is_closed())
    }

    async fn prepare(&self, generation: u64) -> Result<(), MediaError> {
        let track = self.track().await?;
        let call = CallMedia::start(track, &self.options(), sink(|_| {}))?;
        let offer = call.create_offer(OfferOptions::default()).await?;
        call.keep_ready_offer(offer);
        let mut state = self.state.borrow_mut();
        if state.generation != generation {
            // Released meanwhile: keep nothing open.
            call.close();
        } else if let Some(old) = state.warm.replace(call) {
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
    /// With [`MediaOptions::keep_warm`], the next is prepared in the
    /// background a second later.
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
                sleep(REWARM_AFTER_MS).await;
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
            state.generation += 1;
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
        let (constraints, generation) = {
            let state = self.state.borrow();
            (state.options.audio.clone(), state.generation)
        };
        let opened = microphone(&constraints).await?;
        let mut state = self.state.borrow_mut();
        if state.generation != generation {
            // Released meanwhile: this track is the caller's alone (its call stops it).
            return Ok(opened);
        }
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

/// Resolve after `ms` (at once outside a page).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set =
            web_sys::window().map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms));
        if !matches!(set, Some(Ok(_))) {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = settle(promise).await;
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
