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

pub(crate) fn explain_violation(
    kind: RaceKind,
    variable: &str,
    p: &AccessRecord,
    r: &AccessRecord,
    c: &AccessRecord,
    region: &str,
    unsync: bool,
) -> String {
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
