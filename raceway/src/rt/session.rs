//! A `raceway::check` session: its own pipeline, and the count of its live
//! executions, which `check` waits for.

use crate::pipeline::Pipeline;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pipeline: Arc<Pipeline>,
    live: Mutex<usize>,
    all_ended: Condvar,
}

impl Session {
    pub(crate) fn new(pipeline: Arc<Pipeline>) -> Session {
        Session { pipeline, live: Mutex::new(0), all_ended: Condvar::new() }
    }

    pub(crate) fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    pub(crate) fn execution_started(&self) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    pub(crate) fn execution_ended(&self) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        *live = live.saturating_sub(1);
        if *live == 0 {
            self.all_ended.notify_all();
        }
    }

    /// Waits until every execution of the session ended; false on timeout.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        while *live > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            live = self.all_ended.wait_timeout(live, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }
}
