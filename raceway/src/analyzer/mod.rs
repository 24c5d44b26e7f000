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
//! # Prediction
//!
//! Tests rarely hit the bad interleaving, so the analysis also reports the
//! races that a **feasible reordering** of the run exhibits, marked
//! [`Race::is_predicted`] with the schedule that makes them happen
//! ([`Race::schedule`]). On by default ([`Config::predict`](crate::Config::predict),
//! `RACEWAY_PREDICT=0` turns it off, as does [`analyze_with_prediction`]).
//!
//! A reordering is feasible when it keeps each execution's program order,
//! every *hard* edge (spawn, join, channel messages, atomics' release and
//! acquire, barriers, once-cells, condvar wake-ups, `happens_before/after`,
//! clocks carried by calls across services), and moves critical sections
//! of one lock past each other only where the moved section did not read
//! what the other wrote (WCP's rule, Kini, Mathur and Viswanathan, PLDI
//! 2017). Every event carries, beside its vector clock, what of it was
//! learnt through hard edges (`hard_causality` on the wire); the analysis
//! adds WCP's edges from the lock events: a section that reads or writes
//! what an earlier section of the same lock wrote (or writes what it read)
//! comes after that section's release (rule (a)); a section whose
//! acquisition comes before another's release ends before it (rule (b));
//! both composed with happens-before on either side. A critical section
//! with no tracked access (a flag set with `*guard = true`, state the lock
//! guards but nothing tracks) is *opaque*: raceway cannot tell what it read
//! or wrote, so its hand-offs count as hard edges both ways. A section that
//! tracks some of what it touches is taken to touch only that: track every
//! access a lock guards, or prediction may move sections past each other
//! through an access it did not see.
//!
//! - **Predicted data race**: two conflicting accesses that only lock
//!   hand-offs between critical sections with nothing in common ordered
//!   (no lock held by both).
//! - **Predicted atomicity violation** (the four AVIO patterns): p and c in
//!   one region of one execution, r another execution's access that ran
//!   before p and is not ordered before p, or that ran after c while c is
//!   not ordered before it, with no critical section of a lock that r's
//!   execution held around both p and c.
//!
//! Why nothing predicted contradicts a recorded edge: the order consulted
//! contains program order and every hard edge, so a hard edge is never
//! reversed; lock hand-offs are the only edges left out, and they are
//! replaced by WCP's edges, which keep every read of a moved section (but
//! the reported accesses' own) reading the write it read, and keep two
//! sections of a lock from overlapping. The conflict between the reported
//! accesses themselves is the one left out: that they would read another
//! value is the violation. Whatever the analysis had to approximate (the
//! order learnt by executions that ended, more than a few critical sections
//! per execution and lock) it approximates by adding order, which can hide
//! a prediction but never make one.
//!
//! Not predicted: races that need a read other than the reported accesses
//! to see another value or a branch to go another way; deadlocks; races
//! involving executions whose start raceway did not see; events from SDKs
//! or files that carry no hard clock (every lock edge then counts as hard).
//! Linear in the events; per live execution, lock and variable in memory.
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
//! variables seen. In this process (the embedded collector, `check`) the
//! components of ended executions that nothing remembered refers to any
//! more are swept from the prediction's order, and leave the runtime's
//! clocks (`crate::retirement`), so the clocks that events carry stay as
//! small as the executions alive and remembered. Variables are not
//! forgotten: a `Traced` key or a name counts once, but an unkeyed place
//! is known by its address, so a program that tracks short-lived unkeyed
//! places grows the analysis with every new address (and a reused address
//! is taken for the same variable). Give shared state a `Traced` key in
//! long-running embedded use.

mod access;
mod clock_lookup;
mod dense_clock;
mod detection;
mod predict;
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
    analyze_with_prediction(events, true)
}

/// [`analyze`], predicting (`true`) or reporting only the interleavings
/// that happened (`false`).
pub fn analyze_with_prediction(events: impl IntoIterator<Item = Event>, predict: bool) -> Report {
    let mut analyzer = Analyzer::with_prediction(predict);
    for event in reorder::sort_by_time(events) {
        analyzer.observe(&event);
    }
    analyzer.report()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AccessType;
    use crate::wire::EventKind;
    use std::sync::Arc;
    use uuid::Uuid;

    /// A state change by execution `exec` with vector clock `clock` (its own
    /// entry last, as the wire format has it).
    fn access(n: u128, exec: &str, clock: &[(&str, u64)], write: bool) -> Event {
        let mut event = Event::for_tests(&format!("2026-11-25T10:00:00.{n:09}Z"), 0);
        event.id = Uuid::from_u128(n);
        event.kind = EventKind::StateChange {
            variable: "x".into(),
            old_value: None,
            new_value: crate::value::Value::I64(1),
            location: Arc::from(format!("src/lib.rs:{n}:1")),
            access_type: if write { AccessType::Write } else { AccessType::Read },
        };
        event.metadata.thread_id = exec.into();
        event.causality_vector = clock.iter().map(|&(c, n)| (Arc::from(c), n)).collect();
        event
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
    fn only_freed_components_that_nothing_remembered_refers_to_retire() {
        let mut analyzer = Analyzer::new();
        // B's write comes after A's (its clock lists `a`): x's last write is
        // B's, A's is forgotten.
        analyzer.observe(&access(1, "A", &[("a", 1)], true));
        analyzer.observe(&access(2, "B", &[("a", 1), ("b", 1)], true));
        for (exec, component) in [("A", "a"), ("B", "b")] {
            analyzer.execution_ended(exec);
            analyzer.component_freed(Arc::from(component));
        }
        let retired: Vec<String> = analyzer.retire_components(true).iter().map(|c| c.to_string()).collect();
        assert_eq!(retired, ["a"], "B's write is still remembered");
        // Clocks without `a` from now on: C saw B's write, D did not.
        analyzer.observe(&access(3, "C", &[("b", 1), ("c", 1)], false));
        assert!(analyzer.report().is_clean());
        analyzer.observe(&access(4, "D", &[("d", 1)], false));
        assert_eq!(analyzer.report().races().len(), 1, "B's write races with D's read");
        // Once another write replaces B's, `b` retires too.
        analyzer.observe(&access(5, "C", &[("b", 1), ("c", 2)], true));
        let retired: Vec<String> = analyzer.retire_components(true).iter().map(|c| c.to_string()).collect();
        assert_eq!(retired, ["b"]);
        assert!(analyzer.retire_components(true).is_empty(), "nothing left to retire");
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
