//! The runtime facade: the one way every front-end (the macros' entry
//! points, `raceway::sync`, threads, tasks, rayon, the middleware and the
//! HTTP client) reaches the causality core.
//!
//! | what | how |
//! |---|---|
//! | record an event of the current execution | [`emit`], [`emit_at`]; into one client's pipeline: [`emit_to`] |
//! | whether anything listens | [`is_active`] |
//! | read or join the current execution's clock | `current_clock`, [`absorb`]; through a synchronization object: [`Synchronize`] |
//! | spawn and join a child execution | [`spawn_child`], [`join_child`], [`end`]; slots reused: `slots` |
//! | components the analysis no longer needs leave the clocks | `crate::retirement` |
//! | enter and leave an execution | [`run_as`], [`enter`], [`take_current`] |
//! | tokio tasks raceway did not start | their own executions, found by the context lookup: `plain_task` |
//! | what crosses a service boundary | [`trace_context`] |
//! | `raceway::check` sessions | [`Session`], [`current_session`] |
//! | the process-wide client's pipeline | [`install`], [`uninstall`] |
//!
//! Happens-before logic lives in two places only: the current execution's
//! clock in `context.rs` (where clocks advance) and the hand-over through
//! synchronization objects in `synchronize.rs`.

mod context;
mod install;
#[cfg(any(feature = "tokio", feature = "http"))]
mod plain_task;
mod session;
mod slots;
mod synchronize;

pub(crate) use context::{
    current_ended, emit, emit_at, emit_to, end, enter, free_unjoined, hand_off_to, join_child, run_as, spawn_child,
    trace_context, ExecContext, Snapshot,
};
// Used only by front-ends behind cargo features.
#[cfg(feature = "reqwest")]
pub(crate) use context::absorb;
#[cfg(feature = "tokio")]
pub(crate) use context::absorb_snapshot;
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) use context::current_session;
#[cfg(feature = "tokio")]
pub(crate) use context::spawning_own;
#[cfg(feature = "rayon")]
pub(crate) use context::take_current;
#[cfg(all(feature = "tokio", tokio_unstable))]
pub(crate) use context::{plain_task_spawned, plain_task_terminated};
pub use install::is_active;
pub(crate) use install::{install, session_opened, uninstall};
pub(crate) use session::Session;
pub(crate) use slots::Ended;
pub(crate) use synchronize::{
    annotate_after, annotate_before, fence, AtomicSync, BarrierClocks, ChannelClocks, Synchronize,
};
