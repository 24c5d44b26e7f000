//! The report survives Ctrl-C: SIGINT and SIGTERM finish an `init` run
//! (the report, `RACEWAY_REPORT`) before the process ends, without taking
//! the signals from a program that handles them; and
//! [`shutdown_signal`], the future for graceful shutdown.
//!
//! The handler is hand-written over `sigaction` rather than taken from
//! `signal-hook`: what it must know at the signal is whether the program
//! has installed a handler of its own since, and that is only visible if
//! raceway's handler is the process's disposition itself, not one action
//! among others in `signal-hook-registry`'s (which tokio's signals use).
//! When the program installs a handler through that registry later, the
//! registry calls the handler it replaced, raceway's, which sees that it is
//! no longer the disposition and leaves the signal to the program.

#[cfg(feature = "tokio")]
pub use self::graceful::shutdown_signal;

#[cfg(unix)]
pub(crate) use self::unix::{install, uninstall};

/// Elsewhere: nothing is installed.
#[cfg(not(unix))]
pub(crate) fn install(_finish: fn()) {}

#[cfg(not(unix))]
pub(crate) fn uninstall() {}

#[cfg(unix)]
mod unix {
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};

    /// The signals handled: Ctrl-C, and what `kill`, systemd, Docker and
    /// Kubernetes send to stop a process.
    const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

    /// The pipe's write end, for the handler (-1 until it exists).
    static PIPE: AtomicI32 = AtomicI32::new(-1);
    /// The process whose thread reads the pipe.
    static PID: AtomicI32 = AtomicI32::new(0);
    /// Which of [`SIGNALS`] raceway installed its handler for.
    static INSTALLED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
    /// Serializes installing and uninstalling.
    static CHANGING: Mutex<()> = Mutex::new(());
    /// The thread that acts on the signals, started once.
    static THREAD: OnceLock<bool> = OnceLock::new();
    /// What finishes the run on a signal (the guard's work, done by
    /// `global`, which installs it).
    static FINISH: OnceLock<fn()> = OnceLock::new();

    /// The handler: one byte, the signal's number, into the pipe. Only
    /// `write` (async-signal-safe), `errno` saved around it, and never a
    /// block: the pipe is non-blocking, and a full pipe already holds a
    /// signal for the thread to act on.
    extern "C" fn on_signal(signal: libc::c_int) {
        // SAFETY: getpid, sigaction and raise are async-signal-safe.
        if unsafe { libc::getpid() } != PID.load(Ordering::Relaxed) {
            // A child forked without exec: the pipe is its parent's, and no
            // thread of its own reads it. The default disposition, as
            // without raceway.
            set(signal, libc::SIG_DFL);
            // SAFETY: as above.
            unsafe { libc::raise(signal) };
            return;
        }
        let fd = PIPE.load(Ordering::Relaxed);
        if fd >= 0 {
            let errno = errno_location();
            // SAFETY: errno is thread-local; a handler that calls a function
            // which may set it restores it, for the code it interrupted.
            let saved = errno.map(|e| unsafe { *e });
            let byte = signal as u8;
            // SAFETY: `byte` outlives the call; `write` is async-signal-safe.
            let _ = unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
            if let (Some(e), Some(saved)) = (errno, saved) {
                // SAFETY: as above.
                unsafe { *e = saved };
            }
        }
    }

    /// This thread's `errno`, where the platform names it.
    fn errno_location() -> Option<*mut libc::c_int> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: always valid for the calling thread.
        return Some(unsafe { libc::__errno_location() });
        #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
        // SAFETY: always valid for the calling thread.
        return Some(unsafe { libc::__error() });
        #[allow(unreachable_code)]
        None
    }

    fn handler_address() -> libc::sighandler_t {
        on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t
    }

    /// The signal's disposition now.
    fn disposition(signal: libc::c_int) -> Option<libc::sighandler_t> {
        // SAFETY: a zeroed sigaction is a valid out-parameter; a null new
        // action only reads the current one.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            (libc::sigaction(signal, std::ptr::null(), &mut current) == 0).then_some(current.sa_sigaction)
        }
    }

    fn set(signal: libc::c_int, handler: libc::sighandler_t) -> bool {
        // SAFETY: the action is fully initialized (empty mask, no flags but
        // SA_RESTART, so interrupted system calls of the program resume).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut()) == 0
        }
    }

    /// Installs the handler for each of SIGINT and SIGTERM whose
    /// disposition is the default one (`SIG_DFL`), to call `finish` on the
    /// signal. A signal the program handles or ignores is left alone.
    pub(crate) fn install(finish: fn()) {
        let _changing = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = FINISH.set(finish);
        if !*THREAD.get_or_init(start_thread) {
            return;
        }
        for (i, &signal) in SIGNALS.iter().enumerate() {
            if disposition(signal) == Some(libc::SIG_DFL) && set(signal, handler_address()) {
                INSTALLED[i].store(true, Ordering::SeqCst);
            }
        }
    }

    /// Restores the default disposition where raceway's handler is still
    /// the one installed (the guard was dropped: nothing to finish).
    pub(crate) fn uninstall() {
        let _changing = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, &signal) in SIGNALS.iter().enumerate() {
            if INSTALLED[i].swap(false, Ordering::SeqCst) && disposition(signal) == Some(handler_address()) {
                set(signal, libc::SIG_DFL);
            }
        }
    }

    /// The pipe and the thread that reads it; false if either cannot be
    /// made (then no handler is installed, and a warning says so).
    fn start_thread() -> bool {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            crate::log::warn(format_args!(
                "cannot create a pipe for the SIGINT/SIGTERM handler ({}): a signal ends the process without the report",
                std::io::Error::last_os_error()
            ));
            return false;
        }
        let [read, write] = fds;
        // Neither end goes to child processes; the thread blocks on its end,
        // the handler's never blocks.
        // SAFETY: both are descriptors this function just created.
        unsafe {
            libc::fcntl(read, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(write, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(write, libc::F_SETFL, libc::O_NONBLOCK);
        }
        let spawned = std::thread::Builder::new().name("raceway-signals".into()).spawn(move || wait_for_signals(read));
        if let Err(e) = spawned {
            crate::log::warn(format_args!(
                "cannot start the SIGINT/SIGTERM thread ({e}): a signal ends the process without the report"
            ));
            return false;
        }
        PID.store(std::process::id() as i32, Ordering::SeqCst);
        PIPE.store(write, Ordering::SeqCst);
        true
    }

    fn wait_for_signals(read: libc::c_int) {
        loop {
            let mut byte = 0u8;
            // SAFETY: `byte` is a valid one-byte buffer for the call.
            let n = unsafe { libc::read(read, (&mut byte as *mut u8).cast(), 1) };
            if n == 1 {
                act_on(libc::c_int::from(byte));
            } else if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return;
            }
        }
    }

    /// A signal arrived. If raceway's handler is still the signal's
    /// disposition, nothing else handles it: finish the run, then end the
    /// process by the signal, as the default disposition would have. If it
    /// is not, the program installed a handler since, which called raceway's
    /// (the one it replaced): the signal is the program's.
    fn act_on(signal: libc::c_int) {
        let Some(i) = SIGNALS.iter().position(|&s| s == signal) else { return };
        {
            let _changing = CHANGING.lock().unwrap_or_else(PoisonError::into_inner);
            if !INSTALLED[i].load(Ordering::SeqCst) || disposition(signal) != Some(handler_address()) {
                return;
            }
            // From now on, the signal again does what it did without
            // raceway: a second Ctrl-C while the report is written ends
            // the process at once.
            for (j, &s) in SIGNALS.iter().enumerate() {
                if INSTALLED[j].swap(false, Ordering::SeqCst) && disposition(s) == Some(handler_address()) {
                    set(s, libc::SIG_DFL);
                }
            }
        }
        if let Some(finish) = FINISH.get() {
            finish();
        }
        // SAFETY: unblocking a signal for this thread and raising it with its
        // default disposition ends the process, as the signal would have.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
        // Only if the signal did not end the process (the program changed
        // its disposition in the meantime): the status a shell reports.
        std::process::exit(128 + signal);
    }
}

#[cfg(feature = "tokio")]
mod graceful {
    /// Completes when the process receives SIGINT (Ctrl-C) or SIGTERM (what
    /// `kill`, systemd, Docker and Kubernetes send), for graceful shutdown:
    ///
    /// ```no_run
    /// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    /// let _guard = raceway::init(raceway::Config::from_env().unwrap()).unwrap();
    /// axum::serve(listener, app).with_graceful_shutdown(raceway::shutdown_signal()).await?;
    /// // Returning drops the guard: the report is printed.
    /// # Ok(()) }
    /// ```
    ///
    /// Call it inside a tokio runtime with its I/O driver enabled
    /// (`#[tokio::main]` does). It is tokio's signal handling
    /// (`tokio::signal`); elsewhere than on Unix, Ctrl-C only.
    ///
    /// What raceway does on the signals, with and without this future: see
    /// [`init`](crate::init#what-raceway-does-on-sigint-and-sigterm).
    ///
    /// Without graceful shutdown (`axum::serve(..).await` alone), Ctrl-C
    /// still gives the report, through raceway's handler.
    pub async fn shutdown_signal() {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    std::future::poll_fn(|cx| {
                        if interrupt.poll_recv(cx).is_ready() || terminate.poll_recv(cx).is_ready() {
                            std::task::Poll::Ready(())
                        } else {
                            std::task::Poll::Pending
                        }
                    })
                    .await
                }
                (Err(e), _) | (_, Err(e)) => {
                    crate::log::warn(format_args!("shutdown_signal: cannot listen for SIGINT/SIGTERM: {e}"));
                    std::future::pending::<()>().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                crate::log::warn(format_args!("shutdown_signal: cannot listen for Ctrl-C: {e}"));
                std::future::pending::<()>().await;
            }
        }
    }
}
