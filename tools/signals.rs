//! SIGINT and SIGTERM for the long-running commands (`demo`, `run`, `tap`,
//! `sim`). The first signal asks the command to stop: it prints its report
//! and exits 0. A second one forces the exit at once with status 128 + the
//! signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a
//! killed process.
//!
//! `signal-hook` turns the signals into an iterator read on one small
//! thread, so signals are counted one at a time even when both arrive
//! together on different threads, and no handler code of ours runs in
//! signal context.

use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Set by the first SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// The watcher thread is running.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stop(());

impl Stop {
    /// True once SIGINT or SIGTERM arrived.
    pub(crate) fn requested(self) -> bool {
        STOP.load(Ordering::Relaxed)
    }
}

/// Installs the handlers for SIGINT and SIGTERM (idempotent).
pub(crate) fn install() -> Result<Stop, String> {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(Stop(()));
    }
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("installing the SIGINT and SIGTERM handlers: {e}"))?;
    std::thread::Builder::new()
        .name("tickwire-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if STOP.swap(true, Ordering::SeqCst) {
                    // The second signal: no orderly stop, as asked.
                    signal_hook::low_level::exit(128 + sig);
                }
            }
        })
        .map_err(|e| format!("starting the signal thread: {e}"))?;
    Ok(Stop(()))
}
