//! Happens-before through synchronization objects: the one place where a
//! clock travels from an operation that releases (a lock's release, a
//! send, a store, a notify) to the operations that acquire from it (the
//! next acquisition, the matching receive, a load that reads the value, the
//! woken wait). Every synchronization type of `raceway::sync` keeps one or
//! more [`Synchronize`] cells and calls nothing else of the clocks.

use super::context::{self, Edge, Snapshot};
use crate::clock::VectorClock;
use crate::retirement;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What a synchronization object holds of its releases: nothing yet, one
/// execution's clock at its release (shared with that execution, not
/// copied: a release costs no allocation), or the join of several: their
/// clocks, and what an acquisition learns of them through hard edges when
/// that is less (`None`: all of it).
#[derive(Clone, Debug, Default)]
pub(crate) enum Released {
    #[default]
    Nothing,
    One(Snapshot),
    Joined(VectorClock, Option<VectorClock>),
}

impl Released {
    /// Replaces what was released with the current execution's clock now
    /// (nothing when nothing records). An earlier release of the same
    /// execution that learnt nothing since is brought up to date in place.
    fn set_current(&mut self) {
        if let Released::One(one) = self {
            if context::refresh(one) {
                return;
            }
        }
        if let Some(now) = context::snapshot() {
            *self = Released::One(now);
        }
    }

    /// Adds the current execution's clock now, released over `edge`, to
    /// what was released (in place, as in
    /// [`set_current`](Released::set_current), when the cell holds this
    /// execution's earlier release alone).
    fn join_current(&mut self, edge: Edge) {
        if let Released::One(one) = self {
            if context::refresh(one) {
                return;
            }
        }
        if let Some(now) = context::snapshot() {
            self.join(now, edge);
        }
    }

    /// Adds `snapshot`, released over `edge`, to what was released; the
    /// retired components leave the joined clocks.
    fn join(&mut self, snapshot: Snapshot, edge: Edge) {
        self.join_unpruned(snapshot, edge);
        self.prune();
    }

    fn join_unpruned(&mut self, snapshot: Snapshot, edge: Edge) {
        match self {
            Released::Nothing => *self = Released::One(snapshot),
            // The same execution's later clock holds all of its earlier.
            Released::One(one) if one.same_execution(&snapshot) => *one = snapshot,
            Released::One(one) if edge == Edge::Hard && one.all_hard() && snapshot.all_hard() => {
                let mut clock = one.to_clock();
                snapshot.join_into(&mut clock);
                *self = Released::Joined(clock, None);
            }
            Released::One(one) => {
                let mut clock = one.to_clock();
                let mut hard = one.hard_clock(edge);
                snapshot.join_into(&mut clock);
                hard.join(&snapshot.hard_clock(edge));
                let hard = (hard != clock).then_some(hard);
                *self = Released::Joined(clock, hard);
            }
            // A hard release of a clock learnt through hard edges only, into
            // a cell whose clock is all hard: the hard clock stays the clock.
            Released::Joined(clock, None) if edge == Edge::Hard && snapshot.all_hard() => {
                snapshot.join_into(clock);
            }
            Released::Joined(clock, hard) => {
                let mut known = hard.take().unwrap_or_else(|| clock.clone());
                known.join(&snapshot.hard_clock(edge));
                snapshot.join_into(clock);
                *hard = (known != *clock).then_some(known);
            }
        }
    }

    /// Removes the retired components from a join of several releases
    /// (one release is the releaser's own clock, pruned as it learns).
    fn prune(&mut self) {
        if let Released::Joined(clock, hard) = self {
            retirement::prune(clock);
            if let Some(hard) = hard {
                retirement::prune(hard);
            }
        }
    }

    /// Adds `other` (a fence's clock, a hard edge) to what was released.
    fn join_clock(&mut self, other: &VectorClock) {
        self.join_clock_unpruned(other);
        self.prune();
    }

    fn join_clock_unpruned(&mut self, other: &VectorClock) {
        match self {
            Released::Nothing => *self = Released::Joined(other.clone(), None),
            Released::One(one) => {
                let mut clock = one.to_clock();
                let mut hard = one.hard_clock(Edge::Hard);
                clock.join(other);
                hard.join(other);
                let hard = (hard != clock).then_some(hard);
                *self = Released::Joined(clock, hard);
            }
            Released::Joined(clock, hard) => {
                clock.join(other);
                if let Some(hard) = hard {
                    hard.join(other);
                }
            }
        }
    }

    /// Makes what was released over `edge` happen before the current
    /// execution's next event.
    fn absorb(&self, edge: Edge) {
        match self {
            Released::Nothing => {}
            Released::One(one) => context::absorb_snapshot_over(one, edge),
            Released::Joined(clock, hard) => context::absorb_both(clock, hard.as_ref().unwrap_or(clock)),
        }
    }

    /// Leaves what was released for the current execution's next acquire
    /// fence (a relaxed load).
    fn observe_relaxed(&self) {
        match self {
            Released::Nothing => {}
            Released::One(one) => context::observe_relaxed(&one.to_clock()),
            Released::Joined(clock, _) => context::observe_relaxed(clock),
        }
    }
}

/// The lock of a [`Synchronize`] cell: held only while a clock is read or
/// joined (and, for an atomic, around its one operation), never across
/// anything that blocks or runs user code, so a spin lock whose release is
/// a plain store, not a locked instruction (every atomic operation of
/// `raceway::sync::atomic` takes it once). A waiter yields.
type Cell = spin::mutex::SpinMutex<Released, spin::relax::Yield>;
type CellGuard<'a> = spin::mutex::SpinMutexGuard<'a, Released>;

/// The clock a synchronization object hands from its releases to its
/// acquisitions.
#[derive(Debug)]
pub(crate) struct Synchronize {
    released: Cell,
    /// How its releases order its acquisitions.
    edge: Edge,
}

// The cell's clocks stay consistent whatever unwinds (a panic leaves a
// clock joined or not, never half-joined, and nothing reads one across a
// panic as a broken invariant), as std's locks are unwind safe: the mirrors
// that hold a cell keep the originals' `UnwindSafe`/`RefUnwindSafe`.
impl std::panic::UnwindSafe for Synchronize {}
impl std::panic::RefUnwindSafe for Synchronize {}

impl Default for Synchronize {
    fn default() -> Self {
        Synchronize::new()
    }
}

impl Synchronize {
    /// A cell that nothing was released into yet, whose releases order its
    /// acquisitions with hard edges.
    pub(crate) const fn new() -> Self {
        Synchronize { released: Cell::new(Released::Nothing), edge: Edge::Hard }
    }

    /// The cell of a lock: its hand-offs are lock edges, which a predicted
    /// reordering may undo where the critical sections do not conflict.
    pub(crate) const fn lock() -> Self {
        Synchronize { released: Cell::new(Released::Nothing), edge: Edge::Lock }
    }

    fn cell(&self) -> CellGuard<'_> {
        self.released.lock()
    }

    /// Everything the current execution did so far happens before every
    /// later [`acquire`](Synchronize::acquire) of this cell, as does what
    /// earlier releases left (a join).
    pub(crate) fn release(&self) {
        self.cell().join_current(self.edge);
    }

    /// Like [`release`](Synchronize::release), but what earlier releases
    /// left is replaced: for an exclusive release, whose execution acquired
    /// everything before it (a mutex), or an operation that starts over
    /// (an atomic store that begins a new release sequence).
    pub(crate) fn release_exclusive(&self) {
        self.cell().set_current();
    }

    /// Everything released into this cell happens before the current
    /// execution's next event.
    pub(crate) fn acquire(&self) {
        self.cell().absorb(self.edge);
    }
}

/// The clocks of a barrier: everything before any `wait` of a round
/// happens before everything after every `wait` of that round.
pub(crate) struct BarrierClocks {
    n: u64,
    /// Waits so far, all rounds: `arrived / n` is the round of the next.
    /// Counted whether or not anything records, so that rounds stay
    /// aligned when recording starts in the middle.
    arrived: Mutex<u64>,
    /// The clocks of the waiters of even and odd rounds. A thread can
    /// reach round r + 2 only after every thread left round r + 1, so after
    /// every waiter of round r acquired: two cells suffice. (What a cell
    /// keeps from round r is already ordered before round r + 2.)
    rounds: [Synchronize; 2],
}

impl BarrierClocks {
    /// The clocks of a barrier for `n` waiters.
    pub(crate) const fn new(n: usize) -> Self {
        BarrierClocks { n: n as u64, arrived: Mutex::new(0), rounds: [Synchronize::new(), Synchronize::new()] }
    }

    /// A wait is starting: releases into its round's cell, which the
    /// returned token acquires once the wait returns.
    pub(crate) fn arrive(&self) -> BarrierWait<'_> {
        let round = {
            let mut arrived = self.arrived.lock().unwrap_or_else(PoisonError::into_inner);
            let round = *arrived / self.n.max(1);
            *arrived += 1;
            round
        };
        let cell = &self.rounds[(round % 2) as usize];
        let active = super::is_active();
        if active {
            cell.release();
        }
        BarrierWait { cell: active.then_some(cell) }
    }
}

/// A wait at a barrier, between its arrival and its return.
pub(crate) struct BarrierWait<'a> {
    cell: Option<&'a Synchronize>,
}

impl BarrierWait<'_> {
    /// The wait returned: everything its round released happens before
    /// what the waiter does next.
    pub(crate) fn passed(self) {
        if let Some(cell) = self.cell {
            cell.acquire();
        }
    }
}

/// How an atomic operation orders, per the C++/Rust memory model.
fn acquires(ordering: Ordering) -> bool {
    matches!(ordering, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn releases(ordering: Ordering) -> bool {
    matches!(ordering, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

/// The clocks of one atomic variable: what its release sequence carries.
///
/// - A store with `Release` or stronger starts a release sequence: the
///   cell holds the storing execution's clock alone.
/// - A read-modify-write continues the sequence (whatever its ordering):
///   with `Release` or stronger it adds its execution's clock.
/// - A relaxed store or read-modify-write after a release fence of its
///   execution hands over that fence's clock.
/// - A load (or the read of a read-modify-write) with `Acquire` or stronger
///   acquires the cell; a relaxed one leaves it for the execution's next
///   acquire fence.
///
/// A relaxed store leaves the cell as it is (as ThreadSanitizer does): it
/// can only add ordering that the model does not promise, never remove
/// one, so it never invents a race.
#[derive(Debug, Default)]
pub(crate) struct AtomicSync {
    cell: Synchronize,
    /// Where the atomic was at its last recorded operation: its identity.
    home: AtomicUsize,
}

impl AtomicSync {
    pub(crate) const fn new() -> Self {
        AtomicSync { cell: Synchronize::new(), home: AtomicUsize::new(0) }
    }

    /// Remembers the atomic's address.
    #[inline]
    pub(crate) fn set_home(&self, addr: usize) {
        if self.home.load(Ordering::Relaxed) != addr {
            self.home.store(addr, Ordering::Relaxed);
        }
    }

    /// The address of the atomic's last recorded operation; 0 for none.
    pub(crate) fn home(&self) -> usize {
        self.home.load(Ordering::Relaxed)
    }

    /// A load with `ordering`: `op` performs it. The atomic's cell is
    /// locked around the operation and its clock update, so that what a
    /// load reads and the clock it acquires belong together (as
    /// ThreadSanitizer locks an atomic's sync variable).
    pub(crate) fn load<R>(&self, ordering: Ordering, op: impl FnOnce() -> R) -> R {
        let cell = self.cell.cell();
        let value = op();
        Self::acquire_part(&cell, ordering);
        value
    }

    fn acquire_part(cell: &Released, ordering: Ordering) {
        if acquires(ordering) {
            cell.absorb(Edge::Hard);
        } else {
            cell.observe_relaxed();
        }
    }

    /// A store with `ordering`: `op` performs it.
    pub(crate) fn store(&self, ordering: Ordering, op: impl FnOnce()) {
        let mut cell = self.cell.cell();
        op();
        if releases(ordering) {
            cell.set_current();
        } else if let Some(fence) = context::fence_release_clock() {
            *cell = Released::Joined(fence, None);
        }
    }

    /// A read-modify-write with `ordering`: `op` performs it.
    pub(crate) fn read_modify_write<R>(&self, ordering: Ordering, op: impl FnOnce() -> R) -> R {
        let mut cell = self.cell.cell();
        let value = op();
        Self::rmw_parts(&mut cell, ordering);
        value
    }

    fn rmw_parts(cell: &mut Released, ordering: Ordering) {
        let read = match ordering {
            Ordering::Release => Ordering::Relaxed,
            Ordering::AcqRel => Ordering::Acquire,
            other => other,
        };
        Self::acquire_part(cell, read);
        if releases(ordering) {
            cell.join_current(Edge::Hard);
        } else if let Some(fence) = context::fence_release_clock() {
            cell.join_clock(&fence);
        }
    }

    /// A compare-and-exchange: `op` performs it; a read-modify-write with
    /// `success` when it returns `Ok`, a load with `failure` otherwise.
    pub(crate) fn compare_exchange<T>(
        &self,
        success: Ordering,
        failure: Ordering,
        op: impl FnOnce() -> Result<T, T>,
    ) -> Result<T, T> {
        let mut cell = self.cell.cell();
        let result = op();
        match &result {
            Ok(_) => Self::rmw_parts(&mut cell, success),
            Err(_) => Self::acquire_part(&cell, failure),
        }
        result
    }
}

/// A memory fence of the current execution (`std::sync::atomic::fence`).
pub(crate) fn fence(ordering: Ordering) {
    if acquires(ordering) {
        context::fence_acquire();
    }
    if releases(ordering) {
        context::fence_release();
    }
}

/// The clocks of one channel: what travels against the messages.
///
/// The clock that travels with a message is the sender's (the channel
/// wrappers carry it beside the value): a send happens before the receive
/// that takes its message. Here are the two other edges of the Go memory
/// model:
/// - Closing (dropping every sender) happens before a receive that
///   observes the close.
/// - For a channel of capacity C, the k-th receive happens before the
///   (k+C)-th send completes (C = 0: a rendezvous, the receive happens
///   before the send completes). Receivers leave their clock as a credit
///   in receive order; a completed send takes the next credit (the first C
///   sends take none). Should a send complete before the receive that made
///   room for it has left its credit (the few instructions between the
///   inner receive and its wrapper), it waits for it.
pub(crate) struct ChannelClocks {
    /// `None` for an unbounded channel.
    capacity: Option<usize>,
    credits: Mutex<Credits>,
    credit_left: Condvar,
    closed: Synchronize,
}

struct Credits {
    /// Sends that take no credit: the first C.
    free: usize,
    /// The receives' clocks, in receive order, with the number of credits
    /// each left, not yet taken.
    clocks: VecDeque<(VectorClock, usize)>,
    /// Sends that completed before the receive that made room for them
    /// left its credit (while nothing recorded): that many receives leave
    /// none.
    debt: usize,
    /// Sends waiting for a credit.
    waiting: usize,
}

/// How long a completed send waits for the credit of the receive that made
/// room for it before it goes on without (and says so).
const CREDIT_WAIT: Duration = Duration::from_secs(2);

impl ChannelClocks {
    /// The clocks of a channel of `capacity` messages (`None`: unbounded).
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        ChannelClocks {
            capacity,
            credits: Mutex::new(Credits { free: capacity.unwrap_or(0), clocks: VecDeque::new(), debt: 0, waiting: 0 }),
            credit_left: Condvar::new(),
            closed: Synchronize::new(),
        }
    }

    /// The clock a message sent now carries: `None` when nothing records.
    pub(crate) fn stamp(&self) -> Option<Snapshot> {
        if !super::is_active() {
            return None;
        }
        context::snapshot()
    }

    /// A send completed: it takes one credit.
    pub(crate) fn sent(&self) {
        self.take_credits(1);
    }

    /// A receive took a message that carried `clock`: it leaves one credit.
    pub(crate) fn received(&self, clock: Option<Snapshot>) {
        if let Some(clock) = &clock {
            context::absorb_snapshot(clock);
        }
        self.leave_credits(1);
    }

    /// Takes `n` credits, in the order they were left, and acquires their
    /// clocks (a send, or a semaphore's acquisition of `n` permits).
    ///
    /// The credits are counted whether or not anything records, so that
    /// sends and receives stay paired when recording starts or stops in the
    /// middle (without recording, a send that finds no credit yet leaves a
    /// debt for the receive to settle, rather than waiting).
    pub(crate) fn take_credits(&self, mut n: usize) {
        if self.capacity.is_none() {
            return;
        }
        let mut credits = self.credits.lock().unwrap_or_else(PoisonError::into_inner);
        let free = credits.free.min(n);
        credits.free -= free;
        n -= free;
        let mut deadline = None;
        let mut joined = VectorClock::new();
        while n > 0 {
            if let Some((clock, count)) = credits.clocks.front_mut() {
                let taken = (*count).min(n);
                *count -= taken;
                n -= taken;
                joined.join(clock);
                if *count == 0 {
                    credits.clocks.pop_front();
                }
                continue;
            }
            if !super::is_active() {
                credits.debt += n;
                break;
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + CREDIT_WAIT);
            if now >= deadline {
                credits.debt += n;
                crate::log::warn(format_args!(
                    "a channel send (or a semaphore acquisition) completed but the receive (or release) that made room for it left no clock within {CREDIT_WAIT:?}: that edge is missing"
                ));
                break;
            }
            credits.waiting += 1;
            credits = self.credit_left.wait_timeout(credits, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
            credits.waiting -= 1;
        }
        drop(credits);
        if super::is_active() {
            context::absorb(&joined);
        }
    }

    /// Leaves `n` credits with the current execution's clock (a receive, or
    /// a semaphore's release of `n` permits).
    pub(crate) fn leave_credits(&self, mut n: usize) {
        if self.capacity.is_none() || n == 0 {
            return;
        }
        let now = if super::is_active() { context::current_clock().unwrap_or_default() } else { VectorClock::new() };
        let mut credits = self.credits.lock().unwrap_or_else(PoisonError::into_inner);
        let settled = credits.debt.min(n);
        credits.debt -= settled;
        n -= settled;
        if n > 0 {
            credits.clocks.push_back((now, n));
        }
        let waiting = credits.waiting > 0;
        drop(credits);
        if waiting {
            self.credit_left.notify_all();
        }
    }

    /// A sender was dropped (the last one closes the channel).
    pub(crate) fn sender_dropped(&self) {
        if super::is_active() {
            self.closed.release();
        }
    }

    /// A receive observed that the channel is closed.
    pub(crate) fn observed_close(&self) {
        if super::is_active() {
            self.closed.acquire();
        }
    }
}

/// The cells of `happens_before(&x)` / `happens_after(&x)`, by the address
/// of `x`, in a fixed table: memory stays bounded. Two addresses that share
/// a cell share their edges, which can add ordering but never remove one.
static ANNOTATIONS: [Synchronize; 4096] = [const { Synchronize::new() }; 4096];

fn annotation(addr: usize) -> &'static Synchronize {
    // Fibonacci hashing: neighbouring addresses land far apart.
    let hash = (addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52;
    &ANNOTATIONS[hash as usize % ANNOTATIONS.len()]
}

/// `happens_before(&x)`: what the current execution did so far happens
/// before every later `happens_after` of the same address.
pub(crate) fn annotate_before(addr: usize) {
    if super::is_active() {
        annotation(addr).release();
    }
}

/// `happens_after(&x)`: every earlier `happens_before` of the same address
/// happens before the current execution's next event.
pub(crate) fn annotate_after(addr: usize) {
    if super::is_active() {
        annotation(addr).acquire();
    }
}
