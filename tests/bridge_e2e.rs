//! `tickwire bridge` and `tickwire listen` as separate processes (the real
//! binary) over Aeron IPC and UDP on 127.0.0.1, fed by the simulated venue:
//! a listener from the start, one started late, one killed and restarted,
//! and one stalled, all end with the venue's true books. Every child has a
//! hard deadline; every media-driver directory is unique and removed.

#[path = "util/process.rs"]
#[allow(dead_code)]
mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::thread::JoinHandle;
use std::time::Duration;

use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];
const LIMIT: Duration = Duration::from_secs(60);

/// A media-driver directory unique to this test, removed on drop.
struct ShmDir(PathBuf);

impl ShmDir {
    fn new(name: &str) -> ShmDir {
        let p = PathBuf::from(format!(
            "/dev/shm/tickwire-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        ShmDir(p)
    }
}

impl Drop for ShmDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sim() -> SimVenue {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &SYMBOLS);
    cfg.rate = 2_000;
    SimVenue::start(cfg).expect("simulator starts")
}

/// A running child with its outputs drained on their own threads.
struct Running {
    child: Child,
    out: JoinHandle<String>,
    err: JoinHandle<String>,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = process::spawn_piped(&mut cmd);
        let out = process::drain(child.stdout.take().expect("stdout"));
        let err = process::drain(child.stderr.take().expect("stderr"));
        Running { child, out, err }
    }

    /// Waits (bounded) for the end: (status, stdout, stderr).
    fn finish(mut self) -> (Option<i32>, String, String) {
        let code = process::wait_bounded(&mut self.child, LIMIT);
        (
            code,
            self.out.join().unwrap_or_default(),
            self.err.join().unwrap_or_default(),
        )
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bridge(sim: &SimVenue, channel: &str, stream: i32, dir: &ShmDir, seconds: u64) -> Running {
    let mut cmd = process::tickwire();
    cmd.args([
        "bridge",
        "--venue",
        "binance-spot",
        "--symbols",
        "BTCUSDT,ETHUSDT",
    ])
    .args(["--ws-url", &sim.ws_url(), "--rest-url", &sim.rest_url()])
    .args(["--channel", channel, "--stream-id", &stream.to_string()])
    .args(["--snapshot-ms", "200", "--seconds", &seconds.to_string()])
    .arg("--aeron-dir")
    .arg(&dir.0);
    Running::start(cmd)
}

fn listen(channel: &str, stream: i32, dir: &ShmDir, seconds: u64) -> Running {
    let mut cmd = process::tickwire();
    cmd.args([
        "listen",
        "--channel",
        channel,
        "--stream-id",
        &stream.to_string(),
    ])
    .args(["--seconds", &seconds.to_string()])
    .arg("--aeron-dir")
    .arg(&dir.0);
    Running::start(cmd)
}

type Side = BTreeMap<i64, i64>;

/// Price and quantity scales of the simulator's instruments (tick 0.01, lot 0.00001).
const PRICE_SCALE: usize = 2;
const QTY_SCALE: usize = 5;

/// Mantissa at `scale` of a decimal string (`tap` trims trailing zeros).
fn units(text: &str, scale: usize) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= scale, "{text} has more than {scale} decimals");
    format!("{int}{frac:0<scale$}").parse().expect("decimal")
}

/// Books rebuilt from `listen`'s JSON lines, the way `BookMirror` does:
/// per symbol (bids, asks, consistent).
fn books_of(lines: &str) -> BTreeMap<String, (Side, Side, bool)> {
    let mut books: BTreeMap<String, (Side, Side, bool)> = BTreeMap::new();
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let symbol = v["symbol"].as_str().expect("symbol").to_owned();
        let book = books.entry(symbol).or_default();
        match v["type"].as_str() {
            Some("level") => {
                let side = if v["side"] == "bid" {
                    &mut book.0
                } else {
                    &mut book.1
                };
                let p = units(v["price"].as_str().unwrap(), PRICE_SCALE);
                let q = units(v["qty"].as_str().unwrap(), QTY_SCALE);
                if q == 0 {
                    side.remove(&p);
                } else {
                    side.insert(p, q);
                }
                if v["end_of_batch"] == true {
                    book.2 = true;
                }
            }
            Some("status") => match v["status"].as_str() {
                Some("snapshot_begin" | "resync") => {
                    book.0.clear();
                    book.1.clear();
                    book.2 = false;
                }
                Some("snapshot_end") => book.2 = true,
                _ => {}
            },
            _ => {}
        }
    }
    books
}

/// The statuses `listen` printed, by name.
fn statuses(lines: &str, name: &str) -> usize {
    lines
        .lines()
        .filter(|l| l.contains(&format!("\"status\":\"{name}\"")))
        .count()
}

/// Asserts that `lines` rebuild exactly the simulator's books.
fn assert_true_books(sim: &SimVenue, lines: &str, who: &str, err: &str) {
    let books = books_of(lines);
    for symbol in SYMBOLS {
        let truth = sim.true_book(symbol).expect("true book");
        let (bids, asks, consistent) = books
            .get(symbol)
            .unwrap_or_else(|| panic!("{who}: no events for {symbol}; stderr: {err}"));
        let want = |levels: &[(tickwire::types::Price, tickwire::types::Qty)]| -> Side {
            levels.iter().map(|(p, q)| (p.0, q.0)).collect()
        };
        assert!(*consistent, "{who}: {symbol} not consistent; stderr: {err}");
        assert!(!truth.bids.is_empty() && !truth.asks.is_empty());
        assert_eq!(
            *bids,
            want(&truth.bids),
            "{who}: {symbol} bids; stderr: {err}"
        );
        assert_eq!(
            *asks,
            want(&truth.asks),
            "{who}: {symbol} asks; stderr: {err}"
        );
    }
}

/// Waits (bounded) until the bridge's embedded driver is up in `dir`.
fn wait_for_driver(dir: &ShmDir) {
    for _ in 0..400 {
        if dir.0.join("cnc.dat").exists() {
            sleep_ms(500);
            return;
        }
        sleep_ms(50);
    }
    panic!("no media driver in {}", dir.0.display());
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

#[test]
fn over_ipc_an_early_and_a_late_listener_end_with_the_true_books() {
    let sim = sim();
    let dir = ShmDir::new("ipc");
    let bridge = bridge(&sim, "aeron:ipc", 3101, &dir, 16);
    wait_for_driver(&dir);
    sleep_ms(1_000);
    let early = listen("aeron:ipc", 3101, &dir, 11);
    sleep_ms(3_500);
    let late = listen("aeron:ipc", 3101, &dir, 7);
    sleep_ms(3_000);
    // The market stops; both listeners are still running for a while.
    sim.set_rate(0);
    let (code_e, out_e, err_e) = early.finish();
    let (code_l, out_l, err_l) = late.finish();
    let (code_b, _, err_b) = bridge.finish();
    assert_eq!(code_e, Some(0), "{err_e}");
    assert_eq!(code_l, Some(0), "{err_l}");
    assert_eq!(code_b, Some(0), "{err_b}");
    assert_true_books(&sim, &out_e, "early listen", &err_e);
    assert_true_books(&sim, &out_l, "late listen", &err_l);
    // The late one started from the bridge's snapshots.
    assert!(
        out_l
            .lines()
            .next()
            .unwrap_or("")
            .contains("snapshot_begin"),
        "{err_l}"
    );
    assert!(statuses(&out_l, "snapshot_begin") >= 2);
    assert!(err_b.contains("embedded media driver"), "{err_b}");
    assert!(err_e.contains("external media driver"), "{err_e}");
}

#[test]
fn over_udp_a_killed_and_restarted_listener_ends_with_the_true_books() {
    let sim = sim();
    let port = free_udp_port();
    let channel = format!("aeron:udp?endpoint=127.0.0.1:{port}");
    let (bdir, ldir) = (ShmDir::new("udp-bridge"), ShmDir::new("udp-listen"));
    // The killed listener's driver directory still looks alive for a few
    // seconds (its heartbeat is recent): the new one gets its own.
    let ldir2 = ShmDir::new("udp-listen-2");
    let bridge = bridge(&sim, &channel, 3201, &bdir, 18);
    sleep_ms(1_500);
    let first = listen(&channel, 3201, &ldir, 30);
    sleep_ms(3_000);
    first.kill();
    sleep_ms(1_000);
    let again = listen(&channel, 3201, &ldir2, 8);
    sleep_ms(4_000);
    sim.set_rate(0);
    let (code_l, out_l, err_l) = again.finish();
    let (code_b, _, err_b) = bridge.finish();
    assert_eq!(code_l, Some(0), "{err_l}");
    assert_eq!(code_b, Some(0), "{err_b}");
    assert_true_books(&sim, &out_l, "restarted listen", &err_l);
    assert!(
        out_l
            .lines()
            .next()
            .unwrap_or("")
            .contains("snapshot_begin"),
        "{err_l}"
    );
    // Each process ran its own embedded driver: the hop was real UDP.
    assert!(err_l.contains("embedded media driver"), "{err_l}");
}

#[test]
fn over_udp_a_stalled_listener_recovers_and_ends_with_the_true_books() {
    let sim = sim();
    let port = free_udp_port();
    let channel = format!("aeron:udp?endpoint=127.0.0.1:{port}");
    let (bdir, ldir) = (ShmDir::new("stall-bridge"), ShmDir::new("stall-listen"));
    let bridge = bridge(&sim, &channel, 3301, &bdir, 25);
    sleep_ms(1_500);
    let l = listen(&channel, 3301, &ldir, 20);
    sleep_ms(2_500);
    let pid = l.child.id().to_string();
    // Stalled with its media driver: the receiver window fills, the bridge's
    // publication pushes back and the bridge drops and marks; 7 s stays
    // under the Aeron client's 10 s service timeout.
    let stop = Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .expect("kill");
    assert!(stop.success());
    sleep_ms(7_000);
    let cont = Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .expect("kill");
    assert!(cont.success());
    sleep_ms(6_000);
    sim.set_rate(0);
    let (code_l, out_l, err_l) = l.finish();
    let (code_b, _, err_b) = bridge.finish();
    assert_eq!(code_l, Some(0), "{err_l}");
    assert_eq!(code_b, Some(0), "{err_b}");
    assert_true_books(&sim, &out_l, "stalled listen", &err_l);
    // It lost events, was told so, and was repaired by snapshots.
    assert!(
        statuses(&out_l, "dropped") >= 2
            && statuses(&out_l, "resync") >= 2
            && statuses(&out_l, "snapshot_begin") >= 4,
        "{err_l}\n{err_b}"
    );
    assert!(!err_b.contains(" 0 dropped"), "{err_b}");
}

/// `demo --bridge`: the demo's consumer reads what came back out of an
/// Aeron subscriber, and the report's `bridge` block accounts for every
/// event: all published were relayed, none dropped, no gap.
#[test]
fn demo_bridge_relays_every_event_through_aeron() {
    let mut cmd = process::tickwire();
    cmd.args([
        "demo",
        "--bridge",
        "--seconds",
        "3",
        "--rate",
        "20000",
        "--json",
    ]);
    let (code, out, err) = process::run_bounded(cmd, LIMIT);
    assert_eq!(code, Some(0), "stderr: {err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let b = &v["bridge"];
    let published = b["published"].as_u64().expect("published");
    assert!(published > 1_000, "{v}");
    assert_eq!(b["relayed"].as_u64(), Some(published), "{v}");
    assert_eq!(b["dropped"].as_u64(), Some(0), "{v}");
    assert_eq!(b["gaps"].as_u64(), Some(0), "{v}");
    assert_eq!(v["drops"].as_u64(), Some(0), "{v}");
    let hop = &v["latency_ns"]["pushed_to_popped"];
    let (p50, p99) = (hop["p50"].as_u64(), hop["p99"].as_u64());
    assert!(p50.is_some_and(|p| p > 0) && p50 <= p99, "{v}");
}
