//! Executions of tokio tasks that raceway did not start: a plain
//! `tokio::spawn`, `spawn_blocking` or a library's own tasks (hyper's
//! connections under `axum::serve`).
//!
//! Each such task is its own execution, never the worker thread's that
//! polls it. Tokio says, on its stable API, which task is running
//! (`tokio::task::try_id`), not when a poll starts or ends nor who spawned
//! the task. So the one context lookup (`context::with_thread`) asks on
//! every call: when the task running is not the one the thread's current
//! execution was entered in, the call runs as that task's execution, kept
//! here between calls (the threads of a multi-threaded runtime poll a task
//! in turns, never two at once: its slot's lock is never waited for).
//!
//! - **Program order across workers.** A task's slot remembers the buffer
//!   its last events went to; when another worker records for it next,
//!   that buffer is handed over first (see `pipeline::Written`), so its
//!   events enter the channel in order.
//! - **Unknown spawn and end.** The execution is marked `origin_unknown`:
//!   the analysis never reports a race against what happened before its
//!   first event (its parent may have ordered that), and says how many
//!   pairs it left out. Its end is unknown too: slots are kept for at most
//!   [`MAX_TASKS`] tasks, the least recently run are retired beyond that
//!   (their execution ends; a retired task that runs again is a new
//!   execution of unknown origin, which cannot invent a race either).
//! - **With tokio's task hooks** (`--cfg tokio_unstable`, and the runtime
//!   built with `raceway::task::hooks`): the spawn hook makes the task's
//!   execution where it is spawned, as a child of the spawning execution
//!   (its clock, its `AsyncSpawn` event), so only its join is unknown; the
//!   terminate hook ends it and frees its slot. The poll hooks
//!   (`on_before_task_poll`, `on_after_task_poll`) would say what `try_id`
//!   already says (which task runs), one call per poll: they are not used.
//! - **Where the spawn is known.** A task spawned with
//!   `raceway::task::spawn` (or `JoinSet`, `spawn_blocking` of
//!   `raceway::task`) is entered as its own execution with its spawn and
//!   join edges, and never comes here.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::task::Id;

/// The most tasks whose executions are kept at once.
pub(crate) const MAX_TASKS: usize = 4_096;

/// How many are retired at once when the table is full: the least recently
/// run eighth.
const RETIRE: usize = MAX_TASKS / 8;

/// The tasks' slots, each holding a task's state `S` (its execution, kept
/// by `context`) between the calls that run as it.
pub(crate) struct Table<S> {
    slots: Mutex<Option<HashMap<Id, Arc<TaskSlot<S>>>>>,
    /// A tick per lookup: the recency of the slots.
    uses: AtomicU64,
}

/// One task's state between the calls that run as it.
pub(crate) struct TaskSlot<S> {
    state: spin::mutex::SpinMutex<Slot<S>, spin::relax::Yield>,
    /// When it last ran, in the table's ticks: which to retire first.
    used: AtomicU64,
}

pub(crate) type SlotGuard<'a, S> = spin::mutex::SpinMutexGuard<'a, Slot<S>>;

pub(crate) enum Slot<S> {
    /// Made, not yet run.
    Fresh,
    Live(S),
    /// Retired: the task, should it run again, takes a new slot.
    Retired,
}

impl<S> TaskSlot<S> {
    /// Locks the slot for a call that runs as its task, noting the use.
    pub(crate) fn lock<'a>(&'a self, table: &Table<S>) -> SlotGuard<'a, S> {
        self.used.store(table.uses.load(Ordering::Relaxed), Ordering::Relaxed);
        self.state.lock()
    }
}

impl<S> Table<S> {
    pub(crate) const fn new() -> Self {
        Table { slots: Mutex::new(None), uses: AtomicU64::new(0) }
    }

    /// The slot of task `id`, made if it has none, and the states of the
    /// tasks retired to make room (for the caller to end: it holds the
    /// thread's state). Called with no slot locked.
    pub(crate) fn slot(&self, id: Id) -> (Arc<TaskSlot<S>>, Vec<S>) {
        let tick = self.uses.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let slots = slots.get_or_insert_with(HashMap::default);
        if let Some(slot) = slots.get(&id) {
            return (slot.clone(), Vec::new());
        }
        let mut retired = Vec::new();
        if slots.len() >= MAX_TASKS {
            let mut by_use: Vec<(u64, Id)> =
                slots.iter().map(|(id, s)| (s.used.load(Ordering::Relaxed), *id)).collect();
            by_use.sort_unstable_by_key(|(used, _)| *used);
            for (_, old) in by_use.into_iter().take(RETIRE) {
                if let Some(slot) = slots.remove(&old) {
                    // Waits, at most, for a call running as that task now.
                    if let Slot::Live(state) = std::mem::replace(&mut *slot.state.lock(), Slot::Retired) {
                        retired.push(state);
                    }
                }
            }
        }
        let slot = Arc::new(TaskSlot { state: spin::mutex::SpinMutex::new(Slot::Fresh), used: AtomicU64::new(tick) });
        slots.insert(id, slot.clone());
        (slot, retired)
    }

    /// Gives task `id` the state `state` (made where it was spawned), and
    /// returns the states retired to make room.
    #[cfg(tokio_unstable)]
    pub(crate) fn insert(&self, id: Id, state: S) -> Vec<S> {
        let (slot, retired) = self.slot(id);
        *slot.lock(self) = Slot::Live(state);
        retired
    }

    /// Task `id` ended: its state, if it has one.
    #[cfg(tokio_unstable)]
    pub(crate) fn remove(&self, id: Id) -> Option<S> {
        let slot = self.slots.lock().unwrap_or_else(PoisonError::into_inner).as_mut()?.remove(&id)?;
        let state = std::mem::replace(&mut *slot.state.lock(), Slot::Retired);
        match state {
            Slot::Live(state) => Some(state),
            _ => None,
        }
    }
}
