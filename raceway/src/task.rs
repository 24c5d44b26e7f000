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

use crate::clock::VectorClock;
use crate::event::Kind;
use crate::rt::{self, ExecContext};
use crate::value::Value;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// Where a finished execution leaves its final clock for whoever joins it.
pub(crate) type Finish = Arc<Mutex<Option<VectorClock>>>;

pub(crate) fn store(finish: &Finish, clock: VectorClock) {
    *finish.lock().unwrap_or_else(PoisonError::into_inner) = Some(clock);
}

pub(crate) fn take(finish: &Finish) -> Option<VectorClock> {
    finish.lock().unwrap_or_else(PoisonError::into_inner).take()
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
fn finish(ctx: ExecContext, join: &JoinBack) -> Option<(u64, VectorClock)> {
    let clock = ctx.clock_now();
    let id = ctx.id();
    rt::end(&ctx);
    match join {
        JoinBack::Handle(finish) => {
            store(finish, clock);
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
                    rt::join_child(child, Some(&clock), site);
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
pub use self::tokio_task::{spawn, JoinHandle};

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
        JoinHandle { inner: tokio::spawn(execution), exec, finish, site }
    }

    /// The handle of a task spawned with [`spawn`]; see
    /// [`tokio::task::JoinHandle`]. Awaiting it records the join.
    #[derive(Debug)]
    pub struct JoinHandle<T> {
        inner: tokio::task::JoinHandle<T>,
        exec: u64,
        finish: Finish,
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
                rt::join_child(self.exec, take(&self.finish).as_ref(), self.site);
            }
            poll
        }
    }
}
