//! The embedded collector: events stay in this process.

use super::Sink;
use crate::stats::Counters;
use crate::wire::Event;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// The most recent events, bounded: older ones are discarded first.
pub(crate) struct EmbeddedStore {
    events: Mutex<VecDeque<Event>>,
    capacity: usize,
}

impl EmbeddedStore {
    /// A copy of the retained events, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }
}

pub(super) struct EmbeddedSink {
    store: Arc<EmbeddedStore>,
}

impl EmbeddedSink {
    pub(super) fn new(capacity: usize) -> Self {
        EmbeddedSink { store: Arc::new(EmbeddedStore { events: Mutex::new(VecDeque::new()), capacity }) }
    }
}

impl Sink for EmbeddedSink {
    fn submit(&mut self, batch: Vec<Event>, counters: &Counters) {
        let n = batch.len();
        let mut events = self.store.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.extend(batch);
        let excess = events.len().saturating_sub(self.store.capacity);
        events.drain(..excess);
        Counters::add(&counters.sent, n);
    }

    fn embedded_store(&self) -> Option<Arc<EmbeddedStore>> {
        Some(self.store.clone())
    }
}
