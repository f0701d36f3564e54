//! The platform layer: CPU pinning and socket options. The only place that
//! knows about the operating system's knobs.

use std::sync::OnceLock;

/// The cores this process may run on, read once at start-up.
///
/// `core_affinity::get_core_ids()` reports the *calling thread's* affinity:
/// asked from an already pinned thread it returns one core. So the list is
/// read on first use (call [`init_core_list`] early, from the main thread)
/// and kept.
static CORES: OnceLock<Vec<usize>> = OnceLock::new();

/// Reads the process's core list now (idempotent). Call before pinning anything.
pub fn init_core_list() -> &'static [usize] {
    CORES.get_or_init(|| {
        core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.id)
            .collect()
    })
}

/// The cores available to the process (as first read).
pub fn cores() -> &'static [usize] {
    init_core_list()
}

/// Outcome of a pinning request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinning {
    /// The thread now runs only on this core.
    Pinned(usize),
    /// No core was configured: the thread runs unpinned.
    NotRequested,
    /// The core does not exist or the OS refused: the thread runs unpinned.
    Failed(usize),
}

/// Pins the calling thread to `core` when one is given. Logs a warning (once,
/// at thread start, off any hot path) when it cannot.
pub fn pin_current_thread(core: Option<usize>, role: &str) -> Pinning {
    let Some(core) = core else {
        tracing::warn!(role, "no core configured: running unpinned");
        return Pinning::NotRequested;
    };
    if !cores().contains(&core) {
        tracing::warn!(role, core, available = ?cores(), "core not available: running unpinned");
        return Pinning::Failed(core);
    }
    if core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        tracing::debug!(role, core, "pinned");
        Pinning::Pinned(core)
    } else {
        tracing::warn!(role, core, "pinning refused by the OS: running unpinned");
        Pinning::Failed(core)
    }
}

/// Options every market-data socket gets: no Nagle delay.
pub fn tune_socket(stream: &mio::net::TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_is_stable_and_pinning_reports_unknown_cores() {
        let first = init_core_list().to_vec();
        assert_eq!(cores(), first.as_slice());
        let outcome = std::thread::spawn(|| pin_current_thread(Some(usize::MAX), "test"))
            .join()
            .unwrap();
        assert_eq!(outcome, Pinning::Failed(usize::MAX));
        assert_eq!(pin_current_thread(None, "test"), Pinning::NotRequested);
    }
}
