//! What the analysis finds: [`Report`], [`Race`], [`Access`], and their
//! text, JSON and HTML forms.
//!
//! The JSON field names are stable: `races[]` with `kind` (`data_race`,
//! `lost_update`, `inconsistent_read`, `dirty_read`, `overwritten_write`),
//! `variable`, `count`, `also_unsynchronized`, `explanation`, `predicted`,
//! `schedule` (for a predicted race, the schedule that makes it happen;
//! `null` otherwise), `accesses[]`, `region_start` and `happens_before`;
//! each access with `access_type`, `old_value`,
//! `new_value`, `location`, `function`, `execution`, `service`, `trace_id`, `locks`,
//! `event_id`. At the top: `events_analyzed`, `executions`, `variables`,
//! `events_dropped`, `events_unattributed`, `executions_unattributed`,
//! `unattributed_kinds`, `events_possibly_unattributed`, `unordered_unknown_edges`,
//! `still_running`.

pub(crate) mod explain;
mod html;
pub(crate) mod store;

use crate::event::AccessType;
use crate::value::Value;
use serde::Serialize;
use std::fmt;

/// The kinds of problem the analysis reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RaceKind {
    /// Two accesses, at least one a write, from different executions, with
    /// no happens-before edge ordering them.
    DataRace,
    /// R-W-W: a read and a write-back in one atomic region, with another
    /// execution's write in between: that write is lost.
    LostUpdate,
    /// R-W-R: two reads in one atomic region see different values because
    /// another execution wrote in between.
    InconsistentRead,
    /// W-R-W: another execution read an intermediate value written inside an
    /// atomic region.
    DirtyRead,
    /// W-W-R: a region's own write was overwritten by another execution
    /// before the region read it back.
    OverwrittenWrite,
}

impl RaceKind {
    /// A short human name.
    pub fn describe(self) -> &'static str {
        match self {
            RaceKind::DataRace => "data race",
            RaceKind::LostUpdate => "lost update",
            RaceKind::InconsistentRead => "inconsistent read",
            RaceKind::DirtyRead => "dirty read",
            RaceKind::OverwrittenWrite => "overwritten write",
        }
    }

    /// How specific the kind is: an atomicity violation says more than a
    /// data race about the same pair.
    pub(crate) fn specificity(self) -> u8 {
        match self {
            RaceKind::DataRace => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for RaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One access of a reported pair.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Access {
    /// Read, write, or an atomic access.
    pub access_type: AccessType,
    /// The value before a write.
    pub old_value: Option<Value>,
    /// The value read, or written.
    pub new_value: Value,
    /// `file:line:column` of the access.
    pub location: String,
    /// The innermost `#[track]` function around the access, if any.
    pub function: Option<String>,
    /// The execution (thread, task, request) that made it.
    pub execution: String,
    /// The service whose execution it was.
    pub service: String,
    /// The trace it belongs to.
    pub trace_id: String,
    /// The locks its execution held.
    pub locks: Vec<String>,
    /// The event that recorded it.
    pub event_id: String,
}

/// A problem found on one variable between two source locations,
/// deduplicated: [`count`](Race::count) says how often it was seen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Race {
    pub(crate) kind: RaceKind,
    pub(crate) variable: String,
    pub(crate) count: u64,
    pub(crate) also_unsynchronized: bool,
    pub(crate) explanation: String,
    /// Whether it did not happen in this run but a feasible reordering
    /// makes it happen.
    pub(crate) predicted: bool,
    /// For a predicted race: the schedule that makes it happen.
    pub(crate) schedule: Option<String>,
    /// For a predicted race: whether the first access (the interleaved one)
    /// ran before the others in the run, rather than after them.
    #[serde(skip)]
    pub(crate) interleaved_ran_first: bool,
    pub(crate) accesses: [Access; 2],
    pub(crate) region_start: Option<Access>,
    pub(crate) happens_before: bool,
}

impl Race {
    /// What kind of problem.
    pub fn kind(&self) -> RaceKind {
        self.kind
    }

    /// The variable's display name.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// The two accesses: the earlier one (for an atomicity violation, the
    /// other execution's access that broke the region), then the later one.
    pub fn accesses(&self) -> &[Access] {
        &self.accesses
    }

    /// For an atomicity violation, the region's first access (the read of a
    /// lost update, say).
    pub fn region_start(&self) -> Option<&Access> {
        self.region_start.as_ref()
    }

    /// How many times this pair of locations raced on this variable.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// For an atomicity violation: whether the pair was also unordered by
    /// happens-before (a data race too).
    pub fn also_unsynchronized(&self) -> bool {
        self.also_unsynchronized
    }

    /// One sentence on why nothing ordered the accesses, or which access
    /// broke the region.
    pub fn explanation(&self) -> &str {
        &self.explanation
    }

    /// Whether the race is predicted: it did not happen in this run, but a
    /// feasible reordering of it (program order, every hard edge and the
    /// critical sections' reads kept; see [`crate::analyzer`]) makes it
    /// happen. `false` when the interleaving happened.
    pub fn is_predicted(&self) -> bool {
        self.predicted
    }

    /// For a predicted race, the schedule that makes it happen ("if
    /// teller-30 runs bank.rs:35 between teller-50's read at bank.rs:29 and
    /// its write at bank.rs:35, one withdrawal is lost").
    pub fn schedule(&self) -> Option<&str> {
        self.schedule.as_deref()
    }

    /// Whether the first access happens before the second: something
    /// recorded (a lock hand-off, a message, a join, a propagated call)
    /// ordered them. Never for an observed data race (always for a predicted
    /// one, which only a lock hand-off ordered); often for an atomicity
    /// violation, which synchronization does not prevent (the lock that
    /// orders a lost update's interleaved write before the write-back).
    pub fn happens_before(&self) -> bool {
        self.happens_before
    }
}

/// The result of an analysis.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub(crate) races: Vec<Race>,
    pub(crate) events_analyzed: u64,
    pub(crate) executions: u64,
    pub(crate) variables: u64,
    /// Events recorded but never analyzed (dropped at a full hand-off).
    pub(crate) events_dropped: u64,
    /// Unordered pairs of accesses that a spawn or join raceway did not see
    /// may order (threads started without raceway): not reported.
    pub(crate) unordered_unknown_edges: u64,
    /// In a `check` session: events recorded by threads or tasks the
    /// session could not attribute (started without raceway), not analyzed.
    pub(crate) events_unattributed: u64,
    /// How many executions those events came from (at least).
    pub(crate) executions_unattributed: u64,
    /// What they were: `a thread`, `a task`, ...
    pub(crate) unattributed_kinds: Vec<String>,
    /// Events of threads or tasks outside every session that no session
    /// could be sure were its own, recorded while this one was open.
    pub(crate) events_possibly_unattributed: u64,
    /// In a `check` that timed out waiting: the executions still running,
    /// by name and spawn site.
    pub(crate) still_running: Vec<String>,
}

impl Report {
    /// The problems found, deduplicated, in the order first seen.
    pub fn races(&self) -> &[Race] {
        &self.races
    }

    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.races.is_empty()
    }

    /// How many events the analysis saw.
    pub fn events_analyzed(&self) -> u64 {
        self.events_analyzed
    }

    /// In a `raceway::check` session, how many events came from threads or
    /// tasks that were not started through raceway (`std::thread::spawn`,
    /// `tokio::spawn`, ...), which the session could not attribute and did
    /// not analyze. When it is not 0, the verdicts are incomplete, the
    /// report says what to change, and `assert_race_free` fails.
    pub fn events_unattributed(&self) -> u64 {
        self.events_unattributed
    }

    /// How many events, recorded while this `check` ran by threads or tasks
    /// outside every session, could not be attributed to any (plain
    /// `tokio::spawn` tasks on worker threads, named threads such as other
    /// tests'): some may have been this check's work. Said in the report,
    /// without failing `assert_race_free`.
    pub fn events_possibly_unattributed(&self) -> u64 {
        self.events_possibly_unattributed
    }

    /// In a `raceway::check` that timed out waiting for the executions
    /// started inside it: those still running, by name and spawn site.
    pub fn still_running(&self) -> &[String] {
        &self.still_running
    }

    /// How many unordered pairs of accesses were not reported as data races
    /// because a spawn or join that raceway did not see (a thread started
    /// with `std::thread::spawn`) may order them. Atomicity violations are
    /// still reported: they do not depend on those edges.
    pub fn unordered_unknown_edges(&self) -> u64 {
        self.unordered_unknown_edges
    }

    /// How many recorded events never reached the analysis (dropped at a
    /// full hand-off, [`Overflow::Drop`](crate::Overflow::Drop)): when it is
    /// not 0, the verdicts are incomplete. Always 0 in `raceway::check`.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    /// The report as JSON (the stable field names in the module docs).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The human report, with ANSI colour when `color` is set.
    pub fn render(&self, color: bool) -> String {
        let paint =
            |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
        let mut out = String::new();
        for race in &self.races {
            out.push_str("==================\n");
            let times = if race.count == 1 { String::new() } else { format!(" ({} times)", race.count) };
            let heading = if race.predicted {
                format!(
                    "WARNING: raceway: possible {} on {}{times} (predicted: it did not happen in this run)",
                    race.kind, race.variable
                )
            } else {
                format!("WARNING: raceway: {} on {}{times}", race.kind, race.variable)
            };
            out.push_str(&paint("1;31", &heading));
            out.push('\n');
            if let Some(start) = &race.region_start {
                out.push_str(&describe_access("Region start", start));
            }
            let [first, second] = &race.accesses;
            let first_label = if race.kind == RaceKind::DataRace { "Previous" } else { "Interleaved" };
            out.push_str(&describe_access(first_label, first));
            out.push_str(&describe_access("Then", second));
            out.push_str(&format!("  {} {}\n", paint("1", "Why:"), race.explanation));
            if let Some(schedule) = &race.schedule {
                out.push_str(&format!("  {} {schedule}\n", paint("1", "Schedule:")));
            }
        }
        if !self.races.is_empty() {
            out.push_str("==================\n");
        }
        let mut kinds: Vec<(RaceKind, bool, u64)> = Vec::new();
        for race in &self.races {
            match kinds.iter_mut().find(|(k, p, _)| *k == race.kind && *p == race.predicted) {
                Some((_, _, n)) => *n += 1,
                None => kinds.push((race.kind, race.predicted, 1)),
            }
        }
        let detail = kinds
            .iter()
            .map(|(k, p, n)| format!("{n} {}{k}{}", if *p { "possible " } else { "" }, if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = if self.races.is_empty() && self.events_analyzed == 0 {
            paint(
                "1;33",
                "SUMMARY: raceway analyzed no events: nothing was recorded through tracked!, #[track] or raceway::sync by an execution it could attribute",
            )
        } else if self.races.is_empty() {
            paint("1;32", &format!("SUMMARY: raceway found no races in {} events", self.events_analyzed))
        } else {
            paint(
                "1;31",
                &format!(
                    "SUMMARY: raceway found {} race{} ({detail}) in {} events",
                    self.races.len(),
                    if self.races.len() == 1 { "" } else { "s" },
                    self.events_analyzed
                ),
            )
        };
        out.push_str(&summary);
        out.push('\n');
        if self.events_unattributed > 0 {
            out.push_str(&paint(
                "1;33",
                &format!(
                    "WARNING: raceway: {} events from {} execution{} ({}) that were not started through raceway were not analyzed: these verdicts are incomplete. Start threads with raceway::thread::spawn or raceway::thread::scope, and tasks with raceway::task::spawn, raceway::task::spawn_blocking or raceway::task::JoinSet (or wrap a future with raceway::FutureExt::execution)",
                    self.events_unattributed,
                    self.executions_unattributed,
                    if self.executions_unattributed == 1 { "" } else { "s" },
                    self.unattributed_kinds.join(", ")
                ),
            ));
            out.push('\n');
        }
        if !self.still_running.is_empty() {
            out.push_str(&paint(
                "1;33",
                &format!(
                    "WARNING: raceway: still running when the check stopped waiting (their later events are not analyzed): {}",
                    self.still_running.join(", ")
                ),
            ));
            out.push('\n');
        }
        if self.unordered_unknown_edges > 0 {
            out.push_str(&paint(
                "1;33",
                &format!(
                    "NOTE: raceway: {} unordered pair{} of accesses involve{} threads started without raceway, whose spawn or join raceway did not see and which may order them: not reported as data races (atomicity violations are). Start them with raceway::thread::spawn or raceway::thread::scope to have them checked",
                    self.unordered_unknown_edges,
                    if self.unordered_unknown_edges == 1 { "" } else { "s" },
                    if self.unordered_unknown_edges == 1 { "s" } else { "" }
                ),
            ));
            out.push('\n');
        }
        if self.events_possibly_unattributed > 0 {
            out.push_str(&paint(
                "1;33",
                &format!(
                    "NOTE: raceway: while this check ran, {} events were recorded by threads or tasks outside every check session that raceway could not attribute (tasks spawned with tokio::spawn, named threads such as other tests'): any that were this check's work were not analyzed. Start them with raceway::thread::spawn, raceway::task::spawn or raceway::task::spawn_blocking",
                    self.events_possibly_unattributed
                ),
            ));
            out.push('\n');
        }
        if self.events_dropped > 0 {
            out.push_str(&paint(
                "1;33",
                &format!(
                    "WARNING: raceway: {} events were dropped: these verdicts are incomplete (raise channel_capacity, or set RACEWAY_OVERFLOW=block)",
                    self.events_dropped
                ),
            ));
            out.push('\n');
        }
        out
    }
}

fn describe_access(label: &str, a: &Access) -> String {
    let verb = match a.access_type {
        AccessType::Read => "read",
        AccessType::Write => "write",
        AccessType::AtomicRead => "atomic read",
        AccessType::AtomicWrite => "atomic write",
        AccessType::AtomicRMW => "atomic read-modify-write",
    };
    let value = match (&a.old_value, a.access_type.is_write()) {
        (Some(old), true) if *old != Value::Null => format!("{} (was {old})", a.new_value),
        _ => a.new_value.to_string(),
    };
    let function = a.function.as_deref().map(|f| format!(" in {f}")).unwrap_or_default();
    let locks = if a.locks.is_empty() { "no locks".to_string() } else { format!("locks [{}]", a.locks.join(", ")) };
    format!(
        "  {label}: {verb} of {value} at {}{function}\n    by {} in {} (trace {}), holding {locks}\n",
        a.location, a.execution, a.service, a.trace_id
    )
}

impl fmt::Display for Report {
    /// The human report, without colour (see [`Report::render`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_with_dropped_events_says_its_verdicts_are_incomplete() {
        let report = Report { events_analyzed: 10, events_dropped: 5, ..Report::default() };
        let text = report.to_string();
        assert!(text.contains("5 events were dropped: these verdicts are incomplete"), "{text}");
        assert!(text.contains("RACEWAY_OVERFLOW=block"), "{text}");
        assert!(report.to_json().contains("\"events_dropped\": 5"), "{}", report.to_json());
        let complete = Report { events_analyzed: 10, ..Report::default() };
        assert!(!complete.to_string().contains("dropped"), "{complete}");
    }
}
