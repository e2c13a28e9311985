//! Autoplay: the calls whose audio the browser refused to play without a
//! user gesture (the state's `audioBlocked`), played again on the next
//! pointer or key press in this tab.
use super::{slot, CallMedias};
use crate::listen::{Listener, Target};
use crate::phone::driver::{feed, Input};

impl CallMedias {
    pub(super) fn block(&self, call: &str) {
        let first = {
            let mut blocked = self.blocked.borrow_mut();
            let first = blocked.is_empty();
            if index(&blocked, call).is_none() {
                blocked.push(call.to_owned());
            }
            first
        };
        if first {
            self.listen_for_gesture();
            feed(&self.driver, Input::AudioBlocked(true));
        }
    }

    pub(super) fn unblock(&self, call: &str) {
        let last = {
            let mut blocked = self.blocked.borrow_mut();
            match index(&blocked, call) {
                Some(i) => {
                    blocked.swap_remove(i);
                    blocked.is_empty()
                }
                None => false,
            }
        };
        if last {
            *self.gesture.borrow_mut() = None;
            feed(&self.driver, Input::AudioBlocked(false));
        }
    }

    /// On the next pointer or key press in this tab (a user gesture, which
    /// lifts the autoplay block), play every blocked call's audio again.
    fn listen_for_gesture(&self) {
        let driver = self.driver.clone();
        let listener = Listener::new(Target::Window, "pointerdown keydown", move || {
            if let Some(d) = driver.upgrade() {
                d.media.retry_playback();
            }
        });
        *self.gesture.borrow_mut() = Some(listener);
    }

    fn retry_playback(&self) {
        let mut medias = Vec::new();
        {
            let (mut calls, blocked) = (self.calls.borrow_mut(), self.blocked.borrow());
            for c in blocked.iter() {
                if let Some(m) = slot(&mut calls, c).and_then(|s| s.media.clone()) {
                    medias.push(m);
                }
            }
        }
        for m in &medias {
            m.retry_playback();
        }
    }
}

/// Where `call` is in `list`.
fn index(list: &[String], call: &str) -> Option<usize> {
    for (i, c) in list.iter().enumerate() {
        if c == call {
            return Some(i);
        }
    }
    None
}
