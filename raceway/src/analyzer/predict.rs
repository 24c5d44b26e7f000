//! Prediction: which reorderings of the observed run are feasible, so that
//! the analysis can report the races they exhibit even when the run did
//! not interleave that way (the user-facing summary is in the
//! [analyzer's docs](super)).
//!
//! # The order a reordering must keep
//!
//! Every event carries two clocks: its vector clock (every recorded edge)
//! and, in `hard_causality`, what of it was learnt through *hard* edges
//! only: spawn, join, channel messages, atomics' release and acquire,
//! barriers, once-cells, condvar wake-ups, `happens_before/after`, calls
//! that carried a clock. The rest is lock hand-offs, which a reordering
//! may undo by running critical sections of one lock in the other order.
//! Here the analysis computes the order that a feasible reordering must
//! keep, after WCP (Kini, Mathur and Viswanathan, PLDI 2017):
//!
//! - program order and every hard edge (the runtime's hard clock);
//! - **rule (a)**: a critical section of lock `l` that reads or writes `x`
//!   after an earlier critical section of `l` wrote `x` (or that writes `x`
//!   after an earlier one read it) is ordered after that section's release:
//!   a moved section must not read what the other wrote, nor overwrite what
//!   it read;
//! - **rule (b)**: when a critical section's acquisition is ordered before
//!   another's release (of the same lock), its release is ordered before
//!   that release (the two cannot overlap);
//! - both composed with happens-before on either side, as in WCP: what
//!   happens before the source section's release is ordered before the
//!   target, and what happens after the target is ordered after the source.
//!
//! Two events are *ordered* when a chain of these edges joins them; a
//! reordering that keeps every such chain respects program order, every
//! hard edge and lock semantics up to the events in question, and every
//! read in it (but those of the reported accesses themselves) reads what it
//! read in the run. A pair that no chain orders can be brought next to each
//! other: that is a predicted race. For an atomicity violation (p and c in
//! one region of one execution, r another's), r can be run between p and
//! c when r is not ordered before p (r ran before p), or c is not ordered
//! before r (r ran after c), and no lock is held by r and across p and c in
//! one critical section. The conflict edge between the reported accesses
//! themselves is not taken into account: that they would read another
//! value is the violation.
//!
//! # What is not predicted
//!
//! Races that need a read outside the reported accesses to see another
//! value, or a branch to go another way; deadlocks; reorderings across
//! executions whose start raceway did not see (their spawn and join are
//! unknown); events from services or SDKs that send no hard clock (then
//! every lock edge counts as hard, and nothing is predicted from it).
//!
//! # Approximations, all on the safe side
//!
//! Each only adds order, so it can hide a prediction but never make one up:
//! the knowledge that conflict edges gave an execution is kept at a few
//! checkpoints (merging two takes the later knowledge at the earlier
//! point); an execution that ended leaves its knowledge to every later
//! event; rule (b) looks at the last few critical sections of each
//! execution on a lock and otherwise takes the oldest kept.
//!
//! Memory is per live execution, per lock and variable, not per event.

use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// A vector clock over wire component names.
#[derive(Clone, Debug, Default)]
pub(crate) struct WireClock(HashMap<Arc<str>, u64>);

impl WireClock {
    pub(crate) fn get(&self, component: &str) -> u64 {
        self.0.get(component).copied().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn join_wire(&mut self, entries: &[(Arc<str>, u64)]) {
        for (c, n) in entries {
            let slot = self.0.entry(c.clone()).or_insert(0);
            *slot = (*slot).max(*n);
        }
    }

    fn join(&mut self, other: &WireClock) {
        for (c, n) in &other.0 {
            let slot = self.0.entry(c.clone()).or_insert(0);
            *slot = (*slot).max(*n);
        }
    }

    /// Whether joining `entries` would teach this clock anything.
    fn learns_from(&self, other: &WireClock) -> bool {
        other.0.iter().any(|(c, n)| *n > self.get(c))
    }
}

/// Knowledge checkpoints kept per execution at most.
const CHECKPOINTS: usize = 8;
/// Critical sections kept per execution and lock for rule (b).
const RECENT_SECTIONS: usize = 4;

/// One event's clocks, as a query of the order sees them.
pub(crate) struct EventClocks<'a> {
    /// The vector clock (its own component last).
    pub(crate) clock: &'a [(Arc<str>, u64)],
    /// The components learnt (in part) only through lock hand-offs, with
    /// their hard count.
    pub(crate) hard: &'a [(Arc<str>, u64)],
    index: Option<HashMap<&'a str, u64>>,
}

impl<'a> EventClocks<'a> {
    pub(crate) fn new(clock: &'a [(Arc<str>, u64)], hard: &'a [(Arc<str>, u64)]) -> Self {
        EventClocks { clock, hard, index: None }
    }

    fn own(&self) -> Option<&(Arc<str>, u64)> {
        self.clock.last()
    }

    /// The happens-before count of `component`.
    fn full(&self, component: &str) -> u64 {
        if let Some(index) = &self.index {
            return index.get(component).copied().unwrap_or(0);
        }
        self.clock.iter().find(|(c, _)| &**c == component).map_or(0, |(_, n)| *n)
    }

    /// The hard count of `component`.
    fn hard(&self, component: &str) -> u64 {
        match self.hard.iter().find(|(c, _)| &**c == component) {
            Some((_, n)) => *n,
            None => self.full(component),
        }
    }

    /// Indexes the clock when it will be consulted many times.
    fn index_for(&mut self, lookups: usize) {
        if self.index.is_none() && lookups * self.clock.len() > 256 {
            self.index = Some(self.clock.iter().map(|(c, n)| (&**c, *n)).collect());
        }
    }
}

/// An execution's part of the order.
#[derive(Default)]
struct ExecOrder {
    component: Option<Arc<str>>,
    /// What conflict edges into the execution ordered before it: each entry
    /// the execution's own count at an edge's target and the knowledge from
    /// then on (cumulative, ascending).
    checkpoints: Vec<(u64, Arc<WireClock>)>,
    /// Critical sections open, innermost last.
    open: Vec<Section>,
    /// Per lock, the number of the execution's acquisitions so far.
    acquisitions: HashMap<Arc<str>, u64>,
    /// What other executions' conflict edges made happen before this one,
    /// as far as its clock has seen them (happens-before after the edge):
    /// brought up to date when its clock changes.
    seen: WireClock,
    /// The sum of its clock's counts when `seen` was brought up to date: the
    /// counts only grow, so an unchanged sum is an unchanged clock.
    seen_sum: u64,
    /// Per other execution, the knowledge of it last joined into `seen`.
    seen_from: HashMap<u64, Arc<WireClock>>,
}

impl ExecOrder {
    fn knowledge(&self) -> Option<&WireClock> {
        self.checkpoints.last().map(|(_, k)| &**k)
    }

    /// What the execution knew through conflict edges at its own count `at`.
    fn knowledge_at(&self, at: u64) -> Option<&Arc<WireClock>> {
        let i = self.checkpoints.partition_point(|(from, _)| *from <= at);
        i.checked_sub(1).map(|i| &self.checkpoints[i].1)
    }

    /// An edge into the execution at its own count `at`, from `source`.
    fn add_edge(&mut self, at: u64, source: &WireClock) {
        if self.knowledge().is_some_and(|k| !k.learns_from(source)) {
            return;
        }
        let mut next = self.knowledge().cloned().unwrap_or_default();
        next.join(source);
        match self.checkpoints.last_mut() {
            Some((from, k)) if *from == at => *k = Arc::new(next),
            _ => {
                if self.checkpoints.len() >= CHECKPOINTS {
                    // Merge the two oldest: the later knowledge at the
                    // earlier point (more order, never less).
                    let (_, later) = self.checkpoints.remove(1);
                    self.checkpoints[0].1 = later;
                }
                self.checkpoints.push((at, Arc::new(next)));
            }
        }
    }
}

/// A critical section being recorded.
struct Section {
    lock: Arc<str>,
    /// The execution's own count at the acquisition.
    acquired_at: u64,
    reads: Vec<Arc<str>>,
    writes: Vec<Arc<str>>,
}

/// An event's vector clock as it arrived (its own component last).
type WireEntries = Arc<[(Arc<str>, u64)]>;

/// A lock's part of the order.
#[derive(Default)]
struct LockOrder {
    /// Per variable: the join of the clocks at the releases of sections
    /// that read it, and of those that wrote it.
    vars: HashMap<Arc<str>, (WireClock, WireClock)>,
    /// Per execution (by component): its last sections' acquisition counts
    /// and clocks at release.
    recent: HashMap<Arc<str>, VecDeque<(u64, WireEntries)>>,
    /// The executions of `recent`, oldest first.
    arrival: VecDeque<Arc<str>>,
    /// The last release clocks of executions let go from `recent`: a
    /// source of every later release (more order, never less).
    evicted: WireClock,
}

/// Executions kept per lock for rule (b); beyond, the oldest is let go.
const RECENT_EXECUTIONS: usize = 64;

/// Which critical section of each lock an access was made in.
pub(crate) type Sections = Arc<[(Arc<str>, u64)]>;

/// The order a predicted reordering keeps, built from the event stream.
pub(crate) struct Order {
    execs: HashMap<u64, ExecOrder>,
    locks: HashMap<Arc<str>, LockOrder>,
    /// What ended executions knew through conflict edges: taken as known
    /// to every later event.
    everyone: WireClock,
    /// The sections of an access outside every critical section.
    outside: Sections,
    /// The executions that conflict edges point into, by clock component.
    knowers: HashMap<Arc<str>, u64>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            execs: HashMap::default(),
            locks: HashMap::default(),
            everyone: WireClock::default(),
            outside: Arc::new([]),
            knowers: HashMap::default(),
        }
    }
}

impl Order {
    /// Brings what execution `exec` has seen of others' conflict edges up
    /// to date with the event's clock: the edges composed with
    /// happens-before after them. Done when the clock changed.
    fn refresh(&mut self, exec: u64, clocks: &EventClocks<'_>) {
        let Some((own, _)) = clocks.own() else { return };
        let state = self.execs.entry(exec).or_default();
        if state.component.is_none() {
            state.component = Some(own.clone());
        }
        if self.knowers.is_empty() {
            return;
        }
        let sum = clocks
            .clock
            .iter()
            .map(|(_, n)| *n)
            .fold(0u64, u64::wrapping_add)
            .wrapping_sub(clocks.clock.last().map_or(0, |(_, n)| *n));
        if sum == state.seen_sum {
            return;
        }
        state.seen_sum = sum;
        let mut learnt: Vec<(u64, Arc<WireClock>)> = Vec::new();
        let others = &clocks.clock[..clocks.clock.len() - 1];
        for (component, n) in others {
            let Some(&other) = self.knowers.get(component) else { continue };
            let Some(k) = self.execs.get(&other).and_then(|o| o.knowledge_at(*n)) else { continue };
            learnt.push((other, k.clone()));
        }
        let state = self.execs.get_mut(&exec).expect("made above");
        for (other, k) in learnt {
            if state.seen_from.get(&other).is_some_and(|was| Arc::ptr_eq(was, &k)) {
                continue;
            }
            state.seen.join(&k);
            state.seen_from.insert(other, k);
        }
    }

    /// A lock acquisition by execution `exec`.
    pub(crate) fn acquired(&mut self, exec: u64, lock: &str, clocks: &EventClocks<'_>) {
        let Some((own, at)) = clocks.own().cloned() else { return };
        self.refresh(exec, clocks);
        let state = self.execs.entry(exec).or_default();
        state.component.get_or_insert(own);
        let lock: Arc<str> = Arc::from(lock);
        *state.acquisitions.entry(lock.clone()).or_insert(0) += 1;
        state.open.push(Section { lock, acquired_at: at, reads: Vec::new(), writes: Vec::new() });
    }

    /// A lock release by execution `exec`: the section's accesses become
    /// sources of rule (a), and rule (b) orders this release.
    pub(crate) fn released(&mut self, exec: u64, lock: &str, clocks: &mut EventClocks<'_>) {
        let Some((own, at)) = clocks.own().cloned() else { return };
        self.refresh(exec, clocks);
        let Some(state) = self.execs.get_mut(&exec) else { return };
        let Some(i) = state.open.iter().rposition(|s| &*s.lock == lock) else { return };
        let section = state.open.remove(i);
        let lock_order = self.locks.entry(section.lock.clone()).or_default();
        for var in &section.reads {
            lock_order.vars.entry(var.clone()).or_default().0.join_wire(clocks.clock);
        }
        for var in &section.writes {
            lock_order.vars.entry(var.clone()).or_default().1.join_wire(clocks.clock);
        }
        // Rule (b): an earlier section of another execution whose
        // acquisition is ordered before this release ends before it.
        let mut sources: Vec<WireEntries> = Vec::new();
        let lookups = lock_order.recent.len();
        clocks.index_for(lookups);
        let recent = std::mem::take(&mut lock_order.recent);
        for (other, sections) in &recent {
            if *other == own {
                continue;
            }
            let Some(oldest) = sections.front() else { continue };
            let known = self.count_before(exec, other, clocks, false);
            if known < oldest.0 {
                continue;
            }
            // The latest kept section acquired at or before what is known;
            // the oldest kept stands for any older one.
            let source = sections.iter().rev().find(|(acq, _)| *acq <= known).unwrap_or(oldest);
            sources.push(source.1.clone());
        }
        let lock_order = self.locks.get_mut(&section.lock).expect("looked up above");
        lock_order.recent = recent;
        if !lock_order.recent.contains_key(&own) {
            if lock_order.arrival.len() >= RECENT_EXECUTIONS {
                if let Some(gone) = lock_order.arrival.pop_front() {
                    if let Some(last) = lock_order.recent.remove(&gone).and_then(|mut s| s.pop_back()) {
                        lock_order.evicted.join_wire(&last.1);
                    }
                }
            }
            lock_order.arrival.push_back(own.clone());
        }
        let mine = lock_order.recent.entry(own.clone()).or_default();
        if mine.len() >= RECENT_SECTIONS {
            mine.pop_front();
        }
        mine.push_back((section.acquired_at, Arc::from(clocks.clock)));
        let evicted = (!lock_order.evicted.is_empty()).then(|| lock_order.evicted.clone());
        if !sources.is_empty() || evicted.is_some() {
            let mut source = evicted.unwrap_or_default();
            for s in &sources {
                source.join_wire(s);
            }
            if let Some(state) = self.execs.get_mut(&exec) {
                state.add_edge(at, &source);
                self.knowers.insert(own, exec);
            }
        }
    }

    /// An access of `var` by execution `exec`: returns the critical section
    /// of each lock it is in, after adding rule (a)'s edges into it.
    pub(crate) fn accessed(&mut self, exec: u64, var: &Arc<str>, write: bool, clocks: &EventClocks<'_>) -> Sections {
        self.refresh(exec, clocks);
        let Some(state) = self.execs.get_mut(&exec) else { return self.outside.clone() };
        if state.open.is_empty() {
            return self.outside.clone();
        }
        let at = clocks.own().map_or(0, |(_, n)| *n);
        let mut source: Option<WireClock> = None;
        for section in &mut state.open {
            if let Some((reads, writes)) = self.locks.get(&section.lock).and_then(|l| l.vars.get(var)) {
                let known = state.checkpoints.last().map(|(_, k)| &**k);
                for from in [Some(writes), write.then_some(reads)].into_iter().flatten() {
                    if known.map_or(!from.is_empty(), |k| k.learns_from(from)) {
                        source.get_or_insert_with(WireClock::default).join(from);
                    }
                }
            }
            let list = if write { &mut section.writes } else { &mut section.reads };
            if !list.iter().any(|v| Arc::ptr_eq(v, var)) {
                list.push(var.clone());
            }
        }
        let sections: Sections = state
            .open
            .iter()
            .map(|s| (s.lock.clone(), state.acquisitions.get(&s.lock).copied().unwrap_or(0)))
            .collect();
        if let Some(source) = source {
            state.add_edge(at, &source);
            if let Some(component) = state.component.clone() {
                self.knowers.insert(component, exec);
            }
        }
        sections
    }

    /// The count of `component` ordered before the event with `clocks` of
    /// execution `exec`. `before_own_edges`: leave out the edges that the
    /// event itself is the target of (the reported access's own conflict).
    pub(crate) fn count_before(
        &self,
        exec: u64,
        component: &str,
        clocks: &EventClocks<'_>,
        before_own_edges: bool,
    ) -> u64 {
        let mut known = clocks.hard(component).max(self.everyone.get(component));
        if let Some(state) = self.execs.get(&exec) {
            let at = clocks.own().map_or(0, |(_, n)| *n);
            let mine = if before_own_edges {
                state.knowledge_at(at.saturating_sub(1)).map(|k| &**k)
            } else {
                state.knowledge()
            };
            if let Some(k) = mine {
                known = known.max(k.get(component));
            }
            known = known.max(state.seen.get(component));
        }
        known
    }

    /// Whether the access of `component` at count `n` is ordered before the
    /// event with `clocks` of execution `exec`.
    pub(crate) fn ordered(&self, epoch: &(Arc<str>, u64), exec: u64, clocks: &EventClocks<'_>, own: bool) -> bool {
        self.count_before(exec, &epoch.0, clocks, own) >= epoch.1
    }

    /// Execution `exec` ended: what it knew stays, for everyone.
    pub(crate) fn ended(&mut self, exec: u64) {
        if let Some(state) = self.execs.remove(&exec) {
            if let Some(component) = &state.component {
                self.knowers.remove(component);
            }
            if let Some(k) = state.knowledge() {
                self.everyone.join(k);
            }
        }
    }
}
