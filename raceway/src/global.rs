//! The process-wide client that `init` installs and the macros use.

use crate::analyzer::Report;
use crate::client::RacewayClient;
use crate::config::{Config, ConfigError, RunSettings};
use crate::log::warn;
use crate::rt;
use std::fmt;
use std::ops::Deref;
use std::sync::{Mutex, MutexGuard, PoisonError};

static GLOBAL: Mutex<Option<Installed>> = Mutex::new(None);

/// Held while a run finishes (the report printed, `RACEWAY_REPORT`
/// written): by the guard's drop, or by the signal handler's thread. Only
/// one of them finishes a client; the other waits for it.
static FINISHING: Mutex<()> = Mutex::new(());

/// The installed client and the settings of its run.
struct Installed {
    client: RacewayClient,
    settings: RunSettings,
}

fn global() -> MutexGuard<'static, Option<Installed>> {
    GLOBAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Finishes the installed client's run now, as dropping its guard would:
/// called on a signal, from the handler's thread (`signal` holds it). Returns once the report
/// is out (or at once if no client is installed, or another thread has
/// finished it); the guard's later drop does nothing.
fn finish_on_signal() {
    let _finishing = FINISHING.lock().unwrap_or_else(PoisonError::into_inner);
    let taken = global().take();
    if let Some(Installed { client, settings }) = taken {
        rt::uninstall(client.pipeline());
        finish(&client, &settings);
    }
}

/// Why [`init`] failed. `Debug` prints the same message as `Display`, so
/// that `?` in `main` shows a readable line.
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

impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
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
/// Also read from the environment here (and checked by
/// [`Config::from_env`]): `RACEWAY_REPORT`, `RACEWAY_FAIL_ON_RACE` and
/// `RACEWAY_SIGNALS` (see the [crate docs](crate#environment-variables)).
///
/// # What raceway does on SIGINT and SIGTERM
///
/// - **At [`init`](crate::init)**, for each of SIGINT and SIGTERM whose
///   disposition is the default one (`SIG_DFL`, checked with
///   `sigaction`), raceway installs a handler. A signal the program
///   already handles or ignores is left alone. `RACEWAY_SIGNALS=0`
///   installs nothing. Dropping the guard restores `SIG_DFL` where
///   raceway's handler is still installed.
/// - **On the signal**, if raceway's handler is still the disposition,
///   the program has no handler of its own: raceway finishes the run as
///   dropping the guard would (the report on stderr, `RACEWAY_REPORT`
///   written, events flushed to the endpoint), then ends the process by
///   the same signal with the default disposition, so its exit status is
///   what it would have been (`RACEWAY_FAIL_ON_RACE=1` with races: exit
///   66 instead). A second signal while the report is written ends the
///   process at once.
/// - **If the program installed a handler after `init`** (`raceway::shutdown_signal`,
///   `tokio::signal`, `signal-hook`, the `ctrlc` crate, actix-web's
///   server), the signal is the program's: raceway does nothing on it,
///   and the report comes when the guard is dropped, at the end of the
///   graceful shutdown. Handlers that chain to the one they replaced
///   (tokio's and signal-hook's do) call raceway's, which sees it is no
///   longer the disposition and returns.
///
///
/// For a server, `axum::serve(..).with_graceful_shutdown(raceway::shutdown_signal())`
/// (feature `tokio`) ends the serve loop on the signal, and the report
/// comes when the guard is dropped after it. On other platforms than Unix
/// no handler is installed.
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
    let settings = RunSettings::from_env()?;
    let client = RacewayClient::new(config)?;
    rt::install(client.pipeline().clone());
    *slot = Some(Installed { client: client.clone(), settings: settings.clone() });
    drop(slot);
    if settings.signals {
        crate::signal::install(finish_on_signal);
    }
    Ok(RacewayGuard { client })
}

/// The installed client, if any.
pub fn client() -> Option<RacewayClient> {
    global().as_ref().map(|installed| installed.client.clone())
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
        let _finishing = FINISHING.lock().unwrap_or_else(PoisonError::into_inner);
        let settings = {
            let mut slot = global();
            if !slot.as_ref().is_some_and(|i| i.client.same_as(&self.client)) {
                // A signal's handler finished this run (and the process is
                // ending).
                return;
            }
            let installed = slot.take().expect("checked just above");
            rt::uninstall(self.client.pipeline());
            installed.settings
        };
        if settings.signals {
            crate::signal::uninstall();
        }
        finish(&self.client, &settings);
    }
}

/// The end of a run: shut the client down, and in embedded mode give the
/// report.
fn finish(client: &RacewayClient, settings: &RunSettings) {
    if let Err(e) = client.shutdown() {
        warn(format_args!("shutdown: {e}"));
    }
    if client.config().endpoint.is_none() {
        // The report says how many events were dropped, if any.
        finish_embedded(&client.report(), settings);
    } else {
        let dropped = client.stats().dropped;
        if dropped > 0 {
            warn(format_args!(
                "{dropped} events were dropped and never delivered (raise channel_capacity, or set RACEWAY_OVERFLOW=block)"
            ));
        }
    }
}

/// The end of an embedded run: the report on stderr (in colour on a
/// terminal), written where `RACEWAY_REPORT` says (HTML for a `.html` or
/// `.htm` name, JSON otherwise), and exit status 66 when races were found
/// and `RACEWAY_FAIL_ON_RACE` is on.
fn finish_embedded(report: &Report, settings: &RunSettings) {
    use std::io::{IsTerminal, Write};
    let stderr = std::io::stderr();
    let _ = stderr.lock().write_all(report.render(stderr.is_terminal()).as_bytes());
    if let Some(path) = &settings.report {
        let html = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        let text = if html { report.to_html() } else { report.to_json() };
        if let Err(e) = std::fs::write(path, text) {
            warn(format_args!("RACEWAY_REPORT: cannot write {}: {e}", path.display()));
        }
    }
    if settings.fail_on_race && !report.is_clean() {
        std::process::exit(66);
    }
}
