//! Diagnostic events outside the book's consistency protocol.

use super::FanOut;
use crate::types::Event;

impl FanOut {
    /// Pushes one diagnostic event (e.g. a latency probe) to every consumer
    /// that has room and is not awaiting repair for its instrument. Never
    /// marks a consumer dirty: a diagnostic that does not fit is skipped and
    /// counted in the return value.
    pub fn push_diagnostic(&mut self, e: Event) -> usize {
        let mut skipped = 0;
        for slot in &mut self.slots {
            let repairing = slot
                .dirty
                .get(e.instrument.index())
                .copied()
                .unwrap_or(false);
            if repairing || slot.tx.push(e).is_err() {
                skipped += 1;
            }
        }
        skipped
    }
}
