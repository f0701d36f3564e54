//! `tickwire record`, `replay --recording` and `export` as a user runs
//! them, against the simulator over wss://: a recording replays to a
//! synced book with status 0, its tardis CSV rebuilds the same book, and a
//! recorder killed with SIGKILL leaves a recording that still replays up
//! to its last flushed record.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod util;

use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;
use util::process::{drain, run_bounded, spawn_piped, tickwire, wait_bounded};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A TLS simulator of `venue` and its CA file in `dir`.
fn sim(venue: Venue, symbols: &[&str], dir: &Path) -> (SimVenue, PathBuf) {
    let mut cfg = SimConfig::new(venue, symbols);
    cfg.rate = 2_000;
    cfg.tls = true;
    let sim = SimVenue::start(cfg).expect("sim");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_pem().expect("pem")).expect("write ca");
    (sim, ca)
}

fn record_cmd(
    venue: Venue,
    symbols: &str,
    sim: &SimVenue,
    ca: &Path,
    out: &Path,
) -> std::process::Command {
    let mut cmd = tickwire();
    cmd.args(["record", "--venue", venue.name(), "--symbols", symbols])
        .args(["--ws-url", &format!("{}{}", sim.ws_url(), sim.ws_path())])
        .args(["--rest-url", &sim.rest_url()])
        .arg("--ca-file")
        .arg(ca)
        .arg("--out")
        .arg(out);
    cmd
}

/// `replay --recording … --dump-book`: (status, book lines, stderr).
fn replay(rec: &Path, symbol: &str) -> (Option<i32>, BTreeSet<String>, String) {
    let mut cmd = tickwire();
    cmd.args(["replay", "--recording"]).arg(rec).args([
        "--symbol",
        symbol,
        "--dump-book",
        "--stats",
    ]);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(60));
    (code, out.lines().map(str::to_owned).collect(), err)
}

/// The book a tardis.dev reader builds from the CSV, as `B price qty` lines.
fn book_from_csv(csv: &str) -> BTreeSet<String> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount")
    );
    let mut book: std::collections::BTreeMap<(String, String), String> = Default::default();
    let mut last_snapshot = false;
    let mut snapshots = 0;
    for row in lines {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f.len(), 8, "{row}");
        let (ts, local): (u64, u64) = (f[2].parse().expect("µs"), f[3].parse().expect("µs"));
        // µs since the epoch: 2020 … 2100.
        assert!(
            (1_577_836_800_000_000..4_102_444_800_000_000).contains(&local),
            "{row}"
        );
        assert!(ts > 1_577_836_800_000_000, "{row}");
        let snapshot = match f[4] {
            "true" => true,
            "false" => false,
            other => panic!("is_snapshot {other}"),
        };
        if snapshot && !last_snapshot {
            book.clear();
            snapshots += 1;
        }
        last_snapshot = snapshot;
        let side = match f[5] {
            "bid" => "B",
            "ask" => "A",
            other => panic!("side {other}"),
        };
        let key = (side.to_owned(), f[6].to_owned());
        if f[7] == "0" {
            book.remove(&key);
        } else {
            book.insert(key, f[7].to_owned());
        }
    }
    assert!(snapshots >= 1, "no snapshot rows");
    book.into_iter()
        .map(|((s, p), q)| format!("{s} {p} {q}"))
        .collect()
}

#[test]
fn a_recording_replays_to_a_synced_book_and_its_csv_rebuilds_it() {
    let dir = scratch("rec-cli");
    let (sim, ca) = sim(Venue::BinanceSpot, &["BTCUSDT", "ETHUSDT"], &dir);
    let out = dir.join("rec");
    let mut cmd = record_cmd(Venue::BinanceSpot, "BTCUSDT,ETHUSDT", &sim, &ca, &out);
    cmd.args(["--seconds", "3", "--rotate", "daily", "--max-file-mb", "64"]);
    let (code, _, err) = run_bounded(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("recorded: "), "{err}");
    let (code, book, err) = replay(&out, "BTCUSDT");
    assert_eq!(code, Some(0), "{err}");
    assert!(book.len() > 10, "{book:?}");
    assert!(err.contains("frames: "), "{err}");
    let mut cmd = tickwire();
    cmd.args(["export", "--recording"]).arg(&out).args([
        "--symbol",
        "BTCUSDT",
        "--format",
        "tardis-incremental-l2",
    ]);
    let (code, csv, err) = run_bounded(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("binance,BTCUSDT,")),
        "{csv:.300}"
    );
    assert_eq!(
        book_from_csv(&csv),
        book,
        "the CSV rebuilds the replayed book"
    );
    // An unknown symbol is a usage error.
    let (code, _, err) = replay(&out, "NOPEUSDT");
    assert_eq!(code, Some(2), "{err}");
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_recorder_leaves_a_recording_that_replays_to_its_last_flush() {
    let dir = scratch("rec-kill");
    let (sim, ca) = sim(Venue::Okx, &["BTC-USDT", "ETH-USDT"], &dir);
    let out = dir.join("rec");
    let mut cmd = record_cmd(Venue::Okx, "BTC-USDT,ETH-USDT", &sim, &ca, &out);
    let mut child = spawn_piped(&mut cmd);
    let err = drain(child.stderr.take().expect("stderr"));
    let _out = drain(child.stdout.take().expect("stdout"));
    // Until a few flushes (one a second) reached the disk.
    let started = Instant::now();
    let written = |p: &Path| {
        std::fs::read_dir(p.join("okx"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum::<u64>()
            })
            .unwrap_or(0)
    };
    while started.elapsed() < Duration::from_secs(20)
        && (started.elapsed() < Duration::from_secs(3) || written(&out) == 0)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(written(&out) > 0, "nothing flushed");
    // SIGKILL: no orderly end of the last zstd frame.
    child.kill().expect("kill");
    let _ = wait_bounded(&mut child, Duration::from_secs(10));
    let _ = err.join();
    let (code, book, err) = replay(&out, "BTC-USDT");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        book.iter().any(|l| l.starts_with("B ")) && book.iter().any(|l| l.starts_with("A ")),
        "{book:?}"
    );
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
