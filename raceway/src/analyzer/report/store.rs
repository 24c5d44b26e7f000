//! The race store: the deduplicated list of races, one entry per variable
//! and pair of source locations, with a count.

use super::{Access, Race, RaceKind};
use crate::analyzer::access::AccessRecord;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// The deduplicated report: one entry per variable and pair of source
/// locations, with a count.
#[derive(Default)]
pub(crate) struct Races {
    pub(crate) list: Vec<Race>,
    /// What identifies each entry of `list`, as shared strings: a repeated
    /// race is recognized by comparing pointers, without reading the report.
    pub(crate) keys: Vec<RaceKey>,
    /// Hash of (variable, first location, second location) to its entry.
    pub(crate) index: HashMap<u64, usize>,
}

/// A variable (by its display name) and two source locations.
pub(crate) struct RaceKey {
    pub(crate) variable: Arc<str>,
    pub(crate) display_len: usize,
    pub(crate) first: Arc<str>,
    pub(crate) second: Arc<str>,
}

impl RaceKey {
    pub(crate) fn is(&self, variable: &Arc<str>, name: &str, first: &Arc<str>, second: &Arc<str>) -> bool {
        // `Arc`'s equality compares pointers before contents.
        (Arc::ptr_eq(&self.variable, variable) || &self.variable[..self.display_len] == name)
            && self.first == *first
            && self.second == *second
    }
}

/// The `schedule` of a race that happened.
pub(crate) const HAPPENED: Option<(fn() -> String, bool)> = None;

impl Races {
    /// Records a race on `variable` (reported as `name`) between `first`
    /// and `second`, or counts it again: `unsync` when the pair is also a
    /// data race, `ordered` when `first` happens before `second`;
    /// `schedule`, for a predicted race, makes the schedule that exhibits
    /// it (made, like the explanation, only for a race not recorded yet),
    /// and says whether the interleaved access runs first in it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record<S: FnOnce() -> String>(
        &mut self,
        kind: RaceKind,
        (variable, name): (&Arc<str>, &str),
        first: &AccessRecord,
        second: &AccessRecord,
        start: Option<&AccessRecord>,
        (unsync, ordered): (bool, bool),
        schedule: Option<(S, bool)>,
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
            if schedule.is_none() && race.schedule.is_some() {
                // It happened after all: no longer only predicted.
                race.schedule = None;
                race.predicted = false;
                race.kind = kind;
                race.explanation = explanation();
                race.region_start = start.map(to_access);
                race.accesses = [to_access(first), to_access(second)];
                race.also_unsynchronized |= unsync;
                race.happens_before = ordered;
                return;
            }
            if schedule.is_some() && race.schedule.is_none() {
                return;
            }
            race.also_unsynchronized |= unsync || (kind == RaceKind::DataRace && race.kind != RaceKind::DataRace);
            if kind.specificity() > race.kind.specificity() {
                race.also_unsynchronized = true;
                race.kind = kind;
                race.explanation = explanation();
                race.region_start = start.map(to_access);
                race.happens_before = ordered;
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
            predicted: schedule.is_some(),
            interleaved_ran_first: schedule.as_ref().is_some_and(|(_, first)| *first),
            schedule: schedule.map(|(s, _)| s()),
            accesses: [to_access(first), to_access(second)],
            region_start: start.map(to_access),
            happens_before: ordered,
        });
    }
}

/// The report's copy of a remembered access.
fn to_access(rec: &AccessRecord) -> Access {
    Access {
        access_type: rec.access_type,
        old_value: rec.old_value.clone(),
        new_value: rec.new_value.clone(),
        location: rec.location.to_string(),
        function: rec.function.as_deref().map(str::to_string),
        execution: rec.who.name.to_string(),
        service: rec.who.service.to_string(),
        trace_id: rec.trace_id.to_string(),
        locks: rec.locks.to_vec(),
        event_id: rec.id.to_string(),
    }
}
