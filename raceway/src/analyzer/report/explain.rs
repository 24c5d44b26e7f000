//! The explanations a report gives: why two accesses race, and how an
//! atomic region was broken.

use super::RaceKind;
use crate::analyzer::access::AccessRecord;

pub(crate) fn verb(rec: &AccessRecord) -> &'static str {
    if rec.write {
        "wrote"
    } else {
        "read"
    }
}

pub(crate) fn explain_race(variable: &str, first: &AccessRecord, second: &AccessRecord) -> String {
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
        "{} {} {variable} at {} and {} {} it at {}; nothing recorded ordered the two (no lock hand-off, channel message, atomic release and acquire, condvar, barrier, spawn, join or propagated call), and {locks}.",
        first.who.name,
        verb(first),
        first.location(),
        second.who.name,
        verb(second),
        second.location()
    )
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn explain_violation(
    kind: RaceKind,
    variable: &str,
    p: &AccessRecord,
    r: &AccessRecord,
    c: &AccessRecord,
    region: &str,
    unsync: bool,
    predicted: bool,
) -> String {
    let (t, u) = (&c.who.name, &r.who.name);
    let (pl, cl, rl) = (p.location(), c.location(), r.location());
    let mut text = match (kind, predicted) {
        (RaceKind::LostUpdate, false) => format!(
            "{t} read {variable} at {pl} and wrote it back at {cl} within one call of {region}, but {u} wrote it at {rl} in between: that write was lost."
        ),
        (RaceKind::LostUpdate, true) => format!(
            "{t} read {variable} at {pl} and wrote it back at {cl} within one call of {region}, and {u}'s write at {rl} can run in between: that write would be lost."
        ),
        (RaceKind::InconsistentRead, false) => format!(
            "{t} read {variable} at {pl} and again at {cl} within one call of {region}, but {u} wrote it at {rl} in between: the two reads disagree."
        ),
        (RaceKind::InconsistentRead, true) => format!(
            "{t} read {variable} at {pl} and again at {cl} within one call of {region}, and {u}'s write at {rl} can run in between: the two reads would disagree."
        ),
        (RaceKind::DirtyRead, false) => format!(
            "{u} read {variable} at {rl} between two writes by {t} ({pl} and {cl}) within one call of {region}: it saw an intermediate value."
        ),
        (RaceKind::DirtyRead, true) => format!(
            "{u}'s read of {variable} at {rl} can run between two writes by {t} ({pl} and {cl}) within one call of {region}: it would see an intermediate value."
        ),
        (_, false) => format!(
            "{t} wrote {variable} at {pl} and read it back at {cl} within one call of {region}, but {u} overwrote it at {rl} in between."
        ),
        (_, true) => format!(
            "{t} wrote {variable} at {pl} and read it back at {cl} within one call of {region}, and {u}'s write at {rl} can run in between: {t} would read back {u}'s value."
        ),
    };
    if unsync {
        text.push_str(" The two accesses were also unsynchronized (a data race).");
    }
    text
}

/// For a predicted data race: the reordering that runs the two accesses
/// back to back.
pub(crate) fn schedule_race(variable: &str, first: &AccessRecord, second: &AccessRecord) -> String {
    format!(
        "this did not happen in this run: only a lock hand-off between critical sections that touch nothing in common ordered {} {} {variable} at {} before {} {} it at {}. If the critical sections run in the other order (every other event keeping its order), the two accesses run unordered.",
        first.who.name,
        verb(first),
        first.location(),
        second.who.name,
        verb(second),
        second.location()
    )
}

/// For a predicted atomicity violation: the schedule that breaks the
/// region: `r` run between `p` and `c`.
pub(crate) fn schedule_violation(
    kind: RaceKind,
    variable: &str,
    p: &AccessRecord,
    r: &AccessRecord,
    c: &AccessRecord,
) -> String {
    let (t, u) = (&c.who.name, &r.who.name);
    let (rl, pl, cl) = (r.location(), p.location(), c.location());
    let what = match kind {
        RaceKind::LostUpdate => format!(
            "possible lost update: if {u} runs {rl} between {t}'s read at {pl} and its write at {cl}, one update of {variable} is lost"
        ),
        RaceKind::InconsistentRead => format!(
            "possible inconsistent read: if {u} runs {rl} between {t}'s reads of {variable} at {pl} and {cl}, the two reads disagree"
        ),
        RaceKind::DirtyRead => format!(
            "possible dirty read: if {u} runs {rl} between {t}'s writes of {variable} at {pl} and {cl}, it reads an intermediate value"
        ),
        _ => format!(
            "possible overwritten write: if {u} runs {rl} between {t}'s write of {variable} at {pl} and its read at {cl}, {t} reads back {u}'s value instead of its own"
        ),
    };
    format!("{what}. It did not happen in this run; the reordering keeps each execution's program order and every hard edge (spawn, join, message, atomic, barrier, condvar), and moves only critical sections that did not read what the other wrote.")
}
