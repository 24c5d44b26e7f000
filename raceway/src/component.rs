//! Names of vector-clock components across processes.
//!
//! In this process a clock component is a number: an execution's id. On the
//! wire (events, `raceway-clock` headers) it is a string, the same one
//! wherever it travels:
//!
//! - an execution of this process is `"<service>#<instance>/<execution>"`,
//!   the service and instance of the first client created in the process;
//! - a component that came from another process (through a `raceway-clock`
//!   header) is interned here under a number with the top bit set, and keeps
//!   its string. A string that names an execution of this process maps back
//!   to it, so a clock that goes out and comes back is the same clock.
//!
//! The interner is bounded: past [`MAX_FOREIGN`] distinct names, further
//! ones are not learnt (the happens-before edges they would carry are lost,
//! which can only add reports, never hide one), and counted.

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Components of other processes have this bit set.
const FOREIGN: u64 = 1 << 63;

/// Most distinct foreign component names remembered.
#[cfg_attr(not(any(feature = "tower", feature = "actix", feature = "reqwest")), allow(dead_code))]
pub const MAX_FOREIGN: usize = 65_536;

/// Longest foreign component name accepted.
#[cfg_attr(not(any(feature = "tower", feature = "actix", feature = "reqwest")), allow(dead_code))]
const MAX_NAME_LEN: usize = 256;

/// This process's service and instance, as its components name them.
pub(crate) struct Identity {
    pub service: String,
    pub instance: String,
    prefix: String,
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();

#[cfg_attr(not(any(feature = "tower", feature = "actix", feature = "reqwest")), allow(dead_code))]
#[derive(Default)]
struct Interner {
    ids: FxHashMap<Arc<str>, u64>,
    names: Vec<Arc<str>>,
}

static INTERNER: Mutex<Option<Interner>> = Mutex::new(None);
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Fixes the prefix of this process's components, once: the first client
/// created names them.
pub(crate) fn set_process_identity(service: &str, instance: &str) {
    let _ = IDENTITY.get_or_init(|| Identity::new(service.to_string(), instance.to_string()));
}

/// The service and instance of this process: those of its first client, or
/// the defaults when none was created.
pub(crate) fn identity() -> &'static Identity {
    IDENTITY.get_or_init(|| {
        let config = crate::config::Config::default();
        Identity::new(config.service_name, config.instance_id)
    })
}

impl Identity {
    fn new(service: String, instance: String) -> Self {
        Identity { prefix: format!("{service}#{instance}"), service, instance }
    }
}

/// `"<service>#<instance>"` of this process's components.
fn process_prefix() -> &'static str {
    &identity().prefix
}

/// The wire name of component `id`.
pub(crate) fn name(id: u64) -> Arc<str> {
    if id & FOREIGN == 0 {
        return Arc::from(format!("{}/{id}", process_prefix()));
    }
    let index = (id & !FOREIGN) as usize;
    let interner = INTERNER.lock().unwrap_or_else(PoisonError::into_inner);
    match interner.as_ref().and_then(|i| i.names.get(index)) {
        Some(name) => name.clone(),
        // Unreachable for ids handed out by `id_of`; a stable name anyway.
        None => Arc::from(format!("unknown/{index}")),
    }
}

/// The component named `name`: an execution of this process, or a foreign
/// component, learnt now if it is new. `None` when the name is unusable or
/// the interner is full.
#[cfg_attr(not(any(feature = "tower", feature = "actix", feature = "reqwest")), allow(dead_code))]
pub(crate) fn id_of(name: &str) -> Option<u64> {
    if let Some(exec) = local(name) {
        return Some(exec);
    }
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let mut guard = INTERNER.lock().unwrap_or_else(PoisonError::into_inner);
    let interner = guard.get_or_insert_with(Interner::default);
    if let Some(&id) = interner.ids.get(name) {
        return Some(id);
    }
    if interner.names.len() >= MAX_FOREIGN {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let id = FOREIGN | interner.names.len() as u64;
    let name: Arc<str> = Arc::from(name);
    interner.names.push(name.clone());
    interner.ids.insert(name, id);
    Some(id)
}

/// The component of this process that `name` names, if it is one.
pub(crate) fn local(name: &str) -> Option<u64> {
    name.strip_prefix(process_prefix())
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| n & FOREIGN == 0)
}

/// Foreign component names not learnt because the interner was full.
pub(crate) fn refused() -> u64 {
    REFUSED.load(Ordering::Relaxed)
}

/// A clock from the wire as this process's [`VectorClock`](crate::clock::VectorClock):
/// zero entries and unusable names are left out.
#[cfg_attr(not(any(feature = "tower", feature = "actix", feature = "reqwest")), allow(dead_code))]
pub(crate) fn clock_from_wire<'a>(entries: impl IntoIterator<Item = (&'a str, u64)>) -> crate::clock::VectorClock {
    let mut clock = crate::clock::VectorClock::new();
    for (name, n) in entries {
        if n > 0 {
            if let Some(id) = id_of(name) {
                clock.observe(id, n);
            }
        }
    }
    clock
}

/// Most clock entries a propagation header carries. A header carries its
/// own entry and the most recent others (the highest ids: the latest
/// executions of this process, then the components learnt from other
/// services), within [`MAX_PROPAGATED`] entries and a byte budget that
/// keeps the whole header within the receivers' 8 KiB
/// ([`MAX_HEADER_LEN`](crate::trace_context::MAX_HEADER_LEN)). An entry
/// left out is an order the receiver does not learn; a count is never
/// raised, so the cap never makes the receiver trust an order that did not
/// happen. What is left out can only make a receiver report more.
pub(crate) const MAX_PROPAGATED: usize = 64;

/// Bytes an entry takes in the header's JSON: `["name",n],`.
fn entry_json_len(name: &str, n: u64) -> usize {
    let quoted = serde_json::to_string(name).map_or(name.len() + 2, |s| s.len());
    quoted + n.checked_ilog10().map_or(1, |d| d as usize + 1) + 3
}

/// A clock of this process for a propagation header: `own`'s entry first
/// and at most [`MAX_PROPAGATED`] entries in all, whose JSON takes at most
/// `budget` bytes (the own entry is always kept: its name is at most a
/// few dozen bytes).
pub(crate) fn clock_to_wire(clock: &crate::clock::VectorClock, own: u64, budget: usize) -> Vec<(String, u64)> {
    let entries = clock.entries();
    let mut wire = Vec::new();
    let mut used = 0;
    if let Some(&(id, n)) = entries.iter().find(|&&(id, _)| id == own) {
        let name = name(id).to_string();
        used += entry_json_len(&name, n);
        wire.push((name, n));
    }
    for &(id, n) in entries.iter().rev().filter(|&&(id, _)| id != own) {
        if wire.len() >= MAX_PROPAGATED {
            break;
        }
        let name = name(id);
        let len = entry_json_len(&name, n);
        if used + len > budget {
            // A shorter name further on may still fit.
            continue;
        }
        used += len;
        wire.push((name.to_string(), n));
    }
    // Oldest first after the own entry, as the clock lists them.
    if wire.len() > 1 {
        wire[1..].reverse();
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_round_trip_and_foreign_ones_are_interned() {
        let local = name(42);
        assert!(local.ends_with("/42"));
        assert_eq!(id_of(&local), Some(42));
        let a = id_of("payments#p-1").unwrap();
        assert_ne!(a & FOREIGN, 0);
        assert_eq!(id_of("payments#p-1"), Some(a));
        assert_eq!(&*name(a), "payments#p-1");
        assert_eq!(id_of(""), None);
        assert_eq!(id_of(&"x".repeat(MAX_NAME_LEN + 1)), None);
    }

    #[test]
    fn wire_clocks_drop_zero_entries() {
        let clock = clock_from_wire([("svc#a", 3), ("svc#b", 0)]);
        assert_eq!(clock.entries().len(), 1);
        assert_eq!(clock_to_wire(&clock, 0, usize::MAX), vec![("svc#a".to_string(), 3)]);
    }

    #[test]
    fn headers_carry_their_own_entry_and_the_latest_others() {
        let mut clock = crate::clock::VectorClock::new();
        for exec in 1..=200 {
            clock.observe(exec, exec);
        }
        let wire = clock_to_wire(&clock, 7, usize::MAX);
        assert_eq!(wire.len(), MAX_PROPAGATED);
        assert_eq!(wire[0], (name(7).to_string(), 7), "its own entry first");
        assert_eq!(wire[1..], (138..=200).map(|e| (name(e).to_string(), e)).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn a_header_stays_within_8_kib_when_many_services_meet_in_one_lock() {
        use crate::trace_context::{clock_budget, decode_clock, encode_clock, MAX_HEADER_LEN};
        // 300 services with long names call in, each request absorbs its
        // caller's clock, and all meet in one lock: its clock joins them.
        let mut lock = crate::clock::VectorClock::new();
        let mut sent = std::collections::HashMap::new();
        for service in 0..300u64 {
            let name = format!("{}-{service}#instance-{}", "s".repeat(180), "i".repeat(40));
            let n = 1_000_000 + service;
            sent.insert(name.clone(), n);
            lock.join(&clock_from_wire([(name.as_str(), n)]));
        }
        for exec in 1..=500 {
            lock.observe(exec, exec * 3);
        }
        let (service, instance) = ("checkout", "checkout-7f9c");
        let wire = clock_to_wire(&lock, 42, clock_budget(service, instance));
        let header = encode_clock(uuid::Uuid::new_v4(), 1, 2, service, instance, &wire);
        assert!(header.len() <= MAX_HEADER_LEN, "{} bytes", header.len());
        let decoded = decode_clock(&header).expect("our own header decodes");
        assert!(decoded.clock.len() > 1, "it carries more than its own entry");
        // Dropping entries removes order; no count is raised.
        for (component, n) in &decoded.clock {
            match sent.get(component) {
                Some(&was) => assert_eq!(*n, was, "{component}"),
                None => assert_eq!(Some(*n), id_of(component).map(|e| lock.get(e)), "{component}"),
            }
        }
    }
}
