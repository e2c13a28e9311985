//! How a non-trickle ICE gathering went ([`GatheringReport`]). The
//! [`super::GatheringPolicy`]'s decision and its wait are `browser.js`'s
//! `decide` and `gather`.
use std::time::Duration;

use wasm_bindgen::JsValue;

/// Why gathering ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringEnd {
    /// The browser said `complete`.
    Complete,
    /// `settle_ms` passed after the first useful candidate.
    Settled,
    /// `max_ms` passed (with some candidates).
    Cap,
}

/// How one gathering went: what the policy saved shows in `elapsed` against
/// a `wait_for_complete` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatheringReport {
    /// From the start (just before `setLocalDescription`) to the end.
    pub elapsed: Duration,
    /// When the first useful candidate came, from the start.
    pub first_useful: Option<Duration>,
    /// Candidates the browser surfaced in this gathering.
    pub candidates: u32,
    /// Why it ended.
    pub end: GatheringEnd,
}

impl GatheringReport {
    /// From `browser.js`'s `[elapsed ms, first useful ms or -1, candidates,
    /// end (0 complete, 1 settled, 2 cap)]`; `None` for `null` (no gathering yet).
    pub(crate) fn from_js(report: &JsValue) -> Option<GatheringReport> {
        let report: &js_sys::Array = wasm_bindgen::JsCast::dyn_ref(report)?;
        let number = |i| report.get(i).as_f64().unwrap_or(0.0);
        let ms = |n: f64| Duration::from_secs_f64(n.max(0.0) / 1000.0);
        let end = match number(3) as u8 {
            0 => GatheringEnd::Complete,
            1 => GatheringEnd::Settled,
            _ => GatheringEnd::Cap,
        };
        let first = number(1);
        Some(GatheringReport {
            elapsed: ms(number(0)),
            first_useful: (first >= 0.0).then(|| ms(first)),
            candidates: number(2) as u32,
            end,
        })
    }
}
