//! SIGINT and SIGTERM for the long-running commands (`demo`, `run`, `tap`,
//! `sim`). The first signal asks the command to stop: it prints its report
//! and exits 0. A second one forces the exit at once with status 128 + the
//! signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a
//! killed process.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal caught (0 while none was).
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// The handler: only async-signal-safe work (one atomic, `_exit`).
extern "C" fn on_signal(sig: libc::c_int) {
    if CAUGHT
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // SAFETY: `_exit` is async-signal-safe. It ends the process without
        // destructors or exit handlers, which is what a forced stop means.
        unsafe { libc::_exit(128 + sig) }
    }
}

/// Whether a stop was asked for; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stop(());

impl Stop {
    /// True once SIGINT or SIGTERM arrived.
    pub(crate) fn requested(self) -> bool {
        CAUGHT.load(Ordering::Relaxed) != 0
    }
}

/// Installs the handler for SIGINT and SIGTERM (idempotent).
pub(crate) fn install() -> Result<Stop, String> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `sigaction` is a plain C struct for which all-zero bytes
        // are a valid value (no flags, an empty mask); the fields that
        // matter are set below.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        // SAFETY: `sa_mask` is a valid, exclusively borrowed `sigset_t`.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: `action` is fully initialised and its handler only does
        // async-signal-safe work; the old action is not asked for (null).
        if unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) } != 0 {
            return Err(format!(
                "installing the handler of signal {sig}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(Stop(()))
}
