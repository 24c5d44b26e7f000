//! Async executions: a context that follows the future, not the worker
//! thread.
//!
//! A future becomes its own execution when it is spawned through
//! [`spawn`] (tokio, behind the `tokio` feature) or wrapped with
//! [`FutureExt::execution`] (any executor; also for futures you `join!` or
//! `select!` on, which otherwise share their task's execution). Each poll
//! enters the execution on whichever thread runs it, so two tasks
//! interleaving on one thread are two executions, and a task that moves
//! between worker threads stays one.

use crate::event::Kind;
use crate::rt::{self, Ended, ExecContext};
use crate::value::Value;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// Where a finished execution leaves its end (final clock and slots) for
/// whoever joins it. The side that joins holds a [`Joiner`]: when it goes
/// without joining (a handle dropped, a task detached), the end is
/// *unjoined*, and its slots are freed (see `rt::free_unjoined`).
#[derive(Clone, Default)]
pub(crate) struct Finish(Arc<Mutex<Join>>);

/// Where an end is between its execution and its joiner.
#[derive(Default)]
enum Join {
    /// The execution has not ended, and may still be joined.
    #[default]
    Waiting,
    /// It ended, and its end waits for the join.
    Ended(Ended),
    /// Its end was joined.
    Taken,
    /// Nobody will join it.
    Unjoined,
}

impl Finish {
    /// For an execution that nothing joins (`rayon::spawn`): its slots are
    /// freed as it ends.
    #[cfg_attr(not(feature = "rayon"), allow(dead_code))]
    pub(crate) fn unjoined() -> Self {
        Finish(Arc::new(Mutex::new(Join::Unjoined)))
    }

    /// The side that joins.
    pub(crate) fn joiner(&self) -> Joiner {
        Joiner(self.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Join> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves the end of the execution for its joiner, or frees its slots
    /// when nobody will join it.
    pub(crate) fn store(&self, ended: Ended) {
        let mut state = self.state();
        if matches!(*state, Join::Unjoined) {
            drop(state);
            rt::free_unjoined(ended);
        } else {
            *state = Join::Ended(ended);
        }
    }

    /// The end, for the join: `None` when the execution has not left it
    /// (yet).
    pub(crate) fn take(&self) -> Option<Ended> {
        let mut state = self.state();
        match std::mem::replace(&mut *state, Join::Taken) {
            Join::Ended(ended) => Some(ended),
            other => {
                *state = other;
                None
            }
        }
    }

    /// Nobody will join: an end already left is freed now, one to come
    /// when it comes.
    fn abandon(&self) {
        let mut state = self.state();
        match std::mem::replace(&mut *state, Join::Unjoined) {
            Join::Ended(ended) => {
                drop(state);
                rt::free_unjoined(ended);
            }
            Join::Taken => *state = Join::Taken,
            Join::Waiting | Join::Unjoined => {}
        }
    }
}

impl std::fmt::Debug for Finish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finish").finish_non_exhaustive()
    }
}

/// The joining side of a [`Finish`]: dropped without taking the end, it
/// leaves the end unjoined.
#[derive(Debug)]
pub(crate) struct Joiner(Finish);

impl Joiner {
    /// The end, for the join (see [`Finish::take`]).
    pub(crate) fn take(&self) -> Option<Ended> {
        self.0.take()
    }
}

impl Drop for Joiner {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// How an execution's end is joined back.
enum JoinBack {
    /// The future is awaited where it was created: its end joins the
    /// awaiting execution when it completes.
    Awaiter(&'static Location<'static>),
    /// A spawned task: its end is left for the join handle.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Handle(Finish),
}

pin_project_lite::pin_project! {
    /// A future running as its own execution. Created by
    /// [`FutureExt::execution`] and by [`spawn`].
    pub struct Execution<F> {
        #[pin]
        inner: F,
        ctx: Option<ExecContext>,
        join: JoinBack,
        // A request's `HttpRequest` event, recorded as the execution's first.
        request: Option<(String, String)>,
    }

    impl<F> PinnedDrop for Execution<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(ctx) = this.ctx.take() {
                finish(ctx, this.join);
            }
        }
    }
}

impl<F> std::fmt::Debug for Execution<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution").finish_non_exhaustive()
    }
}

/// The execution ended (completed or dropped): record its end and leave its
/// final clock for the join.
fn finish(mut ctx: ExecContext, join: &JoinBack) -> Option<(u64, Ended)> {
    let clock = ctx.ended();
    let id = ctx.id();
    rt::end(&ctx);
    match join {
        JoinBack::Handle(finish) => {
            finish.store(clock);
            None
        }
        JoinBack::Awaiter(_) => Some((id, clock)),
    }
}

impl<F> Execution<F> {
    fn new(inner: F, name: Option<String>, join: impl FnOnce() -> JoinBack, site: &'static Location<'static>) -> Self {
        let name = name.unwrap_or_else(|| format!("task {}:{}", site.file(), site.line()));
        let ctx = rt::spawn_child(name, site);
        Execution { inner, ctx: Some(ctx), join: join(), request: None }
    }

    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn id(&self) -> Option<u64> {
        self.ctx.as_ref().map(ExecContext::id)
    }
}

impl<F: Future> Future for Execution<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(ctx) = this.ctx.as_mut() else {
            return this.inner.poll(cx);
        };
        let request = this.request.take();
        let poll = rt::run_as(ctx, || {
            if let Some((method, url)) = request {
                rt::emit(|| Kind::http_request(&method, &url, [], Value::Null));
            }
            this.inner.poll(cx)
        });
        if poll.is_ready() {
            if let Some(ctx) = this.ctx.take() {
                if let (Some((child, clock)), JoinBack::Awaiter(site)) = (finish(ctx, this.join), &*this.join) {
                    rt::join_child(child, Some(clock), site);
                }
            }
        }
        poll
    }
}

/// Puts a future in an execution of its own, in the spirit of tracing's
/// `Instrument`: for executors other than tokio, and for futures that run
/// concurrently inside one task (`join!`, `select!`).
pub trait FutureExt: Future + Sized {
    /// Runs this future as a child execution of the current one: it starts
    /// after everything the current execution did so far, and, once it
    /// completes, what the awaiting execution does next happens after it.
    #[track_caller]
    fn execution(self) -> Execution<Self> {
        let site = Location::caller();
        Execution::new(self, None, || JoinBack::Awaiter(site), site)
    }

    /// Like [`execution`](FutureExt::execution), with a name for reports.
    #[track_caller]
    fn named_execution(self, name: impl Into<String>) -> Execution<Self> {
        let site = Location::caller();
        Execution::new(self, Some(name.into()), || JoinBack::Awaiter(site), site)
    }
}

impl<F: Future> FutureExt for F {}

/// Runs `future` as a request's execution, as a server middleware does:
/// named `"{method} {target}"`, starting with an `HttpRequest` event, and
/// one atomic region for the analyzer (a lost update between two concurrent
/// requests is found even when every access is under a lock). Like
/// [`FutureExt::execution`], it joins back into the awaiting execution when
/// it completes.
#[track_caller]
pub fn request<F: Future>(method: &str, target: &str, future: F) -> Execution<F> {
    let site = Location::caller();
    let mut execution = Execution::new(future, Some(format!("{method} {target}")), || JoinBack::Awaiter(site), site);
    execution.request = Some((method.to_string(), target.to_string()));
    execution
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use self::tokio_task::{spawn, spawn_blocking, JoinHandle, JoinSet};

/// Registers raceway's task hooks on a tokio runtime you build, so that a
/// plain `tokio::spawn` task (yours, or a library's such as hyper's
/// connections) starts after what its spawner did: available when the
/// program is built with `RUSTFLAGS="--cfg tokio_unstable"`, which tokio's
/// hooks need.
///
/// ```ignore
/// let rt = raceway::task::hooks(&mut tokio::runtime::Builder::new_multi_thread())
///     .enable_all()
///     .build()?;
/// ```
///
/// Without the hooks (stable tokio), a plain task is still its own
/// execution (tokio says which task runs, `tokio::task::try_id`), but its
/// spawn is unknown: no race against what happened before its first event
/// is reported. With them, its spawn is a happens-before edge, an
/// `AsyncSpawn` event of the spawner's, and the task's end frees its state
/// at once. Its join stays unknown either way (tokio has no hook for the
/// `JoinHandle` being awaited): a pair that the join could order is held
/// back until the task records again. `raceway::task::spawn` gives both
/// edges on any tokio.
#[cfg(all(feature = "tokio", tokio_unstable))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", tokio_unstable))))]
pub fn hooks(builder: &mut tokio::runtime::Builder) -> &mut tokio::runtime::Builder {
    builder
        .on_task_spawn(|meta| rt::plain_task_spawned(meta.id(), meta.spawned_at()))
        .on_task_terminate(|meta| rt::plain_task_terminated(meta.id()))
}

#[cfg(feature = "tokio")]
mod tokio_task {
    use super::*;

    /// Spawns a tokio task as a new execution; see [`tokio::spawn`].
    ///
    /// The task starts after everything the spawning execution did so far;
    /// awaiting the returned handle joins the task's end back.
    ///
    /// # Panics
    ///
    /// Like `tokio::spawn`, outside a tokio runtime.
    #[track_caller]
    pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let site = Location::caller();
        let finish = Finish::default();
        let execution = Execution::new(future, None, || JoinBack::Handle(finish.clone()), site);
        let exec = execution.id().unwrap_or_default();
        JoinHandle { inner: rt::spawning_own(|| tokio::spawn(execution)), exec, finish: finish.joiner(), site }
    }

    /// Runs `f` on tokio's blocking pool as a new execution; see
    /// [`tokio::task::spawn_blocking`]. Spawn and join edges as for
    /// [`spawn`].
    ///
    /// # Panics
    ///
    /// Like `tokio::task::spawn_blocking`, outside a tokio runtime.
    #[track_caller]
    pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let site = Location::caller();
        let finish = Finish::default();
        let mut ctx = rt::spawn_child(format!("blocking task {}:{}", site.file(), site.line()), site);
        let exec = ctx.id();
        let done = finish.clone();
        let inner = rt::spawning_own(|| {
            tokio::task::spawn_blocking(move || {
                let result = rt::run_as(&mut ctx, f);
                // Also when `f` panicked: the panic reaches the handle as a
                // `JoinError`, and the join still orders what came before.
                let _ = super::finish(ctx, &JoinBack::Handle(done));
                result
            })
        });
        JoinHandle { inner, exec, finish: finish.joiner(), site }
    }

    /// A set of tasks, each a new execution; see [`tokio::task::JoinSet`].
    /// Each spawn records the spawn edge; each task taken out with
    /// [`join_next`](JoinSet::join_next) or [`join_all`](JoinSet::join_all)
    /// records its join.
    pub struct JoinSet<T> {
        inner: tokio::task::JoinSet<T>,
        /// The execution and final clock of each task, by tokio's id.
        tasks: std::collections::HashMap<tokio::task::Id, (u64, Joiner)>,
        site: &'static Location<'static>,
    }

    impl<T> std::fmt::Debug for JoinSet<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("JoinSet").field("len", &self.len()).finish_non_exhaustive()
        }
    }

    impl<T> Default for JoinSet<T> {
        #[track_caller]
        fn default() -> Self {
            JoinSet::new()
        }
    }

    impl<T> JoinSet<T> {
        /// An empty set.
        #[track_caller]
        pub fn new() -> Self {
            JoinSet { inner: tokio::task::JoinSet::new(), tasks: Default::default(), site: Location::caller() }
        }

        /// The number of tasks in the set.
        pub fn len(&self) -> usize {
            self.inner.len()
        }

        /// Whether the set is empty.
        pub fn is_empty(&self) -> bool {
            self.inner.is_empty()
        }

        /// Records the join of the task with tokio id `id`.
        fn joined(&mut self, id: tokio::task::Id) {
            if let Some((exec, finish)) = self.tasks.remove(&id) {
                rt::join_child(exec, finish.take(), self.site);
            }
        }
    }

    impl<T: 'static> JoinSet<T> {
        /// Aborts every task; see [`tokio::task::JoinSet::abort_all`].
        pub fn abort_all(&mut self) {
            self.inner.abort_all();
        }

        /// Aborts every task and waits for them to finish.
        pub async fn shutdown(&mut self) {
            self.inner.shutdown().await;
            self.tasks.clear();
        }
    }

    impl<T: Send + 'static> JoinSet<T> {
        /// Spawns a task into the set; see [`tokio::task::JoinSet::spawn`].
        #[track_caller]
        pub fn spawn<F>(&mut self, task: F) -> tokio::task::AbortHandle
        where
            F: Future<Output = T> + Send + 'static,
        {
            let site = Location::caller();
            let finish = Finish::default();
            let execution = Execution::new(task, None, || JoinBack::Handle(finish.clone()), site);
            let exec = execution.id().unwrap_or_default();
            let handle = rt::spawning_own(|| self.inner.spawn(execution));
            self.tasks.insert(handle.id(), (exec, finish.joiner()));
            handle
        }

        /// Waits for the next task to finish and takes its output; see
        /// [`tokio::task::JoinSet::join_next`].
        pub async fn join_next(&mut self) -> Option<Result<T, tokio::task::JoinError>> {
            let next = self.inner.join_next_with_id().await?;
            let (id, result) = match next {
                Ok((id, value)) => (id, Ok(value)),
                Err(e) => (e.id(), Err(e)),
            };
            self.joined(id);
            Some(result)
        }

        /// Takes the output of a finished task, if any, without waiting;
        /// see [`tokio::task::JoinSet::try_join_next`].
        pub fn try_join_next(&mut self) -> Option<Result<T, tokio::task::JoinError>> {
            let next = self.inner.try_join_next_with_id()?;
            let (id, result) = match next {
                Ok((id, value)) => (id, Ok(value)),
                Err(e) => (e.id(), Err(e)),
            };
            self.joined(id);
            Some(result)
        }

        /// Waits for every task and returns their outputs, in the order
        /// they finished; see [`tokio::task::JoinSet::join_all`]. A task
        /// that panicked resumes its panic here.
        pub async fn join_all(mut self) -> Vec<T> {
            let mut outputs = Vec::with_capacity(self.len());
            while let Some(result) = self.join_next().await {
                match result {
                    Ok(value) => outputs.push(value),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => panic!("{e}"),
                }
            }
            outputs
        }
    }

    /// The handle of a task spawned with [`spawn`]; see
    /// [`tokio::task::JoinHandle`]. Awaiting it records the join.
    #[derive(Debug)]
    pub struct JoinHandle<T> {
        inner: tokio::task::JoinHandle<T>,
        exec: u64,
        finish: Joiner,
        site: &'static Location<'static>,
    }

    impl<T> JoinHandle<T> {
        /// Aborts the task; see [`tokio::task::JoinHandle::abort`].
        pub fn abort(&self) {
            self.inner.abort();
        }

        /// Whether the task has finished.
        pub fn is_finished(&self) -> bool {
            self.inner.is_finished()
        }

        /// The underlying tokio handle (awaiting it directly records no
        /// join).
        pub fn into_inner(self) -> tokio::task::JoinHandle<T> {
            self.inner
        }
    }

    impl<T> Future for JoinHandle<T> {
        type Output = Result<T, tokio::task::JoinError>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let poll = Pin::new(&mut self.inner).poll(cx);
            if poll.is_ready() {
                rt::join_child(self.exec, self.finish.take(), self.site);
            }
            poll
        }
    }
}
