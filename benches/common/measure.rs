//! The end-to-end benches' measuring consumer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire::consumer::Consumer;
use tickwire::metrics::{LatencyRecorder, LatencyReport};
use tickwire::types::{Clock, Event, MonotonicClock};

/// A consumer thread (pinned to `core` when given): calls `pop` in a spin,
/// records every stage from the probes once `record_after` has passed, and
/// returns its report once `stop` is set and `pop` finds nothing.
pub(crate) fn consumer(
    mut pop: impl FnMut(&mut dyn FnMut(&Event)) -> usize + Send + 'static,
    clock: MonotonicClock,
    core: Option<usize>,
    stop: Arc<AtomicBool>,
    record_after: Duration,
) -> JoinHandle<LatencyReport> {
    std::thread::spawn(move || {
        tickwire::sys::pin_current_thread(core, "bench consumer");
        let mut rec = LatencyRecorder::new();
        rec.set_recording(false);
        let start = Instant::now();
        loop {
            let now = clock.now();
            let n = pop(&mut |e| rec.on_event(e, now));
            if n == 0 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= record_after {
                rec.set_recording(true);
            }
        }
        rec.report()
    })
}

/// [`consumer`] on an engine's consumer ring, recording after one second.
pub(crate) fn latency_consumer(
    mut c: Consumer,
    clock: MonotonicClock,
    core: Option<usize>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<LatencyReport> {
    consumer(
        move |f| c.drain(|e| f(e)),
        clock,
        core,
        stop,
        Duration::from_secs(1),
    )
}
