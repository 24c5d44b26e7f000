//! rayon with executions (feature `rayon`): `spawn`, `scope` and `join`
//! run their closures as child executions of the caller, on whichever pool
//! thread picks them up; `join` and the end of `scope` join them back.

use crate::rt::{self, ExecContext};
use crate::task::Finish;
use std::panic::Location;
use std::sync::{Arc, Mutex, PoisonError};

fn child(site: &'static Location<'static>) -> ExecContext {
    rt::spawn_child(format!("rayon job {}:{}", site.file(), site.line()), site)
}

/// Runs `f` as `ctx` and leaves its final clock in `finish`.
fn run<R>(mut ctx: ExecContext, finish: &Finish, f: impl FnOnce() -> R) -> R {
    struct End<'a>(Option<ExecContext>, &'a Finish);
    impl Drop for End<'_> {
        fn drop(&mut self) {
            if let Some(mut ctx) = self.0.take() {
                let ended = ctx.ended();
                rt::end(&ctx);
                self.1.store(ended);
            }
        }
    }
    let result = rt::run_as(&mut ctx, f);
    drop(End(Some(ctx), finish));
    result
}

/// Runs both closures, potentially in parallel, each as a child execution;
/// see [`rayon::join`]. What the caller does next happens after both.
#[track_caller]
pub fn join<A, B, RA, RB>(oper_a: A, oper_b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let site = Location::caller();
    let (ctx_a, ctx_b) = (child(site), child(site));
    let (id_a, id_b) = (ctx_a.id(), ctx_b.id());
    let (fa, fb) = (Finish::default(), Finish::default());
    let result = rayon::join(|| run(ctx_a, &fa, oper_a), || run(ctx_b, &fb, oper_b));
    rt::join_child(id_a, fa.take(), site);
    rt::join_child(id_b, fb.take(), site);
    result
}

/// Fires a job into the pool as a child execution; see [`rayon::spawn`].
#[track_caller]
pub fn spawn<F>(func: F)
where
    F: FnOnce() + Send + 'static,
{
    let ctx = child(Location::caller());
    // Nothing joins it: its slots are freed as it ends.
    rayon::spawn(move || run(ctx, &Finish::unjoined(), func));
}

/// A scope for pool jobs; see [`rayon::Scope`].
pub struct Scope<'a, 'scope> {
    inner: &'a rayon::Scope<'scope>,
    finished: Arc<Mutex<Vec<(u64, Finish)>>>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl<'scope> Scope<'_, 'scope> {
    /// Spawns a job in the scope as a child execution; see
    /// [`rayon::Scope::spawn`].
    #[track_caller]
    pub fn spawn<BODY>(&self, body: BODY)
    where
        BODY: for<'a> FnOnce(&Scope<'a, 'scope>) + Send + 'scope,
    {
        let ctx = child(Location::caller());
        let finish = Finish::default();
        self.finished.lock().unwrap_or_else(PoisonError::into_inner).push((ctx.id(), finish.clone()));
        let finished = self.finished.clone();
        self.inner.spawn(move |inner| {
            let scope = Scope { inner, finished };
            run(ctx, &finish, || body(&scope));
        });
    }
}

/// Creates a scope whose jobs all finish before it returns; see
/// [`rayon::scope`]. What the caller does next happens after every job.
#[track_caller]
pub fn scope<'scope, OP, R>(op: OP) -> R
where
    OP: for<'a> FnOnce(&Scope<'a, 'scope>) -> R + Send,
    R: Send,
{
    let site = Location::caller();
    let finished = Arc::new(Mutex::new(Vec::new()));
    // rayon may run `op` on a pool thread while this one waits: carry the
    // caller's execution there and back.
    let mut caller = rt::take_current();
    let result = {
        let finished = finished.clone();
        let caller = &mut caller;
        rayon::scope(move |inner| rt::run_as(caller, || op(&Scope { inner, finished })))
    };
    rt::enter(caller);
    let finished = std::mem::take(&mut *finished.lock().unwrap_or_else(PoisonError::into_inner));
    for (exec, finish) in finished {
        if let Some(ended) = finish.take() {
            rt::join_child(exec, Some(ended), site);
        }
    }
    result
}
