//! Clock components as slots: an execution that ended and was joined gives
//! its component to the next child its joiner spawns, so clocks grow with
//! the executions alive at once, not with those ever created.
//!
//! # The scheme
//!
//! A vector clock has one component per *slot*, not per execution. A
//! fresh execution takes a fresh slot (numbered by its own id). When an
//! execution ends and is joined (a thread's `join`, a task's `JoinHandle`
//! awaited, a [`FutureExt::execution`](crate::task::FutureExt::execution)
//! or [`task::request`](crate::task::request) future awaited, a
//! `#[track]` async call returning, rayon's `join` and scopes), the joiner
//! absorbs its final clock, which holds the slot at its final count `f`,
//! and receives the slot as a token ([`Ended::slots`]). The next child it
//! spawns takes the token: it runs in that slot, its counter continuing
//! from `f`; it also takes one spare token, for a child of its own (a
//! spawned task's request, a call's nested call). A joiner that ends hands
//! the tokens it holds to its own joiner, with its final clock, so in a
//! steady state (spawn, join, spawn again) no fresh slot is made.
//!
//! # Why nothing is fabricated and nothing is lost
//!
//! - The slot's events form one chain of happens-before: the old
//!   execution's events come before its end, the end before the join, the
//!   join before the spawn (program order of the joiner), the spawn before
//!   the new execution's events. So `clock[slot] >= n` ("this event has
//!   seen the slot's event number `n`") is true of exactly the events that
//!   have seen that event, whichever execution made it: the analysis, which
//!   compares an access's epoch `(component, count)` with a later clock's
//!   entry for that component, gives the same answer as with a component
//!   per execution. It tells executions apart by `thread_id`, which stays
//!   one per execution.
//! - Every edge in that chain is hard (join and spawn, never a lock's
//!   hand-off), so the hard clock that prediction uses is a prefix count
//!   of the slot too: reuse adds no order that a reordering could undo.
//! - A token has one holder at a time (the running owner, the final clock
//!   left for the join, the joiner), moved, never copied: two executions
//!   never extend one slot at once. An execution whose end nobody joins
//!   keeps its slot, as before: without a join nothing is known to come
//!   after it. When it turns out that nobody will join it (its handle is
//!   dropped: a detached task or thread, `rayon::spawn`), its slots are
//!   freed as those of an execution nobody joins (below), at its end or at
//!   the drop, whichever comes last (`task::Joiner`, `rt::free_unjoined`).
//! - After its final clock is taken, an execution's counter stops (a
//!   thread's thread-local destructors may still record): those events
//!   come before the join all the same, and keep the final count.
//!
//! ThreadSanitizer recycles thread slots the same way (a new thread takes
//! the slot of a joined one, its epoch continuing), as do the "chain
//! clocks" of Agarwal and Garg (PODC 2005), where a thread may continue a
//! chain whose last event happens before its current one.
//!
//! # What it does not bound
//!
//! Executions that nobody joins: detached tasks and threads, and the
//! requests of a server middleware, which start with no parent (their
//! first event has an empty clock) and end with a response that goes to
//! a client. No happens-before edge leads from one such request's end to
//! another's start, so any slot a new request took would order the old
//! request's events before it without cause, hiding races. Through a
//! shared lock each request's clock would then list every earlier
//! request's component. Where the analysis runs in this process (the
//! embedded collector, `raceway::check`), their components are *retired*
//! instead, once the analysis no longer needs them: see
//! `crate::retirement`. (A slot whose execution ended before its final
//! clock was taken is freed, never handed on: `ExecInfo::free_slot`.)
//!
//! # Executions nobody joins, when the analysis is elsewhere
//!
//! Nothing in the process can retire for an analysis it does not run:
//! the Raceway server keeps every event and compares any two. There,
//! with the HTTP sink ([`FreeSlots`]), a freed slot goes to a
//! process-wide pool, with its final count, and the next execution made
//! with no slot of its own (a request, a detached task, a thread) takes
//! it: clocks list the executions alive at once, not every one served.
//! The order this adds runs from the old execution's end to the new one's
//! start, which follow each other in real time in this run (the slot
//! entered the pool at the end): it makes no report up, and it never
//! orders two executions that overlap (an execution's slot is taken only
//! after it ended), so it hides no race between them. It can hide, from
//! the server, a race between two executions that nothing ordered but that
//! did not overlap (the second continued the first's slot, directly or
//! through others). One exception to "taken only after it ended": a
//! thread's thread-local destructors may record after its end, at its
//! final count, which a new execution in its slot then appears to have
//! seen (rare, and only with the HTTP sink). The `file://` sink, analyzed
//! later by `raceway analyze`, which predicts the races between executions
//! that did not overlap, and the analyses in this process never reuse a
//! slot this way.

use crate::clock::VectorClock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// What an execution leaves for whoever joins it: its final clock, and the
/// slots (with their final counts) the joiner may give to its next
/// children, its own first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ended {
    pub(crate) clock: VectorClock,
    pub(crate) slots: Vec<Token>,
    /// The pipeline that received the execution's events (0 for none):
    /// the one told when nobody joins it and its slots are freed.
    pub(crate) pipeline: usize,
}

/// A slot whose events all happen before its holder's next event, with the
/// count of its last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) slot: u64,
    pub(crate) count: u64,
}

/// Tokens an execution holds at most; beyond, the oldest are let go (their
/// slots stay in clocks, as without reuse).
pub(crate) const MAX_TOKENS: usize = 256;

/// The tokens an execution holds: slots of joined executions.
#[derive(Debug, Default)]
pub(crate) struct Tokens(Vec<Token>);

impl Tokens {
    /// Receives the tokens of a joined execution, whose final clock the
    /// holder has absorbed.
    pub(crate) fn receive(&mut self, tokens: Vec<Token>) {
        self.0.extend(tokens);
        if self.0.len() > MAX_TOKENS {
            let excess = self.0.len() - MAX_TOKENS;
            self.0.drain(..excess);
        }
    }

    /// A slot for a child: the most recently received.
    pub(crate) fn take(&mut self) -> Option<Token> {
        self.0.pop()
    }

    /// All of them, for the holder's own joiner.
    pub(crate) fn take_all(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.0)
    }
}

/// Freed slots the pool keeps at most; beyond, the oldest are let go
/// (their slots are never used again: nothing is ordered by them).
pub(crate) const MAX_FREE_SLOTS: usize = 65_536;

/// The slots freed by executions that nobody joined, in pipelines whose
/// analysis is elsewhere (see the [module docs](self)): each with the
/// pipeline whose executions may take it.
pub(crate) struct FreeSlots {
    tokens: Mutex<std::collections::VecDeque<(usize, Token)>>,
    /// How many it holds, read without the lock by every execution made.
    len: AtomicUsize,
}

/// The process's pool.
pub(crate) static FREE_SLOTS: FreeSlots = FreeSlots::new();

impl FreeSlots {
    pub(crate) const fn new() -> Self {
        FreeSlots { tokens: Mutex::new(std::collections::VecDeque::new()), len: AtomicUsize::new(0) }
    }

    /// `token`'s execution ended, and nobody took its final clock: a new
    /// execution of `pipeline` may continue its slot.
    pub(crate) fn give(&self, pipeline: usize, token: Token) {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() >= MAX_FREE_SLOTS {
            tokens.pop_front();
        }
        tokens.push_back((pipeline, token));
        self.len.store(tokens.len(), Ordering::Release);
    }

    /// A slot for a new execution of `pipeline` (the one installed, with
    /// no `check` session open: see [`super::install::reusing_pipeline`]),
    /// the one freed last. Slots of other pipelines (an earlier client's)
    /// are let go.
    pub(crate) fn take(&self, pipeline: impl FnOnce() -> Option<usize>) -> Option<(usize, Token)> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let pipeline = pipeline()?;
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = loop {
            match tokens.pop_back() {
                Some((of, token)) if of == pipeline => break Some((of, token)),
                Some(_) => continue,
                None => break None,
            }
        };
        self.len.store(tokens.len(), Ordering::Release);
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_slot_goes_to_a_new_execution_of_its_pipeline_only() {
        let pool = FreeSlots::new();
        assert_eq!(pool.take(|| Some(1)), None);
        pool.give(1, Token { slot: 10, count: 5 });
        pool.give(2, Token { slot: 20, count: 7 });
        pool.give(1, Token { slot: 30, count: 9 });
        // Nothing is taken without a pipeline that reuses.
        assert_eq!(pool.take(|| None), None);
        // The last freed of the pipeline first; another pipeline's slot
        // found on the way is let go.
        assert_eq!(pool.take(|| Some(1)), Some((1, Token { slot: 30, count: 9 })));
        assert_eq!(pool.take(|| Some(1)), Some((1, Token { slot: 10, count: 5 })));
        assert_eq!(pool.take(|| Some(1)), None);
        assert_eq!(pool.take(|| Some(2)), None);
    }

    #[test]
    fn the_pool_keeps_the_newest_slots_when_full() {
        let pool = FreeSlots::new();
        for slot in 0..MAX_FREE_SLOTS as u64 + 3 {
            pool.give(1, Token { slot, count: 1 });
        }
        assert_eq!(pool.len.load(Ordering::Relaxed), MAX_FREE_SLOTS);
        assert_eq!(pool.take(|| Some(1)).map(|(_, t)| t.slot), Some(MAX_FREE_SLOTS as u64 + 2));
    }
}
