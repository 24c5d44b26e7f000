//! `std::thread` with executions: drop-in replacements for `spawn`,
//! `Builder` and `scope` that record `AsyncSpawn` and `AsyncAwait` and the
//! happens-before edges parent → child at spawn and child → parent at join.
//!
//! The signatures and semantics are std's: names and stack sizes through
//! [`Builder`], panics propagating through [`JoinHandle::join`], scoped
//! threads joined at the end of [`scope`].

use crate::rt::{self, ExecContext};
use crate::task::{Finish, Joiner};
use std::io;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

/// Stores the execution's final clock when the thread's closure ends,
/// normally or by panicking.
struct OnFinish(Finish);

impl Drop for OnFinish {
    fn drop(&mut self) {
        if let Some(ended) = rt::current_ended() {
            self.0.store(ended);
        }
    }
}

/// Wraps `f` to run as the child execution `ctx`.
fn child_main<F: FnOnce() -> T, T>(ctx: ExecContext, finish: Finish, f: F) -> impl FnOnce() -> T {
    move || {
        rt::enter(ctx);
        let _on_finish = OnFinish(finish);
        f()
    }
}

fn exec_name(name: Option<&str>, site: &Location<'_>) -> String {
    match name {
        Some(name) => name.to_string(),
        None => format!("{}:{}", site.file(), site.line()),
    }
}

/// Spawns a thread as a new execution; see [`std::thread::spawn`].
///
/// # Panics
///
/// Like std, panics if the OS fails to create a thread; use
/// [`Builder::spawn`] to handle that.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Thread factory; see [`std::thread::Builder`].
#[derive(Debug, Default)]
#[must_use = "must eventually spawn the thread"]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with std's defaults.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread; the name also names the execution in reports.
    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// The stack size of the new thread, in bytes.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    fn std(&self) -> std::thread::Builder {
        let mut builder = std::thread::Builder::new();
        if let Some(name) = &self.name {
            builder = builder.name(name.clone());
        }
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        builder
    }

    /// Spawns the thread as a new execution; see
    /// [`std::thread::Builder::spawn`].
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = Location::caller();
        let ctx = rt::spawn_child(exec_name(self.name.as_deref(), site), site);
        let exec = ctx.id();
        let finish = Finish::default();
        let inner = self.std().spawn(child_main(ctx, finish.clone(), f))?;
        Ok(JoinHandle { inner, exec, finish: finish.joiner() })
    }

    /// Spawns a scoped thread as a new execution; see
    /// [`std::thread::Builder::spawn_scoped`].
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let site = Location::caller();
        let ctx = rt::spawn_child(exec_name(self.name.as_deref(), site), site);
        let exec = ctx.id();
        let finish = Finish::default();
        scope.register(exec, finish.clone());
        let inner = self.std().spawn_scoped(scope.std(), child_main(ctx, finish.clone(), f))?;
        Ok(ScopedJoinHandle { inner, exec, finish })
    }
}

/// An owned permission to join a thread; see [`std::thread::JoinHandle`].
#[derive(Debug)]
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    exec: u64,
    /// Dropped without a join (the thread detached), it frees the thread's
    /// slots.
    finish: Joiner,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish and records the join: everything the
    /// thread did happens before what the caller does next. A panic in the
    /// thread comes back as `Err` with its payload, as with std.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        let site = Location::caller();
        let result = self.inner.join();
        rt::join_child(self.exec, self.finish.take(), site);
        result
    }

    /// The underlying thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished running its closure.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

/// A scope to spawn scoped threads in; see [`std::thread::Scope`].
///
/// It lives on the stack of [`scope`], outside the std scope it wraps, so
/// that it outlives every thread spawned in it.
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    state: ScopeState,
    _scope: PhantomData<&'scope std::thread::Scope<'scope, 'env>>,
}

struct ScopeState {
    /// The `std::thread::Scope` being wrapped, set before any thread can see
    /// this state.
    std: AtomicPtr<()>,
    /// The final clocks of the scope's threads, joined into the caller of
    /// [`scope`] when it returns.
    finished: Mutex<Vec<(u64, Finish)>>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    fn std(&'scope self) -> &'scope std::thread::Scope<'scope, 'env> {
        let ptr = self.state.std.load(Ordering::Relaxed) as *const std::thread::Scope<'scope, 'env>;
        // SAFETY: set by `scope` to the std scope it runs, before `self` is
        // handed out; that scope lives for all of `'scope`.
        unsafe { &*ptr }
    }

    /// Spawns a scoped thread as a new execution; see
    /// [`std::thread::Scope::spawn`].
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new().spawn_scoped(self, f).expect("failed to spawn thread")
    }

    fn register(&self, exec: u64, finish: Finish) {
        self.state.finished.lock().unwrap_or_else(PoisonError::into_inner).push((exec, finish));
    }
}

/// An owned permission to join a scoped thread; see
/// [`std::thread::ScopedJoinHandle`].
#[derive(Debug)]
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    exec: u64,
    finish: Finish,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread and records the join; see [`JoinHandle::join`].
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        let site = Location::caller();
        let result = self.inner.join();
        rt::join_child(self.exec, self.finish.take(), site);
        result
    }

    /// The underlying thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished running its closure.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

/// Creates a scope for spawning scoped threads; see [`std::thread::scope`].
///
/// Every thread spawned in the scope is joined when it ends, and so its
/// events happen before whatever the caller does after `scope` returns.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let site = Location::caller();
    let state = ScopeState { std: AtomicPtr::new(std::ptr::null_mut()), finished: Mutex::new(Vec::new()) };
    let result = std::thread::scope(|inner| {
        state.std.store(inner as *const std::thread::Scope<'_, 'env> as *mut (), Ordering::Relaxed);
        // SAFETY: `Scope` is a `repr(transparent)` wrapper of `ScopeState`,
        // and `state` outlives this whole `std::thread::scope` call, so the
        // reference is valid for the scope's lifetime, like `inner`.
        let scope = unsafe { &*(&state as *const ScopeState as *const Scope<'_, 'env>) };
        f(scope)
    });
    // Threads not joined explicitly were joined by std at the end of the
    // scope: record those joins.
    for (exec, finish) in state.finished.into_inner().unwrap_or_else(PoisonError::into_inner) {
        if let Some(ended) = finish.take() {
            rt::join_child(exec, Some(ended), site);
        }
    }
    result
}
