//! Execution contexts: who is recording an event, and where it goes.
//!
//! Every event belongs to an execution (a thread, an async task, a
//! request). The current execution lives in one thread-local, [`ThreadState`],
//! together with the thread's connection to the pipeline; every tracking call
//! goes through [`with_thread`], the one context lookup. Nothing outside
//! this file touches a `ThreadState`: the rest of the crate goes through
//! the functions of [`crate::rt`].

use super::install;
use super::session::Session;
use super::slots::{Ended, Token, Tokens, FREE_SLOTS};
use crate::clock::{Timebase, VectorClock};
use crate::event::{process_trace_id, ContextDelta, ExecInfo, Kind, LockRef, Record, Site, Span, NO_EXECUTION};
use crate::pipeline::{Outlet, Pipeline};
use crate::retirement;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static NEXT_EXEC: AtomicU64 = AtomicU64::new(1);

/// The tokio task an event is recorded in, where tokio is compiled in.
#[cfg(any(feature = "tokio", feature = "http"))]
type TaskId = Option<tokio::task::Id>;
/// Without tokio, no event is in a task.
#[cfg(not(any(feature = "tokio", feature = "http")))]
type TaskId = Option<std::convert::Infallible>;

/// The task running now (`tokio::task::try_id`, the stable route).
#[inline(always)]
fn current_task() -> TaskId {
    #[cfg(any(feature = "tokio", feature = "http"))]
    {
        tokio::task::try_id()
    }
    #[cfg(not(any(feature = "tokio", feature = "http")))]
    {
        None
    }
}

/// The state of one execution, owned by whoever runs it.
pub(crate) struct ExecContext {
    info: Arc<ExecInfo>,
    /// Own clock component's count: the slot's events so far (this
    /// execution's, and those of the executions that had the slot before,
    /// see [`super::slots`]).
    seq: u64,
    /// Slots of joined executions this one may give to its next children.
    tokens: Tokens,
    /// Set when its final clock was taken for a join: its counter stops.
    retired: bool,
    /// What happens before this execution, learnt from other executions.
    /// Shared with the deltas that carry it, so sending it again is a
    /// reference count; copied only when it changes while a delta (or the
    /// exporter) still holds it.
    clock: Arc<VectorClock>,
    /// What happens before this execution through hard edges only (every
    /// edge but a lock's hand-off: spawn, join, messages, atomics, ...),
    /// when that is less than `clock`; `None` when it is all of `clock`.
    /// The analysis predicts reorderings that respect these edges and
    /// move critical sections of one lock past each other (see
    /// `analyzer::predict`). Sent with `clock`.
    hard: Option<Arc<VectorClock>>,
    /// Locks held, in acquisition order; shared like `clock`.
    locks: Arc<Vec<LockRef>>,
    /// The pipeline that last received this execution's identity; 0 for
    /// none.
    announced: usize,
    clock_dirty: bool,
    locks_dirty: bool,
    /// The `raceway::check` session this execution records into, if any.
    session: Option<Arc<Session>>,
    /// What memory fences hand over; made at the execution's first fence
    /// or relaxed atomic load.
    fences: Option<Box<Fences>>,
    /// Whether `session` counts this execution among the live ones it
    /// waits for.
    counted: bool,
    /// The pipeline whose pool of freed slots gave it its slot (see
    /// [`super::slots`]): given back if it never records.
    pooled: Option<usize>,
}

/// An execution's memory-fence state (the C++/Rust model's fences).
#[derive(Default)]
struct Fences {
    /// The clock at the execution's last release fence: what its later
    /// relaxed stores and read-modify-writes release.
    release: Option<VectorClock>,
    /// What the atomics its relaxed loads read from released: acquired at
    /// its next acquire fence.
    pending_acquire: VectorClock,
}

impl Drop for ExecContext {
    fn drop(&mut self) {
        if let (Some(session), true) = (&self.session, self.counted) {
            session.execution_ended(self.info.id);
        }
        // A slot from the pool that recorded nothing (an execution made for
        // a call that records nothing, a placeholder) goes back, or every
        // such execution would cost the pool a slot.
        if let Some(pipeline) = self.pooled.filter(|_| self.announced == 0) {
            if self.info.free_slot() {
                FREE_SLOTS.give(pipeline, Token { slot: self.component(), count: self.seq });
            }
        }
    }
}

impl ExecContext {
    pub(crate) fn new(name: String, trace_id: u128) -> Self {
        ExecContext::in_span(name, trace_id, None)
    }

    /// A new execution in `span` of trace `trace_id`: in a slot that an
    /// ended execution nobody joined freed, where the installed pipeline
    /// reuses those (see [`super::slots`]), else in a fresh one.
    pub(crate) fn in_span(name: String, trace_id: u128, span: Option<Arc<Span>>) -> Self {
        ExecContext::in_pooled_slot(name, trace_id, span)
    }

    /// A new execution in a slot from the pool of freed slots, if the
    /// installed pipeline reuses them and one is free; else in a fresh one.
    fn in_pooled_slot(name: String, trace_id: u128, span: Option<Arc<Span>>) -> Self {
        match FREE_SLOTS.take(install::reusing_pipeline) {
            Some((pipeline, token)) => {
                let mut ctx = ExecContext::in_slot(name, trace_id, span, Some(token));
                ctx.pooled = Some(pipeline);
                ctx
            }
            None => ExecContext::in_slot(name, trace_id, span, None),
        }
    }

    /// An execution that stands in for one running elsewhere: it takes no
    /// freed slot (it seldom records).
    pub(crate) fn placeholder(trace_id: u128) -> Self {
        ExecContext::in_slot(String::new(), trace_id, None, None)
    }

    /// A new execution in `span`, in the slot of `token` (a joined
    /// execution's, see [`super::slots`]) or in a fresh one.
    fn in_slot(name: String, trace_id: u128, span: Option<Arc<Span>>, token: Option<Token>) -> Self {
        let id = NEXT_EXEC.fetch_add(1, Ordering::Relaxed);
        let mut info = ExecInfo::new(id, name, trace_id, span);
        let mut seq = 0;
        if let Some(token) = token {
            info.component = token.slot;
            seq = token.count;
        }
        ExecContext {
            info: Arc::new(info),
            seq,
            tokens: Tokens::default(),
            retired: false,
            clock: Arc::default(),
            hard: None,
            locks: Arc::default(),
            announced: 0,
            clock_dirty: false,
            locks_dirty: false,
            session: None,
            fences: None,
            counted: false,
            pooled: None,
        }
    }

    /// Makes this execution record into `session`, and counts it there.
    pub(crate) fn join_session(&mut self, session: Arc<Session>, site: Option<Site>) {
        session.execution_started(self.info.id, &self.info.name, site);
        self.session = Some(session);
        self.counted = true;
    }

    /// A thread that raceway did not see start, taken into `session` (the
    /// only one open): its spawn and join edges are unknown, and the
    /// session does not wait for it to end.
    fn adopted(name: String, session: Arc<Session>) -> Self {
        let mut ctx = ExecContext::of_unknown_origin(name, process_trace_id(), None, false);
        ctx.session = Some(session);
        ctx
    }

    /// A new execution that raceway did not see start (`spawn_seen`: only
    /// its end is unseen): the analysis must not take the missing edges
    /// for a race.
    fn of_unknown_origin(name: String, trace_id: u128, span: Option<Arc<Span>>, spawn_seen: bool) -> Self {
        let mut ctx = ExecContext::in_span(name, trace_id, span);
        let info = Arc::get_mut(&mut ctx.info).expect("a new execution's identity is not shared yet");
        info.origin_unknown = true;
        info.spawn_seen = spawn_seen;
        ctx
    }

    /// The execution of tokio task `task`, which raceway did not see start
    /// (see [`super::plain_task`]): its spawn and join edges are unknown.
    /// It records into the session open now, if only one is.
    #[cfg(any(feature = "tokio", feature = "http"))]
    fn plain_task(task: tokio::task::Id) -> Self {
        let mut ctx = ExecContext::of_unknown_origin(format!("tokio-task-{task}"), process_trace_id(), None, false);
        if install::is_active() {
            ctx.session = install::sole_session();
        }
        ctx
    }

    /// The implicit execution of the calling OS thread.
    fn for_current_thread() -> Self {
        let thread = std::thread::current();
        let name = match thread.name() {
            Some(name) => name.to_string(),
            None => format!("{:?}", thread.id()),
        };
        ExecContext::new(name, process_trace_id())
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.info.id
    }

    /// Its own clock component: its slot.
    #[inline]
    pub(crate) fn component(&self) -> u64 {
        self.info.component
    }

    /// Its end, for whoever joins it: its final clock, its slot and the
    /// slots it holds. Its counter stops here (what it still records comes
    /// before the join all the same).
    pub(crate) fn ended(&mut self) -> Ended {
        let clock = self.clock_now();
        let mut slots = Vec::new();
        // Unless its end was recorded first, freeing the slot.
        if self.info.hand_on_slot() {
            slots.push(Token { slot: self.component(), count: self.seq });
        }
        slots.extend(self.tokens.take_all());
        self.retired = true;
        Ended { clock, slots, pipeline: self.announced }
    }

    pub(crate) fn trace_id(&self) -> u128 {
        self.info.trace_id
    }

    pub(crate) fn span(&self) -> Option<&Arc<Span>> {
        self.info.span.as_ref()
    }

    /// Everything that happens before this execution's next event: its
    /// learnt clock plus its own events so far.
    pub(crate) fn clock_now(&self) -> VectorClock {
        let mut clock = VectorClock::clone(&self.clock);
        if self.seq > 0 {
            clock.observe(self.component(), self.seq);
        }
        clock
    }

    /// Makes what `snapshot` (another execution's, or this one's, clock at
    /// a release) says happen before this execution's next event, without
    /// copying anything when it teaches nothing new.
    fn absorb_snapshot(&mut self, snapshot: &Snapshot, edge: Edge) {
        if edge == Edge::Lock || snapshot.hard.is_some() || self.hard.is_some() {
            // What the hard clock learns differs from what the clock learns.
            let clock = snapshot.to_clock();
            let hard = snapshot.hard_clock(edge);
            self.absorb_both(&clock, &hard);
            return;
        }
        let own = self.component();
        let learnt = &snapshot.learnt;
        let learns_learnt = !Arc::ptr_eq(learnt, &self.clock) && teaches(learnt, &self.clock, own);
        let learns_own = snapshot.exec != own
            && snapshot.seq > self.clock.get(snapshot.exec)
            && !retirement::is_retired(snapshot.exec);
        if learns_learnt || learns_own {
            let clock = Arc::make_mut(&mut self.clock);
            if learns_learnt {
                clock.join(learnt);
                clock.forget(own);
                retirement::prune(clock);
            }
            if learns_own {
                clock.observe(snapshot.exec, snapshot.seq);
            }
            self.clock_dirty = true;
        }
    }

    /// Makes everything in `other` happen before this execution's next
    /// event (a join, or an acquire after a release).
    pub(crate) fn absorb(&mut self, other: &VectorClock) {
        self.absorb_both(other, other);
    }

    /// Makes everything in `clock` happen before this execution's next
    /// event, `hard` (at most `clock`) of it through hard edges.
    fn absorb_both(&mut self, clock: &VectorClock, hard: &VectorClock) {
        // The execution's own component is its sequence number, not part of
        // what it learnt: an edge back from its own release (an atomic it
        // stored and loads again) teaches it nothing.
        let own = self.component();
        let learns = teaches(clock, &self.clock, own);
        let known_hard = self.hard.as_deref().unwrap_or(&self.clock);
        let learns_hard = teaches(hard, known_hard, own);
        if !learns && !learns_hard {
            return;
        }
        if learns && self.hard.is_none() && !std::ptr::eq(clock, hard) {
            // The hard clock was all of the clock; it may now be less.
            self.hard = Some(self.clock.clone());
        }
        if learns {
            let mine = Arc::make_mut(&mut self.clock);
            mine.join(clock);
            mine.forget(own);
            retirement::prune(mine);
        }
        if let Some(known) = self.hard.as_mut() {
            if learns_hard {
                let known = Arc::make_mut(known);
                known.join(hard);
                known.forget(own);
                retirement::prune(known);
            }
            if **known == *self.clock {
                self.hard = None;
            }
        }
        self.clock_dirty = true;
    }

    /// Starts this (child) execution after everything `parent` did so far:
    /// the spawn edge.
    pub(crate) fn inherit(&mut self, parent: &ExecContext) {
        // A child in a reused slot finds the slot's last count in its
        // parent's clock: that is its own component now, not learnt.
        let own = self.component();
        let mut clock = parent.clock_now();
        clock.forget(own);
        retirement::prune(&mut clock);
        self.hard = parent.hard.as_ref().map(|hard| {
            let mut hard = VectorClock::clone(hard);
            if parent.seq > 0 {
                hard.observe(parent.component(), parent.seq);
            }
            hard.forget(own);
            retirement::prune(&mut hard);
            Arc::new(hard)
        });
        if self.hard.as_deref() == Some(&clock) {
            self.hard = None;
        }
        self.clock = Arc::new(clock);
        self.clock_dirty = true;
    }

    /// Advances the execution's own clock component: the one place where an
    /// execution's clock moves forward.
    #[inline]
    fn tick(&mut self) -> u64 {
        if !self.retired {
            self.seq += 1;
        }
        self.seq
    }

    /// Applies what an event does to the execution's lock set before it is
    /// recorded. Acquire and release events both list the lock they name.
    #[inline]
    fn before(&mut self, kind: &Kind) {
        if let Kind::LockAcquire { lock, .. } = kind {
            Arc::make_mut(&mut self.locks).push(lock.clone());
            self.locks_dirty = true;
        }
    }

    #[inline]
    fn after(&mut self, kind: &Kind) {
        if let Kind::LockRelease { lock, .. } = kind {
            // Release the most recent acquisition of that lock (re-entrant
            // and out-of-order releases both work).
            if let Some(i) = self.locks.iter().rposition(|l| l == lock) {
                Arc::make_mut(&mut self.locks).remove(i);
                self.locks_dirty = true;
            }
        }
    }

    /// What the pipeline `pipeline` has not seen yet of this execution:
    /// everything, when it is new there or a record carrying its context
    /// was lost; otherwise what changed.
    #[inline]
    fn delta_for(&mut self, pipeline: usize) -> Option<Box<ContextDelta>> {
        let fresh = self.announced != pipeline || self.context_was_lost();
        if !(fresh || self.clock_dirty || self.locks_dirty) {
            return None;
        }
        let delta = ContextDelta {
            owner: self.info.clone(),
            announce: fresh,
            clock: (fresh || self.clock_dirty).then(|| self.clock.clone()),
            hard: self.hard.clone(),
            locks: (fresh || self.locks_dirty).then(|| self.locks.clone()),
        };
        self.announced = pipeline;
        self.clock_dirty = false;
        self.locks_dirty = false;
        Some(Box::new(delta))
    }

    /// Whether a record carrying this execution's context was dropped
    /// since it last sent it; clears the mark. A load on the execution's
    /// own line in the common case.
    #[inline]
    fn context_was_lost(&self) -> bool {
        let lost = &self.info.context_lost;
        lost.load(Ordering::Relaxed) && lost.swap(false, Ordering::Relaxed)
    }
}

/// Whether `other` knows more than `known` of some component but `own`
/// (which is not learnt) and the retired ones (which leave clocks).
#[inline]
fn teaches(other: &VectorClock, known: &VectorClock, own: u64) -> bool {
    let retired = retirement::any();
    other.entries().iter().any(|&(e, n)| e != own && n > known.get(e) && !(retired && retirement::is_retired(e)))
}

/// Everything a thread keeps for instrumentation.
pub(crate) struct ThreadState {
    /// The execution currently running on this thread.
    current: ExecContext,
    /// This thread's buffer in the pipeline it last recorded to.
    outlet: Option<Outlet>,
    /// The process-wide client as of `global_generation`.
    global: Option<Arc<Pipeline>>,
    global_generation: u64,
    /// Records taken on this thread, all executions together.
    recorded: u64,
    /// The tokio task the current execution was entered in (`None` outside
    /// any task): a call made in another task runs as that task's own
    /// execution (see [`with_thread`]).
    entered_task: TaskId,
    /// Whether `current` is the thread's own execution (no execution was
    /// entered on it): a thread that raceway did not see start.
    own_execution: bool,
    /// The slot of the tokio task raceway did not start that this thread
    /// last ran as (see [`super::plain_task`]): a lookup saved while it
    /// keeps polling the same task.
    #[cfg(any(feature = "tokio", feature = "http"))]
    plain: Option<(tokio::task::Id, Arc<super::plain_task::TaskSlot<TaskState>>)>,
}

impl ThreadState {
    fn new() -> Self {
        ThreadState {
            current: ExecContext::for_current_thread(),
            outlet: None,
            global: None,
            global_generation: u64::MAX,
            recorded: 0,
            entered_task: TaskId::default(),
            own_execution: true,
            #[cfg(any(feature = "tokio", feature = "http"))]
            plain: None,
        }
    }

    /// Records one event of the current execution into `pipeline`.
    /// `make` runs inside the thread's context: it assembles values already
    /// captured and must not call user code.
    #[inline(always)]
    fn record(&mut self, pipeline: &Arc<Pipeline>, ts: u64, make: impl FnOnce() -> Kind) {
        let outlet = match &mut self.outlet {
            Some(outlet) if outlet.is_for(pipeline) => outlet,
            slot => slot.insert(Outlet::attach(pipeline)),
        };
        let ctx = &mut self.current;
        let exec = ctx.id();
        // Built in its buffer slot; the execution's sequence number and
        // context delta are filled in there, around what the event does
        // to the lock set.
        outlet.push(
            || Record { ts, exec, seq: 0, delta: None, kind: make() },
            |record| {
                ctx.before(&record.kind);
                record.seq = ctx.tick();
                record.delta = ctx.delta_for(pipeline.id);
                ctx.after(&record.kind);
            },
        );
        self.recorded += 1;
    }

    /// Records an event of this thread's execution, which is in no session
    /// while only sessions listen (see [`emit_at`]). Out of line: the hot
    /// path never comes here.
    #[cold]
    #[inline(never)]
    fn record_unattributed(&mut self, ts: u64, make: impl FnOnce() -> Kind) {
        let thread = self;
        // Only `raceway::check` sessions listen, and this execution is in
        // none of them: a thread or task started without raceway. An
        // unnamed thread of its own (as `std::thread::spawn` makes them)
        // while one session is open is taken to be that session's, with
        // unknown spawn and join edges. Named threads (a test harness's,
        // one per test) and tasks cannot be attributed: the open sessions
        // note them.
        let in_task = current_task() != TaskId::default();
        let plain_thread = thread.own_execution && !in_task && std::thread::current().name().is_none();
        // A task raceway did not start, first seen while no session (or
        // several) was open: taken into the session open now, if only one.
        let plain_task = thread.current.info.origin_unknown && thread.current.session.is_none();
        if plain_task {
            match install::sole_session() {
                Some(session) => {
                    thread.current.session = Some(session.clone());
                    thread.record(session.pipeline(), ts, make);
                }
                None => install::unattributed_elsewhere(),
            }
            return;
        }
        match install::sole_session().filter(|_| plain_thread) {
            Some(session) => {
                let name = thread.current.info.name.clone();
                thread.current = ExecContext::adopted(name, session.clone());
                thread.record(session.pipeline(), ts, make);
            }
            None => install::unattributed_elsewhere(),
        }
    }

    /// Hands this thread's buffered records to its pipeline's channel.
    fn hand_off(&self) {
        if let Some(outlet) = &self.outlet {
            outlet.hand_off();
        }
    }

    /// Hands this thread's buffered records to `pipeline`'s channel, so that
    /// a flush requested from this thread covers them.
    fn hand_off_if_attached(&self, pipeline: usize) {
        if self.outlet.as_ref().is_some_and(|o| o.pipeline_id() == pipeline) {
            self.hand_off();
        }
    }

    /// Ends the execution of a retired plain task: after its last events
    /// (in whichever buffer they are), its end.
    #[cfg(any(feature = "tokio", feature = "http"))]
    fn end_plain_task(&self, task: TaskState) {
        if let Some(written) = &task.written {
            written.hand_off_if_unsent();
        }
        self.end_execution(&task.ctx);
    }

    /// Tells the pipeline that received `ctx`'s events that it ended.
    fn end_execution(&self, ctx: &ExecContext) {
        if let Some(outlet) = self.outlet.as_ref().filter(|o| o.pipeline_id() == ctx.announced) {
            // Nobody took its final clock: its slot is not handed on, and
            // its component may be retired (see `crate::retirement`).
            let freed = ctx.info.free_slot().then_some(ctx.component());
            let ts = Timebase::get().now();
            outlet.push(|| Record::exec_end(ts, ctx.id(), ctx.seq, freed), |_| {});
            if freed.is_some() && outlet.reuses_slots() {
                // Its slot, at its final count, for a new execution: that
                // starts after this end (see `super::slots`).
                FREE_SLOTS.give(outlet.pipeline_id(), Token { slot: ctx.component(), count: ctx.seq });
            }
            if freed.is_some() && outlet.retires() {
                // Its component leaves the clocks only once the analysis
                // has seen its end: sent now rather than when the buffer
                // fills, or a busy service's clocks list every request the
                // buffers hold. (Where nothing retires, the buffer fills as
                // usual.)
                outlet.hand_off();
            }
        }
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // The thread is exiting: its execution ended; hand over what is
        // still buffered.
        self.end_execution(&self.current);
        if let Some(outlet) = self.outlet.take() {
            outlet.detach();
        }
    }
}

thread_local! {
    static THREAD: RefCell<ThreadState> = RefCell::new(ThreadState::new());
}

/// Runs the rest of this thread as `ctx`: a spawned thread's execution, or
/// one taken with [`take_current`] coming back.
pub(crate) fn enter(ctx: ExecContext) {
    with_thread(|thread| {
        thread.current = ctx;
        thread.entered_task = current_task();
        thread.own_execution = false;
    });
}

/// A new execution for something the current one spawns, recording the
/// spawn: the child starts after everything the parent did so far,
/// the `AsyncSpawn` event included.
pub(crate) fn spawn_child(name: String, site: Site) -> ExecContext {
    // The child runs in a slot its parent holds, and takes one more for a
    // child of its own (a task's request, a call's call); both come back
    // with its join.
    let (trace, span, session, token, spare) = with_thread(|t| {
        let (token, spare) = (t.current.tokens.take(), t.current.tokens.take());
        (t.current.trace_id(), t.current.span().cloned(), t.current.session.clone(), token, spare)
    })
    .unwrap_or_else(|| (process_trace_id(), None, None, None, None));
    let mut child = match token {
        Some(token) => ExecContext::in_slot(name, trace, span, Some(token)),
        None => ExecContext::in_pooled_slot(name, trace, span),
    };
    child.tokens.receive(spare.into_iter().collect());
    if let Some(session) = session {
        child.join_session(session, Some(site));
    }
    let id = child.id();
    emit(|| Kind::AsyncSpawn { child: id, site });
    with_thread(|t| {
        child.inherit(&t.current);
        // The spawn reaches the background thread before anything the child
        // records, which names it as its parent.
        t.hand_off();
    });
    child
}

#[cfg(tokio_unstable)]
thread_local! {
    /// Raceway itself is spawning a tokio task on this thread (whose
    /// execution it enters itself): tokio's spawn hook leaves it alone.
    static SPAWNING_OWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `spawn`, a tokio spawn of raceway's own (`raceway::task`), so that
/// tokio's spawn hook does not take the task for a plain one.
#[cfg(feature = "tokio")]
pub(crate) fn spawning_own<R>(spawn: impl FnOnce() -> R) -> R {
    #[cfg(tokio_unstable)]
    {
        struct Reset(bool);
        impl Drop for Reset {
            fn drop(&mut self) {
                let _ = SPAWNING_OWN.try_with(|s| s.set(self.0));
            }
        }
        let _reset = Reset(SPAWNING_OWN.try_with(|s| s.replace(true)).unwrap_or(false));
        spawn()
    }
    #[cfg(not(tokio_unstable))]
    spawn()
}

/// Tokio's spawn hook (`--cfg tokio_unstable`): a plain task `task` is
/// being spawned at `site`, by the current execution. Its execution is made
/// now, as that execution's child (the spawn edge, an `AsyncSpawn` event),
/// whose join alone is unknown; it runs when the task first records.
#[cfg(all(tokio_unstable, any(feature = "tokio", feature = "http")))]
pub(crate) fn plain_task_spawned(task: tokio::task::Id, site: Site) {
    if !install::is_active() || SPAWNING_OWN.try_with(std::cell::Cell::get).unwrap_or(true) {
        return;
    }
    let (trace, span, session) =
        with_thread(|t| (t.current.trace_id(), t.current.span().cloned(), t.current.session.clone()))
            .unwrap_or_else(|| (process_trace_id(), None, None));
    let mut child = ExecContext::of_unknown_origin(format!("tokio-task-{task} spawned at {site}"), trace, span, true);
    // In the spawner's session, not counted among those it waits for: its
    // end is not joined.
    child.session = session;
    let id = child.id();
    emit(|| Kind::AsyncSpawn { child: id, site });
    with_thread(|t| {
        child.inherit(&t.current);
        t.hand_off();
    });
    let retired = PLAIN_TASKS.insert(task, TaskState { ctx: child, written: None });
    with_thread_raw(|t| {
        for old in retired {
            t.end_plain_task(old);
        }
    });
}

/// Tokio's terminate hook: plain task `task` ended; its execution ends and
/// its slot is freed.
#[cfg(all(tokio_unstable, any(feature = "tokio", feature = "http")))]
pub(crate) fn plain_task_terminated(task: tokio::task::Id) {
    if let Some(state) = PLAIN_TASKS.remove(task) {
        // Not `with_thread`: the hook may run inside the task, which must
        // not get a new slot.
        with_thread_raw(|t| t.end_plain_task(state));
    }
}

/// Records that the current execution joined execution `child`, which
/// left `finished`: the join edge. The joiner receives its slots (see
/// [`super::slots`]).
pub(crate) fn join_child(child: u64, finished: Option<Ended>, site: Site) {
    if let Some(ended) = finished {
        with_thread(|t| {
            t.current.absorb(&ended.clock);
            if !t.current.retired {
                t.current.tokens.receive(ended.slots);
            }
        });
    }
    emit(|| Kind::AsyncAwait { awaited: child, site });
}

/// Runs `f` as the execution `ctx` on this thread: a task's execution
/// enters for one poll, a pool job's for its run, and leaves afterwards,
/// even if `f` panics. When `f` recorded anything, the thread's buffer is
/// handed to the channel, so an execution that moves to another thread
/// keeps its events in program order.
pub(crate) fn run_as<R>(ctx: &mut ExecContext, f: impl FnOnce() -> R) -> R {
    struct Leave<'a> {
        ctx: &'a mut ExecContext,
        before: Option<(u64, TaskId, bool)>,
    }
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            with_thread_raw(|t| {
                std::mem::swap(&mut t.current, self.ctx);
                if let Some((recorded, task, own)) = self.before {
                    t.entered_task = task;
                    t.own_execution = own;
                    if t.recorded != recorded {
                        t.hand_off();
                    }
                }
            });
        }
    }
    let before = with_thread_raw(|t| {
        std::mem::swap(&mut t.current, ctx);
        let own = std::mem::replace(&mut t.own_execution, false);
        (t.recorded, std::mem::replace(&mut t.entered_task, current_task()), own)
    });
    let _leave = Leave { ctx, before };
    f()
}

/// Takes the current execution off this thread, to run it elsewhere while
/// this thread waits ([`enter`] puts it back).
#[cfg_attr(not(feature = "rayon"), allow(dead_code))]
pub(crate) fn take_current() -> ExecContext {
    let mut placeholder = ExecContext::placeholder(process_trace_id());
    with_thread(|t| std::mem::swap(&mut t.current, &mut placeholder));
    placeholder
}

/// The end of an execution that nobody will join (its handle was dropped,
/// or it was spawned detached): the slots it left (its own, and those of
/// the executions it joined) are freed, as those of an execution nobody
/// joined are at its end. With the HTTP sink they go to the pool (see
/// [`super::slots`]); with an analysis in this process, a record tells it,
/// so that it may retire them once it remembers nothing of them (see
/// `crate::retirement`). Only through this thread's connection to the
/// pipeline that received the execution's events: on another (a thread
/// that never recorded there), the slots stay, as before.
pub(crate) fn free_unjoined(ended: Ended) {
    if ended.slots.is_empty() || ended.pipeline == 0 {
        return;
    }
    // Raw, as `end`.
    with_thread_raw(|t| {
        let Some(outlet) = t.outlet.as_ref().filter(|o| o.pipeline_id() == ended.pipeline) else { return };
        if outlet.reuses_slots() {
            for token in &ended.slots {
                FREE_SLOTS.give(ended.pipeline, *token);
            }
        } else if outlet.retires() {
            for token in &ended.slots {
                let ts = Timebase::get().now();
                outlet.push(|| Record::exec_end(ts, NO_EXECUTION, 0, Some(token.slot)), |_| {});
            }
            // As at an end that frees its slot: sent now, so that the
            // analysis retires it soon.
            outlet.hand_off();
        }
    });
}

/// Records that the (task) execution `ctx` ended, so the background thread
/// can forget it.
pub(crate) fn end(ctx: &ExecContext) {
    // Raw: only the thread's connection to the pipeline is used; inside a
    // tokio task that `ctx` ran as, the lookup must not make the task a
    // plain task's execution.
    with_thread_raw(|t| t.end_execution(ctx));
}

/// An execution's clock at one point, shared with the execution rather
/// than copied: what it had learnt then, and its own component.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    learnt: Arc<VectorClock>,
    /// What of `learnt` was learnt through hard edges, when less.
    hard: Option<Arc<VectorClock>>,
    exec: u64,
    seq: u64,
}

/// How a clock travels from a release to an acquisition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// An edge that no reordering of the run can undo: a message, an
    /// atomic's release and acquire, a barrier, a spawn or a join.
    Hard,
    /// A lock's hand-off from a release to the next acquisition: a
    /// reordering may move the critical sections past each other (the
    /// analysis decides where). The releasing execution's own events are
    /// not hard-ordered before the acquirer's; what it learnt through hard
    /// edges is.
    Lock,
}

impl Snapshot {
    /// The clock as a whole.
    pub(crate) fn to_clock(&self) -> VectorClock {
        let mut clock = VectorClock::clone(&self.learnt);
        self.join_into_learnt_only(&mut clock);
        clock
    }

    /// Joins the snapshot into `clock`.
    pub(crate) fn join_into(&self, clock: &mut VectorClock) {
        clock.join(&self.learnt);
        self.join_into_learnt_only(clock);
    }

    fn join_into_learnt_only(&self, clock: &mut VectorClock) {
        if self.seq > 0 {
            clock.observe(self.exec, self.seq);
        }
    }

    /// Whether all of the snapshot was learnt through hard edges.
    pub(crate) fn all_hard(&self) -> bool {
        self.hard.is_none()
    }

    /// What an acquisition over `edge` learns of the snapshot through hard
    /// edges.
    pub(crate) fn hard_clock(&self, edge: Edge) -> VectorClock {
        let mut clock = VectorClock::clone(self.hard.as_deref().unwrap_or(&self.learnt));
        if edge == Edge::Hard {
            self.join_into_learnt_only(&mut clock);
        }
        clock
    }

    /// Whether both are of the same execution: the later one then holds
    /// all of the earlier.
    pub(crate) fn same_execution(&self, other: &Snapshot) -> bool {
        self.exec == other.exec
    }
}

/// The current execution's clock now, shared rather than copied: what a
/// release hands over.
pub(crate) fn snapshot() -> Option<Snapshot> {
    with_thread(|t| Snapshot {
        learnt: t.current.clock.clone(),
        hard: t.current.hard.clone(),
        exec: t.current.component(),
        seq: t.current.seq,
    })
}

/// Brings `snapshot`, an earlier release of the current execution, up to
/// its clock now, in place, when only the execution's own count moved
/// since (it learnt nothing in between: the same shared clocks). Then no
/// reference count is touched, which is most of what a repeated release
/// (an atomic flag stored in a loop) costs. False when that is not so:
/// the caller takes a [`snapshot`].
pub(crate) fn refresh(snapshot: &mut Snapshot) -> bool {
    with_thread(|t| {
        let same = snapshot.exec == t.current.component()
            && Arc::ptr_eq(&snapshot.learnt, &t.current.clock)
            && match (&snapshot.hard, &t.current.hard) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
        if same {
            snapshot.seq = t.current.seq;
        }
        same
    })
    .unwrap_or(false)
}

/// Makes what `snapshot` says happen before the current execution's next
/// event.
pub(crate) fn absorb_snapshot(snapshot: &Snapshot) {
    absorb_snapshot_over(snapshot, Edge::Hard);
}

/// [`absorb_snapshot`] over an edge of kind `edge`.
pub(crate) fn absorb_snapshot_over(snapshot: &Snapshot, edge: Edge) {
    with_thread(|t| t.current.absorb_snapshot(snapshot, edge));
}

/// Makes what `clock` says happen before the current execution's next
/// event, `hard` of it through hard edges.
pub(crate) fn absorb_both(clock: &VectorClock, hard: &VectorClock) {
    with_thread(|t| t.current.absorb_both(clock, hard));
}

/// The current execution's clock now.
pub(crate) fn current_clock() -> Option<VectorClock> {
    with_thread(|t| t.current.clock_now())
}

/// The end of the current execution (a thread's, as its closure returns),
/// for whoever joins it.
pub(crate) fn current_ended() -> Option<Ended> {
    with_thread(|t| t.current.ended())
}

/// The `raceway::check` session the current execution records into.
#[cfg_attr(not(any(feature = "tower", feature = "actix")), allow(dead_code))]
pub(crate) fn current_session() -> Option<Arc<Session>> {
    with_thread(|t| t.current.session.clone()).flatten()
}

/// What an outgoing call from the current execution carries: its trace, its
/// span, its id and everything that happened before now. `None` outside any
/// trace context.
pub(crate) fn trace_context() -> Option<(u128, Arc<Span>, u64, VectorClock)> {
    with_thread(|t| {
        let span = t.current.span()?.clone();
        Some((t.current.trace_id(), span, t.current.component(), t.current.clock_now()))
    })
    .flatten()
}

/// A release fence of the current execution: what it did so far is handed
/// over by its later relaxed stores and read-modify-writes.
pub(crate) fn fence_release() {
    with_thread(|t| {
        let now = t.current.clock_now();
        t.current.fences.get_or_insert_with(Box::default).release = Some(now);
    });
}

/// An acquire fence of the current execution: what its earlier relaxed
/// loads read from releases now happens before its next event.
pub(crate) fn fence_acquire() {
    with_thread(|t| {
        if let Some(fences) = t.current.fences.as_mut() {
            let pending = std::mem::take(&mut fences.pending_acquire);
            t.current.absorb(&pending);
        }
    });
}

/// A relaxed load of the current execution read from an atomic whose
/// releases are `released`: an acquire fence later acquires them.
pub(crate) fn observe_relaxed(released: &VectorClock) {
    if released.entries().is_empty() {
        return;
    }
    with_thread(|t| t.current.fences.get_or_insert_with(Box::default).pending_acquire.join(released));
}

/// The clock of the current execution's last release fence, if any: what
/// a relaxed store or read-modify-write of it releases.
pub(crate) fn fence_release_clock() -> Option<VectorClock> {
    with_thread(|t| t.current.fences.as_ref().and_then(|f| f.release.clone())).flatten()
}

/// Makes what `clock` says happened before the current execution's next
/// event: a callee's clock that came back with its response.
pub(crate) fn absorb(clock: &VectorClock) {
    with_thread(|t| t.current.absorb(clock));
}

/// Records an event into the current execution's `check` session, or else
/// the installed client's pipeline, if there is one. `make` assembles the
/// event from values the caller has already captured (user code such as
/// `Serialize` runs before, never inside): it is called inside the
/// thread's context, so that the event is built where it is stored, and
/// only when something records it.
#[inline(always)]
pub(crate) fn emit(make: impl FnOnce() -> Kind) {
    if !install::is_active() {
        return;
    }
    emit_at(Timebase::get().now(), make);
}

/// [`emit`] with the clock reading already taken (a call's entry and exit
/// reuse theirs for the duration).
#[inline(always)]
pub(crate) fn emit_at(ts: u64, make: impl FnOnce() -> Kind) {
    with_thread(|thread| {
        // An execution inside a `raceway::check` session records there
        // (while the session is open).
        if let Some(session) = thread.current.session.take() {
            if !session.pipeline().is_closed() {
                if thread.entered_task == current_task() {
                    thread.record(session.pipeline(), ts, make);
                } else {
                    // Outside the task this execution was entered in, and
                    // in no task now (`with_thread` runs a call made in
                    // another task as that task's): not this execution's.
                    session_unattributed(&session, thread.current.id());
                }
                thread.current.session = Some(session);
                return;
            }
            // That session is over: the execution records as if it had
            // none.
        }
        let generation = install::generation();
        if thread.global_generation != generation {
            thread.global = install::installed();
            thread.global_generation = generation;
        }
        // Moved out and back rather than cloned: no reference-count traffic
        // on the hot path.
        if let Some(pipeline) = thread.global.take() {
            if !pipeline.is_closed() {
                thread.record(&pipeline, ts, make);
            }
            thread.global = Some(pipeline);
            return;
        }
        thread.record_unattributed(ts, make);
    });
}

/// Counts, in `session`, an event of a task polled inside execution `exec`.
#[cold]
#[inline(never)]
fn session_unattributed(session: &Session, exec: u64) {
    session.unattributed(exec, "a task polled inside a check's execution");
}

/// Records one event into `pipeline`, whatever the current execution's
/// session: the explicit client's tracking methods.
#[inline]
pub(crate) fn emit_to(pipeline: &Arc<Pipeline>, kind: Kind) {
    if pipeline.is_closed() {
        return;
    }
    let ts = Timebase::get().now();
    if with_thread(|thread| thread.record(pipeline, ts, || kind)).is_none() {
        // Re-entrant call or thread teardown: never panic into the host.
        pipeline.counters.refused();
    }
}

/// Hands the calling thread's buffered records to `pipeline`'s channel, so
/// that a flush requested from this thread covers them.
pub(crate) fn hand_off_to(pipeline: &Pipeline) {
    with_thread(|thread| thread.hand_off_if_attached(pipeline.id));
}

/// Runs `f` with this thread's instrumentation state: the one context lookup.
///
/// Returns `None`, without running `f`, while the thread is being torn down
/// or when called re-entrantly; instrumentation never panics into the host.
///
/// Inside a tokio task that raceway did not start (the task running is not
/// the one the current execution was entered in), `f` runs as that task's
/// own execution ([`super::plain_task`]).
#[inline]
fn with_thread<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    THREAD
        .try_with(|cell| {
            let mut state = cell.try_borrow_mut().ok()?;
            let task = current_task();
            if task == state.entered_task || task.is_none() {
                Some(f(&mut state))
            } else {
                as_plain_task(&mut state, task, f)
            }
        })
        .ok()
        .flatten()
}

/// [`with_thread`] without the plain-task redirection: for entering and
/// leaving an execution, which set what the thread runs.
#[inline]
fn with_thread_raw<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    THREAD.try_with(|cell| cell.try_borrow_mut().ok().map(|mut state| f(&mut state))).ok().flatten()
}

/// A tokio task's execution, kept between the calls that run as it, and
/// where its last events went.
#[cfg(any(feature = "tokio", feature = "http"))]
struct TaskState {
    ctx: ExecContext,
    written: Option<crate::pipeline::Written>,
}

/// The executions of the tokio tasks raceway did not start.
#[cfg(any(feature = "tokio", feature = "http"))]
static PLAIN_TASKS: super::plain_task::Table<TaskState> = super::plain_task::Table::new();

/// Runs `f` as the execution of `task`, a tokio task raceway did not start:
/// its execution is swapped in for the call and back out after it (even
/// should `f` unwind), and the buffer its last events went to is handed
/// over first when that is another thread's.
#[cfg(any(feature = "tokio", feature = "http"))]
#[inline(never)]
fn as_plain_task<R>(state: &mut ThreadState, task: TaskId, f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    use super::plain_task::Slot;
    let id = task?;
    let mut f = Some(f);
    loop {
        let slot = match state.plain.take() {
            Some((cached, slot)) if cached == id => slot,
            _ => {
                let (slot, retired) = PLAIN_TASKS.slot(id);
                for old in retired {
                    state.end_plain_task(old);
                }
                slot
            }
        };
        let result = {
            let mut guard = slot.lock(&PLAIN_TASKS);
            match &*guard {
                // Retired since this thread last ran the task: its new
                // slot is in the table.
                Slot::Retired => continue,
                Slot::Fresh => *guard = Slot::Live(TaskState { ctx: ExecContext::plain_task(id), written: None }),
                Slot::Live(_) => {}
            }
            let Slot::Live(task_state) = &mut *guard else { unreachable!("made live above") };
            if let Some(written) = &task_state.written {
                if !state.outlet.as_ref().is_some_and(|o| o.holds(written)) {
                    written.hand_off_if_unsent();
                }
            }
            struct Loaded<'a> {
                state: &'a mut ThreadState,
                task: &'a mut TaskState,
                entered: TaskId,
                own: bool,
                recorded: u64,
            }
            impl Drop for Loaded<'_> {
                fn drop(&mut self) {
                    std::mem::swap(&mut self.state.current, &mut self.task.ctx);
                    self.state.entered_task = self.entered;
                    self.state.own_execution = self.own;
                    if self.state.recorded != self.recorded {
                        if let Some(outlet) = &self.state.outlet {
                            outlet.mark_written(&mut self.task.written);
                        }
                    }
                }
            }
            std::mem::swap(&mut state.current, &mut task_state.ctx);
            let entered = std::mem::replace(&mut state.entered_task, task);
            let own = std::mem::replace(&mut state.own_execution, false);
            let recorded = state.recorded;
            let loaded = Loaded { state, task: task_state, entered, own, recorded };
            let f = f.take().expect("runs once: the loop ends here");
            f(&mut *loaded.state)
        };
        state.plain = Some((id, slot));
        return Some(result);
    }
}

/// Without tokio no call is in a task.
#[cfg(not(any(feature = "tokio", feature = "http")))]
fn as_plain_task<R>(state: &mut ThreadState, task: TaskId, f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    match task {
        None => Some(f(state)),
        Some(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_is_its_own_execution() {
        let here = with_thread(|t| t.current.id()).unwrap();
        let there = std::thread::spawn(|| with_thread(|t| t.current.id()).unwrap()).join().unwrap();
        assert_ne!(here, there);
        assert_eq!(here, with_thread(|t| t.current.id()).unwrap());
    }

    #[test]
    fn context_is_sent_once_per_pipeline_and_again_after_a_loss() {
        let mut ctx = ExecContext::new("t".into(), 1);
        let first = ctx.delta_for(7).unwrap();
        assert!(first.announce && first.clock.is_some() && first.locks.is_some());
        assert!(ctx.delta_for(7).is_none());
        first.mark_lost();
        let again = ctx.delta_for(7).unwrap();
        assert!(again.announce && again.clock.is_some() && again.locks.is_some(), "its context was lost");
        assert!(Arc::ptr_eq(again.clock.as_ref().unwrap(), &ctx.clock), "sent again without a copy");
        assert!(ctx.delta_for(7).is_none(), "the mark is cleared");
        assert!(ctx.delta_for(8).unwrap().announce, "another pipeline");
    }

    #[test]
    fn a_retired_component_leaves_the_clock_that_learns_next() {
        // Components far from those the other tests' executions take.
        let (gone, kept) = (2_000_000_001, 2_000_000_002);
        let mut ctx = ExecContext::new("t".into(), 1);
        ctx.absorb(&VectorClock::from_entries(vec![(gone, 3), (kept, 1)]));
        assert_eq!(ctx.clock_now().get(gone), 3);
        crate::retirement::retire(gone);
        ctx.absorb(&VectorClock::from_entries(vec![(gone, 5), (kept, 2)]));
        let now = ctx.clock_now();
        assert_eq!((now.get(gone), now.get(kept)), (0, 2), "the retired entry left, the other learnt");
        // A clock that brings only retired entries teaches nothing: the
        // execution's clock is not even copied.
        let before = ctx.clock.clone();
        ctx.absorb(&VectorClock::from_entries(vec![(gone, 9)]));
        assert!(Arc::ptr_eq(&before, &ctx.clock));
        // Nor does a release by the retired execution itself.
        let release = Snapshot { learnt: Arc::default(), hard: None, exec: gone, seq: 12 };
        ctx.absorb_snapshot(&release, Edge::Hard);
        assert!(Arc::ptr_eq(&before, &ctx.clock));
    }

    #[test]
    fn a_change_sends_only_what_changed_and_leaves_sent_copies_alone() {
        let mut ctx = ExecContext::new("t".into(), 1);
        let first = ctx.delta_for(7).unwrap();
        let lock = LockRef::named("l".into());
        ctx.before(&Kind::LockAcquire {
            lock: lock.clone(),
            lock_type: crate::event::LockType::Mutex,
            site: std::panic::Location::caller(),
        });
        let acquired = ctx.delta_for(7).unwrap();
        assert!(!acquired.announce && acquired.clock.is_none());
        assert_eq!(acquired.locks.as_deref().map(Vec::as_slice), Some(&[lock.clone()][..]));
        assert_eq!(first.locks.as_deref().map(Vec::len), Some(0), "the copy sent before is unchanged");
        let mut other = VectorClock::new();
        other.observe(99, 3);
        ctx.absorb(&other);
        let joined = ctx.delta_for(7).unwrap();
        assert_eq!(joined.clock.as_ref().unwrap().get(99), 3);
        assert_eq!(first.clock.as_ref().unwrap().get(99), 0, "the copy sent before is unchanged");
    }
}
