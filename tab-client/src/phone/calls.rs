//! The phone's media requests performed on one [`CallMedia`] per call, in
//! order per call (one at a time: a peer connection negotiates one thing at
//! a time), each reply fed back exactly once; autoplay refusals turned into
//! the state's `audioBlocked` and retried on the next user gesture. A call
//! whose peer moved (`MediaKind::Answer`'s `fresh`) gets a new `CallMedia`,
//! the old one playing on until the new one has its ICE path.
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use tabphone_phone::media::{MediaKind, MediaRequest};

use super::driver::{feed, Driver, Input};
use crate::listen::Listener;
use crate::media::{CallMedia, Direction, MediaError, MediaEvent, MediaFactory, OfferOptions, Step};
use wasm_bindgen::JsValue;

mod autoplay;

/// One call's media and the requests waiting for it.
#[derive(Default)]
struct Slot {
    media: Option<CallMedia>,
    queue: Vec<MediaRequest>,
    /// A task is performing this call's requests.
    running: bool,
    /// A DTMF request answered when its tones are played.
    dtmf: Option<u64>,
    /// The SDP of an early answer applied (a 183's), and its final twin.
    early_answer: Option<String>,
}

/// Every call's media, made by one factory.
pub(crate) struct CallMedias {
    factory: MediaFactory,
    /// Each call's slot, in call id order (plain `Vec`s: a map type's
    /// generic code costs more than a short scan).
    calls: RefCell<Vec<(String, Slot)>>,
    /// Calls whose audio the browser refused to play without a gesture
    /// (see `autoplay.rs`).
    blocked: RefCell<Vec<String>>,
    /// `pointerdown` and `keydown` on the window while some audio is blocked.
    gesture: RefCell<Option<Listener>>,
    /// Closed calls' media (and the microphone) keep running this long, in
    /// ms: see [`CallMedias::linger`].
    linger_ms: Cell<u32>,
    driver: Weak<Driver>,
}

impl CallMedias {
    pub(crate) fn new(factory: MediaFactory, driver: Weak<Driver>) -> CallMedias {
        CallMedias {
            factory,
            calls: RefCell::new(Vec::new()),
            blocked: RefCell::new(Vec::new()),
            gesture: RefCell::new(None),
            linger_ms: Cell::new(0),
            driver,
        }
    }

    /// From now on, media closed (a call's, the microphone) goes on for `ms`
    /// before it stops: make-before-break when this tab hands its calls over
    /// and stays open (a takeover), so the peer hears this tab until the
    /// successor's re-INVITE has moved its media, not silence meanwhile.
    /// Nothing is sent on SIP; the peer drops these packets once it follows
    /// the successor.
    pub(crate) fn linger(&self, ms: u32) {
        self.linger_ms.set(ms);
    }

    /// Stop `f` now, or after the linger time.
    fn retire(&self, f: impl FnOnce() + 'static) {
        match self.linger_ms.get() {
            0 => f(),
            ms => {
                crate::timer::after(ms, Box::new(f)).forget();
            }
        }
    }

    /// Prepare the microphone and a gathered offer for the next call.
    pub(crate) fn prewarm(&self) {
        let driver = self.driver.clone();
        let report = move |outcome: Result<JsValue, MediaError>| {
            if let (Err(e), Some(d)) = (outcome, driver.upgrade()) {
                d.error(None, crate::cat(&["media prewarm: ", e.code(), ": ", &e.message()]));
            }
        };
        self.factory.prewarm_then(Box::new(report));
    }

    /// Perform `request` after the call's earlier ones; `Close` at once.
    pub(crate) fn request(&self, request: MediaRequest) {
        if request.kind == MediaKind::Close {
            return self.close(&request.call);
        }
        let call = request.call.clone();
        let start = {
            let mut calls = self.calls.borrow_mut();
            let i = find(&calls, &call).unwrap_or_else(|i| {
                calls.insert(i, (call.clone(), Slot::default()));
                i
            });
            let slot = &mut calls[i].1;
            slot.queue.push(request);
            !std::mem::replace(&mut slot.running, true)
        };
        if start {
            let driver = self.driver.clone();
            crate::later::soon(Box::new(move || run(driver, call)));
        }
    }

    /// Close a call's media; requests still waiting are answered `closed`.
    fn close(&self, call: &str) {
        let Ok(i) = find(&self.calls.borrow(), call) else { return };
        let mut slot = self.calls.borrow_mut().remove(i).1;
        if let Some(media) = slot.media.take() {
            self.retire(move || media.close());
        }
        for r in &slot.queue {
            if r.kind.expects_reply() {
                self.fail_closed(r.id);
            }
        }
        if let Some(request) = slot.dtmf {
            self.fail_closed(request);
        }
        self.unblock(call);
    }

    /// Answer `request` `closed`.
    fn fail_closed(&self, request: u64) {
        feed(&self.driver, Input::Media { request, result: Err(MediaError::Closed.message()) });
    }

    /// Stop everything: every call's media, the prepared call, the microphone.
    pub(crate) fn release(&self) {
        let mut calls = Vec::new();
        for (call, _) in self.calls.borrow().iter() {
            calls.push(call.clone());
        }
        for call in &calls {
            self.close(call);
        }
        *self.gesture.borrow_mut() = None;
        let factory = self.factory.clone();
        self.retire(move || factory.release());
    }

    /// What a call's media reports.
    fn on_event(&self, call: &str, event: MediaEvent) {
        let error = match event {
            MediaEvent::TonesDone => {
                let done = slot(&mut self.calls.borrow_mut(), call).and_then(|s| s.dtmf.take());
                if let Some(request) = done {
                    feed(&self.driver, Input::Media { request, result: Ok(String::new()) });
                }
                return;
            }
            MediaEvent::PlaybackBlocked => return self.block(call),
            MediaEvent::PlaybackStarted => return self.unblock(call),
            MediaEvent::PlaybackFailed { name, message } => {
                crate::cat(&["audio playback: ", &name, ": ", &message])
            }
            MediaEvent::InputEnded => "the microphone stopped (unplugged or revoked)".into(),
            _ => return,
        };
        if let Some(d) = self.driver.upgrade() {
            d.error(Some(call.to_owned()), error);
        }
    }

    /// The call's next request, or `None` (and the call is idle).
    fn next(&self, call: &str) -> Option<(MediaRequest, Option<CallMedia>)> {
        let mut calls = self.calls.borrow_mut();
        let slot = slot(&mut calls, call)?;
        if slot.queue.is_empty() {
            slot.running = false;
            return None;
        }
        Some((slot.queue.remove(0), slot.media.clone()))
    }

    /// Where the media events of `call` go.
    fn events_of(&self, call: &str) -> impl Fn(MediaEvent) + 'static {
        let driver = self.driver.clone();
        let id = call.to_owned();
        move |e: MediaEvent| {
            if let Some(d) = driver.upgrade() {
                d.media.on_event(&id, e);
            }
        }
    }

    /// The call's media, made for its first offer or answer: kept in its
    /// slot, or closed when the call ended meanwhile.
    fn adopt(&self, call: &str, media: CallMedia) -> Result<CallMedia, MediaError> {
        match slot(&mut self.calls.borrow_mut(), call) {
            Some(slot) => slot.media = Some(media.clone()),
            None => {
                media.close();
                return Err(MediaError::Closed);
            }
        }
        Ok(media)
    }
}

/// Where `call`'s slot is among `calls` (sorted by call id): `Ok`, or `Err`
/// with where it would go.
fn find(calls: &[(String, Slot)], call: &str) -> Result<usize, usize> {
    let mut i = 0;
    while i < calls.len() && calls[i].0.as_str() < call {
        i += 1;
    }
    if i < calls.len() && calls[i].0 == call {
        Ok(i)
    } else {
        Err(i)
    }
}

fn slot<'a>(calls: &'a mut [(String, Slot)], call: &str) -> Option<&'a mut Slot> {
    find(calls, call).ok().map(|i| &mut calls[i].1)
}

/// What became of a fresh answer ([`CallMedias::replace`]).
enum Fresh {
    /// It replaced the call's media; DTMF request still playing on the old.
    Replaced { tones: Option<u64> },
    /// It could not answer: the old media answers instead.
    Failed,
    /// The call ended meanwhile.
    CallGone,
}

/// How long at most a call's replaced media (see [`CallMedias::replace`])
/// keeps playing while its fresh connection comes up, in ms.
const REPLACED_MAX_MS: u32 = 3000;

/// Close `old` once `fresh` has its ICE path (or failed), at most after
/// [`REPLACED_MAX_MS`]: make-before-break, since the peer may still send on
/// the old connection (a takeover's old tab lingers).
fn retire_replaced(old: CallMedia, fresh: &CallMedia) {
    crate::later::then(&fresh.ice_settled(REPLACED_MAX_MS), Box::new(move |_| old.close()));
}

/// A request's reply: `None` when none is due now (rollback; DTMF,
/// answered when played).
type Reply = Option<Result<String, MediaError>>;

/// The request being performed (its call, `request.call`), carried by its
/// continuations (the driver held meanwhile).
struct Task {
    driver: Rc<Driver>,
    request: MediaRequest,
}

/// Where a request stands after a step.
enum Progress {
    /// Answered now.
    Done(Task, Reply),
    /// Waiting on the browser: a continuation takes it on ([`go_on`]).
    Waiting,
}

/// Perform a call's requests one after the other, feeding each reply back,
/// until one waits on the browser (its continuation comes back here).
fn run(mut driver: Weak<Driver>, mut call: String) {
    loop {
        let Some(d) = driver.upgrade() else { return };
        let Some((request, media)) = d.media.next(&call) else { return };
        let Progress::Done(task, reply) = perform(Task { driver: d, request }, media) else { return };
        (driver, call) = task.reply(reply);
    }
}

impl Task {
    /// Feed the reply back (the driver no longer held); the call, to go on.
    fn reply(self, reply: Reply) -> (Weak<Driver>, String) {
        let driver = Rc::downgrade(&self.driver);
        drop(self.driver);
        if let Some(result) = reply {
            feed(&driver, Input::Media { request: self.request.id, result: result.map_err(|e| e.message()) });
        }
        (driver, self.request.call)
    }
}

/// A continuation's end: when the request is answered, its reply, then the
/// call's next requests.
fn go_on(progress: Progress) {
    if let Progress::Done(task, reply) = progress {
        let (driver, call) = task.reply(reply);
        run(driver, call);
    }
}

/// Perform one request: first the media made, when it needs one, then the step.
fn perform(task: Task, media: Option<CallMedia>) -> Progress {
    let (offer, answer) = match &task.request.kind {
        MediaKind::Offer { .. } => (true, false),
        MediaKind::Answer { fresh, .. } => (false, *fresh),
        MediaKind::Rollback if media.is_none() => return Progress::Done(task, None),
        _ => (false, false),
    };
    // The first offer or answer makes the call's media. The peer moved
    // (`fresh`): a fresh connection answers when one can be made (see
    // [`CallMedias::replace`]); else, or when it cannot answer, the call's own.
    let first = media.is_none() && (offer || matches!(task.request.kind, MediaKind::Answer { .. }));
    let make = first || (answer && media.is_some());
    if !make {
        return with_media(task, media, None);
    }
    // A new media: outgoing (the prepared one) or incoming.
    let d = task.driver.clone();
    let events = Rc::new(d.media.events_of(&task.request.call));
    d.media.factory.call(offer, events, Box::new(move |made| go_on(with_media(task, media, Some(made)))));
    Progress::Waiting
}

/// The request with the call's media (`made` when a new one was asked for):
/// the step, on the fresh one when it is there.
fn with_media(task: Task, media: Option<CallMedia>, made: Option<Result<CallMedia, MediaError>>) -> Progress {
    let (media, fresh) = match (media, made) {
        (Some(m), made) => (m, made.and_then(Result::ok)),
        (None, Some(made)) => match made.and_then(|m| task.driver.media.adopt(&task.request.call, m)) {
            Ok(m) => (m, None),
            Err(e) => return Progress::Done(task, Some(Err(e))),
        },
        (None, None) => return Progress::Done(task, Some(Err(MediaError::Closed))),
    };
    step(task, media, fresh)
}

/// The browser step of the request, on `fresh` when it is there.
fn step(task: Task, media: CallMedia, fresh: Option<CallMedia>) -> Progress {
    let step = match task.driver.media.begin(&task.request.call, &task.request, &media) {
        Ok(step) => step,
        Err(reply) => return Progress::Done(task, reply),
    };
    if let Some(f) = &fresh {
        f.set_muted(media.muted());
    }
    let started = fresh.as_ref().unwrap_or(&media).start(step);
    started.then(Box::new(move |result| go_on(stepped(task, media, fresh, result))));
    Progress::Waiting
}

/// The step's outcome: the request's reply, or (a fresh answer that could
/// not answer) the step again on the call's own media.
fn stepped(
    task: Task,
    media: CallMedia,
    fresh: Option<CallMedia>,
    result: Result<JsValue, MediaError>,
) -> Progress {
    let medias = &task.driver.media;
    let reply = match &task.request.kind {
        MediaKind::Answer { .. } => {
            let answer = result.and_then(crate::media::sdp);
            match fresh {
                None => Some(answer),
                Some(f) => match medias.replace(&task.request.call, &media, f, answer) {
                    Some(replaced) => Some(replaced),
                    None => return step(task, media, None),
                },
            }
        }
        MediaKind::ApplyAnswer { answer, provisional } => {
            Some(result.map(|_| medias.applied(&task.request.call, answer, *provisional)))
        }
        // No reply: a failed rollback leaves the next offer to fail, and say so.
        MediaKind::Rollback => None,
        _ => Some(result.and_then(crate::media::sdp)),
    };
    Progress::Done(task, reply)
}

impl CallMedias {
    /// The peer moved to a new DTLS endpoint (see `tabphone_phone::sdp`):
    /// `fresh`, a new connection given `old`'s mute state, answered its offer
    /// with `answer`, and replaces `old` now. `None` when it could not answer
    /// (it is closed): then `old` answers, as it would without the rule
    /// (slower to connect, but a call). `closed` when the call ended meanwhile.
    fn replace(
        &self,
        call: &str,
        old: &CallMedia,
        fresh: CallMedia,
        answer: Result<String, MediaError>,
    ) -> Option<Result<String, MediaError>> {
        let outcome = {
            let mut calls = self.calls.borrow_mut();
            match slot(&mut calls, call).filter(|s| s.media.as_ref().is_some_and(|m| m.same(old))) {
                Some(slot) if answer.is_ok() => {
                    slot.media = Some(fresh.clone());
                    slot.early_answer = None;
                    Fresh::Replaced { tones: slot.dtmf.take() }
                }
                Some(_) => Fresh::Failed,
                None => Fresh::CallGone,
            }
        };
        let tones = match outcome {
            Fresh::Replaced { tones } => tones,
            Fresh::Failed => {
                fresh.close();
                return None;
            }
            Fresh::CallGone => {
                fresh.close();
                return Some(answer.and(Err(MediaError::Closed)));
            }
        };
        retire_replaced(old.clone(), &fresh);
        if let Some(request) = tones {
            let result = Err(String::from("the peer moved to a new connection before the tones were played"));
            feed(&self.driver, Input::Media { request, result });
        }
        Some(answer)
    }

    /// The browser step of `request`, or its reply when it needs none
    /// (mute, DTMF; an answer that repeats the early one applied, which is
    /// then already in place).
    fn begin<'a>(
        &self,
        call: &str,
        request: &'a MediaRequest,
        media: &CallMedia,
    ) -> Result<Step<'a>, Option<Result<String, MediaError>>> {
        Ok(match &request.kind {
            MediaKind::Offer { direction, ice_restart } => Step::Offer(OfferOptions {
                ice_restart: *ice_restart,
                hold: *direction != Direction::SendRecv,
            }),
            MediaKind::Answer { offer, direction, .. } => Step::Answer(offer, *direction),
            MediaKind::ApplyAnswer { answer, provisional } => {
                let early = slot(&mut self.calls.borrow_mut(), call).and_then(|s| s.early_answer.clone());
                if !provisional && early.as_deref() == Some(answer) {
                    return Err(Some(Ok(String::new())));
                }
                Step::Apply(answer)
            }
            MediaKind::Rollback => Step::Rollback,
            MediaKind::Mute { muted } => {
                media.set_muted(*muted);
                return Err(Some(Ok(String::new())));
            }
            MediaKind::Dtmf { tones, duration_ms, gap_ms } => {
                if let Err(e) = media.send_dtmf(tones, *duration_ms, *gap_ms) {
                    return Err(Some(Err(e)));
                }
                let replaced =
                    slot(&mut self.calls.borrow_mut(), call).and_then(|s| s.dtmf.replace(request.id));
                if let Some(old) = replaced {
                    let result = Err(String::from("replaced by later tones before it was played"));
                    feed(&self.driver, Input::Media { request: old, result });
                }
                return Err(None);
            }
            // Close is done at once, never queued; a kind this version does not know:
            _ => return Err(Some(Err(MediaError::Unsupported { what: "this kind of media request" }))),
        })
    }

    /// The peer's answer applied: an early answer (183) is kept, so that
    /// the final one, when it repeats it, is not applied again.
    fn applied(&self, call: &str, answer: &str, provisional: bool) -> String {
        if let Some(slot) = slot(&mut self.calls.borrow_mut(), call) {
            slot.early_answer = provisional.then(|| answer.to_owned());
        }
        String::new()
    }
}
