//! What the app chooses: microphone constraints and device, ICE servers,
//! output device, and when gathering is good enough.
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// The media options of a [`super::MediaFactory`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaOptions {
    /// How the microphone is captured.
    pub audio: AudioConstraints,
    /// STUN and TURN servers (`RTCConfiguration.iceServers`); none by default.
    pub ice_servers: Vec<IceServer>,
    /// The output device (`setSinkId`) for remote audio; the default device when `None`.
    pub output_device_id: Option<String>,
    /// When an offer's or answer's ICE gathering is good enough.
    pub gathering: GatheringPolicy,
    /// After a prewarmed peer connection is taken by a call, prepare the next
    /// one in the background (keeps the microphone open while the factory is
    /// warm: see [`super::MediaFactory::release`]).
    pub keep_warm: bool,
}

/// Microphone constraints for `getUserMedia`. `None` leaves the browser's
/// default (on for the three processing switches in Chromium).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudioConstraints {
    /// The input device (`deviceId: {exact: id}`, from `enumerateDevices`);
    /// the default device when `None`.
    pub device_id: Option<String>,
    /// Echo cancellation.
    pub echo_cancellation: Option<bool>,
    /// Noise suppression.
    pub noise_suppression: Option<bool>,
    /// Automatic gain control.
    pub auto_gain_control: Option<bool>,
}

/// One STUN or TURN server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    /// `stun:host:port`, `turn:host:port?transport=udp`, `turns:...`.
    pub urls: Vec<String>,
    /// The TURN user name.
    pub username: Option<String>,
    /// The TURN password.
    pub credential: Option<String>,
}

/// When non-trickle ICE gathering is good enough to send the SDP.
///
/// Gathering ends at the first of:
/// - the browser's `iceGatheringState` is `complete` (with at least one candidate);
/// - `settle_ms` after the first *useful* candidate: a UDP host candidate
///   when no ICE servers are configured, a UDP server-reflexive or relay
///   candidate when they are (a host candidate alone rarely reaches a peer
///   behind another NAT);
/// - `max_ms` after gathering started, with whatever was gathered (an error
///   when nothing was).
///
/// On Chromium with no ICE servers, an offerer's UDP host candidates come out
/// 4-5 ms after `setLocalDescription`, while `complete` waits ~130 ms for TCP
/// candidates; the defaults end such a gathering ~15 ms after it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatheringPolicy {
    /// How long to wait for more candidates after the first useful one
    /// (other interfaces, IPv6), in milliseconds. Default 10.
    pub settle_ms: u32,
    /// The most gathering may take, in milliseconds. Default 2000.
    pub max_ms: u32,
    /// Wait for `complete` (still bounded by `max_ms`), as SIP.js does;
    /// for comparison. Default false.
    pub wait_for_complete: bool,
}

impl Default for GatheringPolicy {
    fn default() -> Self {
        GatheringPolicy { settle_ms: 10, max_ms: 2000, wait_for_complete: false }
    }
}

impl MediaOptions {
    /// What a `media.js` `Factory` takes: `{config (RTCConfiguration),
    /// audio (MediaTrackConstraints), sink, settle, max, complete, server,
    /// warm}`.
    pub(crate) fn to_js(&self) -> JsValue {
        let sink = self.output_device_id.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
        let g = self.gathering;
        dict(&[
            ("config", self.rtc_configuration()),
            ("audio", self.audio.to_js()),
            ("sink", sink),
            ("settle", g.settle_ms.into()),
            ("max", g.max_ms.into()),
            ("complete", g.wait_for_complete.into()),
            ("server", (!self.ice_servers.is_empty()).into()),
            ("warm", self.keep_warm.into()),
        ])
        .into()
    }

    /// The `RTCConfiguration` for a call's peer connection.
    fn rtc_configuration(&self) -> JsValue {
        let servers = Array::new();
        for s in &self.ice_servers {
            let urls = Array::new();
            for u in &s.urls {
                urls.push(&JsValue::from_str(u));
            }
            let mut server = vec![("urls", urls.into())];
            if let Some(user) = &s.username {
                server.push(("username", user.into()));
            }
            if let Some(credential) = &s.credential {
                server.push(("credential", credential.into()));
            }
            servers.push(&dict(&server));
        }
        dict(&[("iceServers", servers.into())]).into()
    }
}

impl AudioConstraints {
    /// The `getUserMedia` audio constraints, as chosen.
    fn to_js(&self) -> JsValue {
        let mut audio = Vec::new();
        if let Some(id) = &self.device_id {
            audio.push(("deviceId", dict(&[("exact", id.into())]).into()));
        }
        let flags = [
            ("echoCancellation", self.echo_cancellation),
            ("noiseSuppression", self.noise_suppression),
            ("autoGainControl", self.auto_gain_control),
        ];
        for (name, on) in flags {
            if let Some(on) = on {
                audio.push((name, on.into()));
            }
        }
        dict(&audio).into()
    }
}

/// A plain object `{name: value, ...}` (for a WebIDL dictionary too): one
/// `Reflect.set` for every dictionary rather than a typed setter each, which
/// is a binding of its own in the wasm and the JS glue.
fn dict(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(name), value);
    }
    o
}
