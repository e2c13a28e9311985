//! What the app chooses: microphone constraints and device, ICE servers,
//! output device, and when gathering is good enough.
use tabphone_json::{Arr, Obj};

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
    /// What a `browser.js` `Factory` takes, as JSON: `{config
    /// (RTCConfiguration), audio (MediaTrackConstraints), sink, settle, max,
    /// complete, server, warm}`. Text rather than objects built with
    /// `Reflect.set`: fewer bindings in the wasm.
    pub(crate) fn to_json(&self) -> String {
        let mut servers = Arr::new();
        for s in &self.ice_servers {
            let mut urls = Arr::new();
            for u in &s.urls {
                urls.str(u);
            }
            let mut server = Obj::new();
            server.raw("urls", &urls.end());
            if let Some(user) = &s.username {
                server.str("username", user);
            }
            if let Some(credential) = &s.credential {
                server.str("credential", credential);
            }
            servers.raw(&server.end());
        }
        let g = self.gathering;
        Obj::new()
            .raw("config", &Obj::new().raw("iceServers", &servers.end()).end())
            .raw("audio", &self.audio.to_json())
            .opt_str("sink", self.output_device_id.as_deref())
            .num("settle", g.settle_ms.into())
            .num("max", g.max_ms.into())
            .bool("complete", g.wait_for_complete)
            .bool("server", !self.ice_servers.is_empty())
            .bool("warm", self.keep_warm)
            .end()
    }
}

impl AudioConstraints {
    /// The `getUserMedia` audio constraints, as chosen, as JSON.
    fn to_json(&self) -> String {
        let mut audio = Obj::new();
        if let Some(id) = &self.device_id {
            audio.raw("deviceId", &Obj::new().str("exact", id).end());
        }
        let flags = [
            ("echoCancellation", self.echo_cancellation),
            ("noiseSuppression", self.noise_suppression),
            ("autoGainControl", self.auto_gain_control),
        ];
        for (name, on) in &flags {
            if let Some(on) = on {
                audio.bool(name, *on);
            }
        }
        audio.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_browser_js_takes() {
        let options = MediaOptions {
            audio: AudioConstraints {
                device_id: Some(String::from("mic \"2\"")),
                echo_cancellation: Some(false),
                ..AudioConstraints::default()
            },
            ice_servers: vec![
                IceServer { urls: vec![String::from("stun:a:3478")], ..IceServer::default() },
                IceServer {
                    urls: vec![String::from("turn:b"), String::from("turns:b")],
                    username: Some(String::from("u")),
                    credential: Some(String::from("p")),
                },
            ],
            output_device_id: None,
            gathering: GatheringPolicy { settle_ms: 20, ..GatheringPolicy::default() },
            keep_warm: true,
        };
        assert_eq!(
            options.to_json(),
            concat!(
                r#"{"config":{"iceServers":[{"urls":["stun:a:3478"]},"#,
                r#"{"urls":["turn:b","turns:b"],"username":"u","credential":"p"}]},"#,
                r#""audio":{"deviceId":{"exact":"mic \"2\""},"echoCancellation":false},"#,
                r#""sink":null,"settle":20,"max":2000,"complete":false,"server":true,"warm":true}"#
            )
        );
        let plain = MediaOptions { output_device_id: Some(String::new()), ..MediaOptions::default() };
        assert!(plain.to_json().starts_with(r#"{"config":{"iceServers":[]},"audio":{},"sink":"","#));
    }
}
