//! `tickwire sim` for every venue: `--venue` takes each name of
//! `Venue::ALL`, the printed `ws_url` carries the venue's stream path, and
//! `badchecksum` is refused with an `error:` line by venues that send no
//! checksum (accepted by OKX). Every wait is bounded by a deadline.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod util;

use tickwire::types::Venue;
use util::process::{drain, run_bounded, tickwire, wait_bounded};

/// Runs `tickwire sim` for `venue`, sends `badchecksum` and `book`, waits
/// for the book's line, quits; returns (stdout lines, stderr).
fn session(venue: Venue, symbol: &str) -> (Vec<String>, String) {
    let mut child = tickwire()
        .args(["sim", "--venue", venue.name(), "--symbols", symbol])
        .args(["--seconds", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sim");
    let err = drain(child.stderr.take().expect("stderr"));
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "badchecksum {symbol}").expect("write");
    writeln!(stdin, "book {symbol}").expect("write");
    stdin.flush().expect("flush");
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                let done = l.starts_with(&format!("{symbol}:"));
                lines.push(l);
                if done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    writeln!(stdin, "quit").expect("quit");
    drop(stdin);
    let code = wait_bounded(&mut child, Duration::from_secs(20));
    let err = err.join().unwrap_or_default();
    assert_eq!(code, Some(0), "{venue}: {err}");
    (lines, err)
}

#[test]
fn every_venue_is_simulated_and_badchecksum_needs_a_checksum() {
    for venue in Venue::ALL {
        let symbol = if venue == Venue::Okx {
            "BTC-USDT"
        } else {
            "BTCUSDT"
        };
        let (lines, err) = session(venue, symbol);
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{symbol}:"))),
            "{venue}: no answer to book: {lines:?} {err}"
        );
        let ws = lines
            .iter()
            .find_map(|l| l.strip_prefix("ws_url "))
            .unwrap_or_else(|| panic!("{venue}: no ws_url in {lines:?}"));
        let path = match venue {
            Venue::BybitSpot => "/v5/public/spot",
            Venue::BybitLinear => "/v5/public/linear",
            Venue::Okx => "/ws/v5/public",
            Venue::Kraken => "/v2",
            _ => "",
        };
        let base = ws.strip_suffix(path).expect("the path ends the URL");
        assert!(
            base.starts_with("ws://127.0.0.1:") && !base[15..].contains('/'),
            "{venue}: {ws}"
        );
        let refusals: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        if matches!(venue, Venue::Okx | Venue::Kraken) {
            assert!(refusals.is_empty(), "{venue}: {err}");
        } else {
            assert_eq!(
                refusals,
                [format!(
                    "error: badchecksum: {} sends no checksum",
                    venue.name()
                )],
                "{venue}"
            );
        }
    }
}

#[test]
fn an_unknown_venue_is_refused_with_the_list() {
    let mut cmd = tickwire();
    cmd.args(["sim", "--venue", "mtgox", "--seconds", "1"]);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    for venue in Venue::ALL {
        assert!(err.contains(venue.name()), "{err}");
    }
}
