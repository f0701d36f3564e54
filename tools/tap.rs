//! `tickwire tap`: the engine with a consumer that prints every normalised
//! event as one JSON line, with exact decimal strings. For debugging a feed
//! and for checking tickwire against another client or server.

use std::io::Write;
use std::time::{Duration, Instant};

use tickwire::engine::Engine;
use tickwire::types::{Aggressor, Body, Event, Registry, Side};

use crate::Failure;

/// Arguments of `tickwire tap`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: crate::source::Source,
    /// Stop after this many seconds, at most a year (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let config = args.source.engine_config()?;
    let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
    let mut consumer = engine.add_consumer();
    let registry = engine.registry();
    let handle = engine.spawn().map_err(|e| e.to_string())?;
    let limit = args.seconds.map(Duration::from_secs);
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut lines = JsonLines {
        out: std::io::BufWriter::new(stdout.lock()),
        line: String::with_capacity(512),
        failed: None,
    };
    while !stop.requested() && limit.is_none_or(|l| started.elapsed() < l) && lines.failed.is_none()
    {
        let n = consumer.drain(|e| lines.emit(e, &registry));
        if n == 0 {
            let _ = lines.out.flush();
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    handle.stop();
    consumer.drain(|e| lines.emit(e, &registry));
    let _ = lines.out.flush();
    match lines.failed {
        // A closed pipe (`tap | head`) is a normal way to stop.
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Output(e)),
        _ => Ok(()),
    }
}

/// Events out as JSON lines; writing stops at the first error.
struct JsonLines<W: Write> {
    out: W,
    line: String,
    failed: Option<std::io::Error>,
}

impl<W: Write> JsonLines<W> {
    fn emit(&mut self, e: &Event, registry: &Registry) {
        if self.failed.is_some() {
            return;
        }
        self.line.clear();
        write_json(&mut self.line, e, registry);
        self.line.push('\n');
        if let Err(err) = self.out.write_all(self.line.as_bytes()) {
            self.failed = Some(err);
        }
    }
}

/// Writes one event as a JSON object (no trailing newline).
pub(crate) fn write_json(out: &mut String, e: &Event, registry: &Registry) {
    use std::fmt::Write as _;
    let inst = registry.get(e.instrument);
    let venue = e.venue().map_or("unknown", |v| v.name());
    let (ps, qs) = (inst.price_scale, inst.qty_scale);
    let head = |out: &mut String, kind: &str| {
        let _ = write!(
            out,
            "{{\"type\":\"{kind}\",\"venue\":\"{venue}\",\"symbol\":\"{}\"",
            inst.symbol
        );
    };
    match e.body() {
        Body::Level(l) => {
            head(out, "level");
            let side = if l.side == Side::Bid { "bid" } else { "ask" };
            let _ = write!(
                out,
                ",\"side\":\"{side}\",\"price\":\"{}\",\"qty\":\"{}\",\"end_of_batch\":{},\"snapshot\":{}",
                l.price.at(ps),
                l.qty.at(qs),
                l.end_of_batch,
                l.snapshot
            );
        }
        Body::Bbo(b) => {
            head(out, "bbo");
            let _ = write!(
                out,
                ",\"bid_price\":\"{}\",\"bid_qty\":\"{}\",\"ask_price\":\"{}\",\"ask_qty\":\"{}\"",
                b.bid_price.at(ps),
                b.bid_qty.at(qs),
                b.ask_price.at(ps),
                b.ask_qty.at(qs)
            );
        }
        Body::Trade(t) => {
            head(out, "trade");
            let aggressor = if t.aggressor == Aggressor::Buy {
                "buy"
            } else {
                "sell"
            };
            let _ = write!(
                out,
                ",\"price\":\"{}\",\"qty\":\"{}\",\"aggressor\":\"{aggressor}\",\"trade_id\":{},\"aggregated\":{}",
                t.price.at(ps),
                t.qty.at(qs),
                t.trade_id,
                t.aggregated
            );
        }
        Body::Status(s) => {
            head(out, "status");
            let _ = write!(
                out,
                ",\"status\":\"{}\",\"a\":{},\"b\":{},\"end_of_batch\":{}",
                s.code.name(),
                s.a,
                s.b,
                s.end_of_batch
            );
        }
        Body::Invalid => head(out, "invalid"),
    }
    let _ = write!(
        out,
        ",\"seq\":{},\"exch_ns\":{},\"recv_ns\":{}}}",
        e.seq, e.exch_ns, e.recv_ns
    );
}
