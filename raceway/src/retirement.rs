//! Retired clock components: components of executions that ended, that
//! nothing will run in again, and that the analysis no longer needs. They
//! leave the clocks, so that clocks are bounded by the executions alive
//! (and those the analysis still remembers), not by those ever created.
//!
//! # Why slots alone do not bound clocks
//!
//! Slots (`rt::slots`) recycle the component of an execution that was
//! joined: its successor comes after its end. The requests of a server
//! middleware (and detached tasks) are joined by nothing: each is a root
//! with a component of its own, and through a shared lock every request's
//! clock lists every earlier request's component. No component can be
//! recycled there without ordering an old request's events before a new
//! one without cause, which would hide races.
//!
//! # The scheme: the analysis says what it still needs
//!
//! A clock's entry for component `c` answers one question, asked by the
//! analysis: "did this event see that access of `c`'s execution?". Once
//! `c`'s execution has ended, the question is only asked about accesses
//! the analysis still remembers (a variable's last write and the reads
//! since, an execution's last access in a region, an ended pair kept for
//! prediction, a race held back). So a component is retired when:
//!
//! 1. its execution ended, and its slot was not handed on to a joiner (a
//!    joined execution's component lives on in its successor; see
//!    `ExecInfo::free_slot`), or it was handed on to a handle that was
//!    dropped without joining (`rt::free_unjoined`);
//! 2. the analysis that received its events has analyzed all of them (it
//!    applies an end only after every earlier event left its reordering
//!    window);
//! 3. a sweep of the analysis's state finds no remembered access of it
//!    (see `Analyzer::retire_components`), nor any prediction state that
//!    a later question could reach through it (rule (b)'s recent critical
//!    sections of it are folded into their lock's conservative summary,
//!    which only adds order).
//!
//! Then every later question about `c` would be about an access nothing
//! remembers, so removing `c` from the clocks changes no answer: no race
//! is hidden (the accesses that could race with a later one are those
//! remembered, whose components stay) and none is made up (a later clock
//! that lost `c` is never compared with an access of `c`). Order between
//! live executions that went through `c` (a live execution's release that
//! `c` acquired and handed on) is kept: the entries `c`'s clock carried
//! for others stay in the clocks that learnt them. Nothing else changes:
//! retirement only removes entries of components that no event will be
//! checked against again.
//!
//! # Where entries leave
//!
//! The retired set is a bitmap of this process's components. Entries leave
//! a clock when it learns something (an execution's absorb, a
//! synchronization object's join): what is joined is filtered, and the
//! clock with it. A clock that never learns again keeps its old entries;
//! the next clock that learns from it drops them. So the clock of an
//! execution that keeps synchronizing (a request through a shared lock)
//! lists the executions alive, plus those whose accesses the analysis
//! still remembers, plus those that ended since the analysis last swept.
//!
//! # How soon
//!
//! An ended execution's events must be analyzed before it can be swept,
//! and the embedded analysis takes events at its ticks (when every
//! thread's buffer has been collected, so that timestamp order is known).
//! So the end of an execution that frees its slot hands its thread's
//! buffer over at once, and the collector asks for a tick as soon as a
//! few such ends are waiting (`ENDINGS_PER_TICK` in `sink::embedded`), instead
//! of at the flush interval. An execution none of whose records went
//! into the channel (all of them were dropped, [`Overflow::Drop`](crate::Overflow),
//! with its end) is retired where its end is dropped, at once: no
//! analysis can remember anything of it ([`delivered`],
//! [`ended_undelivered`]).
//!
//! The bound therefore holds as far as the analysis keeps up: when it
//! falls behind (a saturated machine, whose lower-priority background
//! thread gets little time), the executions it has not caught up with
//! stay in the clocks until it does. `BENCHMARKS.md` has the figures.
//!
//! Only an analysis in this process retires (the embedded collector and
//! `raceway::check`). An analysis elsewhere (the server's) keeps every
//! event and cannot say what it no longer needs: with the HTTP sink, the
//! slots of executions nobody joined are reused instead (`rt::slots`,
//! "Executions nobody joins, when the analysis is elsewhere"); with the
//! `file://` sink, whose events `raceway analyze` reads later and
//! predicts from, nothing is retired or reused and clocks grow with the
//! executions that met. Components of other processes are never retired
//! here.

use crate::clock::VectorClock;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Bits per chunk of the bitmap, and chunks: components up to
/// `CHUNK_BITS * CHUNKS` (2^32) can be retired; larger ones stay.
const CHUNK_BITS: u64 = 1 << 16;
const CHUNK_WORDS: usize = (CHUNK_BITS / 64) as usize;
const CHUNKS: usize = 1 << 16;

type Chunk = [AtomicU64; CHUNK_WORDS];

/// A set of numbers below 2^32: a bit each, in chunks allocated when a
/// number in their range is first added (8 KiB per 65,536). Never freed.
struct Bits([AtomicPtr<Chunk>; CHUNKS]);

/// The retired components.
static RETIRED: Bits = Bits::new();

/// The executions some of whose records went into a pipeline's channel
/// (see [`delivered`]).
static DELIVERED: Bits = Bits::new();

/// Components retired so far: zero until the first, which keeps the
/// filtering off the paths of programs that never retire.
static COUNT: AtomicU64 = AtomicU64::new(0);

impl Bits {
    const fn new() -> Self {
        Bits([const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNKS])
    }

    /// Adds `n`; whether it was new.
    fn insert(&self, n: u64) -> bool {
        let (index, word, mask) = position(n);
        match self.chunk_or_make(index) {
            Some(chunk) => {
                chunk[word].load(Ordering::Relaxed) & mask == 0
                    && chunk[word].fetch_or(mask, Ordering::Release) & mask == 0
            }
            None => false,
        }
    }

    fn contains(&self, n: u64) -> bool {
        let (index, word, mask) = position(n);
        self.chunk(index).is_some_and(|chunk| chunk[word].load(Ordering::Acquire) & mask != 0)
    }

    fn chunk(&self, index: usize) -> Option<&'static Chunk> {
        let ptr = self.0.get(index)?.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was leaked from a `Box<Chunk>` by
        // `chunk_or_make` and is never freed or replaced.
        (!ptr.is_null()).then(|| unsafe { &*ptr })
    }

    fn chunk_or_make(&self, index: usize) -> Option<&'static Chunk> {
        let slot = self.0.get(index)?;
        if let Some(chunk) = self.chunk(index) {
            return Some(chunk);
        }
        let fresh: Box<Chunk> = Box::new([const { AtomicU64::new(0) }; CHUNK_WORDS]);
        let fresh = Box::into_raw(fresh);
        match slot.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just leaked, never freed.
            Ok(_) => Some(unsafe { &*fresh }),
            Err(theirs) => {
                // SAFETY: `fresh` was never shared; `theirs` is a leaked chunk.
                drop(unsafe { Box::from_raw(fresh) });
                Some(unsafe { &*theirs })
            }
        }
    }
}

fn position(component: u64) -> (usize, usize, u64) {
    let chunk = (component / CHUNK_BITS) as usize;
    let bit = component % CHUNK_BITS;
    (chunk, (bit / 64) as usize, 1 << (bit % 64))
}

/// Retires `component`: it leaves every clock that learns something from
/// now on. Only for a component that meets the conditions in the
/// [module docs](self).
pub(crate) fn retire(component: u64) {
    if RETIRED.insert(component) {
        COUNT.fetch_add(1, Ordering::Release);
    }
}

/// Whether `component` was retired.
#[inline]
pub(crate) fn is_retired(component: u64) -> bool {
    RETIRED.contains(component)
}

/// Execution `exec` has records in a chunk about to enter a pipeline's
/// channel: they may reach an analysis.
#[inline]
pub(crate) fn delivered(exec: u64) {
    DELIVERED.insert(exec);
}

/// Execution `exec` ended, freeing the slot of `component` that was its
/// own from the start (no earlier execution had it), and the chunk with
/// its end was dropped: if none of its records ever went into a channel,
/// no analysis can remember anything of it, and its component retires now
/// (without waiting for an analysis to sweep).
pub(crate) fn ended_undelivered(exec: u64, component: u64) -> bool {
    let in_range = exec < CHUNK_BITS * CHUNKS as u64;
    let undelivered = in_range && !DELIVERED.contains(exec);
    if undelivered {
        retire(component);
    }
    undelivered
}

/// Whether any component was retired (until then no clock is filtered).
#[inline]
pub(crate) fn any() -> bool {
    COUNT.load(Ordering::Acquire) > 0
}

/// Removes the retired components from `clock`.
#[inline]
pub(crate) fn prune(clock: &mut VectorClock) {
    if any() {
        clock.retain(|component| !is_retired(component));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_components_leave_a_clock_and_others_stay() {
        // Components far from those the other tests' executions take.
        let base = 3_000_000_000;
        let mut clock = VectorClock::from_entries(vec![(base, 4), (base + 1, 2), (base + 70_000, 9)]);
        assert!(!is_retired(base) && !is_retired(base + 70_000));
        retire(base);
        retire(base + 70_000);
        retire(base);
        assert!(any() && is_retired(base) && is_retired(base + 70_000) && !is_retired(base + 1));
        prune(&mut clock);
        assert_eq!(clock.entries(), &[(base + 1, 2)]);
        // Beyond the bitmap's range: never retired.
        retire(u64::MAX >> 1);
        assert!(!is_retired(u64::MAX >> 1));
    }
}
