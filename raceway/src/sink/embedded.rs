//! The embedded collector: events stay in this process, where the analyzer
//! consumes them as they arrive; the most recent ones are also kept for
//! inspection.

use super::Sink;
use crate::analyzer::{Analyzer, Reorder, Report};
use crate::config::Config;
use crate::convert::Ending;
use crate::stats::Counters;
use crate::wire::Event;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Ended executions that make the next tick due.
const ENDINGS_PER_TICK: usize = 16;

/// Events the analysis holds back to restore timestamp order, at most.
const REORDER_CAPACITY: usize = 65_536;

/// The embedded collector's state, shared with the client.
pub(crate) struct EmbeddedStore {
    events: Mutex<Retained>,
    capacity: usize,
    analysis: Mutex<Analysis>,
}

/// The events kept for inspection, oldest first, and their
/// [weight](Event::weight): at most `capacity` events and
/// [`Event::weight_bound`] of weight.
#[derive(Default)]
struct Retained {
    events: VecDeque<Event>,
    weight: usize,
}

impl Retained {
    fn keep(&mut self, batch: &[Event], capacity: usize) {
        for event in batch {
            self.weight += event.weight();
            self.events.push_back(event.clone());
        }
        let max_weight = Event::weight_bound(capacity);
        while self.events.len() > capacity || self.weight > max_weight {
            match self.events.pop_front() {
                Some(old) => self.weight -= old.weight(),
                None => break,
            }
        }
    }
}

struct Analysis {
    reorder: Reorder,
    analyzer: Analyzer,
    /// Executions that ended, applied once their events have been analyzed.
    ended: Vec<Ending>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Analysis {
    fn observe_all(&mut self, events: Vec<Event>) {
        for event in events {
            self.analyzer.observe(&event);
        }
    }

    /// Forgets ended executions once nothing of theirs can still be held.
    fn apply_ended(&mut self) {
        if self.reorder.oldest().is_none() {
            for ending in self.ended.drain(..) {
                if let Some(thread_id) = &ending.thread_id {
                    self.analyzer.execution_ended(thread_id);
                }
                if let Some(component) = ending.freed {
                    self.analyzer.component_freed(component);
                }
            }
        }
    }

    /// Retires the components that the analysis no longer needs (`force`:
    /// whatever a sweep costs; see `crate::retirement`). Only on the
    /// exporter's thread, right after it submitted its partial batch: an
    /// ended execution's last events may wait there, and must be analyzed
    /// before its component can be swept.
    fn retire(&mut self, force: bool) {
        for component in self.analyzer.retire_components(force) {
            if let Some(id) = crate::component::local(&component) {
                crate::retirement::retire(id);
            }
        }
    }
}

impl EmbeddedStore {
    /// A copy of the retained events, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Event> {
        lock(&self.events).events.iter().cloned().collect()
    }

    /// The analysis of everything delivered so far.
    pub(crate) fn report(&self) -> Report {
        let mut analysis = lock(&self.analysis);
        let held = analysis.reorder.drain();
        analysis.observe_all(held);
        analysis.apply_ended();
        analysis.analyzer.report()
    }
}

pub(super) struct EmbeddedSink {
    store: Arc<EmbeddedStore>,
}

impl EmbeddedSink {
    pub(super) fn new(config: &Config) -> Self {
        // Events from several threads arrive up to a flush interval late.
        let window = config.flush_interval * 2;
        EmbeddedSink {
            store: Arc::new(EmbeddedStore {
                events: Mutex::new(Retained::default()),
                capacity: config.embedded_capacity,
                analysis: Mutex::new(Analysis {
                    reorder: Reorder::new(REORDER_CAPACITY, window),
                    analyzer: Analyzer::with_prediction(config.predict),
                    ended: Vec::new(),
                }),
            }),
        }
    }
}

impl Sink for EmbeddedSink {
    fn submit(&mut self, batch: Vec<Event>, counters: &Counters) {
        let n = batch.len();
        if self.store.capacity > 0 {
            lock(&self.store.events).keep(&batch, self.store.capacity);
        }
        let mut analysis = lock(&self.store.analysis);
        let mut released = Vec::new();
        for event in batch {
            analysis.reorder.push_into(event, &mut released);
        }
        analysis.observe_all(released);
        counters.sent(n);
    }

    /// Queued: the execution's last events may still be in the exporter's
    /// partial batch; the next pump (after that batch is submitted) applies
    /// it.
    fn ended(&mut self, ending: Ending) {
        let mut analysis = lock(&self.store.analysis);
        match ending {
            // None of its events came (all were dropped with their chunks,
            // and nothing of it can still arrive: its end came after
            // them), and its slot was its own from the start: nothing of
            // its component is remembered, so it retires now, without
            // waiting for the window.
            Ending { thread_id: None, freed: Some(component), own_slot: true } => {
                if let Some(id) = crate::component::local(&component) {
                    crate::retirement::retire(id);
                }
                analysis.analyzer.component_freed(component);
            }
            ending => analysis.ended.push(ending),
        }
    }

    /// Called on every tick and flush, right after the exporter collected
    /// every thread's buffer: nothing recorded earlier can still arrive, so
    /// the held events are released in order.
    fn pump(&mut self, _counters: &Counters, force: bool) {
        let mut analysis = lock(&self.store.analysis);
        let held = analysis.reorder.drain();
        analysis.observe_all(held);
        analysis.apply_ended();
        analysis.retire(force);
    }

    /// Due once [`ENDINGS_PER_TICK`] executions ended since the last tick:
    /// retiring their components waits for a tick (their events must be
    /// analyzed first, and the window releases them at a tick), so at the
    /// flush interval alone a busy service's clocks would list every
    /// request of the last second.
    fn tick_due(&self, lost_ends: usize) -> bool {
        lost_ends + lock(&self.store.analysis).ended.len() >= ENDINGS_PER_TICK
    }

    fn embedded_store(&self) -> Option<Arc<EmbeddedStore>> {
        Some(self.store.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retained_events_are_bounded_by_number_and_by_weight() {
        let event = |entries| Event::for_tests("2026-11-25T17:45:00Z", entries);
        let mut retained = Retained::default();
        retained.keep(&[event(0), event(0), event(0), event(0), event(0)], 4);
        assert_eq!((retained.events.len(), retained.weight), (4, 4), "the oldest goes");
        // Twice the capacity in weight: an event whose clock makes it weigh
        // three takes the room of three light ones.
        retained.keep(&[event(32)], 4);
        assert_eq!((retained.events.len(), retained.weight), (4, 6));
        retained.keep(&[event(32)], 4);
        assert_eq!((retained.events.len(), retained.weight), (4, 8), "at most a weight of 8");
        retained.keep(&[event(32)], 4);
        assert_eq!((retained.events.len(), retained.weight), (2, 6), "heavy events leave fewer");
        assert!(retained.events.iter().all(|e| e.causality_vector.len() == 32));
    }
}
