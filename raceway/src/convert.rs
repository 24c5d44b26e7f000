//! Turns hot-path [`Record`]s into wire [`Event`]s, on the background thread:
//! event ids, RFC 3339 timestamps, parent links, the execution's identity,
//! vector clock and lock set.

use crate::clock::{Timebase, VectorClock};
use crate::config::Config;

use crate::event::{process_trace_id, ExecInfo, Kind, LockRef, Place, Record, Site};
use crate::value::Value;
use crate::wire::{self, Event, EventKind, Metadata};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// What the converter remembers of a live execution.
struct ExecState {
    thread_id: Arc<str>,
    /// Its own clock component (its slot, see `rt::slots`).
    component: u64,
    trace_id: Uuid,
    /// The span's service, when not the client's.
    service: Option<Arc<str>>,
    span_id: Option<Arc<str>>,
    upstream_span_id: Option<Arc<str>>,
    clock: Arc<VectorClock>,
    /// What of `clock` was learnt through hard edges, when less.
    hard: Option<Arc<VectorClock>>,
    /// The wire form of `hard`: the components where it is below `clock`,
    /// made when either changes.
    hard_causality: Option<Vec<(Arc<str>, u64)>>,
    locks: Vec<String>,
    last_event: Option<Uuid>,
    origin_unknown: bool,
    spawn_seen: bool,
}

/// What a record becomes. Short-lived and moved once: the size difference
/// between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Converted {
    Event(Event),
    /// An execution ended.
    Ended(Ending),
    Nothing,
}

/// The end of an execution, as a sink learns it.
pub(crate) struct Ending {
    /// `None` when none of its events reached the converter.
    pub(crate) thread_id: Option<String>,
    /// Its component's wire name, when its slot was freed rather than
    /// handed on to a joiner: the analysis may then retire the component
    /// (see `crate::retirement`).
    pub(crate) freed: Option<Arc<str>>,
    /// Whether that component was the execution's own from its start (no
    /// earlier execution, since joined, used the slot).
    pub(crate) own_slot: bool,
}

pub(crate) struct Converter {
    /// `max_value_bytes`: longer recorded values are truncated.
    max_value_bytes: usize,
    service_name: Arc<str>,
    environment: Arc<str>,
    instance_id: Arc<str>,
    process_id: u32,
    tags: Arc<BTreeMap<String, String>>,
    /// The tags of a `FunctionCall` that is not an atomic region
    /// (`#[track(atomic = false)]`).
    tags_not_atomic: Arc<BTreeMap<String, String>>,
    /// The same two for executions whose origin is unknown
    /// (`wire::TAG_ORIGIN`).
    tags_unknown: Arc<BTreeMap<String, String>>,
    tags_unknown_not_atomic: Arc<BTreeMap<String, String>>,
    /// And for those whose spawn was seen but not their join.
    tags_join_unknown: Arc<BTreeMap<String, String>>,
    tags_join_unknown_not_atomic: Arc<BTreeMap<String, String>>,
    /// Random per converter; event ids are this mixed with a counter, so they
    /// are unique without calling the RNG per event.
    id_seed: (u64, u64),
    next_id: u64,
    execs: HashMap<u64, ExecState>,
    /// The `AsyncSpawn` event of each child that has not recorded yet: a
    /// child's first event names it as its parent, so the spawn edge is
    /// visible to the server and the analyzer.
    spawned_by: HashMap<u64, Uuid>,
    /// Each execution's component name, formatted once.
    components: HashMap<u64, Arc<str>>,
    locations: Locations,
    timestamps: Timestamps,
}

/// The UUID that names execution `exec` of this process in `AsyncSpawn` and
/// `AsyncAwait` events.
pub(crate) fn exec_uuid(exec: u64) -> Uuid {
    let (hi, lo) = process_seed();
    uuid::Builder::from_u128(((hi as u128) << 64 | (lo ^ exec) as u128) ^ 0x5a5a).into_uuid()
}

fn process_seed() -> (u64, u64) {
    static SEED: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| Uuid::new_v4().as_u64_pair())
}

/// Source locations as the wire writes them (`file:line:column`), each
/// formatted once and shared by the events recorded there.
#[derive(Default)]
struct Locations(HashMap<usize, Arc<str>>);

/// Locations kept at most (the cache starts over beyond).
const MAX_LOCATIONS: usize = 65_536;

impl Locations {
    fn get(&mut self, site: Site) -> Arc<str> {
        if self.0.len() >= MAX_LOCATIONS {
            self.0.clear();
        }
        // A `Location` is a static: its address identifies it.
        let key = std::ptr::from_ref(site) as usize;
        self.0.entry(key).or_insert_with(|| format!("{}:{}:{}", site.file(), site.line(), site.column()).into()).clone()
    }
}

/// RFC 3339 timestamps with nanoseconds (`2026-11-25T10:00:00.123456789Z`),
/// exactly as `humantime` writes them; the date and time of day are
/// formatted once per second, the fraction by hand. A clock outside the
/// years 1970 to 9999 (where `humantime` would panic) is written as the
/// nearest of the two ends.
#[derive(Default)]
struct Timestamps {
    second: Option<u64>,
    /// `2026-11-25T10:00:00` for `second`.
    prefix: String,
}

impl Timestamps {
    fn format(&mut self, time: std::time::SystemTime) -> String {
        /// The last second of the year 9999.
        const LAST: u64 = 253_402_300_799;
        let since = time.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let (second, mut nanos) = match since.as_secs() {
            second @ 0..=LAST => (second, since.subsec_nanos()),
            _ => (LAST, 999_999_999),
        };
        if self.second != Some(second) {
            let whole = std::time::UNIX_EPOCH + std::time::Duration::from_secs(second);
            self.prefix = humantime::format_rfc3339_seconds(whole).to_string();
            self.prefix.pop(); // the `Z`
            self.second = Some(second);
        }
        let mut fraction = *b".000000000Z";
        for digit in fraction[1..10].iter_mut().rev() {
            *digit = b'0' + (nanos % 10) as u8;
            nanos /= 10;
        }
        let mut out = String::with_capacity(self.prefix.len() + fraction.len());
        out.push_str(&self.prefix);
        out.push_str(std::str::from_utf8(&fraction).unwrap_or_default());
        out
    }
}

/// Spawn events whose child has not recorded yet, at most this many.
const MAX_PENDING_SPAWNS: usize = 65_536;

impl Converter {
    pub(crate) fn new(config: &Config) -> Self {
        let mut tags = BTreeMap::new();
        tags.insert("sdk_language".to_string(), "rust".to_string());
        let mut tags_not_atomic = tags.clone();
        tags_not_atomic.insert(wire::TAG_ATOMIC_REGION.to_string(), "false".to_string());
        let origin = |tags: &BTreeMap<String, String>, origin: &str| {
            let mut tags = tags.clone();
            tags.insert(wire::TAG_ORIGIN.to_string(), origin.to_string());
            Arc::new(tags)
        };
        Converter {
            max_value_bytes: config.max_value_bytes,
            tags_unknown: origin(&tags, wire::ORIGIN_UNKNOWN),
            tags_unknown_not_atomic: origin(&tags_not_atomic, wire::ORIGIN_UNKNOWN),
            tags_join_unknown: origin(&tags, wire::ORIGIN_JOIN_UNKNOWN),
            tags_join_unknown_not_atomic: origin(&tags_not_atomic, wire::ORIGIN_JOIN_UNKNOWN),
            tags_not_atomic: Arc::new(tags_not_atomic),
            service_name: Arc::from(config.service_name.as_str()),
            environment: Arc::from(config.environment.as_str()),
            instance_id: Arc::from(config.instance_id.as_str()),
            process_id: std::process::id(),
            tags: Arc::new(tags),
            id_seed: Uuid::new_v4().as_u64_pair(),
            next_id: 0,
            execs: HashMap::new(),
            spawned_by: HashMap::new(),
            components: HashMap::new(),
            locations: Locations::default(),
            timestamps: Timestamps::default(),
        }
    }

    fn event_id(&mut self) -> Uuid {
        self.next_id += 1;
        // The counter stays below 2^62, so the variant bits set by the
        // builder never collide two ids.
        let lo = self.id_seed.1 ^ (self.next_id & (u64::MAX >> 2));
        uuid::Builder::from_random_bytes(((self.id_seed.0 as u128) << 64 | lo as u128).to_be_bytes()).into_uuid()
    }

    /// Forgets execution `exec`, which ended; its `thread_id` if it was
    /// known.
    ///
    /// `freed`: its component, when its slot was freed as it ended.
    pub(crate) fn end(&mut self, exec: u64, freed: Option<u64>) -> Option<Ending> {
        let thread_id = self.execs.remove(&exec).map(|state| state.thread_id.to_string());
        let own_slot = freed == Some(exec);
        let freed = freed.map(|c| self.components.remove(&c).unwrap_or_else(|| crate::component::name(c)));
        (thread_id.is_some() || freed.is_some()).then_some(Ending { thread_id, freed, own_slot })
    }

    /// Converts one record: an event, or the end of an execution.
    pub(crate) fn convert(&mut self, record: Record) -> Converted {
        let Record { ts, exec, seq, delta, mut kind } = record;
        truncate_values(&mut kind, self.max_value_bytes);
        let duration_ns = match &kind {
            Kind::FunctionReturn { duration_ns, .. } => Some(*duration_ns),
            Kind::HttpResponse(response) => Some(response.duration_ns),
            _ => None,
        };
        if let Some(delta) = delta.as_ref().filter(|d| d.announce) {
            self.execs.insert(exec, ExecState::new(&delta.owner, &self.instance_id));
        }
        let opts_out = matches!(kind, Kind::FunctionCall { atomic: false, .. });
        let spawned = match kind {
            Kind::AsyncSpawn { child, .. } => Some(child),
            _ => None,
        };
        let freed = match kind {
            Kind::ExecEnd { freed } => freed,
            _ => None,
        };
        let Some(kind) = wire_kind(kind, &mut self.locations) else {
            return match self.end(exec, freed) {
                Some(ending) => Converted::Ended(ending),
                None => Converted::Nothing,
            };
        };
        let id = self.event_id();
        if let Some(child) = spawned {
            if self.spawned_by.len() >= MAX_PENDING_SPAWNS {
                self.spawned_by.clear();
            }
            self.spawned_by.insert(child, id);
        }
        let timestamp = self.timestamps.format(Timebase::get().wall(ts));
        let (service, instance) = (&self.service_name, &self.instance_id);
        let owner = delta.as_ref().map(|d| d.owner.clone());
        let state = self.execs.entry(exec).or_insert_with(|| match owner {
            // The record that announced this execution was lost, but this
            // one names it.
            Some(owner) => ExecState::new(&owner, instance),
            // Carry on with what can be derived.
            None => {
                let info = ExecInfo::new(exec, format!("execution-{exec}"), process_trace_id(), None);
                ExecState::new(&info, instance)
            }
        });
        if let Some(delta) = delta {
            if let Some(clock) = delta.clock {
                state.clock = clock;
                state.hard = delta.hard;
                state.hard_causality = None;
            }
            if let Some(locks) = delta.locks {
                state.locks = locks.iter().map(|l: &LockRef| l.id.to_string()).collect();
            }
        }
        let components = &mut self.components;
        if components.len() > MAX_COMPONENTS {
            components.clear();
        }
        let mut name = |e: u64| components.entry(e).or_insert_with(|| crate::component::name(e)).clone();
        let own = state.component;
        let mut causality_vector: Vec<(Arc<str>, u64)> =
            state.clock.entries().iter().filter(|&&(e, _)| e != own).map(|&(e, n)| (name(e), n)).collect();
        causality_vector.push((name(own), seq));
        let hard_causality = match &state.hard {
            None => Vec::new(),
            Some(hard) => state
                .hard_causality
                .get_or_insert_with(|| {
                    let below = state.clock.entries().iter().filter(|&&(e, n)| e != own && hard.get(e) < n);
                    below.map(|&(e, _)| (name(e), hard.get(e))).collect()
                })
                .clone(),
        };
        let parent_id = match state.last_event.replace(id) {
            None => self.spawned_by.remove(&exec),
            previous => previous,
        };
        Converted::Event(Event {
            id,
            trace_id: state.trace_id,
            parent_id,
            timestamp,
            kind,
            metadata: Metadata {
                thread_id: state.thread_id.clone(),
                process_id: self.process_id,
                service_name: state.service.as_ref().unwrap_or(service).clone(),
                environment: self.environment.clone(),
                tags: match (opts_out, state.origin_unknown, state.spawn_seen) {
                    (false, false, _) => self.tags.clone(),
                    (true, false, _) => self.tags_not_atomic.clone(),
                    (false, true, false) => self.tags_unknown.clone(),
                    (true, true, false) => self.tags_unknown_not_atomic.clone(),
                    (false, true, true) => self.tags_join_unknown.clone(),
                    (true, true, true) => self.tags_join_unknown_not_atomic.clone(),
                },
                duration_ns,
                instance_id: Some(instance.clone()),
                distributed_span_id: state.span_id.clone(),
                upstream_span_id: state.upstream_span_id.clone(),
            },
            causality_vector,
            hard_causality,
            lock_set: state.locks.clone(),
        })
    }
}

/// Truncates the recorded values of `kind` longer than `max` bytes.
fn truncate_values(kind: &mut Kind, max: usize) {
    match kind {
        Kind::StateChange { old, new, .. } => {
            if let Some(old) = old {
                old.truncate(max);
            }
            new.truncate(max);
        }
        Kind::FunctionCall { args: value, .. } | Kind::FunctionReturn { value, .. } => {
            value.truncate(max);
        }
        Kind::HttpRequest(request) => {
            request.body.truncate(max);
        }
        Kind::HttpResponse(response) => {
            response.body.truncate(max);
        }
        Kind::Error(error) if error.message.len() > max => {
            error.message = crate::value::truncated(&error.message, max);
        }
        _ => {}
    }
}

/// Component names cached at most (the cache starts over beyond).
const MAX_COMPONENTS: usize = 65_536;

/// The wire form of a kind; `None` for kinds that are not exported.
fn wire_kind(kind: Kind, locations: &mut Locations) -> Option<EventKind> {
    Some(match kind {
        Kind::StateChange { variable, place, old, new, access, site } => EventKind::StateChange {
            // Without a name that identifies it across processes, the
            // place's address and size tell instances apart (the analysis
            // takes every expression that reaches them for one variable).
            variable: if place == Place::NAMED {
                variable.into_owned()
            } else {
                format!("{variable}@{:#x}+{}", place.addr(), place.size())
            },
            old_value: old,
            new_value: new,
            location: locations.get(site),
            access_type: access,
        },
        Kind::FunctionCall { function, module, args, atomic: _, site } => EventKind::FunctionCall {
            function_name: function.into_owned(),
            module: module.into_owned(),
            args,
            file: site.file().to_string(),
            line: site.line(),
        },
        Kind::FunctionReturn { function, module, value, site, .. } => EventKind::Custom {
            name: wire::FUNCTION_RETURN.to_string(),
            data: Value::Json(Box::new(serde_json::json!({
                "function_name": function,
                "module": module,
                "return_value": value,
                "file": site.file(),
                "line": site.line(),
            }))),
        },
        Kind::AsyncSpawn { child, site } => {
            EventKind::AsyncSpawn { task_id: exec_uuid(child), spawned_by: locations.get(site).to_string() }
        }
        Kind::AsyncAwait { awaited, site } => {
            EventKind::AsyncAwait { future_id: exec_uuid(awaited), awaited_at: locations.get(site).to_string() }
        }
        Kind::LockAcquire { lock, lock_type, site } => EventKind::LockAcquire {
            lock_id: lock.id.to_string(),
            lock_type: lock_type.as_str().to_string(),
            location: locations.get(site),
        },
        Kind::LockRelease { lock, lock_type, site } => EventKind::LockRelease {
            lock_id: lock.id.to_string(),
            lock_type: lock_type.as_str().to_string(),
            location: locations.get(site),
        },
        Kind::MemoryFence { ordering, site } => {
            EventKind::MemoryFence { ordering: wire::MemoryOrdering::from(ordering), location: locations.get(site) }
        }
        Kind::Error(e) => {
            EventKind::Error { error_type: e.error_type.into_owned(), message: e.message, stack_trace: e.stack_trace }
        }
        Kind::HttpRequest(r) => EventKind::HttpRequest {
            method: r.method,
            url: r.url,
            headers: r.headers.into_iter().collect(),
            body: r.body,
        },
        Kind::HttpResponse(r) => EventKind::HttpResponse {
            status: r.status,
            headers: r.headers.into_iter().collect(),
            body: r.body,
            duration_ms: r.duration_ms,
        },
        Kind::ExecEnd { .. } => return None,
    })
}

impl ExecState {
    fn new(info: &ExecInfo, instance: &str) -> Self {
        ExecState {
            thread_id: Arc::from(format!("{}#{}@{}", info.name, info.id, instance)),
            component: info.component,
            trace_id: Uuid::from_u128(info.trace_id),
            service: info.span.as_ref().and_then(|s| s.service.clone()),
            span_id: info.span.as_ref().map(|s| Arc::from(format!("{:016x}", s.id))),
            upstream_span_id: info.span.as_ref().and_then(|s| s.upstream).map(|id| Arc::from(format!("{id:016x}"))),
            clock: Arc::new(VectorClock::new()),
            hard: None,
            hard_causality: None,
            locks: Vec::new(),
            last_event: None,
            origin_unknown: info.origin_unknown,
            spawn_seen: info.spawn_seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_written_as_humantime_writes_them() {
        let mut timestamps = Timestamps::default();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut time = UNIX_EPOCH + Duration::from_secs(1_764_064_800);
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Steps within a second, across seconds and days, and exact seconds.
            time += match step % 4 {
                0 => Duration::from_nanos(x % 1_000),
                1 => Duration::from_nanos(x % 3_000_000_000),
                2 => Duration::from_secs(x % 200_000),
                _ => Duration::from_nanos(
                    1_000_000_000 - u64::from(time.duration_since(UNIX_EPOCH).unwrap().subsec_nanos()),
                ),
            };
            assert_eq!(timestamps.format(time), humantime::format_rfc3339_nanos(time).to_string());
        }
        // Where humantime panics, the nearest end of its range.
        assert_eq!(timestamps.format(UNIX_EPOCH - Duration::from_secs(5)), "1970-01-01T00:00:00.000000000Z");
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(timestamps.format(far), "9999-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn an_execution_is_forgotten_when_it_ends_even_without_its_end_record() {
        use crate::event::ContextDelta;
        let mut converter = Converter::new(&crate::config::Config::default());
        let owner = Arc::new(ExecInfo::new(7, "worker".into(), 1, None));
        let delta = ContextDelta { owner, announce: true, clock: None, hard: None, locks: None };
        let site = std::panic::Location::caller();
        let call = Kind::AsyncAwait { awaited: 8, site };
        let record = Record { ts: 0, exec: 7, seq: 1, delta: Some(Box::new(delta)), kind: call };
        assert!(matches!(converter.convert(record), Converted::Event(_)));
        let ending = converter.end(7, Some(7)).expect("known");
        assert!(ending.thread_id.is_some_and(|t| t.starts_with("worker#7@")));
        assert!(ending.freed.is_some_and(|c| c.ends_with("/7")), "its slot was freed: its component may retire");
        assert!(converter.end(7, None).is_none(), "forgotten");
        let unseen = converter.end(9, Some(9)).expect("a freed slot, even of an execution none of whose events came");
        assert!(unseen.thread_id.is_none() && unseen.freed.is_some() && unseen.own_slot);
        let reused = converter.end(10, Some(4)).expect("a freed slot that an earlier execution had");
        assert!(reused.freed.is_some_and(|c| c.ends_with("/4")) && !reused.own_slot);
    }
}
