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

mod access;
mod clock_lookup;
mod detection;
mod reorder;
mod report;

pub use detection::Analyzer;
pub use reorder::{timestamp_ns, Reorder};
pub use report::{Access, Race, RaceKind, Report};

use crate::wire::Event;

/// The display name of a wire variable: without the `@0x…` address that
/// identifies an unkeyed place.
pub fn display_name(variable: &str) -> &str {
    match variable.rfind("@0x") {
        Some(at) => &variable[..at],
        None => variable,
    }
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
    use crate::event::AccessType;
    use crate::wire::{EventKind, Metadata};
    use std::sync::Arc;
    use uuid::Uuid;

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
                new_value: crate::value::Value::I64(1),
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
