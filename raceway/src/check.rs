//! `raceway::check`: run code in a fresh session and get its analysis, for
//! tests. No `init`, no server.

use crate::analyzer::Report;
use crate::client::RacewayClient;
use crate::config::Config;
use crate::rt::{self, ExecContext, Session};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::Arc;
use std::time::Duration;

/// How long `check` waits for executions started inside it to end.
const WAIT_FOR_EXECUTIONS: Duration = Duration::from_secs(30);

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
        // A check never drops: recording waits for the analysis.
        overflow: Some(crate::config::Overflow::Block),
        flush_interval: Duration::from_millis(200),
        ..Config::default()
    })
    .expect("the default configuration is valid");
    let session = Arc::new(Session::new(client.pipeline().clone()));
    rt::session_opened(true);
    let mut root = ExecContext::new(format!("check {}:{}", site.file(), site.line()), uuid::Uuid::new_v4().as_u128());
    root.join_session(session.clone());
    let result = catch_unwind(AssertUnwindSafe(|| rt::run_as(&mut root, f)));
    rt::end(&root);
    drop(root);
    let all_ended = session.wait(WAIT_FOR_EXECUTIONS);
    rt::session_opened(false);
    let report = client.report();
    let _ = client.shutdown();
    if let Err(panic) = result {
        resume_unwind(panic);
    }
    if !all_ended {
        crate::log::warn(format_args!(
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
