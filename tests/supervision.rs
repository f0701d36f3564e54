//! Supervision and snapshot policy of the live engine, end to end on
//! loopback: a blip is not an outage, failed snapshots back off, venue error
//! replies and binary frames are reported, and an unreachable venue does not
//! count resyncs. Every wait is bounded by a deadline.

mod live;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use live::{config_for, start};
use tickwire::config::Config;
use tickwire::engine::EngineHandle;
use tickwire::sim::{Fault, SimConfig, SimVenue};
use tickwire::types::{SnapshotFailReason, StatusCode, Venue};

const LIMIT: Duration = Duration::from_secs(20);

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A configuration for `ws_url` and `rest_url` with short backoffs.
fn config(ws_url: &str, rest_url: &str) -> Config {
    Config::from_toml_str(&format!(
        r#"
        [engine]
        ring_size = 65536
        book_capacity = 5000
        connect_timeout_ms = 3000
        stale_timeout_ms = 5000
        backoff_initial_ms = 20
        backoff_max_ms = 200
        restart_limit = 5
        restart_window_ms = 10000
        down_cooldown_ms = 0
        [[venue]]
        name = "binance-spot"
        ws_url = "{ws_url}"
        rest_url = "{rest_url}"
        symbols = ["BTCUSDT", "ETHUSDT"]
        "#
    ))
    .expect("config parses")
}

/// Polls the engine's counters until `done` holds or `limit` passes.
fn wait_counters(
    handle: &EngineHandle,
    limit: Duration,
    done: impl Fn(&tickwire::engine::CountersSnapshot) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done(&handle.counters()) {
            return true;
        }
        // A polling interval; the condition ends the wait.
        std::thread::sleep(Duration::from_millis(2));
    }
    done(&handle.counters())
}

/// A venue that accepts one WebSocket client, sends it `frames`, then keeps
/// the connection open (answering pings) until `hold` has passed.
fn scripted_venue(
    frames: Vec<tungstenite::Message>,
    hold: Duration,
) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + hold;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    // A polling interval for the accept; the deadline bounds it.
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return,
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let Ok(mut ws) = tungstenite::accept(stream) else {
            return;
        };
        for f in frames {
            if ws.send(f).is_err() {
                return;
            }
        }
        while Instant::now() < deadline {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
    });
    (addr, thread)
}

/// A REST venue that answers every request with HTTP 200 and `body`,
/// counting requests, until `stop` is set or ten seconds pass.
fn scripted_rest(
    body: &'static str,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    listener.set_nonblocking(true).expect("nonblocking");
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            let mut s = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // A polling interval; the flag and the deadline end it.
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Err(_) => return,
            };
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 << 10 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            count.fetch_add(1, Ordering::Relaxed);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, thread)
}

/// Items 7 and 8: a snapshot body that is unusable is a `SnapshotFailed`
/// status with `reason`, retried with backoff; the book stays unsynced and
/// says so, it is never a silently empty book.
fn unusable_snapshots_are_reported_and_retried(body: &'static str, reason: SnapshotFailReason) {
    let sim = live::sim(Venue::BinanceSpot, false, 1_000);
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let (rest_url, rest) = scripted_rest(body, stop.clone(), requests.clone());
    let mut config = config_for(&sim, Venue::BinanceSpot);
    config.venues[0].rest_url = Some(rest_url);
    config.engine.backoff_initial_ms = 100;
    config.engine.backoff_max_ms = 1_000;
    let (handle, mut m) = start(config);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::SnapshotFailed) >= 2),
        "no failure reported: {:?} {:?}",
        handle.counters(),
        m.statuses
    );
    m.until(Duration::from_secs(1), |_| false);
    let c = handle.stop().counters;
    stop.store(true, Ordering::Relaxed);
    let _ = rest.join();
    let n = requests.load(Ordering::Relaxed);
    // Backoffs of ~100, 200, 400, 800 ms: at most 5 requests per
    // instrument in the first 1.1 s (±25% jitter), 2 instruments.
    assert!(n <= 12, "{n} requests: {c:?}");
    assert_eq!(c.snapshots, 0, "{c:?}");
    assert_eq!(
        m.seen(StatusCode::SnapshotFailed) as u64,
        c.snapshot_failures
    );
    assert!(
        m.statuses
            .iter()
            .filter(|s| s.1 == StatusCode::SnapshotFailed)
            .all(|s| s.2 == reason as i64),
        "{:?}",
        m.statuses
    );
    assert!(!m.all_consistent());
}

#[test]
fn a_snapshot_the_book_refuses_is_reported_and_retried_with_backoff() {
    // Crossed (bid above ask), with an id ahead of the stream (not too old).
    unusable_snapshots_are_reported_and_retried(
        r#"{"lastUpdateId":900000000000,"bids":[["43002.00","1.00000"]],"asks":[["43001.00","1.00000"]]}"#,
        SnapshotFailReason::Refused,
    );
}

#[test]
fn an_empty_snapshot_body_is_reported_and_retried_with_backoff() {
    unusable_snapshots_are_reported_and_retried("", SnapshotFailReason::BadBody);
}

#[test]
fn an_invalid_json_snapshot_is_reported_and_retried_with_backoff() {
    unusable_snapshots_are_reported_and_retried("{\"lastUpdateId\":", SnapshotFailReason::BadBody);
}

/// Item 6: one blip that drops all six connections of a venue at once
/// reconnects them all; it is not a storm, so the venue is not put down.
#[test]
fn one_blip_across_six_connections_is_not_a_venue_outage() {
    let symbols = [
        "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT",
    ];
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &symbols);
    cfg.rate = 1_500;
    let sim = SimVenue::start(cfg).expect("simulator starts");
    let mut config = config_for(&sim, Venue::BinanceSpot);
    // depth + bookTicker + trade: one symbol per connection.
    config.venues[0].max_streams_per_connection = 3;
    let (handle, mut m) = start(config);
    assert!(m.until(LIMIT, |m| m.all_consistent()), "never synced");
    assert_eq!(handle.counters().open_connections, 6);
    sim.inject(Fault::Disconnect);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::Reconnected) >= 6
            && m.all_consistent()),
        "no recovery: {:?} {:?}",
        handle.counters(),
        m.statuses
    );
    assert_eq!(m.seen(StatusCode::VenueDown), 0, "{:?}", m.statuses);
    let c = handle.stop().counters;
    assert_eq!(c.venue_down, 0, "{c:?}");
    assert!(c.failures >= 6 && c.reconnects >= 6, "{c:?}");
}

/// Item 7: refused snapshots are retried with an exponential backoff per
/// instrument (not in a burst), each failure is a `SnapshotFailed` status,
/// and the books sync once the venue serves snapshots again.
#[test]
fn refused_snapshots_back_off_and_report_each_failure() {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &live::SYMBOLS);
    cfg.rate = 1_000;
    let sim = SimVenue::start(cfg).expect("simulator starts");
    sim.inject(Fault::RefuseSnapshots(10));
    let mut config = config_for(&sim, Venue::BinanceSpot);
    config.engine.backoff_initial_ms = 50;
    config.engine.backoff_max_ms = 400;
    let started = Instant::now();
    let (handle, mut m) = start(config);
    // 10 refusals shared by two instruments: 5 each, at ~50+100+200+400 ms
    // backoffs, so syncing takes well over half a second.
    assert!(
        m.until(LIMIT, |m| m.all_consistent()),
        "never synced: {:?}",
        handle.counters()
    );
    let took = started.elapsed();
    assert_eq!(
        sim.stats()
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
        10
    );
    assert!(
        took >= Duration::from_millis(500),
        "10 refusals retried in a burst: synced after {took:?}"
    );
    let failed: Vec<_> = m
        .statuses
        .iter()
        .filter(|s| s.1 == StatusCode::SnapshotFailed)
        .collect();
    assert_eq!(failed.len(), 10, "{:?}", m.statuses);
    assert!(
        failed
            .iter()
            .all(|s| s.2 == SnapshotFailReason::Http as i64),
        "{failed:?}"
    );
    let c = handle.stop().counters;
    assert_eq!(c.snapshot_failures, 10, "{c:?}");
}

/// Item 7: a REST endpoint that does not answer is retried with backoff:
/// over one second, a handful of attempts per instrument, not hundreds.
#[test]
fn an_unreachable_rest_endpoint_is_retried_at_a_bounded_rate() {
    let sim = live::sim(Venue::BinanceSpot, false, 1_000);
    let mut config = config_for(&sim, Venue::BinanceSpot);
    config.venues[0].rest_url = Some(format!("http://127.0.0.1:{}", closed_port()));
    config.engine.backoff_initial_ms = 100;
    config.engine.backoff_max_ms = 1_000;
    let (handle, mut m) = start(config);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::SnapshotFailed) >= 2),
        "no failure reported: {:?}",
        handle.counters()
    );
    let first = Instant::now();
    // Drain for a bounded second.
    m.until(Duration::from_secs(1), |_| false);
    let window = first.elapsed();
    let c = handle.stop().counters;
    // Backoffs of ~100, 200, 400, 800 ms: at most 5 attempts per instrument
    // in the first 1.1 s (±25% jitter), 2 instruments.
    assert!(
        c.snapshot_failures <= 12,
        "{} failures in {window:?}: {c:?}",
        c.snapshot_failures
    );
    assert_eq!(
        m.seen(StatusCode::SnapshotFailed) as u64,
        c.snapshot_failures,
        "{:?}",
        m.statuses
    );
    assert!(
        m.statuses
            .iter()
            .filter(|s| s.1 == StatusCode::SnapshotFailed)
            .all(|s| s.2 == SnapshotFailReason::Transport as i64),
        "{:?}",
        m.statuses
    );
}

/// Item 17: failed connection attempts of books that were never synced are
/// failures, not resyncs.
#[test]
fn an_unreachable_venue_counts_failures_not_resyncs() {
    let port = closed_port();
    let (handle, mut m) = start(config(
        &format!("ws://127.0.0.1:{port}"),
        &format!("http://127.0.0.1:{port}"),
    ));
    assert!(
        wait_counters(&handle, LIMIT, |c| c.failures >= 3),
        "{:?}",
        handle.counters()
    );
    m.drain();
    let c = handle.stop().counters;
    assert_eq!(c.resyncs, 0, "{c:?}");
    assert_eq!(m.seen(StatusCode::Resync), 0, "{:?}", m.statuses);
}

/// Items 12 and 14: a binary frame is counted and reported once per
/// connection (`Unsupported`), a venue error reply is a `VenueError` status
/// with the venue's code for every instrument of the connection.
#[test]
fn binary_frames_and_venue_errors_are_reported() {
    use tungstenite::Message;
    let frames = vec![
        Message::Binary(vec![1u8, 2, 3].into()),
        Message::Text(r#"{"code":-1121,"msg":"Invalid symbol."}"#.into()),
        Message::Binary(vec![4u8].into()),
    ];
    let (addr, venue) = scripted_venue(frames, Duration::from_secs(5));
    let (handle, mut m) = start(config(
        &format!("ws://{addr}"),
        &format!("http://127.0.0.1:{}", closed_port()),
    ));
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::VenueError) >= 2
            && m.seen(StatusCode::Unsupported) >= 2
            && handle.counters().unsupported_frames >= 2),
        "{:?} {:?}",
        handle.counters(),
        m.statuses
    );
    // Drain a little longer: the second binary frame sends no second status.
    m.until(Duration::from_millis(200), |_| false);
    assert_eq!(m.seen(StatusCode::Unsupported), 2, "{:?}", m.statuses);
    assert!(
        m.statuses
            .iter()
            .filter(|s| s.1 == StatusCode::VenueError)
            .all(|s| s.2 == -1121),
        "{:?}",
        m.statuses
    );
    let c = handle.stop().counters;
    assert_eq!(c.unsupported_frames, 2, "{c:?}");
    assert_eq!(c.venue_errors, 1, "{c:?}");
    let _ = venue.join();
}
