//! `Instrumented`: an `async fn`'s body with its `#[track]` call, run as an
//! execution of its own.
//!
//! A tracked async call is forked from the execution that first polls it
//! and joined back into it when it completes: `a.await; b.await` stays
//! ordered (b is forked after a joined), while the branches of `join!`,
//! `select!` or `FuturesUnordered` are concurrent executions, without any
//! annotation.

use super::call::Call;
use super::probe::ErrorInfo;
use crate::rt::{self, ExecContext};
use crate::value::Value;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// An `async fn`'s body with its call: the duration covers the whole
    /// future, suspensions included; panics are recorded and resumed; a
    /// future dropped before completion records its return as cancelled.
    pub struct Instrumented<F, D> {
        #[pin]
        body: F,
        call: Option<Call>,
        describe: Option<D>,
        // The call's execution, from its first poll to its end.
        execution: Option<(ExecContext, &'static std::panic::Location<'static>)>,
    }

    impl<F, D> PinnedDrop for Instrumented<F, D> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let (Some(call), Some((execution, _))) = (this.call.take(), this.execution.as_mut()) {
                rt::run_as(execution, || call.finish(Value::Unrecorded("<cancelled>".into()), None));
            }
            join_back(this.execution);
        }
    }
}

/// Ends the call's execution and joins it back into the current one.
fn join_back(execution: &mut Option<(ExecContext, &'static std::panic::Location<'static>)>) {
    if let Some((mut ctx, site)) = execution.take() {
        let (id, ended) = (ctx.id(), ctx.ended());
        rt::end(&ctx);
        drop(ctx);
        rt::join_child(id, Some(ended), site);
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Instrumented<F, D> {
    pub fn new(call: Option<Call>, body: F, describe: D) -> Self {
        Instrumented { body, call, describe: Some(describe), execution: None }
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Future for Instrumented<F, D> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(call) = this.call.as_mut() else {
            return this.body.poll(cx);
        };
        if this.execution.is_none() {
            // The first poll: fork the call's execution, and start the call
            // in it.
            let mut ctx = rt::spawn_child(call.meta.name.to_string(), call.site);
            rt::run_as(&mut ctx, || call.begin());
            *this.execution = Some((ctx, call.site));
        }
        let Some((execution, _)) = this.execution.as_mut() else { unreachable!("forked above") };
        let body = this.body;
        let polled = rt::run_as(execution, || catch_unwind(AssertUnwindSafe(|| body.poll(cx))));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                if let (Some(call), Some(describe)) = (this.call.take(), this.describe.take()) {
                    let (recorded, error) = describe(&value);
                    rt::run_as(execution, || call.finish(recorded, error));
                }
                join_back(this.execution);
                Poll::Ready(value)
            }
            Err(payload) => {
                if let Some(call) = this.call.take() {
                    rt::run_as(execution, || call.panicked(&*payload));
                }
                join_back(this.execution);
                resume_unwind(payload)
            }
        }
    }
}
