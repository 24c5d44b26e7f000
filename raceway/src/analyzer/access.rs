//! What the analysis remembers of an access ([`AccessRecord`]) and of the
//! execution that made it ([`ExecIdentity`]).

use super::clock_lookup::{Clock, Hint};
use crate::event::AccessType;
use std::sync::Arc;
use uuid::Uuid;

/// An access as the analysis remembers it: what checks need, and what a
/// report needs (not the event's vector clock). Held by value where it is
/// remembered, so replacing a remembered access reuses its slot instead of
/// chasing a pointer to a cold allocation.
///
/// What the checks read comes first and fills one cache line (`repr(C)`
/// keeps the order, the alignment keeps it on one line): checking an access
/// that is not a race reads nothing else of it. A unit test keeps it so.
#[derive(Clone)]
#[repr(C, align(64))]
pub(crate) struct AccessRecord {
    /// `who.id`, copied inline: the checks compare executions on every
    /// access, without following `who`.
    pub(crate) exec: u64,
    /// Position in the analysis order.
    pub(crate) seq: u64,
    /// The execution's own clock component and its value at the access.
    pub(crate) epoch: Option<(Arc<str>, u64)>,
    /// Where `epoch`'s component was in the clock of the last access
    /// checked against this one (or against the execution's previous
    /// access): clocks list components in much the same order, so it is
    /// usually where the next one has it too.
    pub(crate) hint: Hint,
    pub(crate) write: bool,
    pub(crate) atomic: bool,
    pub(crate) id: Uuid,
    // What a report needs.
    pub(crate) who: Arc<ExecIdentity>,
    /// The innermost `#[track]` function around the access.
    pub(crate) function: Option<Arc<str>>,
    pub(crate) trace_id: Uuid,
    pub(crate) access_type: AccessType,
    pub(crate) old_value: Option<crate::value::Value>,
    pub(crate) new_value: crate::value::Value,
    pub(crate) location: Arc<str>,
    pub(crate) locks: Arc<[String]>,
}

impl AccessRecord {
    pub(crate) fn location(&self) -> &str {
        &self.location
    }

    /// Whether this access happens before the event whose clock is `clock`.
    pub(crate) fn happens_before(&self, clock: &Clock<'_>) -> bool {
        clock.after(&self.epoch, [&self.hint, &self.who.hint])
    }
}

/// An execution as its accesses name it.
pub(crate) struct ExecIdentity {
    /// The analysis's id of the execution: executions are compared by it.
    pub(crate) id: u64,
    /// The execution's name (its `thread_id`).
    pub(crate) name: Arc<str>,
    /// The service the execution belongs to.
    pub(crate) service: Arc<str>,
    /// Where clocks list the execution's component, as last found: where
    /// its next access starts looking.
    pub(crate) hint: Hint,
    /// A thread or task raceway did not see start or end: its spawn or
    /// its join edges are unknown (no prediction around it).
    pub(crate) origin_unknown: bool,
    /// Its spawn is unknown too (not seen through tokio's task hooks): no
    /// race against what happened before its first event is reported.
    pub(crate) spawn_unknown: bool,
    /// The analysis position of its first event.
    pub(crate) first_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_checks_read_of_an_access_is_on_its_first_cache_line() {
        assert_eq!(std::mem::align_of::<AccessRecord>(), 64);
        assert!(std::mem::offset_of!(AccessRecord, id) + std::mem::size_of::<Uuid>() <= 64);
    }
}
