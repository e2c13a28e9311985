//! The glue's single timer: one `setTimeout` for a core's `poll_timeout()`,
//! re-armed only when the deadline changes.
use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use web_time::Instant;

/// The longest delay `setTimeout` takes (2^31 - 1 ms, about 24.8 days); a later
/// deadline fires at that point, and the driver re-arms for the rest.
const MAX_DELAY_MS: u128 = i32::MAX as u128;

/// One `setTimeout` at a time, for the core's next deadline. Call
/// [`Timer::set`] with `poll_timeout()` after every drive; the browser timer
/// is replaced only when the deadline differs from the armed one (or the armed
/// one has fired). Dropping the `Timer` cancels it.
///
/// A hidden tab's timers are throttled by the browser (Chrome: to once a
/// minute after five minutes hidden): a late firing is normal, the callback
/// must read the clock rather than trust the deadline.
#[must_use = "dropping the Timer cancels it"]
pub struct Timer {
    on_fire: Rc<dyn Fn()>,
    armed: Option<Armed>,
}

struct Armed {
    deadline: Instant,
    fired: Rc<Cell<bool>>,
    _timeout: Timeout,
}

impl Timer {
    /// A disarmed timer that runs `on_fire` at each armed deadline.
    pub fn new(on_fire: impl Fn() + 'static) -> Timer {
        Timer { on_fire: Rc::new(on_fire), armed: None }
    }

    /// Arm for `deadline`, or disarm with `None`. A no-op when the same
    /// deadline is already armed and has not fired yet.
    pub fn set(&mut self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else {
            self.armed = None;
            return;
        };
        if self.armed.as_ref().is_some_and(|a| a.deadline == deadline && !a.fired.get()) {
            return;
        }
        let fired = Rc::new(Cell::new(false));
        let (flag, on_fire) = (fired.clone(), self.on_fire.clone());
        // Round up: firing a hair early would only re-arm.
        let delay = deadline.saturating_duration_since(Instant::now()).as_millis() + 1;
        let delay = delay.min(MAX_DELAY_MS) as u32;
        let timeout = after(
            delay,
            Box::new(move || {
                flag.set(true);
                on_fire();
            }),
        );
        self.armed = Some(Armed { deadline, fired, _timeout: timeout });
    }

    /// The armed deadline that has not fired yet.
    pub fn deadline(&self) -> Option<Instant> {
        self.armed.as_ref().filter(|a| !a.fired.get()).map(|a| a.deadline)
    }
}

/// A `setTimeout` of `f` in `ms` (cancelled when the `Timeout` is dropped;
/// `forget()` it to keep it). Every timeout of the tab goes through here,
/// with one callback type: each closure type costs the wasm its own glue.
pub(crate) fn after(ms: u32, f: Box<dyn FnOnce()>) -> Timeout {
    Timeout::new(ms, f)
}
