//! The tab's state machine: its role, the real lock, its pending actions and
//! its connection to the worker. The tab-client glue drives it.
//!
//! Rules it keeps:
//! - A tab is [`TabRole::Real`] only while it holds the app's real lock.
//!   Told to become real, it first asks for the lock ([`TabOutput::AcquireRealLock`]),
//!   then reports `claimed` and starts the real client ([`TabOutput::StartReal`])
//!   only when the worker confirms. A lock grant that was queued while the tab
//!   was frozen may be followed at once by its theft: the confirmation step
//!   keeps such a tab from starting the real client even for one task.
//! - When the lock is lost (stolen by a tab promoted after this one froze),
//!   it emits [`TabOutput::StopReal`] before anything else, so the real client
//!   stops before it can touch the network again.
//! - A new real starts with state `null` (the calls of the old real ended with
//!   it), and a real that stops being real clears its state; a real that
//!   rejoins a restarted worker keeps its state (it never stopped being real).
//! - Every [`TabCore::dispatch`] is answered exactly once by a
//!   [`TabOutput::Resolve`]: by the real (locally or through the worker), by
//!   the worker's error, or with `worker_gone` when the worker died first.
use std::collections::VecDeque;

use tabphone_vecmap::VecSet;

use crate::json::Obj;
use crate::protocol::{
    error_value, parse_to_tab, real_lock_name, to_text, ErrorCode, Raw, Role, ToTab, PROTOCOL_VERSION,
};

/// A tab's own id for one dispatched action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(pub u64);

/// Who is waiting for the outcome of a [`TabOutput::Perform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// This tab's own dispatch.
    Local(ActionId),
    /// A dummy's action forwarded by the worker, with the worker's id.
    Remote(u64),
}

/// The role as the tab sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabRole {
    /// Not joined yet (or rejoining a restarted worker).
    Connecting,
    /// Mirrors the real; forwards actions.
    Dummy,
    /// Chosen as real for `epoch`; waiting for the real lock.
    Claiming,
    /// Holds the real lock; waiting for the worker to confirm the promotion
    /// still stands (it may have promoted another tab while this one was frozen).
    Confirming,
    /// Holds the real lock and runs the real client.
    Real,
    /// Closed by the page; does nothing more.
    Closed,
}

impl TabRole {
    /// `"real"` only for [`TabRole::Real`]; `"dummy"` while claiming or
    /// mirroring; `"connecting"` and `"closed"` otherwise.
    pub fn as_str(self) -> &'static str {
        match self {
            TabRole::Real => "real",
            TabRole::Dummy | TabRole::Claiming | TabRole::Confirming => "dummy",
            TabRole::Connecting => "connecting",
            TabRole::Closed => "closed",
        }
    }
}

/// Tab configuration.
#[derive(Debug, Clone)]
pub struct TabConfig {
    /// This tab's id (random, unique); the tab holds [`crate::protocol::tab_lock_name`] of it.
    pub tab_id: String,
    /// The app name: tabs of one app share one real across workers.
    pub app: String,
    /// Largest message sent; bigger dispatches and publishes fail locally.
    pub max_message_bytes: usize,
}

/// What the glue feeds in (besides the [`TabCore::dispatch`] and
/// [`TabCore::publish`] calls).
#[derive(Debug)]
pub enum TabInput<'a> {
    /// The port from [`TabOutput::Connect`] is open.
    Connected,
    /// A message from the worker.
    WorkerMessage(&'a str),
    /// The worker's lock from [`TabOutput::WatchWorker`] was granted: it died.
    WorkerDied,
    /// The real lock of [`TabOutput::AcquireRealLock`] for `epoch` is held.
    RealLockGranted {
        /// The epoch it was asked for.
        epoch: u64,
    },
    /// The real lock was stolen (or the request failed).
    RealLockLost,
    /// The outcome of a [`TabOutput::Perform`]: JSON text of the value or error.
    Done {
        /// Who asked.
        job: Job,
        /// `Ok(json)` or `Err(json)`.
        result: Result<String, String>,
    },
    /// Visibility or focus changed.
    Focus {
        /// Visible.
        visible: bool,
        /// Focused.
        focused: bool,
    },
    /// `pagehide`: leave.
    PageHide,
}

/// Events for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TabEvent {
    /// The role or epoch changed.
    Role {
        /// New role.
        role: TabRole,
        /// Epoch.
        epoch: u64,
    },
    /// The shared state changed (`null` after the real went away).
    State {
        /// JSON text.
        state: String,
    },
    /// The number of live tabs changed.
    Tabs {
        /// How many.
        count: usize,
    },
    /// The worker refused something that was not an action.
    Error {
        /// Code from [`ErrorCode`], or `"bad_worker_message"`.
        code: String,
        /// Detail.
        message: String,
    },
}

/// What the glue must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TabOutput {
    /// Open a port to the worker (create the SharedWorker), then feed [`TabInput::Connected`].
    Connect,
    /// Post this text to the worker.
    Send(String),
    /// Request the worker's lock (shared); feed [`TabInput::WorkerDied`] when granted.
    WatchWorker(String),
    /// Request the real lock, with `steal`; feed `RealLockGranted` or `RealLockLost`.
    AcquireRealLock {
        /// Lock name.
        lock: String,
        /// Take it from a frozen holder.
        steal: bool,
        /// Epoch to report back.
        epoch: u64,
    },
    /// Release the real lock (or abandon the request).
    ReleaseRealLock,
    /// Switch to the real client.
    StartReal,
    /// Switch to the inert dummy client, now.
    StopReal,
    /// Ask the real client to perform an action; feed [`TabInput::Done`].
    Perform {
        /// Who asked.
        job: Job,
        /// Action name.
        name: String,
        /// Arguments as JSON text.
        args: String,
    },
    /// The answer to [`TabCore::dispatch`]: JSON text of the value or error.
    Resolve {
        /// Which dispatch.
        id: ActionId,
        /// `Ok(json)` or `Err(json)`.
        result: Result<String, String>,
    },
    /// Tell the app.
    Event(TabEvent),
}

/// The tab's sans-IO core.
#[derive(Debug)]
pub struct TabCore {
    config: TabConfig,
    role: TabRole,
    epoch: u64,
    state: String,
    connected: bool,
    rejoin: bool,
    worker_lock: Option<String>,
    visible: bool,
    focused: bool,
    next_id: u64,
    /// Dispatches sent to the worker, awaiting its answer.
    waiting: VecSet<u64>,
    /// Messages to send once connected.
    outbox: Vec<String>,
    out: VecDeque<TabOutput>,
}

impl TabCore {
    /// A tab that is about to connect: the first output is [`TabOutput::Connect`].
    pub fn new(config: TabConfig, visible: bool, focused: bool) -> Self {
        let mut core = TabCore {
            config,
            role: TabRole::Connecting,
            epoch: 0,
            state: String::from("null"),
            connected: false,
            rejoin: false,
            worker_lock: None,
            visible,
            focused,
            next_id: 1,
            waiting: VecSet::new(),
            outbox: Vec::new(),
            out: VecDeque::new(),
        };
        core.out.push_back(TabOutput::Connect);
        core
    }

    /// Current role.
    pub fn role(&self) -> TabRole {
        self.role
    }

    /// Current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Latest shared state, JSON text.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// This tab's id.
    pub fn tab_id(&self) -> &str {
        &self.config.tab_id
    }

    /// Next output, until `None`.
    pub fn poll_output(&mut self) -> Option<TabOutput> {
        self.out.pop_front()
    }

    /// Ask the real to perform `name(args)` (`args` is JSON text). The answer
    /// comes as a [`TabOutput::Resolve`] with the returned id.
    pub fn dispatch(&mut self, name: &str, args: &str) -> ActionId {
        let id = ActionId(self.next_id);
        self.next_id += 1;
        let args = match Raw::new(args) {
            Ok(a) => a,
            Err(e) => {
                self.fail(id, ErrorCode::Malformed, &format!("args are not JSON: {}", e.message()));
                return id;
            }
        };
        match self.role {
            TabRole::Real => {
                let job = Job::Local(id);
                self.out.push_back(TabOutput::Perform { job, name: name.into(), args: args.get().into() });
            }
            TabRole::Closed => self.fail(id, ErrorCode::WorkerGone, "the tab is closed"),
            _ => {
                let text = to_text(&ToTab::Action { id: id.0, name: name.into(), args: Some(args.get()) });
                // A tab's `action` has the shape of the worker's: one serializer.
                if text.len() > self.config.max_message_bytes {
                    let msg = format!("action of {} bytes over the limit", text.len());
                    self.fail(id, ErrorCode::TooLarge, &msg);
                } else {
                    self.waiting.insert(id.0);
                    self.post(text);
                }
            }
        }
        id
    }

    /// Publish the real's new state (JSON text) to every dummy.
    pub fn publish(&mut self, state: &str) -> Result<(), (ErrorCode, String)> {
        if self.role != TabRole::Real {
            return Err((
                ErrorCode::NotReal,
                format!("only the real tab publishes; this one is {}", self.role.as_str()),
            ));
        }
        let raw = Raw::new(state).map_err(|e| (ErrorCode::Malformed, e.message()))?;
        let text = Obj::new().str("t", "sync").num("epoch", self.epoch).raw("state", raw.get()).end();
        if text.len() > self.config.max_message_bytes {
            return Err((ErrorCode::TooLarge, format!("state of {} bytes over the limit", text.len())));
        }
        self.state = raw.get().to_owned();
        self.post(text);
        self.event(TabEvent::State { state: self.state.clone() });
        Ok(())
    }

    /// Feed one input.
    pub fn handle_input(&mut self, input: TabInput<'_>) {
        match input {
            TabInput::Connected => self.on_connected(),
            TabInput::WorkerMessage(text) => self.on_message(text),
            TabInput::WorkerDied => self.on_worker_died(),
            TabInput::RealLockGranted { epoch } => self.on_lock_granted(epoch),
            TabInput::RealLockLost => {
                if self.holds_or_wants_lock() {
                    let epoch = self.epoch;
                    self.demote();
                    self.post(Obj::new().str("t", "demoted").num("epoch", epoch).end());
                }
            }
            TabInput::Done { job, result } => self.on_done(job, result),
            TabInput::Focus { visible, focused } => {
                self.visible = visible;
                self.focused = focused;
                self.post(
                    Obj::new().str("t", "focus").bool("visible", visible).bool("focused", focused).end(),
                );
            }
            TabInput::PageHide => {
                if self.role == TabRole::Closed {
                    return;
                }
                // Stop and let the real lock go before saying `close`: the
                // successor asks for the lock as soon as the worker hears it.
                if self.holds_or_wants_lock() {
                    self.demote();
                }
                self.post(String::from(r#"{"t":"close"}"#));
                self.set_role(TabRole::Closed);
            }
        }
    }

    fn holds_or_wants_lock(&self) -> bool {
        matches!(self.role, TabRole::Real | TabRole::Claiming | TabRole::Confirming)
    }

    fn post(&mut self, text: String) {
        if self.connected {
            self.out.push_back(TabOutput::Send(text));
        } else {
            self.outbox.push(text);
        }
    }

    fn event(&mut self, e: TabEvent) {
        self.out.push_back(TabOutput::Event(e));
    }

    fn fail(&mut self, id: ActionId, code: ErrorCode, message: &str) {
        let err = error_value(code, message).get().to_owned();
        self.out.push_back(TabOutput::Resolve { id, result: Err(err) });
    }

    fn set_role(&mut self, role: TabRole) {
        self.role = role;
        self.event(TabEvent::Role { role, epoch: self.epoch });
    }

    fn demote(&mut self) {
        if self.role == TabRole::Real {
            self.out.push_back(TabOutput::StopReal);
            // Its calls are over; the worker's state (or the next real's) follows.
            self.clear_state();
        }
        self.out.push_back(TabOutput::ReleaseRealLock);
        self.set_role(TabRole::Dummy);
    }

    fn clear_state(&mut self) {
        if self.state != "null" {
            self.state = String::from("null");
            self.event(TabEvent::State { state: self.state.clone() });
        }
    }

    fn on_connected(&mut self) {
        self.connected = true;
        let mut hello = Obj::new()
            .str("t", "hello")
            .num("v", u64::from(PROTOCOL_VERSION))
            .str("tab", &self.config.tab_id)
            .bool("visible", self.visible)
            .bool("focused", self.focused)
            .bool("rejoin", self.rejoin);
        if self.role == TabRole::Real {
            let claim = Obj::new().num("epoch", self.epoch).raw("state", &self.state).end();
            hello = hello.raw("claim", &claim);
        }
        self.out.push_back(TabOutput::Send(hello.end()));
        for text in std::mem::take(&mut self.outbox) {
            self.out.push_back(TabOutput::Send(text));
        }
    }

    fn on_worker_died(&mut self) {
        if self.role == TabRole::Closed {
            return;
        }
        self.connected = false;
        self.rejoin = true;
        self.worker_lock = None;
        for id in std::mem::take(&mut self.waiting) {
            self.fail(ActionId(id), ErrorCode::WorkerGone, "the worker died before answering");
        }
        if matches!(self.role, TabRole::Claiming | TabRole::Confirming) {
            // The promotion died with the worker; the new one decides again.
            self.out.push_back(TabOutput::ReleaseRealLock);
            self.set_role(TabRole::Connecting);
        } else if self.role == TabRole::Dummy {
            self.set_role(TabRole::Connecting);
        }
        self.out.push_back(TabOutput::Connect);
    }

    fn on_lock_granted(&mut self, epoch: u64) {
        if self.role == TabRole::Claiming && epoch == self.epoch {
            self.role = TabRole::Confirming;
            self.post(Obj::new().str("t", "claimed").num("epoch", epoch).end());
        } else if !self.holds_or_wants_lock() {
            // Granted too late: the promotion was withdrawn meanwhile.
            self.out.push_back(TabOutput::ReleaseRealLock);
        }
        // Else a grant for an older request while a newer one is pending: the
        // newer request replaced it; releasing here would drop the newer one.
    }

    fn on_done(&mut self, job: Job, result: Result<String, String>) {
        match job {
            Job::Local(id) => self.out.push_back(TabOutput::Resolve { id, result }),
            Job::Remote(id) => {
                let ok = result.as_ref().ok().and_then(|v| Raw::new(v).ok());
                let error = result.as_ref().err().and_then(|e| Raw::new(e).ok());
                let error = if ok.is_none() && error.is_none() {
                    Some(error_value(
                        ErrorCode::Malformed,
                        "the action handler returned a value that is not JSON",
                    ))
                } else {
                    error
                };
                let msg =
                    ToTab::Result { id, ok: ok.as_ref().map(Raw::get), error: error.as_ref().map(Raw::get) };
                self.post(to_text(&msg));
            }
        }
    }

    fn on_message(&mut self, text: &str) {
        let msg = match parse_to_tab(text) {
            Ok(m) => m,
            Err(e) => {
                let message = format!("unreadable message from the worker: {}", e.message);
                return self.event(TabEvent::Error { code: "bad_worker_message".into(), message });
            }
        };
        match msg {
            ToTab::Welcome { worker, tabs, max, .. } => {
                // Refuse locally what the worker would refuse without an id.
                self.config.max_message_bytes = self.config.max_message_bytes.min(max);
                if self.worker_lock.as_deref() != Some(&*worker) {
                    self.worker_lock = Some(worker.to_string());
                    self.out.push_back(TabOutput::WatchWorker(worker.into_owned()));
                }
                if self.role == TabRole::Connecting {
                    self.set_role(TabRole::Dummy);
                }
                self.event(TabEvent::Tabs { count: tabs });
            }
            ToTab::Role { role, epoch, steal } => self.on_role(role, epoch, steal),
            ToTab::Sync { state, .. } => {
                if self.role != TabRole::Real {
                    self.state = state.to_owned();
                    self.event(TabEvent::State { state: self.state.clone() });
                }
            }
            ToTab::Action { id, name, args } => {
                if self.role == TabRole::Real {
                    let args = args.map_or_else(|| String::from("null"), |a| a.to_owned());
                    self.out.push_back(TabOutput::Perform {
                        job: Job::Remote(id),
                        name: name.into_owned(),
                        args,
                    });
                } else {
                    let err = error_value(ErrorCode::NotReal, "this tab is no longer real");
                    self.post(to_text(&ToTab::Result { id, ok: None, error: Some(err.get()) }));
                }
            }
            ToTab::Result { id, ok, error } => {
                if self.waiting.remove(&id) {
                    let result = match (ok, error) {
                        (_, Some(e)) => Err(e.to_owned()),
                        (Some(v), None) => Ok(v.to_owned()),
                        (None, None) => Ok(String::from("null")),
                    };
                    self.out.push_back(TabOutput::Resolve { id: ActionId(id), result });
                }
            }
            ToTab::Tabs { count } => self.event(TabEvent::Tabs { count }),
            ToTab::Ping { seq } => self.post(format!(r#"{{"t":"pong","seq":{seq}}}"#)),
            ToTab::Error { code, message, id } => match id {
                Some(id) if self.waiting.remove(&id) => {
                    let err = error_value(code, &message).get().to_owned();
                    self.out.push_back(TabOutput::Resolve { id: ActionId(id), result: Err(err) });
                }
                _ => {
                    self.event(TabEvent::Error { code: code.as_str().into(), message: message.into_owned() })
                }
            },
        }
    }

    fn on_role(&mut self, role: Role, epoch: u64, steal: bool) {
        match (role, self.role) {
            (_, TabRole::Closed) => {}
            (Role::Real, TabRole::Confirming) if epoch == self.epoch => {
                // A new real starts empty: the old real's calls ended with it.
                self.clear_state();
                self.out.push_back(TabOutput::StartReal);
                self.set_role(TabRole::Real);
            }
            (Role::Real, TabRole::Real) => {
                // Confirmation of a claim, possibly under a newer epoch.
                if epoch != self.epoch {
                    self.epoch = epoch;
                    self.set_role(TabRole::Real);
                }
            }
            (Role::Real, _) => {
                self.epoch = epoch;
                let lock = real_lock_name(&self.config.app);
                self.out.push_back(TabOutput::AcquireRealLock { lock, steal, epoch });
                self.set_role(TabRole::Claiming);
            }
            (Role::Dummy, TabRole::Real | TabRole::Claiming | TabRole::Confirming) => {
                self.epoch = epoch;
                self.demote();
            }
            (Role::Dummy, _) => {
                self.epoch = epoch;
                self.set_role(TabRole::Dummy);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> TabCore {
        let config = TabConfig { tab_id: "t1".into(), app: "app".into(), max_message_bytes: 1 << 20 };
        let mut c = TabCore::new(config, true, true);
        assert_eq!(c.poll_output(), Some(TabOutput::Connect));
        c
    }

    fn drain(c: &mut TabCore) -> Vec<TabOutput> {
        std::iter::from_fn(|| c.poll_output()).collect()
    }

    fn sent(outs: &[TabOutput]) -> Vec<&str> {
        outs.iter().filter_map(|o| if let TabOutput::Send(t) = o { Some(t.as_str()) } else { None }).collect()
    }

    /// Connected, welcomed, told to be real, lock granted, confirmed.
    fn real() -> TabCore {
        let mut c = core();
        c.handle_input(TabInput::Connected);
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"welcome","v":1,"worker":"w","tabs":1,"max":1000}"#));
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":4,"steal":false}"#));
        c.handle_input(TabInput::RealLockGranted { epoch: 4 });
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":4,"steal":false}"#));
        drain(&mut c);
        assert_eq!(c.role(), TabRole::Real);
        c
    }

    #[test]
    fn messages_wait_for_the_connection() {
        let mut c = core();
        let id = c.dispatch("dial", r#"{"to":"bob"}"#);
        assert!(drain(&mut c).is_empty(), "nothing is sent before the port is open");
        c.handle_input(TabInput::Connected);
        let outs = drain(&mut c);
        let texts = sent(&outs);
        assert!(texts[0].starts_with(r#"{"t":"hello","v":1,"tab":"t1""#), "{texts:?}");
        assert_eq!(
            texts[1],
            format!(r#"{{"t":"action","id":{},"name":"dial","args":{{"to":"bob"}}}}"#, id.0)
        );
    }

    #[test]
    fn becomes_real_only_with_the_lock_and_the_workers_confirmation() {
        let mut c = core();
        c.handle_input(TabInput::Connected);
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":true}"#));
        let outs = drain(&mut c);
        let lock = TabOutput::AcquireRealLock { lock: "tabphone:real:app".into(), steal: true, epoch: 2 };
        assert!(outs.contains(&lock), "{outs:?}");
        assert_eq!(c.role().as_str(), "dummy", "claiming is not real");
        c.handle_input(TabInput::RealLockGranted { epoch: 2 });
        let outs = drain(&mut c);
        assert_eq!(sent(&outs), vec![r#"{"t":"claimed","epoch":2}"#]);
        assert!(!outs.contains(&TabOutput::StartReal), "not before the worker confirms");
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"role","role":"real","epoch":2,"steal":false}"#));
        assert!(drain(&mut c).contains(&TabOutput::StartReal));
        assert_eq!(c.role(), TabRole::Real);
    }

    #[test]
    fn a_stolen_lock_stops_the_real_before_anything_else() {
        let mut c = real();
        c.handle_input(TabInput::RealLockLost);
        let outs = drain(&mut c);
        assert_eq!(outs[0], TabOutput::StopReal);
        assert_eq!(sent(&outs), vec![r#"{"t":"demoted","epoch":4}"#]);
        assert_eq!(c.role(), TabRole::Dummy);
        assert!(c.publish("{}").is_err(), "a dummy cannot publish");
    }

    #[test]
    fn worker_death_fails_waiting_actions_and_the_real_rejoins_with_a_claim() {
        let mut c = real();
        c.publish(r#"{"calls":[1]}"#).unwrap();
        // A real performs its own actions; a dummy's wait on the worker.
        let mut d = core();
        d.handle_input(TabInput::Connected);
        let id = d.dispatch("x", "1");
        drain(&mut d);
        d.handle_input(TabInput::WorkerDied);
        let outs = drain(&mut d);
        assert!(
            matches!(&outs[0], TabOutput::Resolve { id: i, result: Err(e) } if *i == id && e.contains("worker_gone"))
        );
        assert!(outs.contains(&TabOutput::Connect));
        c.handle_input(TabInput::WorkerDied);
        drain(&mut c);
        c.handle_input(TabInput::Connected);
        let outs = drain(&mut c);
        let hello = sent(&outs)[0];
        assert!(
            hello.contains(r#""rejoin":true"#)
                && hello.contains(r#""claim":{"epoch":4,"state":{"calls":[1]}}"#),
            "{hello}"
        );
        assert_eq!(c.role(), TabRole::Real, "still real: no re-registration");
    }

    #[test]
    fn answers_pings_and_reports_bad_worker_messages() {
        let mut c = core();
        c.handle_input(TabInput::Connected);
        drain(&mut c);
        c.handle_input(TabInput::WorkerMessage(r#"{"t":"ping","seq":7}"#));
        assert_eq!(sent(&drain(&mut c)), vec![r#"{"t":"pong","seq":7}"#]);
        c.handle_input(TabInput::WorkerMessage("garbage"));
        assert!(
            matches!(&drain(&mut c)[..], [TabOutput::Event(TabEvent::Error { code, .. })] if code == "bad_worker_message")
        );
    }

    #[test]
    fn bad_args_fail_at_once() {
        let mut c = core();
        let id = c.dispatch("x", "{not json");
        let outs = drain(&mut c);
        assert!(
            matches!(&outs[..], [TabOutput::Resolve { id: i, result: Err(e) }] if *i == id && e.contains("malformed"))
        );
    }
}
