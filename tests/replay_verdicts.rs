//! `tickwire replay`'s verdicts on captures that would otherwise leave a
//! wrong or frozen book behind an exit 0 (issue 9, items 3, 8, 9, 11, 13
//! and 16): oversized lines and snapshots, a refused snapshot, a book that
//! stops advancing, a crossed book, a book without a snapshot, capacity
//! truncation, and negative-looking flag values.

mod util;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tickwire::types::Venue;
use util::process::{run_bounded, tickwire};
use util::{depth_json, snapshot_json, wrap};

const SPOT: Venue = Venue::BinanceSpot;

/// Runs `tickwire replay ARGS` to the end with a hard deadline:
/// (status, stdout, stderr).
fn replay(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let mut cmd = tickwire();
    cmd.arg("replay").args(args);
    run_bounded(cmd, limit)
}

/// The first stderr line starting with `prefix` (the test fails without one).
fn line_starting<'a>(err: &'a str, prefix: &str) -> &'a str {
    err.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line: {err}"))
}

fn temp(name: &str, contents: &[u8]) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("replay_verdicts_{name}"));
    std::fs::write(&path, contents).expect("write a temp file");
    path.to_string_lossy().into_owned()
}

/// One wrapped spot diff for BTCUSDT.
fn diff(first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> String {
    wrap(
        "btcusdt@depth@100ms",
        &depth_json(SPOT, "BTCUSDT", first, last, None, bids, asks),
    )
}

/// `replay` of `lines` against `snapshot` (when given) for BTCUSDT.
fn run(
    name: &str,
    snapshot: Option<&str>,
    lines: &[String],
    extra: &[&str],
) -> (i32, String, String) {
    let input = temp(&format!("{name}.jsonl"), lines.join("\n").as_bytes());
    let mut args = vec![
        "--venue",
        "binance-spot",
        "--symbol",
        "BTCUSDT",
        "--input",
        &input,
    ];
    let snap_path;
    if let Some(body) = snapshot {
        snap_path = temp(&format!("{name}.snapshot.json"), body.as_bytes());
        args.extend(["--snapshot", &snap_path]);
    }
    args.extend(extra);
    let (code, out, err) = replay(&args, Duration::from_secs(30));
    (code.expect("exited"), out, err)
}

fn book_snapshot(last: u64) -> String {
    snapshot_json(
        SPOT,
        last,
        &[("100.00", "1"), ("99.00", "2")],
        &[("101.00", "1"), ("102.00", "2")],
    )
}

#[test]
fn an_endless_line_is_an_error_in_bounded_time_and_memory() {
    let started = Instant::now();
    let (code, _, err) = replay(
        &[
            "--venue",
            "binance-spot",
            "--symbol",
            "BTCUSDT",
            "--input",
            "/dev/zero",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("error: line 1:")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn an_overlong_line_is_skipped_and_the_next_lines_are_read() {
    let mut text = vec![b'x'; (16 << 20) + 10];
    text.push(b'\n');
    text.extend_from_slice(b"not json\n");
    text.extend_from_slice(diff(1, 2, &[("100.00", "1")], &[]).as_bytes());
    let input = temp("overlong.jsonl", &text);
    let snapshot = temp("overlong.snapshot.json", book_snapshot(1).as_bytes());
    let (code, _, err) = replay(
        &[
            "--venue",
            "binance-spot",
            "--symbol",
            "BTCUSDT",
            "--input",
            &input,
            "--snapshot",
            &snapshot,
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(4), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(
        errors[0].starts_with("error: line 1: ") && errors[0].contains("16777216"),
        "{err}"
    );
    assert!(errors[1].starts_with("error: line 2: "), "{err}");
}

#[test]
fn an_oversized_snapshot_is_a_usage_error() {
    let input = temp("big_snapshot.jsonl", diff(1, 2, &[], &[]).as_bytes());
    let (code, out, err) = replay(
        &[
            "--venue",
            "binance-spot",
            "--symbol",
            "BTCUSDT",
            "--input",
            &input,
            "--snapshot",
            "/dev/zero",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("/dev/zero") && err.contains("larger than"),
        "{err}"
    );
}

#[test]
fn a_snapshot_the_book_refuses_is_an_error_and_exit_3() {
    // 100.01 is off a 0.05 grid.
    let snapshot = snapshot_json(SPOT, 1, &[("100.01", "1")], &[("101.00", "1")]);
    let lines = [diff(2, 3, &[("100.00", "1")], &[])];
    let (code, _, err) = run("refused", Some(&snapshot), &lines, &["--tick-size", "0.05"]);
    assert_eq!(code, 3, "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:") && l.contains("snapshot"))
        .unwrap_or_else(|| panic!("no snapshot error: {err}"));
    assert!(line.contains("100.01") && line.contains("0.05"), "{line}");
}

#[test]
fn a_snapshot_ahead_of_every_diff_is_a_stale_book_exit_3() {
    let lines: Vec<String> = (0..5)
        .map(|i| diff(10 + 2 * i, 11 + 2 * i, &[("100.00", "3")], &[]))
        .collect();
    let (code, _, err) = run("ahead", Some(&book_snapshot(1_000_000)), &lines, &[]);
    assert_eq!(code, 3, "{err}");
    let stale = line_starting(&err, "stale:");
    assert!(
        stale.contains("1000000") && stale.contains("5 diffs"),
        "{stale}"
    );
}

#[test]
fn ids_that_run_ahead_freeze_the_book_exit_3() {
    let lines = vec![
        diff(2, 3, &[("100.00", "3")], &[]),
        // Chained, but its final id runs far ahead of the stream.
        diff(4, 9_000_000_000_000_000_000, &[("100.00", "4")], &[]),
        diff(5, 6, &[("100.00", "5")], &[]),
        diff(7, 8, &[("100.00", "6")], &[]),
    ];
    let (code, _, err) = run(
        "runahead",
        Some(&book_snapshot(2)),
        &lines,
        &["--dump-book"],
    );
    assert_eq!(code, 3, "{err}");
    // Once live, a spot stream never goes back: the first diff behind the
    // book is a gap (replay reports it and moves on), not a stale diff.
    let gap = line_starting(&err, "gap:");
    assert!(
        gap.contains("line 3") && gap.contains("9000000000000000001"),
        "{gap}"
    );
    assert!(!err.contains("stale:"), "{err}");
}

#[test]
fn a_crossed_book_is_reported_exit_3() {
    // From a diff: a bid at 101.50 crosses the ask at 101.00.
    let lines = vec![
        diff(2, 3, &[("100.00", "3")], &[]),
        diff(4, 5, &[("101.50", "1")], &[]),
    ];
    let (code, _, err) = run("crossed_diff", Some(&book_snapshot(2)), &lines, &[]);
    assert_eq!(code, 3, "{err}");
    let crossed = line_starting(&err, "crossed:");
    assert!(
        crossed.contains("line 2") && crossed.contains("101.5") && crossed.contains("101"),
        "{crossed}"
    );
    // From the snapshot itself.
    let snapshot = snapshot_json(SPOT, 2, &[("103.00", "1")], &[("101.00", "1")]);
    let lines = vec![diff(3, 4, &[("99.00", "1")], &[])];
    let (code, _, err) = run("crossed_snapshot", Some(&snapshot), &lines, &[]);
    assert_eq!(code, 3, "{err}");
    let crossed = line_starting(&err, "crossed:");
    // Replay keeps going on a crossed snapshot (it has no second one), so
    // the line names the snapshot and its best bid and ask.
    assert!(crossed.contains("snapshot"), "{crossed}");
    assert!(
        crossed.contains("best bid") && crossed.contains("103") && crossed.contains("101"),
        "{crossed}"
    );
}

#[test]
fn a_book_without_a_snapshot_is_partial_unless_allowed() {
    let lines = vec![
        diff(2, 3, &[("100.00", "3")], &[("101.00", "1")]),
        diff(4, 5, &[("100.50", "1")], &[]),
    ];
    let (code, _, err) = run("partial", None, &lines, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.lines().any(|l| l.starts_with("partial:")), "{err}");
    let (code, out, err) = run(
        "partial_allowed",
        None,
        &lines,
        &["--allow-partial", "--dump-book"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    assert_eq!(out, "B 100.5 1\nB 100 3\nA 101 1\n");
}

#[test]
fn capacity_truncation_is_reported_on_stderr() {
    let capacity = tickwire::book::DEFAULT_CAPACITY;
    let prices: Vec<String> = (0..capacity + 7)
        .map(|i| format!("{}.00", 100 + i))
        .collect();
    let asks: Vec<(&str, &str)> = prices.iter().map(|p| (p.as_str(), "1")).collect();
    let snapshot = snapshot_json(SPOT, 1, &[("99.00", "1")], &asks);
    let lines = vec![diff(2, 3, &[("98.00", "1")], &[])];
    let (code, _, err) = run("truncated", Some(&snapshot), &lines, &[]);
    assert_eq!(code, 0, "{err}");
    let line = line_starting(&err, "truncated:");
    assert!(line.contains(" 7 "), "{line}");
}

#[test]
fn negative_looking_sizes_reach_our_validation() {
    let lines = vec![diff(2, 3, &[("100.00", "3")], &[])];
    for (flag, value) in [("--tick-size", "-1"), ("--lot-size", "-0.5")] {
        let (code, out, err) = run("negative", Some(&book_snapshot(2)), &lines, &[flag, value]);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty());
        assert!(err.contains(flag) && err.contains(value), "{err}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
}
