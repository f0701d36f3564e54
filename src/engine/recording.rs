//! What a recording needs to be replayed exactly: the `start` status record
//! at the head of every file, describing the registry (every instrument, in
//! id order, with its tick and lot as configured) and the connections of
//! the file's venue as the engine planned them (URL, channels, depth,
//! pacing), plus the offset from the engine's clock to the wall clock.
//! Built once, at set-up.

use super::plan::plan_connections;
use crate::config::EngineConfig;
use crate::record::escape_json;
use crate::types::{Nanos, Venue};

/// The `data` of the `start` status record of `venue`'s files.
/// `mono_offset_ns` is added to the engine's clock to get ns since the UNIX
/// epoch (the `recv_ns` of every record).
pub fn recording_header(cfg: &EngineConfig, venue: Venue, mono_offset_ns: Nanos) -> String {
    let registry = cfg.registry();
    let mut out = Vec::with_capacity(1024);
    let push = |out: &mut Vec<u8>, s: &str| out.extend_from_slice(s.as_bytes());
    let string = |out: &mut Vec<u8>, s: &str| {
        out.push(b'"');
        escape_json(s.as_bytes(), out);
        out.push(b'"');
    };
    push(
        &mut out,
        &format!(
            "{{\"event\":\"start\",\"version\":1,\"venue\":\"{}\",\"mono_offset_ns\":{mono_offset_ns},\"instruments\":[",
            venue.name()
        ),
    );
    let mut first = true;
    for v in &cfg.venues {
        for s in &v.symbols {
            if !first {
                out.push(b',');
            }
            first = false;
            let id = registry
                .lookup(v.venue, s.symbol.as_bytes())
                .map_or(u32::MAX, |i| i.id.0);
            push(
                &mut out,
                &format!("{{\"id\":{id},\"venue\":\"{}\",\"symbol\":", v.venue.name()),
            );
            string(&mut out, &s.symbol);
            push(&mut out, ",\"tick\":");
            string(&mut out, &s.tick_size);
            push(&mut out, ",\"lot\":");
            string(&mut out, &s.lot_size);
            out.push(b'}');
        }
    }
    push(&mut out, "],\"conns\":[");
    let mut first = true;
    for (idx, plan) in plan_connections(cfg, &registry).iter().enumerate() {
        if plan.venue != venue {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push(&mut out, &format!("{{\"conn\":{idx},\"ws_url\":"));
        string(&mut out, &plan.ws_url);
        push(&mut out, ",\"rest_url\":");
        string(&mut out, &plan.rest_url);
        let channels: Vec<String> = plan
            .channels
            .iter()
            .map(|c| format!("\"{}\"", c.name()))
            .collect();
        let instruments: Vec<String> = plan
            .instruments
            .iter()
            .map(|i| i.id.0.to_string())
            .collect();
        let url_streams = plan
            .url_streams
            .map_or_else(|| "null".to_owned(), |n| n.to_string());
        push(
            &mut out,
            &format!(
                ",\"channels\":[{}],\"instruments\":[{}],\"depth_interval_ms\":{},\"depth\":{},\
                 \"url_streams\":{url_streams},\"streams_per_subscribe\":{},\"control_per_sec\":{},\
                 \"book_capacity\":{},\"max_frame\":{}}}",
                channels.join(","),
                instruments.join(","),
                plan.depth_interval_ms,
                plan.depth,
                plan.streams_per_subscribe,
                plan.control_per_sec,
                plan.book_capacity,
                plan.max_frame,
            ),
        );
    }
    push(
        &mut out,
        &format!(
            "],\"book_capacity\":{},\"instrument_stale_ms\":{}}}",
            cfg.engine.book_capacity, cfg.engine.instrument_stale_ms
        ),
    );
    String::from_utf8(out).unwrap_or_default()
}

/// Where and how [`attach`] records.
#[cfg(feature = "record")]
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The output folder.
    pub dir: std::path::PathBuf,
    /// The period of one file.
    pub rotation: crate::record::Rotation,
    /// Size limit of one file in bytes (0: none).
    pub max_file_bytes: u64,
    /// Size of the hand-over ring in bytes (frames larger than a quarter of
    /// it take the overflow queue).
    pub ring_bytes: usize,
    /// zstd level (1: about twice as fast as 3 on market data, and it
    /// compresses number-heavy frames as well or better).
    pub level: i32,
}

#[cfg(feature = "record")]
impl RecordOptions {
    /// Hourly files under `dir`, no size limit, a 64 MiB ring, zstd level 1.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> RecordOptions {
        RecordOptions {
            dir: dir.into(),
            rotation: crate::record::Rotation::Hourly,
            max_file_bytes: 0,
            ring_bytes: 64 << 20,
            level: 1,
        }
    }
}

/// Makes `engine` record everything it receives, and returns the writer
/// to run ([`Writer::spawn`](crate::record::writer::Writer::spawn)) before
/// or after the engine starts; it ends once the engine has stopped and
/// every record is written.
#[cfg(feature = "record")]
pub fn attach(engine: &mut super::Engine, opts: &RecordOptions) -> crate::record::writer::Writer {
    use crate::types::Clock;
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as Nanos);
    let offset = wall.saturating_sub(engine.clock().now());
    let cfg = engine.config();
    let mut venues: Vec<Venue> = Vec::new();
    for v in &cfg.venues {
        if !venues.contains(&v.venue) {
            venues.push(v.venue);
        }
    }
    let headers = venues
        .iter()
        .map(|&v| (v, recording_header(cfg, v, offset)))
        .collect();
    let symbols = engine
        .registry()
        .iter()
        .map(|i| i.symbol.as_str().to_owned())
        .collect();
    let (tap, drain) = crate::record::record_channel(opts.ring_bytes);
    engine.set_recorder(tap);
    crate::record::writer::Writer::new(
        crate::record::writer::WriterConfig {
            dir: opts.dir.clone(),
            rotation: opts.rotation,
            max_file_bytes: opts.max_file_bytes,
            flush_every: std::time::Duration::from_secs(1),
            level: opts.level,
            mono_offset_ns: offset,
            headers,
            symbols,
        },
        drain,
    )
}
