//! `Instrumented`: an `async fn`'s body with its `#[track]` call.

use super::call::Call;
use super::probe::ErrorInfo;
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
    }

    impl<F, D> PinnedDrop for Instrumented<F, D> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.finish(Value::Unrecorded("<cancelled>".into()), None);
            }
        }
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Instrumented<F, D> {
    pub fn new(call: Option<Call>, body: F, describe: D) -> Self {
        Instrumented { body, call, describe: Some(describe) }
    }
}

impl<F: Future, D: FnOnce(&F::Output) -> (Value, Option<ErrorInfo>)> Future for Instrumented<F, D> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.call.is_none() {
            return this.body.poll(cx);
        }
        match catch_unwind(AssertUnwindSafe(|| this.body.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                if let (Some(call), Some(describe)) = (this.call.take(), this.describe.take()) {
                    let (recorded, error) = describe(&value);
                    call.finish(recorded, error);
                }
                Poll::Ready(value)
            }
            Err(payload) => {
                if let Some(call) = this.call.take() {
                    call.panicked(&*payload);
                }
                resume_unwind(payload)
            }
        }
    }
}
