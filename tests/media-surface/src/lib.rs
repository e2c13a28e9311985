//! Test-only: tab-client's [`media`](tabphone_tab::media) layer,
//! [`SipSocket`](tabphone_tab::sip_socket::SipSocket) and
//! [`Timer`](tabphone_tab::timer::Timer) behind a small JS surface, loaded by
//! `tests/pages/media/index.html` for `tests/media.test.mjs`. Not part of the
//! product: it exposes internals (the peer connection) that tests measure.
//!
//! ## Layout
//! - `lib.rs`: `MediaPeer`: one user's [`MediaFactory`] and current call; the
//!   test carries offers and answers between two pages (no SIP).
//! - `socket.rs`: `SocketProbe` (a `SipSocket` whose events are recorded) and
//!   `timerCheck` (the timer's re-arming, observed).
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use tabphone_tab::media::{CallMedia, Direction, GatheringPolicy, MediaError, MediaEvent};
use tabphone_tab::media::{IceServer, MediaFactory, MediaOptions, OfferOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

mod socket;

/// One user's media: a factory and at most one call.
#[wasm_bindgen]
pub struct MediaPeer {
    peer: Rc<Peer>,
}

struct Peer {
    factory: MediaFactory,
    call: RefCell<Option<CallMedia>>,
    events: Rc<RefCell<Vec<String>>>,
}

/// `{code, message}` for a media error.
fn js_error(e: MediaError) -> JsValue {
    let err = Object::new();
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    let _ = Reflect::set(&err, &"message".into(), &e.to_string().into());
    err.into()
}

fn get_u32(options: &JsValue, key: &str) -> Option<u32> {
    Reflect::get(options, &key.into()).ok().and_then(|v| v.as_f64()).map(|n| n as u32)
}

fn get_bool(options: &JsValue, key: &str) -> Option<bool> {
    Reflect::get(options, &key.into()).ok().and_then(|v| v.as_bool())
}

/// `iceServers: [{urls: string | string[], username?, credential?}]`.
fn ice_servers(options: &JsValue) -> Vec<IceServer> {
    let list = Reflect::get(options, &"iceServers".into()).ok().filter(Array::is_array);
    let Some(list) = list.map(|l| Array::from(&l)) else { return Vec::new() };
    let text = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok().and_then(|v| v.as_string());
    list.iter()
        .map(|s| {
            let urls = Reflect::get(&s, &"urls".into()).unwrap_or(JsValue::UNDEFINED);
            let urls = match urls.as_string() {
                Some(one) => vec![one],
                None => Array::from(&urls).iter().filter_map(|u| u.as_string()).collect(),
            };
            IceServer { urls, username: text(&s, "username"), credential: text(&s, "credential") }
        })
        .collect()
}

/// Options from `{settleMs, maxMs, waitForComplete, keepWarm, echoCancellation, iceServers}`.
fn media_options(options: &JsValue) -> MediaOptions {
    let d = GatheringPolicy::default();
    let mut o = MediaOptions {
        gathering: GatheringPolicy {
            settle_ms: get_u32(options, "settleMs").unwrap_or(d.settle_ms),
            max_ms: get_u32(options, "maxMs").unwrap_or(d.max_ms),
            wait_for_complete: get_bool(options, "waitForComplete").unwrap_or(false),
        },
        keep_warm: get_bool(options, "keepWarm").unwrap_or(false),
        ice_servers: ice_servers(options),
        ..MediaOptions::default()
    };
    o.audio.echo_cancellation = get_bool(options, "echoCancellation");
    o
}

fn event_text(event: &MediaEvent) -> String {
    match event {
        MediaEvent::TonePlayed { tone } => format!("tone:{tone}"),
        MediaEvent::TonesDone => String::from("tones_done"),
        MediaEvent::PlaybackStarted => String::from("playback_started"),
        MediaEvent::PlaybackBlocked => String::from("playback_blocked"),
        MediaEvent::PlaybackFailed { name, .. } => format!("playback_failed:{name}"),
        MediaEvent::Ice { state } => format!("ice:{state}"),
        MediaEvent::InputEnded => String::from("input_ended"),
        other => format!("other:{other:?}"),
    }
}

fn direction(name: &str) -> Result<Direction, JsValue> {
    match name {
        "sendrecv" => Ok(Direction::SendRecv),
        "sendonly" => Ok(Direction::SendOnly),
        "recvonly" => Ok(Direction::RecvOnly),
        "inactive" => Ok(Direction::Inactive),
        _ => Err(JsValue::from_str("direction: sendrecv, sendonly, recvonly or inactive")),
    }
}

impl Peer {
    /// The current call, or a new one (outgoing or incoming).
    async fn call(self: &Rc<Self>, outgoing: bool) -> Result<CallMedia, JsValue> {
        if let Some(call) = self.call.borrow().clone() {
            return Ok(call);
        }
        let events = self.events.clone();
        let on_event = move |e: MediaEvent| events.borrow_mut().push(event_text(&e));
        let call = if outgoing {
            self.factory.outgoing(on_event).await
        } else {
            self.factory.incoming(on_event).await
        };
        let call = call.map_err(js_error)?;
        *self.call.borrow_mut() = Some(call.clone());
        Ok(call)
    }

    fn current(&self) -> Result<CallMedia, JsValue> {
        self.call.borrow().clone().ok_or_else(|| JsValue::from_str("no call"))
    }
}

#[wasm_bindgen]
impl MediaPeer {
    /// A peer with options (see `media_options`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> MediaPeer {
        let factory = MediaFactory::new(media_options(&options));
        MediaPeer { peer: Rc::new(Peer { factory, call: RefCell::new(None), events: Rc::default() }) }
    }

    /// Open the microphone and prepare a gathered offer.
    pub fn prewarm(&self) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            peer.factory.prewarm().await.map(|_| JsValue::UNDEFINED).map_err(js_error)
        })
    }

    /// Whether a prepared call is ready.
    #[wasm_bindgen(getter)]
    pub fn warm(&self) -> bool {
        self.peer.factory.is_warm()
    }

    /// An offer (starting an outgoing call when there is none).
    pub fn offer(&self, ice_restart: bool, hold: bool) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            let call = peer.call(true).await?;
            let sdp = call.create_offer(OfferOptions { ice_restart, hold }).await.map_err(js_error)?;
            Ok(sdp.into())
        })
    }

    /// An answer to `sdp` asking for `direction` (starting an incoming call when there is none).
    pub fn answer(&self, sdp: String, direction_name: String) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            let direction = direction(&direction_name)?;
            let call = peer.call(false).await?;
            Ok(call.create_answer(&sdp, direction).await.map_err(js_error)?.into())
        })
    }

    /// Apply the peer's answer.
    #[wasm_bindgen(js_name = applyAnswer)]
    pub fn apply_answer(&self, sdp: String) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            peer.current()?.apply_answer(&sdp).await.map_err(js_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Mute or unmute.
    pub fn mute(&self, muted: bool) -> Result<(), JsValue> {
        self.peer.current()?.set_muted(muted);
        Ok(())
    }

    /// Send DTMF; throws `{code, message}`.
    pub fn dtmf(&self, tones: &str, duration_ms: u32, gap_ms: u32) -> Result<(), JsValue> {
        self.peer.current()?.send_dtmf(tones, duration_ms, gap_ms).map_err(js_error)
    }

    /// Switch the microphone (`null`: the default).
    #[wasm_bindgen(js_name = setInput)]
    pub fn set_input(&self, device_id: Option<String>) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            peer.current()?.set_input_device(device_id.as_deref()).await.map_err(js_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Switch the output device.
    #[wasm_bindgen(js_name = setOutput)]
    pub fn set_output(&self, sink_id: String) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            peer.current()?.set_output_device(&sink_id).await.map_err(js_error)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Retry playing remote audio (from a user gesture).
    #[wasm_bindgen(js_name = retryPlayback)]
    pub fn retry_playback(&self) -> Result<(), JsValue> {
        self.peer.current()?.retry_playback();
        Ok(())
    }

    /// Whether playback is blocked by the autoplay policy.
    #[wasm_bindgen(js_name = playbackBlocked)]
    pub fn playback_blocked(&self) -> Result<bool, JsValue> {
        Ok(self.peer.current()?.playback_blocked())
    }

    /// The events so far, as strings (`tone:1`, `ice:connected`, ...).
    pub fn events(&self) -> Array {
        self.peer.events.borrow().iter().map(|e| JsValue::from_str(e)).collect()
    }

    /// The last gathering: `{elapsedMs, firstUsefulMs, candidates, end}`.
    pub fn gathering(&self) -> Result<JsValue, JsValue> {
        let Some(r) = self.peer.current()?.last_gathering() else { return Ok(JsValue::NULL) };
        let o = Object::new();
        let ms = |d: std::time::Duration| JsValue::from_f64(d.as_secs_f64() * 1000.0);
        let _ = Reflect::set(&o, &"elapsedMs".into(), &ms(r.elapsed));
        let _ = Reflect::set(&o, &"firstUsefulMs".into(), &r.first_useful.map(ms).unwrap_or(JsValue::NULL));
        let _ = Reflect::set(&o, &"candidates".into(), &r.candidates.into());
        let _ = Reflect::set(&o, &"end".into(), &format!("{:?}", r.end).into());
        Ok(o.into())
    }

    /// The call's `RTCPeerConnection` (for `getStats`).
    pub fn pc(&self) -> Result<JsValue, JsValue> {
        Ok(self.peer.current()?.peer_connection().clone().into())
    }

    /// Close the call (the factory stays).
    pub fn hangup(&self) {
        if let Some(call) = self.peer.call.borrow_mut().take() {
            call.close();
        }
    }

    /// Close the call and release the microphone.
    pub fn close(&self) {
        self.hangup();
        self.peer.factory.release();
    }
}
