//! The real SIP phone of the real tab: thin glue around
//! [`tabphone_phone::Phone`], which holds every rule.
//!
//! [`BrowserPhone`] is the [`RealPhone`] a tab runs while it is real. Its
//! driver feeds the phone its inputs (the SIP WebSocket's events, the one
//! timer, actions, media replies, the window's `online`/`offline`, autoplay
//! refusals) and performs its outputs:
//!
//! | output | done with |
//! |---|---|
//! | `Connect`, `Send`, `Close` | [`crate::sip_socket::SipSocket`] |
//! | `Media` | one [`crate::media::CallMedia`] per call, from a [`crate::media::MediaFactory`]; each request that expects a reply gets exactly one |
//! | `Result` | settles the action's promise |
//! | `State` | published to every tab through the worker ([`PhoneContext::publish`]) |
//! | `Event` | those the state does not show, to this tab's listeners ([`PhoneContext::emit`]) |
//!
//! - **Hidden tabs**: Chrome throttles a hidden tab's timers (to once a
//!   minute after five minutes). The worker's are not, and it pings every tab
//!   every second; on each message from the worker the client calls
//!   [`RealPhone::tick`], which runs the phone's timeout when its deadline has
//!   passed. Registration refresh, keepalive and transaction timers so run
//!   within about a second of their deadline, whatever the tab's own timer does.
//! - **Prewarming**: once registered, the microphone is opened and a call
//!   with a gathered offer is prepared ([`crate::media::MediaFactory::prewarm`]),
//!   so `call()` does not wait for `getUserMedia` or ICE gathering.
//! - **Autoplay**: when the browser refuses to play a call's audio without a
//!   user gesture, the state's `audioBlocked` tells every tab, and the next
//!   pointer or key press in the real tab plays it.
//! - **Stop** ([`StopKind`]): a handover (another tab takes over) closes at
//!   once, sends nothing, and leaves the registrar binding (the successor's
//!   REGISTER replaces it: same instance id) and the established calls to the
//!   successor, which resumes them from the last published state. The last
//!   tab's page going away keeps the calls too, in `localStorage` for a
//!   reload (`saved.rs`), and unregisters only when it has none; the app's
//!   `close()` on the last tab hangs up and unregisters.
//! - **Hold**: a real that was frozen may have been replaced meanwhile; while
//!   the coordinator checks, every input waits ([`RealPhone::hold`]), so a
//!   thawed ex-real sends nothing; it goes on or stops silently after.
//!
//! ## Layout
//! - `mod.rs`: [`BrowserPhone`].
//! - `driver.rs`: the one `drive()`: inputs in, outputs performed, the timer re-armed.
//! - `calls.rs`: media requests per call, in order; `calls/autoplay.rs`:
//!   autoplay refusals and their retries.
//! - `options.rs`: [`PhoneOptions`] from Rust or JavaScript, checked.
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use tabphone_phone::Phone;
use wasm_bindgen::JsValue;

use crate::client::{PhoneContext, RealPhone, StopKind};
use crate::media::MediaFactory;

mod calls;
mod driver;
mod options;

pub use options::{OptionsError, PhoneOptions};

use driver::Driver;

/// The SIP phone of the real tab. Made when the tab becomes real, with the
/// options every tab of the app was given.
pub struct BrowserPhone {
    options: PhoneOptions,
    driver: RefCell<Option<Rc<Driver>>>,
}

impl BrowserPhone {
    /// A phone for these options; it starts when the tab becomes real.
    pub fn new(options: PhoneOptions) -> BrowserPhone {
        BrowserPhone { options, driver: RefCell::new(None) }
    }

    fn driver(&self) -> Option<Rc<Driver>> {
        self.driver.borrow().clone()
    }
}

impl RealPhone for BrowserPhone {
    fn start(&self, context: PhoneContext) {
        let config = self.options.config(context.instance_id(), crate::instance::random_seed());
        let factory = MediaFactory::new(self.options.media.clone());
        // The calls to take over: those of the state the previous real
        // published last, as of now; else those a reloaded page left.
        let inherit = match context.inherit() {
            Some(state) => Some((state.to_owned(), js_sys::Date::now() as u64)),
            None => crate::saved::load(context.app()).map(|s| (s.state, s.alive_at)),
        };
        let driver = Driver::new(Phone::new(config), context, factory);
        *self.driver.borrow_mut() = Some(driver.clone());
        driver.start(inherit);
    }

    fn stop(&self, kind: StopKind) {
        let driver = self.driver.borrow_mut().take();
        if let Some(driver) = driver {
            driver.stop(kind);
        }
    }

    fn hold(&self) {
        if let Some(driver) = self.driver() {
            driver.hold();
        }
    }

    fn resume(&self) {
        if let Some(driver) = self.driver() {
            driver.resume();
        }
    }

    fn perform(&self, name: &str, args: JsValue) -> Promise {
        match self.driver() {
            Some(driver) => driver.perform(name, &args),
            None => {
                // The phone's own `stopped` error (`PhoneError`'s JSON: no status).
                let code = tabphone_phone::ErrorCode::Stopped.as_str();
                crate::client::rejected(code, "the phone is stopped")
            }
        }
    }

    fn tick(&self) {
        if let Some(driver) = self.driver() {
            driver.tick();
        }
    }
}
