//! Where events go when no `raceway::check` session claims them: the
//! pipeline of the client that `raceway::init` installed, and the one check
//! instrumentation makes before doing any work.

use super::session::Session;
use crate::pipeline::Pipeline;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

static INSTALLED: Mutex<Option<Arc<Pipeline>>> = Mutex::new(None);
/// Bumped on every install and uninstall; threads cache the pipeline with
/// the generation they saw.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The installed pipeline (1) plus the open `raceway::check` sessions:
/// instrumentation does nothing else while this is 0.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

fn slot() -> MutexGuard<'static, Option<Arc<Pipeline>>> {
    INSTALLED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes `pipeline` the process-wide destination of events. The caller
/// (`raceway::init`) makes sure that none is installed.
pub(crate) fn install(pipeline: Arc<Pipeline>) {
    let mut slot = slot();
    if slot.replace(pipeline).is_none() {
        ACTIVE.fetch_add(1, Ordering::SeqCst);
    }
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Uninstalls `pipeline`, if it is the installed one.
pub(crate) fn uninstall(pipeline: &Arc<Pipeline>) {
    let mut slot = slot();
    if slot.as_ref().is_some_and(|p| Arc::ptr_eq(p, pipeline)) {
        *slot = None;
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
        GENERATION.fetch_add(1, Ordering::SeqCst);
    }
}

/// The installed pipeline, if any.
pub(crate) fn installed() -> Option<Arc<Pipeline>> {
    slot().clone()
}

/// The installed pipeline, when its executions may continue the slots of
/// executions nobody joined (its analysis is elsewhere: the HTTP sink's)
/// and no `raceway::check` session is open (a session's analysis predicts
/// the races such reuse would hide): see `super::slots`.
pub(crate) fn reusing_pipeline() -> Option<usize> {
    let slot = slot();
    let pipeline = slot.as_ref().filter(|p| p.reuses_slots())?;
    // The installed pipeline is the only listener.
    (ACTIVE.load(Ordering::SeqCst) == 1).then_some(pipeline.id)
}

/// Changes whenever the installed pipeline does.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The open `raceway::check` sessions, told about events that no session
/// can be given.
static SESSIONS: Mutex<Vec<Weak<Session>>> = Mutex::new(Vec::new());

/// Counts a `raceway::check` session in (or out) of the active listeners.
pub(crate) fn session_opened(session: &Arc<Session>, open: bool) {
    let mut sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    if open {
        sessions.push(Arc::downgrade(session));
        ACTIVE.fetch_add(1, Ordering::SeqCst);
    } else {
        sessions.retain(|s| s.strong_count() > 0 && !std::ptr::eq(s.as_ptr(), Arc::as_ptr(session)));
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The open `raceway::check` session, when exactly one is.
pub(crate) fn sole_session() -> Option<Arc<Session>> {
    let sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut open = sessions.iter().filter_map(Weak::upgrade).filter(|s| !s.pipeline().is_closed());
    match (open.next(), open.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// An event of an execution outside every session while only sessions
/// listen, that no session can be sure is its own: each open session notes
/// it as possibly its own, without failing for it, so that sessions stay
/// isolated.
pub(crate) fn unattributed_elsewhere() {
    let sessions = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    let open: Vec<Arc<Session>> = sessions.iter().filter_map(Weak::upgrade).collect();
    drop(sessions);
    for session in open {
        session.possibly_unattributed();
    }
}

/// Whether anything listens: a process-wide client or a `raceway::check`
/// session. Instrumentation does nothing else when it is false.
#[inline]
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}
