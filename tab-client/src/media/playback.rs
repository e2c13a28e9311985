//! The remote audio of one call: an `<audio>` element this call creates and
//! removes, `play()` with the autoplay policy's refusal reported, and the
//! output device through `setSinkId` where the browser has it.
use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{HtmlAudioElement, MediaStream, MediaStreamTrack};

use super::{emit, error_parts, settle, EventSink, MediaError, MediaEvent};

/// The element and whether its last `play()` was refused.
pub(crate) struct RemoteAudio {
    element: HtmlAudioElement,
    blocked: Rc<Cell<bool>>,
    events: EventSink,
}

impl RemoteAudio {
    /// A new `<audio>` appended to the document's body (invisible: it has no
    /// controls), marked `data-tabphone-media`.
    pub(crate) fn new(events: EventSink) -> Result<RemoteAudio, MediaError> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or(MediaError::Unsupported { what: "document (call media runs in a page)" })?;
        let element: HtmlAudioElement = document
            .create_element("audio")
            .map_err(|_| MediaError::Unsupported { what: "<audio> element" })?
            .unchecked_into();
        let _ = element.set_attribute("data-tabphone-media", "");
        if let Some(body) = document.body() {
            let _ = body.append_child(&element);
        }
        Ok(RemoteAudio { element, blocked: Rc::new(Cell::new(false)), events })
    }

    /// Play `track` (the remote audio track), replacing what played before.
    pub(crate) fn play_track(&self, track: &MediaStreamTrack) {
        let Ok(stream) = MediaStream::new() else { return };
        stream.add_track(track);
        self.element.set_src_object(Some(&stream));
        self.play();
    }

    /// Call `play()` now (inside a user gesture, this is what lifts the
    /// autoplay block) and report how it went.
    pub(crate) fn play(&self) {
        if self.element.src_object().is_none() {
            return;
        }
        let promise = match self.element.play() {
            Ok(p) => p,
            Err(e) => return self.report(Err(e)),
        };
        let (blocked, events) = (self.blocked.clone(), self.events.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = settle(promise).await;
            report(&blocked, &events, outcome.map(|_| ()));
        });
    }

    fn report(&self, outcome: Result<(), JsValue>) {
        report(&self.blocked, &self.events, outcome)
    }

    /// Whether the last `play()` was refused by the autoplay policy.
    pub(crate) fn blocked(&self) -> bool {
        self.blocked.get()
    }

    /// Route the audio to output device `sink_id` (`""` is the default device).
    pub(crate) async fn set_sink(&self, sink_id: &str) -> Result<(), MediaError> {
        let set_sink = Reflect::get(&self.element, &JsValue::from_str("setSinkId"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| MediaError::OutputDevice {
                name: String::from("NotSupportedError"),
                message: String::from("this browser has no HTMLMediaElement.setSinkId"),
            })?;
        let promise = set_sink.call1(&self.element, &JsValue::from_str(sink_id)).map_err(output_error)?;
        let promise = promise.dyn_into::<js_sys::Promise>().map_err(output_error)?;
        settle(promise).await.map(|_| ()).map_err(output_error)
    }

    /// Stop playing and take the element out of the page.
    pub(crate) fn remove(&self) {
        let _ = self.element.pause();
        self.element.set_src_object(None);
        self.element.remove();
    }
}

/// Report a `play()` outcome. `AbortError` means a newer `play()` or source
/// superseded this one (SIP.js #846): that one reports instead.
fn report(blocked: &Cell<bool>, events: &EventSink, outcome: Result<(), JsValue>) {
    match outcome {
        Ok(()) => {
            blocked.set(false);
            emit(events, MediaEvent::PlaybackStarted);
        }
        Err(e) => {
            let (name, message) = error_parts(&e);
            match name.as_str() {
                "AbortError" => {}
                "NotAllowedError" => {
                    blocked.set(true);
                    emit(events, MediaEvent::PlaybackBlocked);
                }
                _ => emit(events, MediaEvent::PlaybackFailed { name, message }),
            }
        }
    }
}

fn output_error(e: JsValue) -> MediaError {
    let (name, message) = error_parts(&e);
    MediaError::OutputDevice { name, message }
}
