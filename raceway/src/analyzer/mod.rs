//! The analysis: data races (happens-before, FastTrack-style) and atomicity
//! violations (AVIO's four unserializable interleavings), over a stream of
//! wire events from this process, from JSON-lines files, or merged from
//! several services.
//!
//! # How it works
//!
//! Events are taken in timestamp order ([`Reorder`] restores it for streams
//! that interleave several sources); within one execution, program order.
//!
//! - **Data races.** Per variable, the last write and the reads since it,
//!   each with its execution's epoch (its own clock component). An access
//!   races with a previous one from another execution when the previous
//!   one's epoch is not in the access's vector clock: nothing (lock hand-off,
//!   spawn, join, a call that carried the clock) ordered them. Reads never
//!   race reads, atomic accesses never race each other, and an execution
//!   never races itself. Each check is one lookup, as in FastTrack.
//! - **Atomicity violations.** An atomic region is one call of a `#[track]`
//!   function (unless `atomic = false`) or one request. When an execution
//!   accesses a variable twice, p then c, and the innermost region that
//!   contains both is still open, another execution's access r between them
//!   makes the pair unserializable in four cases: R-W-R (inconsistent read),
//!   R-W-W (lost update), W-R-W (dirty read), W-W-R (overwritten write).
//!   Synchronization does not excuse it: this finds the lost update where
//!   every access is under a lock. Executions that the region itself
//!   spawned are its own work, not interference.
//!
//! A pair found both ways is reported once, as the atomicity violation,
//! marked [`also_unsynchronized`](Race::also_unsynchronized).
//!
//! # What is retained
//!
//! Per live execution: its name, trace, call stack and the spawn that
//! created it. Per variable: the last write, the reads since it (at most one
//! per execution), and per live execution its last access inside an atomic
//! region. Each remembered access shares its event's source location
//! string, and one shared copy of each lock set that accesses name (at most
//! 65,536). Plus the deduplicated report. Events themselves are not kept
//! (the analysis borrows them), so memory does not grow with the number of
//! events; it grows with the executions alive at once and with the
//! variables seen. Variables are not forgotten: a `Traced` key or a name
//! counts once, but an unkeyed place is known by its address, so a program
//! that tracks short-lived unkeyed places grows the analysis with every
//! new address (and a reused address is taken for the same variable). Give
//! shared state a `Traced` key in long-running embedded use.

mod reorder;
mod report;

pub use reorder::Reorder;
pub use report::{Access, Race, RaceKind, Report};

use crate::event::AccessType;
use crate::wire::{Event, EventKind, FUNCTION_RETURN, TAG_ATOMIC_REGION};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// Spawn events remembered until their child's first event, at most.
const MAX_PENDING_SPAWNS: usize = 65_536;

/// An access as the analysis remembers it: what checks need, and what a
/// report needs (not the event's vector clock). Held by value where it is
/// remembered, so replacing a remembered access reuses its slot instead of
/// chasing a pointer to a cold allocation.
///
/// What the checks read comes first and fills one cache line (`repr(C)`
/// keeps the order, the alignment keeps it on one line): checking an access
/// that is not a race reads nothing else of it. A unit test keeps it so.
#[derive(Clone)]
#[repr(C, align(64))]
struct Rec {
    /// `who.id`, copied inline: the checks compare executions on every
    /// access, without following `who`.
    exec: u64,
    /// Position in the analysis order.
    seq: u64,
    /// The execution's own clock component and its value at the access.
    epoch: Option<(Arc<str>, u64)>,
    /// Where `epoch`'s component was in the clock of the last access
    /// checked against this one (or against the execution's previous
    /// access): clocks list components in much the same order, so it is
    /// usually where the next one has it too.
    hint: Hint,
    write: bool,
    atomic: bool,
    id: Uuid,
    // What a report needs.
    who: Arc<Who>,
    /// The innermost `#[track]` function around the access.
    function: Option<Arc<str>>,
    trace_id: Uuid,
    access_type: AccessType,
    old_value: Option<crate::Value>,
    new_value: crate::Value,
    location: Arc<str>,
    locks: Arc<[String]>,
}

impl Rec {
    fn location(&self) -> &str {
        &self.location
    }

    fn to_access(&self) -> Access {
        Access {
            access_type: self.access_type,
            old_value: self.old_value.clone(),
            new_value: self.new_value.clone(),
            location: self.location.to_string(),
            function: self.function.as_deref().map(str::to_string),
            execution: self.who.name.to_string(),
            service: self.who.service.to_string(),
            trace_id: self.trace_id.to_string(),
            locks: self.locks.to_vec(),
            event_id: self.id.to_string(),
        }
    }
}

/// An event's vector clock, indexed when it is consulted often.
struct Clock<'a> {
    entries: &'a [(Arc<str>, u64)],
    index: Option<HashMap<&'a str, u64>>,
}

impl<'a> Clock<'a> {
    fn new(entries: &'a [(Arc<str>, u64)], lookups: usize) -> Self {
        // A scan per lookup (pointer comparisons first) is cheaper than
        // building an index unless there are many lookups in a long clock.
        let index = (lookups > 32 && entries.len() > 32).then(|| {
            let mut index = HashMap::with_capacity_and_hasher(entries.len(), Default::default());
            index.extend(entries.iter().map(|(c, n)| (&**c, *n)));
            index
        });
        Clock { entries, index }
    }

    /// The entry of `component`, looked for first at or next to `near`
    /// (a clock lists its own execution's entry last, which moves the
    /// others by one between executions); and where it was found, when
    /// not there.
    fn get(&self, component: &Arc<str>, near: usize) -> (u64, Option<usize>) {
        for at in [near, near + 1, near.wrapping_sub(1)] {
            if let Some((c, n)) = self.entries.get(at) {
                if Arc::ptr_eq(c, component) {
                    return (*n, (at != near).then_some(at));
                }
            }
        }
        if let Some(index) = &self.index {
            return (index.get(&**component).copied().unwrap_or(0), None);
        }
        // Components are usually shared: compare pointers first.
        let at = (self.entries.iter().position(|(c, _)| Arc::ptr_eq(c, component)))
            .or_else(|| self.entries.iter().position(|(c, _)| c == component));
        (at.map_or(0, |at| self.entries[at].1), at)
    }

    /// Whether `earlier` happens before the event with this clock.
    fn after(&self, earlier: &Rec) -> bool {
        let Some((component, n)) = &earlier.epoch else {
            return false;
        };
        let (seen, found_at) = self.get(component, earlier.hint.get());
        if let Some(at) = found_at {
            // Where the next clock probably lists the component too.
            earlier.hint.set(at);
            earlier.who.hint.set(at);
        }
        seen >= *n
    }
}

/// A call on an execution's stack.
struct Frame {
    id: Uuid,
    /// A request's region, opened by its first event; no function return
    /// closes it.
    request: bool,
    function: Arc<str>,
    /// The regions open around the call: the execution's again when it
    /// returns.
    outer: Arc<[Uuid]>,
}

/// An execution as its accesses name it.
struct Who {
    /// The analysis's id of the execution: executions are compared by it.
    id: u64,
    /// The execution's name (its `thread_id`).
    name: Arc<str>,
    /// The service the execution belongs to.
    service: Arc<str>,
    /// Where clocks list the execution's component, as last found: where
    /// its next access starts looking.
    hint: Hint,
}

/// A position in a clock where a component probably is, updated as checks
/// find it elsewhere. Atomic (relaxed) so that the analysis stays `Sync`;
/// a stale hint costs a look elsewhere, never a wrong answer.
#[derive(Default)]
struct Hint(AtomicU32);

impl Hint {
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed) as usize
    }

    fn set(&self, at: usize) {
        self.0.store(at as u32, Ordering::Relaxed);
    }
}

impl Clone for Hint {
    fn clone(&self) -> Self {
        Hint(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}

struct Exec {
    who: Arc<Who>,
    calls: Vec<Frame>,
    /// The ids of the open atomic regions, outermost first.
    regions: Arc<[Uuid]>,
    /// The execution that spawned this one, and its open regions then.
    spawned_by: Option<(Arc<str>, Arc<[Uuid]>)>,
    /// Variables where this execution has a [`Local`].
    touched: Vec<Arc<str>>,
}

impl Exec {
    /// Enters a call (or a request) with event id `id`: a region when
    /// `atomic`.
    fn push(&mut self, id: Uuid, atomic: bool, request: bool, function: Arc<str>) {
        let outer = self.regions.clone();
        if atomic {
            self.regions = outer.iter().copied().chain([id]).collect();
        }
        self.calls.push(Frame { id, request, function, outer });
    }

    fn pop(&mut self) {
        if let Some(frame) = self.calls.pop() {
            self.regions = frame.outer;
        }
    }
}

/// An execution's last access to a variable, and the regions open then.
struct Local {
    p: Rec,
    regions: Arc<[Uuid]>,
}

struct Var {
    /// The variable's name, the key it is stored under.
    name: Arc<str>,
    /// Its length without the address of an unkeyed place: the name
    /// reports give.
    display_len: usize,
    last_write: Option<Rec>,
    reads: Vec<Rec>,
    /// Keyed by the execution's id.
    locals: HashMap<u64, Local>,
}

/// The incremental analysis. Feed it events in timestamp order with
/// [`observe`](Analyzer::observe); read the result with
/// [`report`](Analyzer::report) at any time.
#[derive(Default)]
pub struct Analyzer {
    execs: HashMap<Arc<str>, Exec>,
    vars: HashMap<Arc<str>, Var>,
    spawns: HashMap<Uuid, (Arc<str>, Arc<[Uuid]>)>,
    races: Races,
    events: u64,
    executions: u64,
    /// Lock sets, shared by the accesses that name them (a program has a
    /// bounded number of them).
    lock_sets: HashSet<Arc<[String]>>,
    /// Function names, shared by the calls that name them.
    functions: HashSet<Arc<str>>,
}

/// The display name of a wire variable: without the `@0x…` address that
/// identifies an unkeyed place.
pub fn display_name(variable: &str) -> &str {
    match variable.rfind("@0x") {
        Some(at) => &variable[..at],
        None => variable,
    }
}

impl Analyzer {
    /// An empty analysis.
    pub fn new() -> Self {
        Analyzer::default()
    }

    /// Takes one event. The analysis keeps what it needs (shared where it
    /// repeats: locations, lock sets, names), never the event.
    pub fn observe(&mut self, event: &Event) {
        self.events += 1;
        if let EventKind::StateChange { variable, .. } = &event.kind {
            prefetch(variable.as_bytes());
            prefetch(&event.lock_set);
            prefetch(&event.causality_vector);
        }
        let thread_id = &event.metadata.thread_id;
        // One lookup of the execution per event: what the access needs of it
        // is taken here. The key is the name its first event shared, so
        // the events that share it compare by pointer.
        let state = match self.execs.get_mut(thread_id) {
            Some(state) => state,
            None => {
                self.executions += 1;
                let name = thread_id.clone();
                let who = Who {
                    id: self.executions,
                    name: name.clone(),
                    service: event.metadata.service_name.clone(),
                    hint: Hint::default(),
                };
                let mut state = Exec {
                    who: Arc::new(who),
                    calls: Vec::new(),
                    regions: Arc::new([]),
                    // A spawned execution's first event names the spawn.
                    spawned_by: event.parent_id.and_then(|p| self.spawns.remove(&p)),
                    touched: Vec::new(),
                };
                // A request opened by the middleware is one region.
                if let EventKind::HttpRequest { method, url, .. } = &event.kind {
                    state.push(event.id, true, true, Arc::from(format!("{method} {url}")));
                }
                self.execs.entry(name).or_insert(state)
            }
        };
        let who = state.who.clone();
        match &event.kind {
            EventKind::FunctionCall { function_name, .. } => {
                let atomic = event.metadata.tags.get(TAG_ATOMIC_REGION).map_or(true, |v| v != "false");
                let function = intern(&mut self.functions, function_name.as_str());
                state.push(event.id, atomic, false, function);
            }
            // Never pop a request's region with a function's return.
            EventKind::Custom { name, .. }
                if name == FUNCTION_RETURN && state.calls.last().is_some_and(|f| !f.request) =>
            {
                state.pop();
            }
            EventKind::AsyncSpawn { .. } => {
                if self.spawns.len() >= MAX_PENDING_SPAWNS {
                    self.spawns.clear();
                }
                let regions = state.regions.clone();
                self.spawns.insert(event.id, (who.name.clone(), regions));
            }
            EventKind::StateChange { variable, access_type, old_value, new_value, location } => {
                let access = StateChange { variable, access_type: *access_type, old_value, new_value, location };
                let context = AccessContext {
                    function: state.calls.last().map(|f| f.function.clone()),
                    regions: (!state.regions.is_empty()).then(|| state.regions.clone()),
                };
                self.access(who, event, access, context);
            }
            _ => {}
        }
    }

    /// Forgets an execution that ended: its call stack and its last
    /// accesses (the accesses others may still race with stay).
    pub fn execution_ended(&mut self, thread_id: &str) {
        if let Some(state) = self.execs.remove(thread_id) {
            for var in state.touched {
                if let Some(v) = self.vars.get_mut(&var) {
                    v.locals.remove(&state.who.id);
                }
            }
        }
    }

    fn access(&mut self, who: Arc<Who>, event: &Event, access: StateChange<'_>, context: AccessContext) {
        let Event { id, trace_id, causality_vector, lock_set, .. } = event;
        let StateChange { variable, access_type, old_value, new_value, location } = access;
        // Already shared: the converter makes one per source location.
        let location = location.clone();
        let locks = intern(&mut self.lock_sets, lock_set.as_slice());
        let AccessContext { function, regions } = context;
        let exec = who.id;
        let rec = Rec {
            exec,
            hint: who.hint.clone(),
            who,
            seq: self.events,
            epoch: causality_vector.last().cloned(),
            write: access_type.is_write(),
            atomic: access_type.is_atomic(),
            function,
            id: *id,
            trace_id: *trace_id,
            access_type,
            old_value: old_value.clone(),
            new_value: new_value.clone(),
            location,
            locks,
        };
        let var = match self.vars.get_mut(variable.as_str()) {
            Some(var) => var,
            None => {
                let name: Arc<str> = Arc::from(variable.as_str());
                let var = Var {
                    name: name.clone(),
                    display_len: display_name(&name).len(),
                    last_write: None,
                    reads: Vec::new(),
                    locals: HashMap::default(),
                };
                self.vars.entry(name).or_insert(var)
            }
        };
        let variable = var.name.clone();
        let clock = Clock::new(causality_vector, 1 + if rec.write { var.reads.len() } else { 0 });

        // Atomicity: the previous access p of this execution, in a region
        // still open, and another execution's access in between. p is this
        // execution's latest access, so a write after it is another's: the
        // variable's last write if newer than p; reads after a write p are
        // the reads since it.
        let Var { last_write, reads, locals, .. } = var;
        // Only an access inside an atomic region can end a pair (the
        // innermost region around both must still be open), and only such
        // an access can start one: outside every region, the execution's
        // last access is neither consulted nor remembered. (One remembered
        // earlier stays, harmless: its regions have all closed, and a
        // region never reopens.)
        let slot = regions.map(|regions| (locals.entry(exec), regions));
        let mut violated = None;
        let races = &mut self.races;
        let name = &variable[..var.display_len];
        // A conflicting earlier access that nothing ordered before this one.
        let conflicts = |prev: &Rec| prev.exec != exec && !(prev.atomic && rec.atomic) && !clock.after(prev);
        if let Some((std::collections::hash_map::Entry::Occupied(local), regions)) = &slot {
            let local = local.get();
            if let Some(region) = innermost_common(&local.regions, regions) {
                let execs = &self.execs;
                let foreign = |r: &&Rec| {
                    r.seq > local.p.seq && r.exec != exec && !spawned_within(execs, &r.who.name, &rec.who.name, region)
                };
                let remote_write = last_write.as_ref().filter(foreign);
                let remote_read = || reads.iter().rev().find(|r| foreign(r));
                let found = match (local.p.write, rec.write) {
                    (false, false) => remote_write.map(|r| (RaceKind::InconsistentRead, r)),
                    (false, true) => remote_write.map(|r| (RaceKind::LostUpdate, r)),
                    (true, true) => remote_read().map(|r| (RaceKind::DirtyRead, r)),
                    (true, false) => remote_write.map(|r| (RaceKind::OverwrittenWrite, r)),
                };
                if let Some((kind, r)) = found {
                    // Reported once, as the violation, when it is also a
                    // data race (the data-race pass below skips `r`).
                    let unsync = conflicts(r);
                    let function = execs[&rec.who.name].calls.iter().find(|f| f.id == region).map(|f| &f.function);
                    let p = &local.p;
                    let why = || {
                        let function = function.map_or("the region", |f| &**f);
                        explain_violation(kind, name, p, r, &rec, function, unsync)
                    };
                    races.record(kind, (&variable, name), r, &rec, Some(p), unsync, why);
                    violated = Some(r.id);
                }
            }
        }

        // Data races: earlier conflicting accesses not ordered before this
        // one (the last write; and the reads since it, for a write).
        let writes = last_write.iter();
        let earlier = writes.chain(reads.iter().filter(|_| rec.write));
        for prev in earlier.filter(|prev| Some(prev.id) != violated && conflicts(prev)) {
            races.record(RaceKind::DataRace, (&variable, name), prev, &rec, None, false, || {
                explain_race(name, prev, &rec)
            });
        }

        // State for what comes next: the variable's history, and the
        // execution's last access in a region (a copy).
        let fresh = match slot {
            None => false,
            Some((std::collections::hash_map::Entry::Occupied(mut slot), regions)) => {
                slot.insert(Local { p: rec.clone(), regions });
                false
            }
            Some((std::collections::hash_map::Entry::Vacant(slot), regions)) => {
                slot.insert(Local { p: rec.clone(), regions });
                true
            }
        };
        if fresh {
            if let Some(state) = self.execs.get_mut(&rec.who.name) {
                state.touched.push(variable.clone());
            }
        }
        if rec.write {
            *last_write = Some(rec);
            reads.clear();
        } else {
            // At most one read per execution: its latest.
            reads.retain(|r| r.exec != exec);
            reads.push(rec);
        }
    }
}

/// The deduplicated report: one entry per variable and pair of source
/// locations, with a count.
#[derive(Default)]
struct Races {
    list: Vec<Race>,
    /// What identifies each entry of `list`, as shared strings: a repeated
    /// race is recognized by comparing pointers, without reading the report.
    keys: Vec<RaceKey>,
    /// Hash of (variable, first location, second location) to its entry.
    index: HashMap<u64, usize>,
}

/// A variable (by its display name) and two source locations.
struct RaceKey {
    variable: Arc<str>,
    display_len: usize,
    first: Arc<str>,
    second: Arc<str>,
}

impl RaceKey {
    fn is(&self, variable: &Arc<str>, name: &str, first: &Arc<str>, second: &Arc<str>) -> bool {
        // `Arc`'s equality compares pointers before contents.
        (Arc::ptr_eq(&self.variable, variable) || &self.variable[..self.display_len] == name)
            && self.first == *first
            && self.second == *second
    }
}

impl Races {
    /// Records a race on `variable` (reported as `name`) between `first`
    /// and `second`, or counts it again.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        kind: RaceKind,
        (variable, name): (&Arc<str>, &str),
        first: &Rec,
        second: &Rec,
        start: Option<&Rec>,
        unsync: bool,
        explanation: impl FnOnce() -> String,
    ) {
        let (loc1, loc2) = (&first.location, &second.location);
        let key = {
            use std::hash::BuildHasher;
            rustc_hash::FxBuildHasher.hash_one((name, &**loc1, &**loc2))
        };
        let same = |i: &usize| self.keys[*i].is(variable, name, loc1, loc2);
        let found = self.index.get(&key).copied().filter(same).or_else(|| {
            // A hash collision (or none at all): look for the pair itself.
            self.index.get(&key).and_then(|_| (0..self.keys.len()).find(same))
        });
        if let Some(i) = found {
            let race = &mut self.list[i];
            race.count += 1;
            race.also_unsynchronized |= unsync || (kind == RaceKind::DataRace && race.kind != RaceKind::DataRace);
            if kind.specificity() > race.kind.specificity() {
                race.also_unsynchronized = true;
                race.kind = kind;
                race.explanation = explanation();
                race.region_start = start.map(Rec::to_access);
            }
            return;
        }
        let explanation = explanation();
        self.index.insert(key, self.list.len());
        let display_len = name.len();
        self.keys.push(RaceKey { variable: variable.clone(), display_len, first: loc1.clone(), second: loc2.clone() });
        self.list.push(Race {
            kind,
            variable: name.to_string(),
            count: 1,
            also_unsynchronized: unsync,
            explanation,
            accesses: [first.to_access(), second.to_access()],
            region_start: start.map(Rec::to_access),
        });
    }
}

impl Analyzer {
    /// How much the analysis holds: `(executions, variables, remembered
    /// accesses)`. It follows what is live in the program, not how long it
    /// ran.
    pub fn retained(&self) -> (usize, usize, usize) {
        let accesses =
            self.vars.values().map(|v| usize::from(v.last_write.is_some()) + v.reads.len() + v.locals.len()).sum();
        (self.execs.len(), self.vars.len(), accesses)
    }

    /// The report so far.
    pub fn report(&self) -> Report {
        Report {
            races: self.races.list.clone(),
            events_analyzed: self.events,
            executions: self.executions,
            variables: self.vars.len() as u64,
        }
    }
}

/// What an access takes from its execution's state.
struct AccessContext {
    /// The innermost `#[track]` function.
    function: Option<Arc<str>>,
    /// The atomic regions open; `None` outside every region.
    regions: Option<Arc<[Uuid]>>,
}

/// The fields of a `StateChange`, borrowed from its event.
struct StateChange<'a> {
    variable: &'a String,
    access_type: AccessType,
    old_value: &'a Option<crate::Value>,
    new_value: &'a crate::Value,
    location: &'a Arc<str>,
}

/// Shared copies kept per table at most: beyond, a new value gets a copy of
/// its own (lock ids carry addresses, so a program that creates locks
/// without end must not grow the analysis without end).
const MAX_INTERNED: usize = 65_536;

/// The shared copy of `value`, made on first sight.
fn intern<T: ?Sized + std::hash::Hash + Eq>(set: &mut HashSet<Arc<T>>, value: &T) -> Arc<T>
where
    Arc<T>: for<'a> From<&'a T>,
{
    match set.get(value) {
        Some(shared) => shared.clone(),
        None => {
            let shared: Arc<T> = Arc::from(value);
            if set.len() < MAX_INTERNED {
                set.insert(shared.clone());
            }
            shared
        }
    }
}

/// Asks the CPU to bring `entries` into the cache. An access reads what its
/// event points to (the variable's name, the lock set, and the clock: its
/// own entry, and the entries of the executions it is checked against),
/// which a stream's events bring in cold; fetched together while the
/// execution is looked up, they are there when needed instead of missing
/// one after the other.
fn prefetch<T>(entries: &[T]) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(entries);
        let start = entries.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch is a hint: it never faults and changes no
            // memory, and the address is inside `entries`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = entries;
}

/// The innermost region open both at `p` and now.
fn innermost_common(then: &[Uuid], now: &[Uuid]) -> Option<Uuid> {
    then.iter().zip(now).take_while(|(a, b)| a == b).last().map(|(a, _)| *a)
}

/// Whether `exec` descends from `owner` through spawns made while `region`
/// of `owner` was open.
fn spawned_within(execs: &HashMap<Arc<str>, Exec>, exec: &str, owner: &str, region: Uuid) -> bool {
    let mut current = exec;
    for _ in 0..256 {
        match execs.get(current).and_then(|e| e.spawned_by.as_ref()) {
            Some((parent, regions)) if &**parent == owner => return regions.contains(&region),
            Some((parent, _)) => current = parent,
            None => return false,
        }
    }
    false
}

fn verb(rec: &Rec) -> &'static str {
    if rec.write {
        "wrote"
    } else {
        "read"
    }
}

fn explain_race(variable: &str, first: &Rec, second: &Rec) -> String {
    let (a, b) = (&first.locks, &second.locks);
    let locks = if a.is_empty() && b.is_empty() {
        "neither held a lock".to_string()
    } else if a.is_empty() || b.is_empty() {
        let (holder, held) = if a.is_empty() { (&second.who.name, b) } else { (&first.who.name, a) };
        format!("only {holder} held a lock ({})", held.join(", "))
    } else {
        format!("they held different locks ([{}] and [{}])", a.join(", "), b.join(", "))
    };
    format!(
        "{} {} {variable} at {} and {} {} it at {}; no lock hand-off, spawn, join or propagated call ordered the two, and {locks}.",
        first.who.name,
        verb(first),
        first.location(),
        second.who.name,
        verb(second),
        second.location()
    )
}

fn explain_violation(kind: RaceKind, variable: &str, p: &Rec, r: &Rec, c: &Rec, region: &str, unsync: bool) -> String {
    let (t, u) = (&c.who.name, &r.who.name);
    let mut text = match kind {
        RaceKind::LostUpdate => format!(
            "{t} read {variable} at {} and wrote it back at {} within one call of {region}, but {u} wrote it at {} in between: that write was lost.",
            p.location(), c.location(), r.location()
        ),
        RaceKind::InconsistentRead => format!(
            "{t} read {variable} at {} and again at {} within one call of {region}, but {u} wrote it at {} in between: the two reads disagree.",
            p.location(), c.location(), r.location()
        ),
        RaceKind::DirtyRead => format!(
            "{u} read {variable} at {} between two writes by {t} ({} and {}) within one call of {region}: it saw an intermediate value.",
            r.location(), p.location(), c.location()
        ),
        _ => format!(
            "{t} wrote {variable} at {} and read it back at {} within one call of {region}, but {u} overwrote it at {} in between.",
            p.location(), c.location(), r.location()
        ),
    };
    if unsync {
        text.push_str(" The two accesses were also unsynchronized (a data race).");
    }
    text
}

/// Analyzes a finite set of events: sorts them by timestamp (program order
/// kept within each execution) and runs the analysis.
pub fn analyze(events: impl IntoIterator<Item = Event>) -> Report {
    let mut analyzer = Analyzer::new();
    for event in reorder::sort_by_time(events) {
        analyzer.observe(&event);
    }
    analyzer.report()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Metadata;

    /// A state change by execution `exec` with vector clock `clock` (its own
    /// entry last, as the wire format has it).
    fn access(n: u128, exec: &str, clock: &[(&str, u64)], write: bool) -> Event {
        Event {
            id: Uuid::from_u128(n),
            trace_id: Uuid::from_u128(1),
            parent_id: None,
            timestamp: format!("2026-11-25T10:00:00.{n:09}Z"),
            kind: EventKind::StateChange {
                variable: "x".into(),
                old_value: None,
                new_value: crate::Value::I64(1),
                location: Arc::from(format!("src/lib.rs:{n}:1")),
                access_type: if write { AccessType::Write } else { AccessType::Read },
            },
            metadata: Metadata {
                thread_id: exec.into(),
                process_id: 1,
                service_name: "svc".into(),
                environment: "test".into(),
                tags: Arc::default(),
                duration_ns: None,
                instance_id: None,
                distributed_span_id: None,
                upstream_span_id: None,
            },
            causality_vector: clock.iter().map(|&(c, n)| (Arc::from(c), n)).collect(),
            lock_set: Vec::new(),
        }
    }

    #[test]
    fn a_component_is_found_wherever_a_clock_lists_it() {
        // B's clock lists `a` first, C's lists `x` there: where B had it is
        // only a hint for C, and C has not seen A's write.
        let events = [
            access(1, "A", &[("a", 5)], true),
            access(2, "B", &[("a", 5), ("b", 1)], false),
            access(3, "C", &[("x", 9), ("a", 4), ("c", 1)], false),
            access(4, "D", &[("x", 9), ("y", 1), ("a", 5), ("d", 1)], false),
        ];
        let report = analyze(events);
        let racing: Vec<_> = report.races().iter().map(|r| r.accesses[1].execution.as_str()).collect();
        assert_eq!(racing, ["C"]);
    }

    #[test]
    fn the_analysis_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Analyzer>();
    }

    #[test]
    fn what_the_checks_read_of_an_access_is_on_its_first_cache_line() {
        assert_eq!(std::mem::align_of::<Rec>(), 64);
        assert!(std::mem::offset_of!(Rec, id) + std::mem::size_of::<Uuid>() <= 64);
    }

    #[test]
    fn an_access_is_ordered_by_the_component_its_event_names() {
        // A's first event names component `a`; a later one names `a2` (an
        // execution whose own entry changed). B has seen `a2` at 5, so A's
        // write there happens before B's read; it has not seen `a` at 5.
        let events = [
            access(1, "A", &[("a", 1)], true),
            access(2, "A", &[("a2", 5)], true),
            access(3, "B", &[("a", 1), ("a2", 5), ("b", 1)], false),
        ];
        assert!(analyze(events.clone()).is_clean());
        // Without the edge, the same read races with the write.
        let unordered = [events[0].clone(), events[1].clone(), access(3, "B", &[("a", 1), ("b", 1)], false)];
        assert_eq!(analyze(unordered).races().len(), 1);
    }
}
