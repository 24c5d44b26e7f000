//! `raceway::check`: run code in a fresh session and get its analysis, for
//! tests. No `init`, no server.

use crate::analyzer::Report;
use crate::client::RacewayClient;
use crate::config::Config;
use crate::rt::{self, ExecContext, Session};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
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
    let mut open = OpenCheck::start(Location::caller());
    let result = catch_unwind(AssertUnwindSafe(|| rt::run_as(&mut open.root, f)));
    let session = open.end_root();
    let all_ended = session.wait(WAIT_FOR_EXECUTIONS);
    let report = open.close(all_ended);
    if let Err(panic) = result {
        resume_unwind(panic);
    }
    report
}

/// [`check`] for async tests: runs `future` in a fresh session, on the
/// executor that polls the returned future (both tokio flavours inside
/// `#[tokio::test]`, or any other), and resolves to the analysis of
/// everything it recorded. It waits for the executions started inside it
/// without blocking the executor (up to 30 s for detached ones).
///
/// ```
/// # #[cfg(feature = "tokio")] {
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let report = raceway::check_async(async {
///     let mut hits = 0i64;
///     raceway::tracked!(hits += 1);
/// })
/// .await;
/// assert!(report.is_clean());
/// # });
/// # }
/// ```
#[track_caller]
pub fn check_async<F: Future>(future: F) -> impl Future<Output = Report> {
    let site = Location::caller();
    async move {
        let mut open = OpenCheck::start(site);
        let result = AssertUnwindSafe(InSession { root: &mut open.root, future }).catch_unwind().await;
        let session = open.end_root();
        let all_ended = AllEnded::new(&session, WAIT_FOR_EXECUTIONS).await;
        let report = open.close(all_ended);
        if let Err(panic) = result {
            resume_unwind(panic);
        }
        report
    }
}

/// [`check_async`], panicking with the formatted report when races were
/// found.
#[track_caller]
pub fn assert_race_free_async<F: Future>(future: F) -> impl Future<Output = ()> {
    let report = check_async(future);
    async move {
        let report = report.await;
        if !report.is_clean() {
            panic!("raceway found races:\n{report}");
        }
        if report.events_unattributed() > 0 {
            panic!("raceway could not analyze all of the work:\n{report}");
        }
    }
}

/// A `check` session while it runs: its own client, and the root execution.
struct OpenCheck {
    site: &'static Location<'static>,
    client: RacewayClient,
    session: Arc<Session>,
    root: ExecContext,
    _open: Counted,
}

/// Counts the session among the active listeners while it lives, also
/// when a `check_async` future is dropped before it completes.
struct Counted(Arc<Session>);

impl Counted {
    fn open(session: &Arc<Session>) -> Counted {
        rt::session_opened(session, true);
        Counted(session.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        rt::session_opened(&self.0, false);
    }
}

impl OpenCheck {
    fn start(site: &'static Location<'static>) -> OpenCheck {
        let client = RacewayClient::new(Config {
            service_name: "raceway-check".into(),
            embedded_capacity: 0,
            // A check never drops: recording waits for the analysis.
            overflow: Some(crate::config::Overflow::Block),
            flush_interval: Duration::from_millis(200),
            predict: match crate::config::predict_from_env() {
                Ok(predict) => predict,
                Err(e) => panic!("raceway::check: {e}"),
            },
            // The report waits for the analysis of everything recorded: no
            // collector to be down here, so the delivery default (5 s) is
            // not the right bound for a large check.
            flush_timeout: Duration::from_secs(30),
            ..Config::default()
        })
        .expect("the default configuration is valid");
        let session = Arc::new(Session::new(client.pipeline().clone()));
        let open = Counted::open(&session);
        let mut root =
            ExecContext::new(format!("check {}:{}", site.file(), site.line()), uuid::Uuid::new_v4().as_u128());
        root.join_session(session.clone(), Some(site));
        OpenCheck { site, client, session, root, _open: open }
    }

    /// Ends the root execution: the session then waits for the others.
    fn end_root(&mut self) -> Arc<Session> {
        rt::end(&self.root);
        // The placeholder left in its place counts in no session.
        drop(std::mem::replace(&mut self.root, ExecContext::placeholder(0)));
        self.session.clone()
    }

    /// Closes the session (its executions ended, or `all_ended` is false)
    /// and returns its analysis.
    fn close(self, all_ended: bool) -> Report {
        let OpenCheck { site, client, session, root, _open } = self;
        drop(root);
        drop(_open);
        let unattributed = session.unattributed_work();
        let (still_running, running) = session.still_running(10);
        drop(session);
        let mut report = client.report();
        report.events_unattributed = unattributed.events;
        report.executions_unattributed = unattributed.execution_count;
        report.events_possibly_unattributed = unattributed.possibly_ours;
        report.unattributed_kinds = {
            let mut kinds: Vec<&str> = unattributed.executions.iter().map(|(_, kind)| *kind).collect();
            kinds.sort_unstable();
            kinds.dedup();
            kinds.into_iter().map(str::to_string).collect()
        };
        let _ = client.shutdown();
        if !all_ended {
            let more = running.saturating_sub(still_running.len());
            crate::log::warn(format_args!(
                "raceway::check at {}:{}: {running} execution{} started inside it {} still running after {:?}: {}{}; their later events are not in the report",
                site.file(),
                site.line(),
                if running == 1 { "" } else { "s" },
                if running == 1 { "was" } else { "were" },
                WAIT_FOR_EXECUTIONS,
                still_running.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
            ));
            report.still_running = still_running;
        }
        report
    }
}

/// The future of a `check_async`, each poll run as the session's root
/// execution.
struct InSession<'a, F> {
    root: &'a mut ExecContext,
    future: F,
}

impl<F: Future> Future for InSession<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is never moved out of the pinned `InSession`
        // (structural pinning), and `root` is an `Unpin` reference.
        let this = unsafe { self.get_unchecked_mut() };
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        rt::run_as(this.root, || future.poll(cx))
    }
}

/// `catch_unwind` for a future, polled in place.
trait CatchUnwind: Future + Sized {
    fn catch_unwind(self) -> Caught<Self> {
        Caught(self)
    }
}

impl<F: Future + std::panic::UnwindSafe> CatchUnwind for F {}

struct Caught<F>(F);

impl<F: Future + std::panic::UnwindSafe> Future for Caught<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field.
        let inner = unsafe { self.map_unchecked_mut(|c| &mut c.0) };
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Resolves once every execution of `session` ended (true), or after
/// `timeout` (false), without blocking the executor: the session wakes it,
/// and a timer thread wakes it at the deadline.
struct AllEnded<'a> {
    session: &'a Session,
    deadline: std::time::Instant,
    timer: Option<std::thread::JoinHandle<()>>,
}

impl<'a> AllEnded<'a> {
    fn new(session: &'a Session, timeout: Duration) -> Self {
        AllEnded { session, deadline: std::time::Instant::now() + timeout, timer: None }
    }
}

impl Future for AllEnded<'_> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        if self.session.ended_or_wake(cx.waker()) {
            return Poll::Ready(true);
        }
        if std::time::Instant::now() >= self.deadline {
            return Poll::Ready(false);
        }
        if self.timer.is_none() {
            let (waker, deadline) = (cx.waker().clone(), self.deadline);
            self.timer = std::thread::Builder::new()
                .name("raceway-check-timer".into())
                .spawn(move || {
                    std::thread::sleep(deadline.saturating_duration_since(std::time::Instant::now()));
                    waker.wake();
                })
                .ok();
        }
        Poll::Pending
    }
}

/// Runs `f` like [`check`] and panics with the formatted report when races
/// were found.
#[track_caller]
pub fn assert_race_free<R>(f: impl FnOnce() -> R) {
    let report = check(f);
    if !report.is_clean() {
        panic!("raceway found races:\n{report}");
    }
    if report.events_unattributed() > 0 {
        panic!("raceway could not analyze all of the work:\n{report}");
    }
}
