//! Reading happens-before off recorded events' vector clocks.

use raceway::wire::{Event, EventKind};

/// The event's own clock component: its execution and position.
pub fn own(e: &Event) -> (&str, u64) {
    let (component, n) = e.causality_vector.last().expect("every event carries its clock");
    (component, *n)
}

/// Whether `a` happens before `b`.
pub fn happens_before(a: &Event, b: &Event) -> bool {
    let (component, n) = own(a);
    b.causality_vector.iter().any(|(c, m)| &**c == component && *m >= n)
}

/// Whether neither happens before the other.
pub fn concurrent(a: &Event, b: &Event) -> bool {
    !happens_before(a, b) && !happens_before(b, a)
}

/// The state changes of variables whose display name is `name` (the
/// address suffix ignored), in recording order per execution.
pub fn accesses<'a>(events: &'a [Event], name: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::StateChange { variable, .. } if crate::capture::strip_address(variable) == name))
        .collect()
}

/// The single write to `name` of `value`.
pub fn write<'a>(events: &'a [Event], name: &str, value: i64) -> &'a Event {
    let found: Vec<_> = accesses(events, name)
        .into_iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::StateChange { new_value, access_type, .. }
                if access_type.is_write() && new_value.to_json() == value)
        })
        .collect();
    assert_eq!(found.len(), 1, "one write of {value} to {name}: {found:#?}");
    found[0]
}
