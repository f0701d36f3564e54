//! Per-stage latency histograms, recorded on the consumer side from the
//! events themselves (off the engine's hot path).
//!
//! With [`crate::engine::Engine::set_latency_probe`] on, every batch (one
//! venue message) is followed by a `Probe` status carrying the times the
//! batch was decoded and pushed. With the receive time every event carries
//! and the consumer's pop time, that gives four stages per message:
//!
//! * `readable_to_decoded` — frame read from the socket → decoded, synced, applied;
//! * `decoded_to_pushed` — → written to every consumer ring;
//! * `pushed_to_popped` — → the consumer popped the message's first event;
//! * `total` — receive → popped.
//!
//! The receive time is stamped per frame, when the engine takes the frame
//! from the socket buffer.

use std::fmt;

use hdrhistogram::Histogram;

use crate::types::{Body, Event, Nanos, StatusCode};

/// The stages, in order.
pub const STAGES: [&str; 4] = [
    "readable_to_decoded",
    "decoded_to_pushed",
    "pushed_to_popped",
    "total",
];

/// Percentiles of one stage, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Maximum.
    pub max: u64,
}

impl Percentiles {
    /// p50 … max of a histogram (all 0 when empty).
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }

    /// `{"p50":…,"p90":…,"p99":…,"p999":…,"max":…}`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"p50\":{},\"p90\":{},\"p99\":{},\"p999\":{},\"max\":{}}}",
            self.p50, self.p90, self.p99, self.p999, self.max
        )
    }
}

/// Latency of every stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyReport {
    /// Percentiles per stage, in [`STAGES`] order.
    pub stages: [Percentiles; 4],
}

impl LatencyReport {
    /// The `total` stage.
    pub fn total(&self) -> Percentiles {
        self.stages[3]
    }

    /// The report as a JSON object keyed by stage name.
    pub fn to_json(&self) -> String {
        let parts: Vec<String> = STAGES
            .iter()
            .zip(self.stages.iter())
            .map(|(name, p)| format!("\"{name}\":{}", p.to_json()))
            .collect();
        format!("{{{}}}", parts.join(","))
    }
}

impl fmt::Display for LatencyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<22} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10}",
            "stage (ns)", "samples", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for (name, p) in STAGES.iter().zip(self.stages.iter()) {
            writeln!(
                f,
                "{name:<22} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10}",
                p.count, p.p50, p.p90, p.p99, p.p999, p.max
            )?;
        }
        Ok(())
    }
}

/// Records stage latencies from the event stream of one consumer.
#[derive(Debug)]
pub struct LatencyRecorder {
    hists: [Histogram<u64>; 4],
    /// Pop time and receive time of the first event of the batch in progress.
    batch_start: Option<(Nanos, Nanos)>,
    recording: bool,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        LatencyRecorder::new()
    }
}

impl LatencyRecorder {
    /// Histograms from 1 ns to 60 s at 3 significant digits (allocated now).
    pub fn new() -> LatencyRecorder {
        let h =
            || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("constant bounds are valid");
        LatencyRecorder {
            hists: [h(), h(), h(), h()],
            batch_start: None,
            recording: true,
        }
    }

    /// Pauses or resumes recording (e.g. to skip the warm-up).
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
    }

    /// Feeds one event popped at `popped_ns` (same clock as the engine's).
    #[inline]
    pub fn on_event(&mut self, e: &Event, popped_ns: Nanos) {
        if e.status_code() != Some(StatusCode::Probe) {
            if self.batch_start.is_none() {
                self.batch_start = Some((popped_ns, e.recv_ns));
            }
            return;
        }
        let Some((popped, recv)) = self.batch_start.take() else {
            return;
        };
        let Body::Status(s) = e.body() else { return };
        if !self.recording {
            return;
        }
        let (decoded, pushed) = (s.a.max(0) as u64, s.b.max(0) as u64);
        let samples = [
            decoded.saturating_sub(recv),
            pushed.saturating_sub(decoded),
            popped.saturating_sub(pushed),
            popped.saturating_sub(recv),
        ];
        for (h, v) in self.hists.iter_mut().zip(samples) {
            // Values above the histogram's range are clamped to it.
            let _ = h.record(v.clamp(1, 60_000_000_000));
        }
    }

    /// Percentiles so far.
    pub fn report(&self) -> LatencyReport {
        let mut stages = [Percentiles::default(); 4];
        for (s, h) in stages.iter_mut().zip(self.hists.iter()) {
            *s = Percentiles::of(h);
        }
        LatencyReport { stages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{InstrumentId, Price, Qty, Side, Stamp, Venue};

    #[test]
    fn stages_come_from_probes_and_pop_times() {
        let stamp = |recv| Stamp {
            venue: Venue::BinanceSpot,
            instrument: InstrumentId(0),
            seq: 1,
            exch_ns: 0,
            recv_ns: recv,
        };
        let mut r = LatencyRecorder::new();
        let level = Event::level(stamp(1_000), Side::Bid, Price(1), Qty(1), 0);
        r.on_event(&level, 2_000);
        r.on_event(&level, 2_010);
        r.on_event(
            &Event::status(stamp(1_000), StatusCode::Probe, 1_300, 1_400, false),
            2_020,
        );
        let rep = r.report();
        assert_eq!(rep.stages[0].p50, 300);
        assert_eq!(rep.stages[1].p50, 100);
        assert_eq!(rep.stages[2].p50, 600);
        assert_eq!(rep.total().p50, 1_000);
        assert_eq!(rep.total().count, 1);
        assert!(rep.to_json().contains("\"total\":{\"p50\":1000"));
    }
}
