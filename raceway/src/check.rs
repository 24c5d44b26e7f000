//! `raceway::check`: run code in a fresh session and get its analysis, for
//! tests. No `init`, no server.

use crate::client::RacewayClient;
use crate::config::Config;
use crate::context::{self, ExecContext};
use crate::pipeline::Shared;
use crate::{global, Report};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long `check` waits for executions started inside it to end.
const WAIT_FOR_EXECUTIONS: Duration = Duration::from_secs(30);

/// A `check` session: its own pipeline, and the count of its live
/// executions.
pub(crate) struct Session {
    shared: Arc<Shared>,
    live: Mutex<usize>,
    all_ended: Condvar,
}

impl Session {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
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
    fn wait(&self, timeout: Duration) -> bool {
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

/// Runs `f` in a fresh session and returns the analysis of everything it
/// recorded: its own events and those of every execution started inside it
/// through `raceway`'s spawn wrappers (threads, tasks, rayon jobs), which
/// `check` waits for (up to 30 s for detached ones).
///
/// Sessions are isolated: tests running in parallel in one binary never see
/// each other's events, and no process-wide client is needed. A panic in
/// `f` propagates after the session is closed.
///
/// ```
/// use raceway::{thread, tracked};
/// let report = raceway::check(|| {
///     let mut hits = 0i64;
///     tracked!(hits += 1);
/// });
/// assert!(report.races().is_empty());
/// ```
#[track_caller]
pub fn check<R>(f: impl FnOnce() -> R) -> Report {
    let site = Location::caller();
    let client = RacewayClient::new(Config {
        service_name: "raceway-check".into(),
        embedded_capacity: 0,
        flush_interval: Duration::from_millis(200),
        ..Config::default()
    })
    .expect("the default configuration is valid");
    let session = Arc::new(Session { shared: client.shared().clone(), live: Mutex::new(0), all_ended: Condvar::new() });
    global::session_opened(true);
    let mut root = ExecContext::new(format!("check {}:{}", site.file(), site.line()), uuid::Uuid::new_v4().as_u128());
    root.join_session(session.clone());
    let result = catch_unwind(AssertUnwindSafe(|| context::run_as(&mut root, f)));
    context::end(&root);
    drop(root);
    let all_ended = session.wait(WAIT_FOR_EXECUTIONS);
    global::session_opened(false);
    let report = client.report();
    let _ = client.shutdown();
    if let Err(panic) = result {
        resume_unwind(panic);
    }
    if !all_ended {
        crate::sink::warn(format_args!(
            "raceway::check at {}:{}: executions started inside it were still running after {:?}; their later events are not in the report",
            site.file(),
            site.line(),
            WAIT_FOR_EXECUTIONS
        ));
    }
    report
}

/// Runs `f` like [`check`] and panics with the formatted report when races
/// were found.
#[track_caller]
pub fn assert_race_free<R>(f: impl FnOnce() -> R) {
    let report = check(f);
    if !report.is_clean() {
        panic!("raceway found races:\n{report}");
    }
}
