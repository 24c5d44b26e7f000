//! The process-wide client that `init` installs and the macros use.

use crate::analyzer::Report;
use crate::client::RacewayClient;
use crate::config::{Config, ConfigError};
use crate::log::warn;
use crate::rt;
use std::fmt;
use std::ops::Deref;
use std::sync::{Mutex, MutexGuard, PoisonError};

static GLOBAL: Mutex<Option<RacewayClient>> = Mutex::new(None);

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
    rt::install(client.pipeline().clone());
    *slot = Some(client.clone());
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
                rt::uninstall(self.client.pipeline());
            }
        }
        if let Err(e) = self.client.shutdown() {
            warn(format_args!("shutdown: {e}"));
        }
        if self.client.config().endpoint.is_none() {
            // The report says how many events were dropped, if any.
            finish_embedded(&self.client.report());
        } else {
            let dropped = self.client.stats().dropped;
            if dropped > 0 {
                warn(format_args!(
                    "{dropped} events were dropped and never delivered (raise channel_capacity, or set RACEWAY_OVERFLOW=block)"
                ));
            }
        }
    }
}

/// The end of an embedded run: the report on stderr (in colour on a
/// terminal), as JSON where `RACEWAY_REPORT` says, and exit status 66 when
/// races were found and `RACEWAY_FAIL_ON_RACE` is set.
fn finish_embedded(report: &Report) {
    use std::io::{IsTerminal, Write};
    let stderr = std::io::stderr();
    let _ = stderr.lock().write_all(report.render(stderr.is_terminal()).as_bytes());
    if let Some(path) = std::env::var_os("RACEWAY_REPORT").filter(|p| !p.is_empty()) {
        if let Err(e) = std::fs::write(&path, report.to_json()) {
            warn(format_args!("RACEWAY_REPORT: cannot write {}: {e}", path.to_string_lossy()));
        }
    }
    let fail = std::env::var("RACEWAY_FAIL_ON_RACE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
    if fail && !report.is_clean() {
        std::process::exit(66);
    }
}
