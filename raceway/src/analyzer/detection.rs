//! Detection: the incremental analysis of a stream of wire events. Per
//! execution, its call stack and atomic regions; per variable, the last
//! write, the reads since it, and each execution's last access in a region;
//! each access checked against them (see the [module docs](super)).

use super::access::{AccessRecord, ExecIdentity};
use super::clock_lookup::{Clock, Hint};
use super::predict::{EventClocks, Order, Sections};
use super::report::explain::{explain_race, explain_violation, schedule_race, schedule_violation};
use super::report::store::{Races, HAPPENED};
use super::report::{RaceKind, Report};
use crate::event::AccessType;
use crate::wire::{
    Event, EventKind, FUNCTION_RETURN, ORIGIN_JOIN_UNKNOWN, ORIGIN_UNKNOWN, TAG_ATOMIC_REGION, TAG_ORIGIN,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Spawn events remembered until their child's first event, at most.
const MAX_PENDING_SPAWNS: usize = 65_536;

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

struct Exec {
    who: Arc<ExecIdentity>,
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
    p: AccessRecord,
    regions: Arc<[Uuid]>,
    /// The critical section of each lock that `p` was in.
    sections: Sections,
    /// Other executions' accesses before `p` that a feasible reordering can
    /// run after it (predicted interleavings with the next access).
    movable: Vec<AccessRecord>,
    /// The access before `p` in a region that both are in: the pair whose
    /// region a later access of another execution can be predicted to break.
    pair: Option<Pair>,
}

/// Two accesses of one execution in one region.
struct Pair {
    first: AccessRecord,
    sections: Sections,
    region: Uuid,
    /// The region's function.
    function: Option<Arc<str>>,
}

/// Pairs of ended executions kept per variable (their last ones).
const ENDED_PAIRS: usize = 4;

struct Var {
    /// What identifies the variable, the key it is stored under: its name,
    /// or for an unkeyed place its address and size (`@0x…+8`), whatever
    /// expression reached it.
    key: Arc<str>,
    /// The wire name of its first access.
    name: Arc<str>,
    /// Its length without the address of an unkeyed place: the name
    /// reports give.
    display_len: usize,
    last_write: Option<AccessRecord>,
    reads: Vec<AccessRecord>,
    /// Keyed by the execution's id.
    locals: HashMap<u64, Local>,
    /// Other unkeyed places whose memory overlaps this one's (a struct and
    /// its fields, an array and its elements): accesses of both conflict.
    overlaps: Vec<Arc<str>>,
    /// The last pairs of executions that ended, which a later access can
    /// still be predicted to break; at most [`ENDED_PAIRS`].
    ended: std::collections::VecDeque<Local>,
}

/// The incremental analysis. Feed it events in timestamp order with
/// [`observe`](Analyzer::observe); read the result with
/// [`report`](Analyzer::report) at any time.
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
    /// Unkeyed places by start address: their end and name.
    places: BTreeMap<usize, Vec<(usize, Arc<str>)>>,
    /// The largest place seen, which bounds how far before an address an
    /// overlapping place can start.
    largest_place: usize,
    /// Links to add to existing places that a new place overlaps.
    backlinks: Vec<(Arc<str>, Arc<str>)>,
    /// Unordered pairs that a spawn or join raceway did not see may order.
    unknown_edges: UnknownEdges,
    /// Whether to predict (see [`super::predict`]).
    predict: bool,
    /// The order a predicted reordering keeps.
    order: Order,
    /// Components of ended executions whose slots were freed, not yet
    /// found unreferenced (see [`retire_components`](Analyzer::retire_components)).
    freed: Vec<Arc<str>>,
}

/// The unordered pairs of accesses that involve an execution raceway did
/// not see start (a plain `std::thread::spawn` thread): its spawn and join
/// are unknown, so their absence must not be taken for a race.
///
/// - The spawn could order everything before the execution's first event
///   before all of it: such a pair is not reported.
/// - Its join could order all of it before what the joining execution does
///   after: a pair of one of its accesses and a later access of another
///   execution is held back until the execution records again (it was
///   still running, so no join of it came between them): then it is
///   reported. If it ends first, it is not. So a pair is reported when both
///   executions are seen running around it.
///
/// What is not reported is counted, and the report says so.
#[derive(Default)]
struct UnknownEdges {
    /// Held back, by the execution whose join could order them.
    pending: HashMap<u64, Vec<PendingRace>>,
    pending_count: usize,
    /// Pairs not reported.
    not_reported: u64,
}

struct PendingRace {
    variable: Arc<str>,
    name: String,
    prev: AccessRecord,
    rec: AccessRecord,
}

/// Pairs held back at most; beyond, they count as not reported.
const MAX_PENDING_RACES: usize = 4_096;

impl UnknownEdges {
    /// Whether an unseen spawn or join may order `prev` before `rec` (which
    /// nothing recorded orders): the pair is then counted or held back.
    fn explains(&mut self, variable: &Arc<str>, name: &str, prev: &AccessRecord, rec: &AccessRecord) -> bool {
        if rec.who.spawn_unknown && prev.seq < rec.who.first_seq {
            self.not_reported += 1;
            return true;
        }
        if prev.who.origin_unknown {
            if self.pending_count < MAX_PENDING_RACES {
                let pending = PendingRace {
                    variable: variable.clone(),
                    name: name.to_string(),
                    prev: prev.clone(),
                    rec: rec.clone(),
                };
                self.pending.entry(prev.exec).or_default().push(pending);
                self.pending_count += 1;
            } else {
                self.not_reported += 1;
            }
            return true;
        }
        false
    }

    /// Execution `exec` recorded again: the pairs held back for it are
    /// races.
    fn confirm(&mut self, exec: u64, races: &mut Races) {
        let Some(held) = self.pending.remove(&exec) else { return };
        self.pending_count -= held.len();
        for p in held {
            races.record(
                RaceKind::DataRace,
                (&p.variable, &p.name),
                &p.prev,
                &p.rec,
                None,
                (false, false),
                HAPPENED,
                || explain_race(&p.name, &p.prev, &p.rec),
            );
        }
    }

    /// Execution `exec` ended without recording again: its join may order
    /// the pairs held back for it. (Its end's time does not bound the join:
    /// `std::thread::scope` returns once a thread's closure is done, before
    /// the thread's own teardown records its end.)
    fn ended(&mut self, exec: u64) {
        if let Some(held) = self.pending.remove(&exec) {
            self.pending_count -= held.len();
            self.not_reported += held.len() as u64;
        }
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            execs: HashMap::default(),
            vars: HashMap::default(),
            spawns: HashMap::default(),
            races: Races::default(),
            events: 0,
            executions: 0,
            lock_sets: HashSet::default(),
            functions: HashSet::default(),
            places: BTreeMap::new(),
            largest_place: 0,
            backlinks: Vec::new(),
            unknown_edges: UnknownEdges::default(),
            predict: true,
            order: Order::default(),
            freed: Vec::new(),
        }
    }
}

impl Analyzer {
    /// An empty analysis, predicting (see [`with_prediction`](Analyzer::with_prediction)).
    pub fn new() -> Self {
        Analyzer::default()
    }

    /// An empty analysis that predicts races of feasible reorderings of the
    /// run (`true`, the default) or reports only what interleaved (`false`).
    pub fn with_prediction(predict: bool) -> Self {
        Analyzer { predict, ..Analyzer::default() }
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
                let who = ExecIdentity {
                    id: self.executions,
                    name: name.clone(),
                    service: event.metadata.service_name.clone(),
                    hint: Hint::default(),
                    origin_unknown: event
                        .metadata
                        .tags
                        .get(TAG_ORIGIN)
                        .is_some_and(|v| v == ORIGIN_UNKNOWN || v == ORIGIN_JOIN_UNKNOWN),
                    spawn_unknown: event.metadata.tags.get(TAG_ORIGIN).is_some_and(|v| v == ORIGIN_UNKNOWN),
                    first_seq: self.events,
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
        if self.unknown_edges.pending_count > 0 {
            // The execution is still running: no join of it can order what
            // it did before with what others did since.
            self.unknown_edges.confirm(who.id, &mut self.races);
        }
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
            EventKind::LockAcquire { lock_id, .. } if self.predict => {
                let clocks = EventClocks::new(&event.causality_vector, &event.hard_causality);
                self.order.acquired(who.id, lock_id, &clocks);
            }
            EventKind::LockRelease { lock_id, .. } if self.predict => {
                let clocks = EventClocks::new(&event.causality_vector, &event.hard_causality);
                self.order.released(who.id, lock_id, &clocks);
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
            self.unknown_edges.ended(state.who.id);
            self.order.ended(state.who.id);
            for var in state.touched {
                if let Some(v) = self.vars.get_mut(&var) {
                    if let Some(local) = v.locals.remove(&state.who.id).filter(|l| l.pair.is_some()) {
                        if self.predict {
                            if v.ended.len() >= ENDED_PAIRS {
                                v.ended.pop_front();
                            }
                            v.ended.push_back(local);
                        }
                    }
                }
            }
        }
    }

    fn access(&mut self, who: Arc<ExecIdentity>, event: &Event, access: StateChange<'_>, context: AccessContext) {
        let Event { id, trace_id, causality_vector, hard_causality, lock_set, .. } = event;
        let StateChange { variable, access_type, old_value, new_value, location } = access;
        // Already shared: the converter makes one per source location.
        let location = location.clone();
        let locks = intern(&mut self.lock_sets, lock_set.as_slice());
        let AccessContext { function, regions } = context;
        let exec = who.id;
        let rec = AccessRecord {
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
        let key = identity(variable);
        let var = match self.vars.get_mut(key) {
            Some(var) => var,
            None => {
                let key: Arc<str> = Arc::from(key);
                let name: Arc<str> = Arc::from(variable.as_str());
                let overlaps = match place_range(&name) {
                    Some(range) => self.place_seen(&key, range),
                    None => Vec::new(),
                };
                let var = Var {
                    key: key.clone(),
                    name: name.clone(),
                    display_len: super::display_name(&name).len(),
                    last_write: None,
                    reads: Vec::new(),
                    locals: HashMap::default(),
                    overlaps,
                    ended: Default::default(),
                };
                self.vars.entry(key).or_insert(var)
            }
        };
        let (variable, var_key) = (var.name.clone(), var.key.clone());
        let clock = Clock::new(causality_vector, 1 + if rec.write { var.reads.len() } else { 0 });
        // Overlapping places are checked once this one is updated (a copy of
        // the access, made only for them).
        let overlapping = (!var.overlaps.is_empty()).then(|| (var.overlaps.clone(), rec.clone()));
        // The order a predicted reordering keeps: this access's critical
        // sections, and the conflict edges into it (left out where the
        // access's own conflict must be: see `predict`).
        let predicting = self.predict && !rec.who.origin_unknown;
        let hard_clocks = EventClocks::new(causality_vector, hard_causality);
        let sections = if self.predict {
            self.order.accessed(exec, &var_key, rec.write, &hard_clocks)
        } else {
            self.order.outside()
        };
        let order = &self.order;
        // Whether a reordering must keep `prev` before this access (`own`:
        // leaving out the edges into this access itself).
        let kept_before = |prev: &AccessRecord, own: bool| {
            prev.who.origin_unknown || prev.epoch.as_ref().map_or(true, |e| order.ordered(e, exec, &hard_clocks, own))
        };

        // Atomicity: the previous access p of this execution, in a region
        // still open, and another execution's access in between. p is this
        // execution's latest access, so a write after it is another's: the
        // variable's last write if newer than p; reads after a write p are
        // the reads since it.
        let Var { last_write, reads, locals, ended, .. } = var;
        // Only an access inside an atomic region can end a pair (the
        // innermost region around both must still be open), and only such
        // an access can start one: outside every region, the execution's
        // last access is neither consulted nor remembered. (One remembered
        // earlier stays, harmless: its regions have all closed, and a
        // region never reopens.)
        let mut violated = None;
        let races = &mut self.races;
        let execs = &self.execs;
        let name = &variable[..var.display_len];
        // A conflicting earlier access that nothing ordered before this one.
        let conflicts =
            |prev: &AccessRecord| prev.exec != exec && !(prev.atomic && rec.atomic) && !prev.happens_before(&clock);
        let mut pair = None;
        if let (Some(local), Some(regions)) = (locals.get(&exec), &regions) {
            if let Some(region) = innermost_common(&local.regions, regions) {
                let foreign =
                    |r: &AccessRecord| r.exec != exec && !spawned_within(execs, &r.who.name, &rec.who.name, region);
                let function = execs[&rec.who.name].calls.iter().find(|f| f.id == region).map(|f| f.function.clone());
                let p = &local.p;
                let remote_write = last_write.as_ref().filter(|r| r.seq > p.seq && foreign(r));
                let remote_read = || reads.iter().rev().find(|r| r.seq > p.seq && foreign(r));
                let kind = violation(p.write, rec.write);
                let found = if kind == RaceKind::DirtyRead { remote_read() } else { remote_write };
                if let Some(r) = found {
                    // Reported once, as the violation, when it is also a
                    // data race (the data-race pass below skips `r`).
                    let unsync = conflicts(r);
                    let ordered = r.happens_before(&clock);
                    let why = || {
                        let function = function.as_deref().unwrap_or("the region");
                        explain_violation(kind, name, p, r, &rec, function, unsync, false)
                    };
                    races.record(kind, (&variable, name), r, &rec, Some(p), (unsync, ordered), HAPPENED, why);
                    violated = Some(r.id);
                } else if predicting {
                    // Predicted: another execution's access that ran before
                    // p, which a feasible reordering runs between p and this
                    // access.
                    let predicted = local.movable.iter().find(|r| {
                        r.write != (kind == RaceKind::DirtyRead)
                            && foreign(r)
                            && !one_section_around(&local.sections, &sections, &r.locks)
                    });
                    if let Some(r) = predicted {
                        let function = function.as_deref().unwrap_or("the region");
                        let schedule = || schedule_violation(kind, name, p, r, &rec);
                        let why = || explain_violation(kind, name, p, r, &rec, function, false, true);
                        races.record(
                            kind,
                            (&variable, name),
                            r,
                            &rec,
                            Some(p),
                            (false, r.happens_before(&clock)),
                            Some((schedule, true)),
                            why,
                        );
                        if !conflicts(r) {
                            violated = Some(r.id);
                        }
                    }
                }
                pair = Some(Pair { first: local.p.clone(), sections: local.sections.clone(), region, function });
            }
        }

        // Predicted, with this access as the interleaved one: another
        // execution's pair in one region, both of whose accesses ran before
        // this one, the second not kept before it.
        if predicting {
            for local in locals.values().chain(ended.iter()) {
                let Some(pair) = local.pair.as_ref().filter(|_| local.p.exec != exec) else { continue };
                let (p, c) = (&pair.first, &local.p);
                let kind = violation(p.write, c.write);
                // Cheapest first: the pattern, the order, the locks, then
                // the spawn chain.
                if rec.write == (kind == RaceKind::DirtyRead)
                    || kept_before(c, true)
                    || one_section_around(&pair.sections, &local.sections, &rec.locks)
                    || spawned_within(execs, &rec.who.name, &c.who.name, pair.region)
                {
                    continue;
                }
                let function = pair.function.as_deref().unwrap_or("the region");
                let schedule = || schedule_violation(kind, name, p, &rec, c);
                let why = || explain_violation(kind, name, p, &rec, c, function, false, true);
                races.record(kind, (&variable, name), &rec, c, Some(p), (false, false), Some((schedule, false)), why);
            }
        }

        // Data races: earlier conflicting accesses not ordered before this
        // one (the last write; and the reads since it, for a write); and,
        // predicted, those that only a lock hand-off between critical
        // sections that do not conflict ordered.
        let writes = last_write.iter();
        let earlier = writes.chain(reads.iter().filter(|_| rec.write));
        let unknown_edges = &mut self.unknown_edges;
        for prev in
            earlier.filter(|prev| Some(prev.id) != violated && prev.exec != exec && !(prev.atomic && rec.atomic))
        {
            // Unordered in this run: a race that happened (unless an edge
            // raceway did not see may order it). Ordered only through a
            // lock hand-off that a feasible reordering undoes: predicted.
            let happened = !prev.happens_before(&clock);
            let predicted = !happened
                && predicting
                && !prev.locks.iter().any(|l| rec.locks.contains(l))
                && !kept_before(prev, false);
            if (happened && unknown_edges.explains(&variable, name, prev, &rec)) || (!happened && !predicted) {
                continue;
            }
            let schedule = predicted.then_some((|| schedule_race(name, prev, &rec), true));
            races.record(RaceKind::DataRace, (&variable, name), prev, &rec, None, (false, !happened), schedule, || {
                explain_race(name, prev, &rec)
            });
        }

        // State for what comes next: the variable's history, and the
        // execution's last access in a region (a copy), with the accesses
        // before it that a reordering can run after it.
        let movable = if predicting && regions.is_some() {
            let before = last_write.iter().chain(reads.iter().rev().take(1));
            before.filter(|r| r.exec != exec && !kept_before(r, true)).take(2).cloned().collect()
        } else {
            Vec::new()
        };
        let fresh = match regions {
            None => false,
            Some(regions) => {
                let local = Local { p: rec.clone(), regions, sections, movable, pair };
                locals.insert(exec, local).is_none()
            }
        };
        if fresh {
            if let Some(state) = self.execs.get_mut(&rec.who.name) {
                state.touched.push(var_key);
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

        for (other, new) in self.backlinks.drain(..) {
            if let Some(var) = self.vars.get_mut(&other) {
                var.overlaps.push(new);
            }
        }
        if let Some((others, rec)) = overlapping {
            let clock = Clock::new(causality_vector, others.len() * 2);
            self.overlapping_races(&variable, &others, &rec, &clock);
        }
    }

    /// Registers a new unkeyed place covering `range`: the places it
    /// overlaps, linked both ways (the other side once the access is done).
    fn place_seen(&mut self, name: &Arc<str>, (start, size): (usize, usize)) -> Vec<Arc<str>> {
        let end = start.saturating_add(size.max(1));
        let from = start.saturating_sub(self.largest_place);
        let overlaps: Vec<Arc<str>> = self
            .places
            .range(from..end)
            .flat_map(|(_, places)| places.iter())
            .filter(|(other_end, _)| *other_end > start)
            .map(|(_, other)| other.clone())
            .collect();
        for other in &overlaps {
            self.backlinks.push((other.clone(), name.clone()));
        }
        self.places.entry(start).or_default().push((end, name.clone()));
        self.largest_place = self.largest_place.max(size);
        overlaps
    }

    /// The data-race check of an access of `variable` against the places
    /// that overlap it: their last write, and for a write the reads since.
    fn overlapping_races(&mut self, variable: &Arc<str>, others: &[Arc<str>], rec: &AccessRecord, clock: &Clock<'_>) {
        let name = super::display_name(variable);
        for other in others {
            let Some(var) = self.vars.get(other) else { continue };
            let writes = var.last_write.iter();
            let earlier = writes.chain(var.reads.iter().filter(|_| rec.write));
            for prev in earlier {
                let ordered_or_same =
                    prev.exec == rec.exec || (prev.atomic && rec.atomic) || prev.happens_before(clock);
                if !ordered_or_same && !self.unknown_edges.explains(variable, name, prev, rec) {
                    self.races.record(
                        RaceKind::DataRace,
                        (variable, name),
                        prev,
                        rec,
                        None,
                        (false, false),
                        HAPPENED,
                        || explain_race(name, prev, rec),
                    );
                }
            }
        }
    }
}

/// What identifies a wire variable: for an unkeyed place its address and
/// size (`@0x…+8`, whatever expression reached it); otherwise its name.
fn identity(variable: &str) -> &str {
    match variable.rfind("@0x") {
        Some(at) => &variable[at..],
        None => variable,
    }
}

/// The memory an unkeyed place's wire name gives (`text@0xADDRESS+SIZE`):
/// its start and size.
fn place_range(name: &str) -> Option<(usize, usize)> {
    let at = name.rfind("@0x")?;
    let (addr, size) = name[at + 3..].split_once('+')?;
    Some((usize::from_str_radix(addr, 16).ok()?, size.parse().ok()?))
}

impl Analyzer {
    /// How much the analysis holds: `(executions, variables, remembered
    /// accesses)`. It follows what is live in the program, not how long it
    /// ran.
    pub fn retained(&self) -> (usize, usize, usize) {
        let accesses = self
            .vars
            .values()
            .map(|v| usize::from(v.last_write.is_some()) + v.reads.len() + v.locals.len() + v.ended.len())
            .sum();
        (self.execs.len(), self.vars.len(), accesses)
    }

    /// The component (its wire name) of an ended execution, which nothing
    /// will run in again (its slot was freed, not handed on to a joiner),
    /// all of whose events were analyzed: a candidate for
    /// [`retire_components`](Analyzer::retire_components).
    pub(crate) fn component_freed(&mut self, component: Arc<str>) {
        self.freed.push(component);
    }

    /// The freed components that nothing the analysis remembers refers to
    /// any more: no remembered access of theirs (a variable's last write
    /// and the reads since, an execution's last access in a region and
    /// the accesses it may be reordered with, an ended pair, a race held
    /// back). No check will ask about them again, so they may leave every
    /// clock (see `crate::retirement`); the prediction's order forgets them
    /// here (see [`Order::retire`]). Those still referred to stay
    /// candidates.
    ///
    /// A sweep reads the whole state, so unless `force` it waits until
    /// the candidates are many against what is remembered.
    pub(crate) fn retire_components(&mut self, force: bool) -> Vec<Arc<str>> {
        /// Candidates that make a sweep worth it whatever is remembered.
        const ENOUGH: usize = 1_024;
        if self.freed.is_empty() {
            return Vec::new();
        }
        let remembered = self.retained().2;
        if !force && self.freed.len() < ENOUGH && self.freed.len() * 8 < remembered {
            return Vec::new();
        }
        fn mark<'a>(referenced: &mut HashSet<&'a str>, rec: &'a AccessRecord) {
            if let Some((component, _)) = &rec.epoch {
                referenced.insert(&**component);
            }
        }
        let mut referenced: HashSet<&str> = HashSet::default();
        let r = &mut referenced;
        for var in self.vars.values() {
            var.last_write.iter().chain(&var.reads).for_each(|rec| mark(r, rec));
            for local in var.locals.values().chain(&var.ended) {
                mark(r, &local.p);
                local.movable.iter().for_each(|rec| mark(r, rec));
                if let Some(pair) = &local.pair {
                    mark(r, &pair.first);
                }
            }
        }
        for held in self.unknown_edges.pending.values().flatten() {
            mark(r, &held.prev);
            mark(r, &held.rec);
        }
        let (retired, kept): (Vec<Arc<str>>, Vec<Arc<str>>) =
            std::mem::take(&mut self.freed).into_iter().partition(|c| !referenced.contains(&**c));
        self.freed = kept;
        if !retired.is_empty() {
            self.order.retire(&retired);
        }
        retired
    }

    /// The report so far.
    pub fn report(&self) -> Report {
        Report {
            races: self.races.list.clone(),
            events_analyzed: self.events,
            executions: self.executions,
            variables: self.vars.len() as u64,
            events_dropped: 0,
            unordered_unknown_edges: self.unknown_edges.not_reported + self.unknown_edges.pending_count as u64,
            events_unattributed: 0,
            executions_unattributed: 0,
            unattributed_kinds: Vec::new(),
            events_possibly_unattributed: 0,
            still_running: Vec::new(),
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
    old_value: &'a Option<crate::value::Value>,
    new_value: &'a crate::value::Value,
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

/// The unserializable interleaving of a pair p, c of one region that a
/// remote access breaks: R-W-R, R-W-W, W-R-W, W-W-R (the remote access is a
/// read only for W-R-W, the dirty read).
fn violation(p_write: bool, c_write: bool) -> RaceKind {
    match (p_write, c_write) {
        (false, false) => RaceKind::InconsistentRead,
        (false, true) => RaceKind::LostUpdate,
        (true, true) => RaceKind::DirtyRead,
        (true, false) => RaceKind::OverwrittenWrite,
    }
}

/// Whether one critical section of a lock that `r`'s execution held holds
/// both p and c: r cannot run between them.
fn one_section_around(p: &Sections, c: &Sections, r_locks: &[String]) -> bool {
    p.iter().any(|(lock, n)| c.iter().any(|(l, m)| l == lock && m == n) && r_locks.iter().any(|l| **l == **lock))
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
