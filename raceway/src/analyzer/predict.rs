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
//! - **opaque sections**: a critical section with no tracked access (its
//!   contents unknown) comes after every earlier section of its lock and
//!   before every later one, as a hard edge;
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
//! The clocks here are [`DenseClock`]s over small component ids, reused
//! once a retired component has left every clock: each is as long as the
//! highest id alive, which the executions still remembered set.

use super::dense_clock::DenseClock;
use rustc_hash::FxHashMap as HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::collections::VecDeque;
use std::sync::Arc;

/// Knowledge checkpoints kept per execution at most.
const CHECKPOINTS: usize = 8;
/// Critical sections kept per execution and lock for rule (b).
const RECENT_SECTIONS: usize = 4;
/// Executions kept per lock for rule (b); beyond, the oldest is let go.
const RECENT_EXECUTIONS: usize = 64;
/// Component strings remembered by address at most (then forgotten and
/// found by content again).
const MAX_BY_ADDRESS: usize = 1 << 17;

/// What tells an execution's clocks at one event from those at its last
/// (see [`EventClocks::fingerprint`]).
type Fingerprint = [u64; 3];

/// One event's clocks, as the order reads them.
pub(crate) struct EventClocks<'a> {
    /// The vector clock (its own component last).
    pub(crate) clock: &'a [(Arc<str>, u64)],
    /// The components learnt (in part) only through lock hand-offs, with
    /// their hard count.
    pub(crate) hard: &'a [(Arc<str>, u64)],
}

impl<'a> EventClocks<'a> {
    pub(crate) fn new(clock: &'a [(Arc<str>, u64)], hard: &'a [(Arc<str>, u64)]) -> Self {
        EventClocks { clock, hard }
    }

    fn own(&self) -> Option<&(Arc<str>, u64)> {
        self.clock.last()
    }

    /// A fingerprint of what the clock learnt, in both clocks: the sum of
    /// the counts, and the sum and the xor of the component strings'
    /// addresses. While the components stay the same, counts only grow,
    /// so an unchanged sum is unchanged counts; a component that leaves
    /// (retired) or comes changes the addresses' sum and xor, whatever the
    /// counts do. (The previous event's strings are kept alive by
    /// `ExecOrder::wire_ids`, so no new component can have the address of
    /// one that left.)
    fn fingerprint(&self) -> Fingerprint {
        let learnt = &self.clock[..self.clock.len().saturating_sub(1)];
        let sum = |entries: &[(Arc<str>, u64)]| {
            entries.iter().fold([0u64; 3], |[n, added, xored], (c, count)| {
                let address = Arc::as_ptr(c) as *const u8 as u64;
                [n.wrapping_add(*count), added.wrapping_add(address), xored ^ address]
            })
        };
        let ([n, added, xored], [hn, hadded, hxored]) = (sum(learnt), sum(self.hard));
        [n.wrapping_add(hn.rotate_left(32)), added.wrapping_add(hadded.rotate_left(32)), xored ^ hxored.rotate_left(32)]
    }
}

/// Component names as small numbers, so that the order's clocks are
/// [`DenseClock`]s indexed by them: found by the string's address first
/// (the converter and the JSON reader share one string per component), by
/// content else. The ids of retired components are given again (the
/// smallest first), once [`Order::retire`] has taken them out of every
/// clock: so the ids, and the clocks' lengths, stay as few as the
/// components the analysis still remembers.
#[derive(Default)]
struct Components {
    by_name: HashMap<Arc<str>, u64>,
    /// Keeps the string alive, so that its address stays its own.
    by_address: HashMap<usize, (Arc<str>, u64)>,
    /// The last id given (0 is never one).
    next: u64,
    /// Ids of retired components, free to give again.
    free: BinaryHeap<Reverse<u64>>,
}

impl Components {
    fn id(&mut self, name: &Arc<str>) -> u64 {
        let address = Arc::as_ptr(name) as *const u8 as usize;
        if let Some((_, id)) = self.by_address.get(&address) {
            return *id;
        }
        let (next, free) = (&mut self.next, &mut self.free);
        let id = *self.by_name.entry(name.clone()).or_insert_with(|| match free.pop() {
            Some(Reverse(id)) => id,
            None => {
                *next += 1;
                *next
            }
        });
        if self.by_address.len() >= MAX_BY_ADDRESS {
            self.by_address.clear();
        }
        self.by_address.insert(address, (name.clone(), id));
        id
    }

    /// Forgets `names`: the ids they had, which [`free`](Components::free)
    /// lets be given again.
    fn forget(&mut self, names: &[Arc<str>]) -> Vec<u64> {
        let ids: Vec<u64> = names.iter().filter_map(|name| self.by_name.remove(name)).collect();
        if !ids.is_empty() {
            let gone: rustc_hash::FxHashSet<u64> = ids.iter().copied().collect();
            self.by_address.retain(|_, (_, id)| !gone.contains(id));
        }
        ids
    }

    /// Lets `ids`, forgotten and in no clock any more, be given again.
    fn free(&mut self, ids: &[u64]) {
        self.free.extend(ids.iter().map(|&id| Reverse(id)));
    }

    /// The id of a component seen before; `None` for one no clock named.
    fn find(&self, name: &Arc<str>) -> Option<u64> {
        let address = Arc::as_ptr(name) as *const u8 as usize;
        match self.by_address.get(&address) {
            Some((_, id)) => Some(*id),
            None => self.by_name.get(name).copied(),
        }
    }
}

/// An execution's part of the order.
#[derive(Default)]
struct ExecOrder {
    /// Its own component.
    component: u64,
    /// Its vector clock and hard clock as of its last event (without its
    /// own component), and their fingerprint.
    clock: DenseClock,
    hard: DenseClock,
    fingerprint: Option<Fingerprint>,
    /// The components of its last wire clock and their ids, by position:
    /// clocks list components in much the same order from one event to the
    /// next, so most are found by comparing pointers.
    wire_ids: Vec<(Arc<str>, u64)>,
    /// What conflict edges into the execution ordered before it: each entry
    /// the execution's own count at an edge's target and the knowledge from
    /// then on (cumulative, ascending).
    checkpoints: Vec<(u64, Arc<DenseClock>)>,
    /// What other executions' conflict edges made happen before this one,
    /// as far as its clock has seen them (happens-before after the edge).
    seen: DenseClock,
    /// Critical sections open, innermost last.
    open: Vec<Section>,
    /// Per lock, the number of the execution's acquisitions so far.
    acquisitions: HashMap<Arc<str>, u64>,
    /// The sections of its accesses while `open` stays as it is.
    sections: Option<Sections>,
}

impl ExecOrder {
    fn knowledge(&self) -> Option<&DenseClock> {
        self.checkpoints.last().map(|(_, k)| &**k)
    }

    /// What the execution knew through conflict edges at its own count `at`.
    fn knowledge_at(&self, at: u64) -> Option<&DenseClock> {
        self.shared_knowledge_at(at).map(|k| &**k)
    }

    fn shared_knowledge_at(&self, at: u64) -> Option<&Arc<DenseClock>> {
        let i = self.checkpoints.partition_point(|(from, _)| *from <= at);
        i.checked_sub(1).map(|i| &self.checkpoints[i].1)
    }

    /// An edge into the execution at its own count `at`, from `source`.
    fn add_edge(&mut self, at: u64, source: &DenseClock) {
        if self.knowledge().is_some_and(|k| source.le(k)) {
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

/// A lock's part of the order.
#[derive(Default)]
struct LockOrder {
    /// Per variable: the join of the clocks at the releases of sections
    /// that read it, and of those that wrote it.
    vars: HashMap<Arc<str>, (DenseClock, DenseClock)>,
    /// Per execution (by component, sorted): its last sections.
    recent: Vec<Recent>,
    /// The executions of `recent`, oldest first.
    arrival: VecDeque<u64>,
    /// The last release clocks of executions let go from `recent`: a
    /// source of every later release (more order, never less).
    evicted: DenseClock,
    /// The clock of the last release (with the releaser's own component),
    /// and what its releasers knew through conflict edges: what an
    /// acquisition learns of them, as WCP hands its clock over a lock.
    released: Arc<DenseClock>,
    knowledge: DenseClock,
    /// The join of the clocks at the releases of *opaque* sections: those
    /// with no tracked access, whose contents raceway cannot see (state
    /// the lock guards but nothing tracks, such as a flag set with
    /// `*guard = true`). Nothing may be reordered past them: they order
    /// every later section, as every earlier one orders them.
    opaque: DenseClock,
    /// The join of the clocks at every release: what an opaque section
    /// comes after.
    every_release: DenseClock,
}

/// An execution's last critical sections on a lock, for rule (b): their
/// counts kept inline, so that the loop over every execution's reads one
/// array and touches a clock only to join it.
struct Recent {
    component: u64,
    /// Acquisition and release counts of the kept sections, oldest first.
    counts: [(u64, u64); RECENT_SECTIONS],
    /// Their clocks at release, in the same order.
    clocks: [Option<Arc<DenseClock>>; RECENT_SECTIONS],
    len: usize,
}

impl Recent {
    fn new(component: u64) -> Self {
        Recent { component, counts: [(0, 0); RECENT_SECTIONS], clocks: Default::default(), len: 0 }
    }

    /// The clock at the release of the latest kept section acquired at or
    /// before `known` (the oldest kept standing for any older one), when
    /// that release is not known: what a release ordered after that
    /// acquisition must come after. `None` when nothing kept is known to
    /// be acquired, or every release that is, is known.
    fn unknown_release(&self, known: u64) -> Option<&Arc<DenseClock>> {
        let counts = &self.counts[..self.len];
        if counts.first().map_or(true, |&(acquired, _)| known < acquired) {
            return None;
        }
        // Releases ascend: the last one known means all are.
        if counts.last().map_or(true, |&(_, released)| known >= released) {
            return None;
        }
        let at = counts.iter().rposition(|&(acquired, _)| acquired <= known)?;
        (known < counts[at].1).then(|| self.clocks[at].as_ref()).flatten()
    }

    /// Takes the oldest section's clock out when a new section would push
    /// it out and nothing else holds it: its allocation is reused for the
    /// new one.
    fn reusable(&mut self) -> Option<Arc<DenseClock>> {
        if self.len < RECENT_SECTIONS || self.clocks[0].as_ref().is_some_and(|c| Arc::strong_count(c) > 1) {
            return None;
        }
        let clock = self.clocks[0].take();
        self.remove_oldest();
        clock
    }

    fn remove_oldest(&mut self) {
        if self.len == 0 {
            return;
        }
        self.counts.copy_within(1..self.len, 0);
        self.clocks[..self.len].rotate_left(1);
        self.len -= 1;
        self.clocks[self.len] = None;
    }

    fn push(&mut self, acquired: u64, released: u64, clock: Arc<DenseClock>) {
        if self.len == RECENT_SECTIONS {
            self.remove_oldest();
        }
        self.counts[self.len] = (acquired, released);
        self.clocks[self.len] = Some(clock);
        self.len += 1;
    }

    /// The clock at the last kept release.
    fn last(mut self) -> Option<Arc<DenseClock>> {
        self.len.checked_sub(1).and_then(|at| self.clocks[at].take())
    }
}

impl LockOrder {
    /// Where execution `component`'s recent sections are (or would go).
    fn find_recent(&self, component: u64) -> Result<usize, usize> {
        self.recent.binary_search_by_key(&component, |r| r.component)
    }

    /// Execution `component`'s recent sections, made if need be.
    fn recent_of(&mut self, component: u64) -> &mut Recent {
        let at = match self.find_recent(component) {
            Ok(at) => at,
            Err(at) => {
                self.recent.insert(at, Recent::new(component));
                at
            }
        };
        &mut self.recent[at]
    }

    /// Lets execution `component`'s recent sections go: the clock at its
    /// last release.
    fn forget_recent(&mut self, component: u64) -> Option<Arc<DenseClock>> {
        let at = self.find_recent(component).ok()?;
        self.recent.remove(at).last()
    }
}

/// Which critical section of each lock an access was made in.
pub(crate) type Sections = Arc<[(Arc<str>, u64)]>;

/// The order a predicted reordering keeps, built from the event stream.
pub(crate) struct Order {
    components: Components,
    execs: HashMap<u64, ExecOrder>,
    locks: HashMap<Arc<str>, LockOrder>,
    /// The executions that conflict edges point into, by component.
    knowers: HashMap<u64, u64>,
    /// What ended executions knew through conflict edges: taken as known
    /// to every later event.
    everyone: DenseClock,
    /// The sections of an access outside every critical section.
    outside: Sections,
    /// A clock's allocation, and the conflict knowledge an event's clock
    /// learns, reused from one event to the next.
    scratch_clock: DenseClock,
    scratch_edges: Vec<(u64, u64)>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            components: Components::default(),
            execs: HashMap::default(),
            locks: HashMap::default(),
            knowers: HashMap::default(),
            everyone: DenseClock::default(),
            outside: Arc::new([]),
            scratch_clock: DenseClock::default(),
            scratch_edges: Vec::new(),
        }
    }
}

impl Order {
    /// Brings execution `exec`'s clocks up to date with its event, and what
    /// it has seen of others' conflict edges (the edges composed with
    /// happens-before after them). `over_lock`: the event is an acquisition
    /// of that lock, whose releases' knowledge it takes at once.
    /// Returns the event's own count.
    fn sync(&mut self, exec: u64, clocks: &EventClocks<'_>, over_lock: Option<&str>) -> u64 {
        let Some((own, at)) = clocks.own() else { return 0 };
        let at = *at;
        let component = self.components.id(own);
        let fingerprint = clocks.fingerprint();
        let state = self.execs.entry(exec).or_default();
        state.component = component;
        if state.fingerprint == Some(fingerprint) {
            return at;
        }
        state.fingerprint = Some(fingerprint);
        let Order { components, execs, locks, knowers, scratch_clock, scratch_edges, .. } = self;
        let state = execs.get_mut(&exec).expect("made above");
        let learnt = &clocks.clock[..clocks.clock.len() - 1];
        // The components' ids, by position: carried over where the wire
        // clock lists the same component in the same place (most events).
        let ids = &mut state.wire_ids;
        for (i, (c, _)) in learnt.iter().enumerate() {
            match ids.get(i) {
                Some((known, _)) if Arc::ptr_eq(known, c) => {}
                Some(_) => ids[i] = (c.clone(), components.id(c)),
                None => ids.push((c.clone(), components.id(c))),
            }
        }
        ids.truncate(learnt.len());
        // What the clock learnt: others' conflict knowledge at the counts it
        // now has of them (what a lock's releases knew comes with it).
        let lock = over_lock.and_then(|l| locks.get(l));
        if let Some(lock) = lock {
            state.seen.join(&lock.knowledge);
        }
        let released = lock.map(|l| &*l.released);
        // The clock and the hard clock, made again; the hard list names
        // components in the clock's order (the converter makes it so), so
        // it is walked beside it; a component it does not name was learnt
        // through hard edges only. And the components that advanced past
        // what the execution and the lock's last release knew: their
        // executions' conflict knowledge is to be learnt.
        let mut clock = std::mem::take(scratch_clock);
        clock.clear();
        let hard = &mut state.hard;
        hard.clear();
        scratch_edges.clear();
        let mut hard_at = 0;
        for ((c, n), &(_, id)) in learnt.iter().zip(&state.wire_ids) {
            clock.observe(id, *n);
            match clocks.hard.get(hard_at) {
                Some((h, hn)) if Arc::ptr_eq(h, c) || **h == **c => {
                    hard_at += 1;
                    hard.observe(id, (*hn).min(*n));
                }
                _ => hard.observe(id, *n),
            }
            if knowers.is_empty() || *n <= state.clock.get(id).max(released.map_or(0, |r| r.get(id))) {
                continue;
            }
            if let Some(&other) = knowers.get(&id).filter(|&&o| o != exec) {
                scratch_edges.push((other, *n));
            }
        }
        // Any left in another order: looked up.
        for (c, n) in &clocks.hard[hard_at..] {
            hard.lower(components.id(c), *n);
        }
        *scratch_clock = std::mem::replace(&mut state.clock, clock);
        for &(other, n) in scratch_edges.iter() {
            if let Some(k) = execs.get(&other).and_then(|o| o.shared_knowledge_at(n)) {
                let k = k.clone();
                execs.get_mut(&exec).expect("made above").seen.join(&k);
            }
        }
        at
    }

    /// A lock acquisition by execution `exec`.
    pub(crate) fn acquired(&mut self, exec: u64, lock: &str, clocks: &EventClocks<'_>) {
        let at = self.sync(exec, clocks, Some(lock));
        let opaque = self.locks.get(lock).filter(|l| !l.opaque.is_empty()).map(|l| l.opaque.clone());
        let state = self.execs.entry(exec).or_default();
        if let Some(opaque) = opaque {
            // After an opaque section: ordered as a hard edge would.
            state.add_edge(at, &opaque);
            self.knowers.insert(state.component, exec);
        }
        // One string per lock, shared by its sections and counts.
        let lock = match state.acquisitions.get_key_value(lock) {
            Some((name, _)) => name.clone(),
            None => Arc::from(lock),
        };
        *state.acquisitions.entry(lock.clone()).or_insert(0) += 1;
        state.open.push(Section { lock, acquired_at: at, reads: Vec::new(), writes: Vec::new() });
        state.sections = None;
    }

    /// A lock release by execution `exec`: the section's accesses become
    /// sources of rule (a), and rule (b) orders this release.
    pub(crate) fn released(&mut self, exec: u64, lock: &str, clocks: &EventClocks<'_>) {
        let at = self.sync(exec, clocks, None);
        let Some(state) = self.execs.get_mut(&exec) else { return };
        let Some(i) = state.open.iter().rposition(|s| &*s.lock == lock) else { return };
        let section = state.open.remove(i);
        state.sections = None;
        let own = state.component;
        let lock_order = self.locks.entry(section.lock.clone()).or_default();
        // The clock at this release (the oldest kept one's allocation
        // reused when this release pushes it out).
        let reused = lock_order.find_recent(own).ok().and_then(|at| lock_order.recent[at].reusable());
        let mut at_release = reused.unwrap_or_default();
        match Arc::get_mut(&mut at_release) {
            Some(clock) => clock.clone_from(&state.clock),
            None => at_release = Arc::new(state.clock.clone()),
        }
        Arc::make_mut(&mut at_release).observe(own, at);
        let opaque = section.reads.is_empty() && section.writes.is_empty();
        // An opaque section comes after every earlier section (its
        // contents are unknown: it may read what any of them wrote).
        let before_opaque = (opaque && !lock_order.every_release.is_empty()).then(|| lock_order.every_release.clone());
        lock_order.every_release.join(&at_release);
        if opaque {
            lock_order.opaque.join(&at_release);
        }
        lock_order.knowledge.join(&state.seen);
        if let Some(k) = state.knowledge() {
            lock_order.knowledge.join(k);
        }
        for var in &section.reads {
            lock_order.vars.entry(var.clone()).or_default().0.join(&at_release);
        }
        for var in &section.writes {
            lock_order.vars.entry(var.clone()).or_default().1.join(&at_release);
        }
        // Rule (b): an earlier section of another execution whose
        // acquisition is ordered before this release ends before it.
        let mut source = if lock_order.evicted.is_empty() { None } else { Some(lock_order.evicted.clone()) };
        if let Some(before) = before_opaque {
            source.get_or_insert_with(DenseClock::default).join(&before);
        }
        let state = self.execs.get(&exec).expect("synced above");
        // Everything ordered before this release: its four parts, read at
        // each other execution's component.
        let none = DenseClock::default();
        let before = [&state.hard, &state.seen, &self.everyone, state.knowledge().unwrap_or(&none)];
        for other in &lock_order.recent {
            if other.component == own {
                continue;
            }
            let known = before.iter().map(|clock| clock.get(other.component)).max().unwrap_or(0);
            if let Some(clock) = other.unknown_release(known) {
                source.get_or_insert_with(DenseClock::default).join(clock);
            }
        }
        if lock_order.find_recent(own).is_err() {
            if lock_order.arrival.len() >= RECENT_EXECUTIONS {
                if let Some(gone) = lock_order.arrival.pop_front() {
                    if let Some(last) = lock_order.forget_recent(gone) {
                        lock_order.evicted.join(&last);
                    }
                }
            }
            lock_order.arrival.push_back(own);
        }
        lock_order.recent_of(own).push(section.acquired_at, at, at_release.clone());
        lock_order.released = at_release;
        if let Some(source) = source {
            if let Some(state) = self.execs.get_mut(&exec) {
                state.add_edge(at, &source);
                self.knowers.insert(own, exec);
            }
        }
    }

    /// An access of `var` by execution `exec`: returns the critical section
    /// of each lock it is in, after adding rule (a)'s edges into it.
    pub(crate) fn accessed(&mut self, exec: u64, var: &Arc<str>, write: bool, clocks: &EventClocks<'_>) -> Sections {
        let at = self.sync(exec, clocks, None);
        let Some(state) = self.execs.get_mut(&exec) else { return self.outside.clone() };
        if state.open.is_empty() {
            return self.outside.clone();
        }
        let mut source: Option<DenseClock> = None;
        for section in &mut state.open {
            if let Some((reads, writes)) = self.locks.get(&section.lock).and_then(|l| l.vars.get(var)) {
                let known = state.checkpoints.last().map(|(_, k)| &**k);
                for from in [Some(writes), write.then_some(reads)].into_iter().flatten() {
                    if known.map_or(!from.is_empty(), |k| !from.le(k)) {
                        source.get_or_insert_with(DenseClock::default).join(from);
                    }
                }
            }
            let list = if write { &mut section.writes } else { &mut section.reads };
            if !list.iter().any(|v| Arc::ptr_eq(v, var)) {
                list.push(var.clone());
            }
        }
        let (open, acquisitions) = (&state.open, &state.acquisitions);
        let sections = state.sections.get_or_insert_with(|| {
            open.iter().map(|s| (s.lock.clone(), acquisitions.get(&s.lock).copied().unwrap_or(0))).collect()
        });
        let sections = sections.clone();
        if let Some(source) = source {
            state.add_edge(at, &source);
            self.knowers.insert(state.component, exec);
        }
        sections
    }

    /// The (shared, empty) sections of an access outside every critical
    /// section, or of one the prediction does not look at.
    pub(crate) fn outside(&self) -> Sections {
        self.outside.clone()
    }

    /// The count of component `c` ordered before execution `exec`'s event
    /// at its own count `at` (the last one synced). `before_own_edges`:
    /// leave out the edges that the event itself is the target of (the
    /// reported access's own conflict).
    fn count_of(&self, exec: u64, c: u64, before_own_edges: bool, at: u64) -> u64 {
        match self.execs.get(&exec) {
            Some(state) => self.count_in(state, c, before_own_edges, at),
            None => self.everyone.get(c),
        }
    }

    /// [`count_of`](Order::count_of) for an execution's state.
    fn count_in(&self, state: &ExecOrder, c: u64, before_own_edges: bool, at: u64) -> u64 {
        if c == state.component {
            // Its own component (a slot that an execution it descends from
            // by spawn and join may have used before it): program order.
            return at;
        }
        let known = self.everyone.get(c).max(state.hard.get(c)).max(state.seen.get(c));
        let mine = if before_own_edges { state.knowledge_at(at.saturating_sub(1)) } else { state.knowledge() };
        known.max(mine.map_or(0, |k| k.get(c)))
    }

    /// Whether the access of `epoch` (component and count) is ordered
    /// before the event with `clocks` of execution `exec`, which was synced
    /// (by [`accessed`](Order::accessed)). `own`: leaving out the edges into
    /// that event itself.
    pub(crate) fn ordered(&self, epoch: &(Arc<str>, u64), exec: u64, clocks: &EventClocks<'_>, own: bool) -> bool {
        let Some(c) = self.components.find(&epoch.0) else { return false };
        let at = clocks.own().map_or(0, |(_, n)| *n);
        self.count_of(exec, c, own, at) >= epoch.1
    }

    /// Forgets the `retired` components: no access of theirs is
    /// remembered, so the order is never asked about them again. Rule
    /// (b)'s recent sections of theirs are folded into their lock's
    /// evicted clock (a source of every later release: more order, never
    /// less), and their entries leave every clock here.
    pub(crate) fn retire(&mut self, retired: &[Arc<str>]) {
        let ids = self.components.forget(retired);
        if ids.is_empty() {
            return;
        }
        let gone: rustc_hash::FxHashSet<u64> = ids.iter().copied().collect();
        let keep = |c: u64| !gone.contains(&c);
        let prune = |clock: &mut DenseClock| clock.forget(&ids);
        let prune_shared = |clock: &mut Arc<DenseClock>| {
            if ids.iter().any(|&c| clock.get(c) > 0) {
                Arc::make_mut(clock).forget(&ids);
            }
        };
        for state in self.execs.values_mut() {
            prune(&mut state.clock);
            prune(&mut state.hard);
            prune(&mut state.seen);
            state.checkpoints.iter_mut().for_each(|(_, k)| prune_shared(k));
            state.wire_ids.clear();
            state.fingerprint = None;
            if !keep(state.component) {
                // Not an id of its any more (set again at its next event).
                state.component = 0;
            }
        }
        for lock in self.locks.values_mut() {
            for gone in lock.arrival.iter().copied().filter(|c| !keep(*c)).collect::<Vec<_>>() {
                if let Some(last) = lock.forget_recent(gone) {
                    lock.evicted.join(&last);
                }
            }
            lock.arrival.retain(|c| keep(*c));
            for (reads, writes) in lock.vars.values_mut() {
                prune(reads);
                prune(writes);
            }
            for recent in &mut lock.recent {
                recent.clocks.iter_mut().flatten().for_each(prune_shared);
            }
            prune(&mut lock.evicted);
            prune_shared(&mut lock.released);
            prune(&mut lock.knowledge);
            prune(&mut lock.opaque);
            prune(&mut lock.every_release);
        }
        self.knowers.retain(|c, _| keep(*c));
        prune(&mut self.everyone);
        // In no clock here any more: the ids can name other components.
        self.components.free(&ids);
    }

    /// Execution `exec` ended: what it knew stays, for everyone.
    pub(crate) fn ended(&mut self, exec: u64) {
        if let Some(state) = self.execs.remove(&exec) {
            // A reused component may already be another execution's.
            if self.knowers.get(&state.component) == Some(&exec) {
                self.knowers.remove(&state.component);
            }
            if let Some(k) = state.knowledge() {
                self.everyone.join(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clocks of one event of an execution whose clock has only its
    /// own component.
    fn own(component: &Arc<str>, n: u64) -> Vec<(Arc<str>, u64)> {
        vec![(component.clone(), n)]
    }

    #[test]
    fn a_clock_that_swaps_one_component_for_another_at_the_same_count_is_synced_again() {
        // An execution's clock lists x at 4; at its next event x has left
        // it (retired) and y came in at the same count: nothing else
        // changed, so the counts' sum and length are the same.
        let mut order = Order::default();
        let [own, x, y]: [Arc<str>; 3] = ["svc#1/1", "svc#1/2", "svc#1/3"].map(Arc::from);
        let v: Arc<str> = Arc::from("v");
        let first = vec![(x.clone(), 4), (own.clone(), 1)];
        order.accessed(1, &v, true, &EventClocks::new(&first, &[]));
        let second = vec![(y.clone(), 4), (own.clone(), 2)];
        order.accessed(1, &v, true, &EventClocks::new(&second, &[]));
        assert!(order.ordered(&(y.clone(), 4), 1, &EventClocks::new(&second, &[]), false), "y's 4th event is before");
        // And a hard list that loses an entry whose hard count was 0 (the
        // component now learnt through a hard edge too).
        let third = vec![(y.clone(), 4), (own.clone(), 3)];
        order.accessed(1, &v, true, &EventClocks::new(&third, &[(y.clone(), 0)]));
        let fourth = vec![(y.clone(), 4), (own.clone(), 4)];
        order.accessed(1, &v, true, &EventClocks::new(&fourth, &[]));
        let state = order.execs.get(&1).expect("synced");
        let id = order.components.find(&y).expect("y has an id");
        assert_eq!(state.hard.get(id), 4, "y is hard-ordered at 4 now");
    }

    #[test]
    fn a_retired_components_id_names_a_new_component_with_no_order_left_from_the_old() {
        let mut order = Order::default();
        let [a, b, c]: [Arc<str>; 3] = ["svc#1/1", "svc#1/2", "svc#1/3"].map(Arc::from);
        let x: Arc<str> = Arc::from("x");
        // `a` writes x under lock L, and ends.
        order.acquired(1, "L", &EventClocks::new(&own(&a, 1), &[]));
        order.accessed(1, &x, true, &EventClocks::new(&own(&a, 2), &[]));
        order.released(1, "L", &EventClocks::new(&own(&a, 3), &[]));
        order.ended(1);
        let old = order.components.find(&a).expect("a has an id");
        order.retire(std::slice::from_ref(&a));
        assert_eq!(order.components.find(&a), None);
        // `b`, unordered with everything, is given a's id again.
        order.accessed(2, &x, true, &EventClocks::new(&own(&b, 1), &[]));
        assert_eq!(order.components.find(&b), Some(old));
        // `c` writes x under L: rule (a) orders it after a's section, and
        // what was a's at that id must not now order b's write before it.
        order.acquired(3, "L", &EventClocks::new(&own(&c, 1), &[]));
        let write = own(&c, 2);
        order.accessed(3, &x, true, &EventClocks::new(&write, &[]));
        assert!(!order.ordered(&(b.clone(), 1), 3, &EventClocks::new(&write, &[]), false));
        // A component seen for the first time after that gets a new id.
        let d: Arc<str> = Arc::from("svc#1/4");
        order.accessed(4, &x, false, &EventClocks::new(&own(&d, 1), &[]));
        assert_eq!(order.components.find(&d), Some(old + 2));
    }
}
