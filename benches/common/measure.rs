//! The end-to-end benches' measuring consumer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire::consumer::Consumer;
use tickwire::metrics::{LatencyRecorder, LatencyReport};
use tickwire::types::{Clock, MonotonicClock};

/// A consumer thread (pinned to `core` when given) that spins on `c`,
/// records every stage after the first second, and returns its report once
/// `stop` is set and the ring is empty.
pub(crate) fn latency_consumer(
    mut c: Consumer,
    clock: MonotonicClock,
    core: Option<usize>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<LatencyReport> {
    std::thread::spawn(move || {
        tickwire::sys::pin_current_thread(core, "bench consumer");
        let mut rec = LatencyRecorder::new();
        rec.set_recording(false);
        let start = Instant::now();
        loop {
            let now = clock.now();
            let n = c.drain(|e| rec.on_event(e, now));
            if n == 0 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= Duration::from_secs(1) {
                rec.set_recording(true);
            }
        }
        rec.report()
    })
}
