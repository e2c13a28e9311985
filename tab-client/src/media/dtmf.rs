//! DTMF as RFC 4733 telephone events through the call's `RTCDTMFSender`,
//! each played tone reported.
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{RtcRtpSender, RtcdtmfSender, RtcdtmfToneChangeEvent};

use super::{emit, error_parts, EventSink, MediaError, MediaEvent};
use crate::listen::Listener;

/// The sender's DTMF side and its `tonechange` listener.
pub(crate) struct Dtmf {
    sender: RtcdtmfSender,
    _tones: Listener,
}

impl Dtmf {
    /// The DTMF sender of an audio `sender`, reporting each tone to `events`.
    /// `None` when the browser has no `RTCDTMFSender`.
    pub(crate) fn new(sender: &RtcRtpSender, events: EventSink) -> Option<Dtmf> {
        let dtmf = sender.dtmf()?;
        let tones = Listener::new(dtmf.as_ref(), "tonechange", move |e| {
            let tone = e.unchecked_into::<RtcdtmfToneChangeEvent>().tone();
            match tone.chars().next() {
                Some(tone) => emit(&events, MediaEvent::TonePlayed { tone }),
                None => emit(&events, MediaEvent::TonesDone),
            }
        });
        Some(Dtmf { sender: dtmf, _tones: tones })
    }

    /// Queue `tones` (replacing tones still queued), each `duration_ms` long
    /// (the browser keeps it within 40-6000) with `gap_ms` between them (at
    /// least 30). A `,` pauses two seconds.
    pub(crate) fn insert(&self, tones: &str, duration_ms: u32, gap_ms: u32) -> Result<(), MediaError> {
        if !valid_tones(tones) {
            return Err(MediaError::BadTones { tones: tones.to_owned() });
        }
        let can =
            Reflect::get(&self.sender, &JsValue::from_str("canInsertDTMF")).ok().and_then(|v| v.as_bool());
        if can == Some(false) {
            return Err(MediaError::DtmfUnavailable);
        }
        // insertDTMF through Function.call, which catches what it throws
        // (web-sys's binding would let an InvalidStateError unwind through wasm).
        let insert = Reflect::get(&self.sender, &JsValue::from_str("insertDTMF"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or(MediaError::DtmfUnavailable)?;
        let (duration, gap) = (JsValue::from(duration_ms), JsValue::from(gap_ms));
        insert.call3(&self.sender, &JsValue::from_str(tones), &duration, &gap).map(|_| ()).map_err(|e| {
            match error_parts(&e).0.as_str() {
                "InvalidCharacterError" => MediaError::BadTones { tones: tones.to_owned() },
                _ => MediaError::DtmfUnavailable,
            }
        })
    }
}

/// Tones `RTCDTMFSender` takes: `0-9`, `A-D` (either case), `*`, `#`, `,`; at least one.
pub(crate) fn valid_tones(tones: &str) -> bool {
    !tones.is_empty() && tones.chars().all(|c| c.is_ascii_digit() || "ABCDabcd*#,".contains(c))
}

#[cfg(test)]
mod tests {
    use super::valid_tones;

    #[test]
    fn tones() {
        assert!(valid_tones("0123456789*#ABCDabcd,"));
        assert!(!valid_tones(""));
        assert!(!valid_tones("12E"));
        assert!(!valid_tones("1 2"));
    }
}
