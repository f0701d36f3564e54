//! `tickwire listen`: subscribes to a `tickwire bridge` over Aeron and
//! prints every event it receives as the same JSON lines as `tap`. A late
//! or restarted listener starts with the bridge's snapshots.

use std::io::Write;
use std::time::{Duration, Instant};

use tickwire::bridge::{Idle, MediaDriver, Subscriber};

use crate::Failure;

/// Arguments of `tickwire listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    aeron: crate::bridge::AeronArgs,
    /// Stop after this many seconds, at most a year (default: until SIGINT or SIGTERM).
    #[arg(long, value_parser = crate::limits::seconds())]
    seconds: Option<u64>,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    crate::live::init_tracing("warn");
    let stop = crate::signals::install()?;
    let driver = MediaDriver::start_with(args.aeron.aeron_dir.as_deref(), args.aeron.idle)
        .map_err(|e| e.to_string())?;
    let mut sub = Subscriber::connect(driver.dir(), &args.aeron.channel, args.aeron.stream_id)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "tickwire listen: {} stream {}, {} media driver in {}",
        args.aeron.channel,
        args.aeron.stream_id,
        if driver.is_embedded() {
            "embedded"
        } else {
            "external"
        },
        driver.dir()
    );
    let limit = args.seconds.map(Duration::from_secs);
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = String::with_capacity(512);
    let mut failed: Option<std::io::Error> = None;
    let mut events = 0u64;
    let mut idle = 0u32;
    while !stop.requested() && limit.is_none_or(|l| started.elapsed() < l) && failed.is_none() {
        let mut n = 0;
        while let Some(e) = sub.poll() {
            n += 1;
            let Some(registry) = sub.registry() else {
                continue;
            };
            line.clear();
            crate::tap::write_json(&mut line, &e, registry);
            line.push('\n');
            if let Err(err) = out.write_all(line.as_bytes()) {
                failed = Some(err);
                break;
            }
            if n >= 4096 {
                break;
            }
        }
        events += n;
        if n == 0 {
            let _ = out.flush();
            idle = idle.saturating_add(1);
            match args.aeron.idle {
                Idle::Spin => std::hint::spin_loop(),
                Idle::Backoff if idle >= 1_000 => std::thread::sleep(Duration::from_micros(200)),
                Idle::Yield | Idle::Backoff => std::thread::yield_now(),
            }
        } else {
            idle = 0;
        }
    }
    let _ = out.flush();
    let s = sub.stats();
    eprintln!(
        "tickwire listen: {events} events, {} snapshots, {} gaps ({} lost), {} discarded awaiting snapshots, {} stale snapshots, {} bad messages, {} disconnects",
        s.snapshots, s.gaps, s.lost, s.discarded, s.stale_snapshots, s.bad_messages, s.disconnects
    );
    drop(sub);
    drop(driver);
    match failed {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Output(e)),
        _ => Ok(()),
    }
}
