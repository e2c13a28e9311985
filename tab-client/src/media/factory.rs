//! [`MediaFactory`]: the microphone, prepared ahead, and new calls, a typed
//! handle on a `browser.js` `Factory`.
use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::{
    event_callback, js, settle, settled, CallMedia, EventSink, MediaError, MediaEvent, MediaOptions, Settled,
};

/// What a new call's media is given to ([`MediaFactory::call`]).
type Made = Box<dyn FnOnce(Result<CallMedia, MediaError>)>;

/// Makes each call's [`CallMedia`], and prepares ahead what it can.
///
/// Without preparation, an outgoing call waits for `getUserMedia` (8-80 ms
/// in Chromium) and ICE gathering before its INVITE can leave.
/// [`MediaFactory::prewarm`] does both before the user dials: it keeps the
/// microphone open and a peer connection with a gathered offer, which the
/// next [`MediaFactory::outgoing`] takes. With [`MediaOptions::keep_warm`],
/// the next is prepared a second after a call takes one (off the call's own
/// setup path). Cloning shares the factory.
#[derive(Clone)]
pub struct MediaFactory {
    state: Rc<State>,
}

struct State {
    options: RefCell<MediaOptions>,
    factory: js::Factory,
}

impl MediaFactory {
    /// A factory with `options`; nothing is opened until asked.
    pub fn new(options: MediaOptions) -> MediaFactory {
        let factory = js::Factory::new(&options.to_json());
        MediaFactory { state: Rc::new(State { options: RefCell::new(options), factory }) }
    }

    /// The options in use.
    pub fn options(&self) -> MediaOptions {
        self.state.options.borrow().clone()
    }

    /// Open the microphone (if it is not open) and prepare a peer connection
    /// with a gathered offer (if none is ready), for the next outgoing call.
    /// Returns at once when preparation is already under way.
    pub async fn prewarm(&self) -> Result<(), MediaError> {
        settled(self.state.factory.prewarm(), "create_offer").await.map(drop)
    }

    /// [`MediaFactory::prewarm`], its outcome to `then` (the phone's path).
    pub(crate) fn prewarm_then(&self, then: Settled) {
        settle(&self.state.factory.prewarm(), "create_offer", then);
    }

    /// Whether a prepared call is ready for the next [`MediaFactory::outgoing`].
    pub fn is_warm(&self) -> bool {
        self.state.factory.is_warm()
    }

    /// Open the microphone only (if it is not open).
    pub async fn open_microphone(&self) -> Result<(), MediaError> {
        settled(self.state.factory.open(), "create_offer").await.map(drop)
    }

    /// The media for a call we place: the prewarmed one when ready (its first
    /// plain [`CallMedia::create_offer`] returns at once), else a new one.
    /// With [`MediaOptions::keep_warm`], the next is prepared in the
    /// background a second later.
    pub async fn outgoing(&self, on_event: impl Fn(MediaEvent) + 'static) -> Result<CallMedia, MediaError> {
        self.call_async(true, Rc::new(on_event)).await
    }

    /// The media for a call we answer (never the prewarmed one: its pending
    /// offer would have to be rolled back).
    pub async fn incoming(&self, on_event: impl Fn(MediaEvent) + 'static) -> Result<CallMedia, MediaError> {
        self.call_async(false, Rc::new(on_event)).await
    }

    /// [`MediaFactory::outgoing`] (`outgoing`) or [`MediaFactory::incoming`],
    /// the media given to `then`: the phone's driver takes this one path for both.
    pub(crate) fn call(&self, outgoing: bool, on_event: Rc<dyn Fn(MediaEvent)>, then: Made) {
        let (promise, events, on) = self.start_call(outgoing, on_event);
        let made = move |call: Result<JsValue, MediaError>| {
            then(call.map(|call| CallMedia::new(call.unchecked_into(), events, on)))
        };
        settle(&promise, "create_offer", Box::new(made));
    }

    /// [`MediaFactory::call`] awaited, for the public async methods.
    async fn call_async(
        &self,
        outgoing: bool,
        on_event: Rc<dyn Fn(MediaEvent)>,
    ) -> Result<CallMedia, MediaError> {
        let (promise, events, on) = self.start_call(outgoing, on_event);
        let call = settled(promise, "create_offer").await?;
        Ok(CallMedia::new(call.unchecked_into(), events, on))
    }

    /// Ask `browser.js` for a call's media: its promise, and where its events go.
    fn start_call(
        &self,
        outgoing: bool,
        on_event: Rc<dyn Fn(MediaEvent)>,
    ) -> (js_sys::Promise, EventSink, Closure<dyn FnMut(JsValue)>) {
        let events = Rc::new(RefCell::new(on_event));
        let on = event_callback(events.clone());
        (self.state.factory.call(outgoing, on.as_ref()), events, on)
    }

    /// Use microphone `device_id` (the default when `None`) for calls made
    /// from now on; the prepared microphone and call are released. Switch a
    /// live call with [`CallMedia::set_input_device`].
    pub fn set_input_device(&self, device_id: Option<String>) {
        self.release();
        self.state.options.borrow_mut().audio.device_id = device_id;
        self.configure();
    }

    /// Play calls made from now on through output device `sink_id` (the
    /// default when `None`). Switch a live call with [`CallMedia::set_output_device`].
    pub fn set_output_device(&self, sink_id: Option<String>) {
        self.state.options.borrow_mut().output_device_id = sink_id;
        self.configure();
    }

    fn configure(&self) {
        self.state.factory.configure(&self.state.options.borrow().to_json());
    }

    /// Close the microphone (the browser's recording indicator goes off once
    /// no call uses it) and the prepared call.
    pub fn release(&self) {
        self.state.factory.release();
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.factory.release();
    }
}
