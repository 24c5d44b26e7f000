//! A `raceway::check` session: its own pipeline, and the count of its live
//! executions, which `check` waits for.

use crate::event::Site;
use crate::pipeline::Pipeline;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pipeline: Arc<Pipeline>,
    live: Mutex<Live>,
    all_ended: Condvar,
    unattributed: Mutex<Unattributed>,
}

/// What the session saw recorded but could not analyze.
#[derive(Clone, Debug, Default)]
pub(crate) struct Unattributed {
    /// Events.
    pub(crate) events: u64,
    /// The executions they came from, with what each is (a thread, a
    /// task); the first [`MAX_NAMED`] of them.
    pub(crate) executions: Vec<(u64, &'static str)>,
    /// How many executions, all told.
    pub(crate) execution_count: u64,
    /// Events of executions outside every session, recorded while other
    /// sessions were open too: perhaps this session's.
    pub(crate) possibly_ours: u64,
}

/// Unattributed executions a session remembers by id.
const MAX_NAMED: usize = 256;

/// The session's live executions, and the tasks waiting for them to end.
#[derive(Default)]
struct Live {
    count: usize,
    wakers: Vec<Waker>,
    /// What each live execution is: its name and where it was spawned,
    /// for a check that timed out waiting (the first [`MAX_NAMED`]).
    named: HashMap<u64, (String, Option<Site>)>,
}

impl Session {
    pub(crate) fn new(pipeline: Arc<Pipeline>) -> Session {
        Session {
            pipeline,
            live: Mutex::new(Live::default()),
            all_ended: Condvar::new(),
            unattributed: Mutex::new(Unattributed::default()),
        }
    }

    pub(crate) fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Counts an event of execution `exec` (`kind`: a thread, a task) that
    /// the session could not analyze.
    pub(crate) fn unattributed(&self, exec: u64, kind: &'static str) {
        let mut seen = self.unattributed.lock().unwrap_or_else(PoisonError::into_inner);
        seen.events += 1;
        if seen.executions.iter().rev().any(|(e, _)| *e == exec) {
            return;
        }
        // Beyond the ones remembered, each event of another execution
        // counts as one more: "at least".
        seen.execution_count += 1;
        if seen.executions.len() < MAX_NAMED {
            seen.executions.push((exec, kind));
        }
    }

    /// Counts an event that may be the session's work, or another open
    /// session's.
    pub(crate) fn possibly_unattributed(&self) {
        self.unattributed.lock().unwrap_or_else(PoisonError::into_inner).possibly_ours += 1;
    }

    /// What the session could not analyze.
    pub(crate) fn unattributed_work(&self) -> Unattributed {
        self.unattributed.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Execution `exec`, named `name`, spawned at `site`, started in the
    /// session: the session waits for it.
    pub(crate) fn execution_started(&self, exec: u64, name: &str, site: Option<Site>) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.count += 1;
        if live.named.len() < MAX_NAMED {
            live.named.insert(exec, (name.to_string(), site));
        }
    }

    pub(crate) fn execution_ended(&self, exec: u64) {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.count = live.count.saturating_sub(1);
        live.named.remove(&exec);
        if live.count == 0 {
            self.all_ended.notify_all();
            for waker in live.wakers.drain(..) {
                waker.wake();
            }
        }
    }

    /// The executions still running, by name and spawn site (at most
    /// `max`), and how many there are in all.
    pub(crate) fn still_running(&self, max: usize) -> (Vec<String>, usize) {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let mut named: Vec<String> = live
            .named
            .values()
            .map(|(name, site)| match site {
                Some(site) => format!("{name} (spawned at {}:{})", site.file(), site.line()),
                None => name.clone(),
            })
            .collect();
        named.sort();
        named.truncate(max);
        (named, live.count)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_session_names_the_executions_still_running_and_where_they_were_spawned() {
        let (pipeline, _outputs) = Pipeline::new(Config::default());
        let session = Session::new(pipeline);
        let site = std::panic::Location::caller();
        session.execution_started(1, "worker", Some(site));
        session.execution_started(2, "root", None);
        session.execution_ended(2);
        let (named, count) = session.still_running(10);
        assert_eq!(count, 1);
        assert_eq!(named, [format!("worker (spawned at {}:{})", site.file(), site.line())]);
        assert!(!session.wait(Duration::from_millis(1)), "one is still running");
        session.execution_ended(1);
        assert!(session.wait(Duration::from_millis(1)));
        assert_eq!(session.still_running(10), (Vec::new(), 0));
    }
}
