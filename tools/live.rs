//! What `demo` and `run` share: the pinned consumer thread (book mirrors and
//! latency histograms), the once-a-second live view, and the final report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire::book::{BookRead, BookSpec};
use tickwire::consumer::{BookMirror, Consumer};
use tickwire::engine::{CountersSnapshot, EngineReport};
use tickwire::metrics::{LatencyRecorder, LatencyReport, STAGES};
use tickwire::types::{Clock, MonotonicClock, Registry};

use crate::out::Out;

/// Tracing to stderr; `RUST_LOG` overrides the default level.
pub(crate) fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The top of one book as the consumer sees it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Top {
    pub(crate) bid: Option<String>,
    pub(crate) ask: Option<String>,
    pub(crate) consistent: bool,
}

/// What the consumer thread shares with the printer, refreshed every 200 ms.
#[derive(Clone, Debug, Default)]
pub(crate) struct View {
    pub(crate) tops: Vec<Top>,
    pub(crate) drops: u64,
}

/// A consumer draining its ring on its own (pinned) thread.
pub(crate) struct ConsumerThread {
    stop: Arc<AtomicBool>,
    view: Arc<Mutex<View>>,
    thread: Option<JoinHandle<(LatencyReport, u64, BookMirror)>>,
}

impl ConsumerThread {
    /// Spawns the thread. Latency is recorded once every book is consistent
    /// plus `warmup` (connection set-up and first snapshots are not steady state).
    pub(crate) fn spawn(
        mut consumer: Consumer,
        registry: Arc<Registry>,
        capacity: usize,
        clock: MonotonicClock,
        core: Option<usize>,
        warmup: Duration,
    ) -> std::io::Result<ConsumerThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let view = Arc::new(Mutex::new(View::default()));
        let (stop_flag, shared) = (stop.clone(), view.clone());
        let thread = std::thread::Builder::new()
            .name("tickwire-consumer".into())
            .spawn(move || {
                tickwire::sys::pin_current_thread(core, "consumer");
                let mut mirror = BookMirror::new(
                    registry
                        .iter()
                        .map(|i| BookSpec::new(i.tick).with_capacity(capacity)),
                );
                let mut latency = LatencyRecorder::new();
                latency.set_recording(false);
                let mut record_from: Option<u64> = None;
                let mut events = 0u64;
                let mut next_view = clock.now();
                loop {
                    let now = clock.now();
                    let n = consumer.drain(|e| {
                        mirror.apply(e);
                        latency.on_event(e, now);
                    });
                    events += n as u64;
                    if n == 0 {
                        if stop_flag.load(Ordering::Relaxed) {
                            break;
                        }
                        std::hint::spin_loop();
                    }
                    if now >= next_view {
                        next_view = now + 200_000_000;
                        if record_from.is_none()
                            && registry.iter().all(|i| mirror.is_consistent(i.id))
                        {
                            record_from = Some(now + warmup.as_nanos() as u64);
                        }
                        if record_from.is_some_and(|t| now >= t) {
                            latency.set_recording(true);
                        }
                        let tops = registry
                            .iter()
                            .map(|i| {
                                let book = mirror.book(i.id);
                                let fmt = |l: Option<tickwire::book::Level>| {
                                    l.map(|l| format!("{}", l.price.at(i.price_scale)))
                                };
                                Top {
                                    bid: fmt(book.and_then(BookRead::best_bid)),
                                    ask: fmt(book.and_then(BookRead::best_ask)),
                                    consistent: mirror.is_consistent(i.id),
                                }
                            })
                            .collect();
                        if let Ok(mut v) = shared.lock() {
                            *v = View {
                                tops,
                                drops: consumer.dropped(),
                            };
                        }
                    }
                }
                (latency.report(), events, mirror)
            })?;
        Ok(ConsumerThread {
            stop,
            view,
            thread: Some(thread),
        })
    }

    pub(crate) fn view(&self) -> View {
        self.view.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Stops after draining what is left; returns the latency report and event count.
    pub(crate) fn stop(self) -> (LatencyReport, u64) {
        let (latency, events, _) = self.finish();
        (latency, events)
    }

    /// [`stop`](Self::stop), also handing back the consumer's books (`None`
    /// if the thread panicked).
    pub(crate) fn finish(mut self) -> (LatencyReport, u64, Option<BookMirror>) {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().and_then(|t| t.join().ok()) {
            Some((latency, events, mirror)) => (latency, events, Some(mirror)),
            None => (LatencyReport::default(), 0, None),
        }
    }
}

/// One live-view line.
pub(crate) fn view_line(
    elapsed: Duration,
    rate: u64,
    c: &CountersSnapshot,
    view: &View,
    registry: &Registry,
) -> String {
    let mut line = format!("[{:>4}s] {:>9} msg/s |", elapsed.as_secs(), group(rate));
    // With several venues a symbol alone is ambiguous: `okx:BTC-USDT`.
    let venues = registry
        .iter()
        .map(|i| i.venue)
        .collect::<std::collections::BTreeSet<_>>();
    for (inst, top) in registry.iter().zip(view.tops.iter()) {
        let mark = if top.consistent { "" } else { " (syncing)" };
        let name = if venues.len() > 1 {
            format!("{}:{}", inst.venue, inst.symbol)
        } else {
            inst.symbol.to_string()
        };
        line.push_str(&format!(
            " {name} {} / {}{mark} |",
            top.bid.as_deref().unwrap_or("-"),
            top.ask.as_deref().unwrap_or("-")
        ));
    }
    line.push_str(&format!(
        " drops {} gaps {} resyncs {} reconnects {}",
        view.drops.max(c.drops),
        c.gaps,
        c.resyncs,
        c.reconnects
    ));
    line
}

/// 1234567 → "1,234,567".
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Prints the live view every second until `done` says stop; returns the
/// elapsed time.
pub(crate) fn watch(
    started: Instant,
    registry: &Registry,
    counters: impl Fn() -> CountersSnapshot,
    consumer: &ConsumerThread,
    mut done: impl FnMut(Duration) -> bool,
    mut print: impl FnMut(&str),
) -> Duration {
    let mut last = counters();
    let mut last_t = Instant::now();
    loop {
        let next = last_t + Duration::from_secs(1);
        while Instant::now() < next {
            if done(started.elapsed()) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let now = Instant::now();
        let c = counters();
        let secs = now.duration_since(last_t).as_secs_f64();
        let rate = per_second(c.messages.saturating_sub(last.messages), secs);
        print(&view_line(
            started.elapsed(),
            rate,
            &c,
            &consumer.view(),
            registry,
        ));
        last = c;
        last_t = now;
    }
}

/// Whole-number rate, for display.
#[allow(clippy::float_arithmetic, reason = "a display rate, not a price")]
pub(crate) fn per_second(count: u64, secs: f64) -> u64 {
    if secs > 0.0 {
        (count as f64 / secs) as u64
    } else {
        0
    }
}

/// Prints the final report: text, or one JSON object with `json` (whose
/// keys are a contract: `messages`, `msgs_per_sec`, `gaps`, `resyncs`,
/// `reconnects`, `drops`, `latency_ns`).
pub(crate) fn print_report(
    out: &Out,
    json: bool,
    secs: f64,
    report: &EngineReport,
    latency: &LatencyReport,
) {
    print_report_with(out, json, secs, report, latency, &[]);
}

/// More for the final report (`demo --orders`): a JSON member
/// (`"key":value`, appended to the object) and text lines.
#[derive(Debug)]
pub(crate) struct ReportExtra {
    pub(crate) json: String,
    pub(crate) text: String,
}

/// [`print_report`] plus `extras`.
pub(crate) fn print_report_with(
    out: &Out,
    json: bool,
    secs: f64,
    report: &EngineReport,
    latency: &LatencyReport,
    extras: &[ReportExtra],
) {
    let c = &report.counters;
    if json {
        let more: String = extras.iter().map(|e| format!(",{}", e.json)).collect();
        out.line(format_args!(
            "{{\"messages\":{},\"msgs_per_sec\":{},\"gaps\":{},\"resyncs\":{},\"reconnects\":{},\"drops\":{},\"latency_ns\":{}{more}}}",
            c.messages,
            per_second(c.messages, secs),
            c.gaps,
            c.resyncs,
            c.reconnects,
            c.drops,
            latency.to_json()
        ));
        return;
    }
    out.line(format_args!(
        "\nreport after {secs:.1} s (stages: {})",
        STAGES.join(", ")
    ));
    out.line(format_args!(
        "messages {} ({} msg/s) | gaps {} | resyncs {} | reconnects {} | drops {} | decode errors {} | snapshots {}",
        group(c.messages),
        group(per_second(c.messages, secs)),
        c.gaps,
        c.resyncs,
        c.reconnects,
        c.drops,
        c.decode_errors,
        c.snapshots
    ));
    let decoded = report.decode.fast + report.decode.fallback;
    if decoded > 0 {
        out.line(format_args!(
            "fast path: {} of {} frames",
            group(report.decode.fast),
            group(decoded)
        ));
    }
    for e in &report.errors {
        out.line(format_args!("connection error: {e}"));
    }
    out.line(format_args!(
        "latency per message (ns), receive stamped per frame:"
    ));
    out.write(format_args!("{latency}"));
    for e in extras {
        out.write(format_args!("{}", e.text));
    }
}
