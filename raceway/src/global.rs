//! The process-wide client that `init` installs and the macros use.

use crate::client::RacewayClient;
use crate::config::{Config, ConfigError};
use crate::context::with_thread;
use crate::event::Kind;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

static GLOBAL: Mutex<Option<RacewayClient>> = Mutex::new(None);
/// Bumped on every install and uninstall; threads cache the client with the
/// generation they saw.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// Whether a client is installed: the one check instrumentation makes before
/// doing any work.
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn global() -> MutexGuard<'static, Option<RacewayClient>> {
    GLOBAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why [`init`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// The configuration cannot work; the error names the setting.
    Config(ConfigError),
    /// A client is already installed: drop its guard first.
    AlreadyInitialized,
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Config(e) => e.fmt(f),
            InitError::AlreadyInitialized => {
                f.write_str("raceway::init was called while a client is installed; drop its guard first")
            }
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Config(e) => Some(e),
            InitError::AlreadyInitialized => None,
        }
    }
}

impl From<ConfigError> for InitError {
    fn from(e: ConfigError) -> Self {
        InitError::Config(e)
    }
}

/// Starts a client with `config` and installs it for the whole process:
/// `#[track]`, `tracked!` and the wrappers record into it.
///
/// Keep the returned guard alive for as long as events should be recorded;
/// dropping it flushes, shuts the client down and uninstalls it.
///
/// ```
/// let guard = raceway::init(raceway::Config::default()).unwrap();
/// guard.track_state_change("counter", 1, 2, raceway::AccessType::Write);
/// drop(guard); // flush and shut down
/// ```
pub fn init(config: Config) -> Result<RacewayGuard, InitError> {
    let mut slot = global();
    if slot.is_some() {
        return Err(InitError::AlreadyInitialized);
    }
    let client = RacewayClient::new(config)?;
    *slot = Some(client.clone());
    GENERATION.fetch_add(1, Ordering::SeqCst);
    ACTIVE.store(true, Ordering::SeqCst);
    Ok(RacewayGuard { client })
}

/// The installed client, if any.
pub fn client() -> Option<RacewayClient> {
    global().clone()
}

/// Keeps the process-wide client installed; dropping it flushes and shuts
/// the client down. Dereferences to the [`RacewayClient`].
#[must_use = "dropping the guard shuts the client down at once"]
pub struct RacewayGuard {
    client: RacewayClient,
}

impl fmt::Debug for RacewayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RacewayGuard").field(&self.client).finish()
    }
}

impl RacewayGuard {
    /// The installed client.
    pub fn client(&self) -> &RacewayClient {
        &self.client
    }
}

impl Deref for RacewayGuard {
    type Target = RacewayClient;
    fn deref(&self) -> &RacewayClient {
        &self.client
    }
}

impl Drop for RacewayGuard {
    fn drop(&mut self) {
        {
            let mut slot = global();
            if slot.as_ref().is_some_and(|c| c.same_as(&self.client)) {
                *slot = None;
                ACTIVE.store(false, Ordering::SeqCst);
                GENERATION.fetch_add(1, Ordering::SeqCst);
            }
        }
        if let Err(e) = self.client.shutdown() {
            crate::sink::warn(format_args!("shutdown: {e}"));
        }
    }
}

/// Whether a process-wide client is installed.
#[inline]
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Records an event into the installed client, if there is one. `make`
/// builds the event (capturing user values) before the thread's context is
/// borrowed, so user code never runs inside it.
#[inline]
pub(crate) fn emit(make: impl FnOnce() -> Kind, duration_ns: Option<u64>) {
    if !is_active() {
        return;
    }
    let kind = make();
    let ts = crate::clock::Timebase::get().now();
    with_thread(|thread| {
        let generation = GENERATION.load(Ordering::Acquire);
        if thread.global_generation != generation {
            thread.global = global().as_ref().map(|c| c.shared().clone());
            thread.global_generation = generation;
        }
        // Moved out and back rather than cloned: no reference-count traffic
        // on the hot path.
        if let Some(shared) = thread.global.take() {
            if !shared.is_closed() {
                thread.record(&shared, ts, kind, duration_ns);
            }
            thread.global = Some(shared);
        }
    });
}
