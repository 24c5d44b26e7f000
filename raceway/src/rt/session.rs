//! A `raceway::check` session: its own pipeline, and the count of its live
//! executions, which `check` waits for.

use crate::pipeline::Pipeline;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pipeline: Arc<Pipeline>,
    live: Mutex<Live>,
    all_ended: Condvar,
}

/// The session's live executions, and the tasks waiting for them to end.
#[derive(Default)]
struct Live {
    count: usize,
    wakers: Vec<Waker>,
}

impl Session {
    pub(crate) fn new(pipeline: Arc<Pipeline>) -> Session {
        Session { pipeline, live: Mutex::new(Live::default()), all_ended: Condvar::new() }
    }

    pub(crate) fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    pub(crate) fn execution_started(&self) {
        self.live.lock().unwrap_or_else(PoisonError::into_inner).count += 1;
    }

    pub(crate) fn execution_ended(&self) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.count = live.count.saturating_sub(1);
        if live.count == 0 {
            self.all_ended.notify_all();
            for waker in live.wakers.drain(..) {
                waker.wake();
            }
        }
    }

    /// Whether every execution ended; if not, `waker` is woken when they
    /// have.
    pub(crate) fn ended_or_wake(&self, waker: &Waker) -> bool {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.count == 0 {
            return true;
        }
        if !live.wakers.iter().any(|w| w.will_wake(waker)) {
            live.wakers.push(waker.clone());
        }
        false
    }

    /// Waits until every execution of the session ended; false on timeout.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        while live.count > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            live = self.all_ended.wait_timeout(live, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }
}
