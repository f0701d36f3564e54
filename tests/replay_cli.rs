//! The `tickwire replay` command on the fixture captures: exit codes, the
//! `--dump-book` text against the independent model (`util::model_replay`),
//! gap and error reports on stderr, usage errors and `--stats`.

mod util;

use std::path::PathBuf;
use std::process::{Command, Output};

use tickwire::types::Venue;
use util::{WIRE_SCALE, fixture_lines, fixtures_root, model_replay, read_fixture, venue_dir};

/// Runs the real binary with `args`.
fn tickwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(args)
        .output()
        .expect("the tickwire binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

fn fixture_path(rel: &str) -> String {
    fixtures_root().join(rel).to_string_lossy().into_owned()
}

/// A scratch file for this test binary.
fn temp_file(name: &str, contents: &[u8]) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("replay_cli_{name}"));
    std::fs::write(&path, contents).expect("writing a temp file");
    path.to_string_lossy().into_owned()
}

fn venue_arg(venue: Venue) -> &'static str {
    match venue {
        Venue::BinanceSpot => "binance-spot",
        _ => "binance-usdm",
    }
}

/// Asserts two dumps are equal, naming the first line that differs.
#[track_caller]
fn assert_same_dump(got: &str, want: &str, what: &str) {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    if let Some(i) = (0..g.len().max(w.len())).find(|&i| g.get(i) != w.get(i)) {
        panic!(
            "{what}: line {} differs: got {:?}, want {:?} ({} vs {} lines)",
            i + 1,
            g.get(i),
            w.get(i),
            g.len(),
            w.len()
        );
    }
    assert!(!want.is_empty(), "{what}: an empty book proves little");
}

const CAPTURES: [(Venue, &str); 8] = [
    (Venue::BinanceSpot, "NKNUSDT"),
    (Venue::BinanceSpot, "BLZETH"),
    (Venue::BinanceSpot, "LRCBTC"),
    (Venue::BinanceSpot, "RUNEEUR"),
    (Venue::BinanceUsdm, "SUSHIUSDT"),
    (Venue::BinanceUsdm, "AKROUSDT"),
    (Venue::BinanceUsdm, "KEEPUSDT"),
    (Venue::BinanceUsdm, "CTKUSDT"),
];

#[test]
fn dump_book_matches_the_model_for_every_capture() {
    for (venue, symbol) in CAPTURES {
        let dir = venue_dir(venue);
        let snapshot = format!("{dir}/rest_depth_snapshot_{symbol}.json");
        for input in [
            format!("{dir}/ws_depth_100ms_{symbol}.jsonl"),
            format!("{dir}/ws_combined_all_frames.jsonl"),
        ] {
            let out = tickwire(&[
                "replay",
                "--venue",
                venue_arg(venue),
                "--symbol",
                symbol,
                "--input",
                &fixture_path(&input),
                "--snapshot",
                &fixture_path(&snapshot),
                "--dump-book",
            ]);
            assert_eq!(code(&out), 0, "{input}: {}", stderr(&out));
            assert_eq!(stderr(&out), "", "{input}");
            let model = model_replay(
                venue,
                symbol,
                Some(&read_fixture(&snapshot)),
                &fixture_lines(&input),
                (WIRE_SCALE, WIRE_SCALE),
            );
            assert!(model.gaps.is_empty());
            assert_same_dump(
                &stdout(&out),
                &model.book.dump(WIRE_SCALE, WIRE_SCALE),
                &input,
            );
        }
    }
}

#[test]
fn dump_book_prints_exact_decimals_best_first() {
    let dir = venue_dir(Venue::BinanceSpot);
    let out = tickwire(&[
        "replay",
        "--venue",
        "binance-spot",
        "--symbol",
        "nknusdt",
        "--input",
        &fixture_path(&format!("{dir}/ws_depth_100ms_NKNUSDT.jsonl")),
        "--snapshot",
        &fixture_path(&format!("{dir}/rest_depth_snapshot_NKNUSDT.json")),
        "--dump-book",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // The snapshot's deepest bid, 0.00212000 x 117924.50000000, is never
    // touched by a diff: it is the last bid line, zeros trimmed.
    let last_bid = lines.iter().rposition(|l| l.starts_with("B ")).unwrap();
    assert_eq!(lines[last_bid], "B 0.00212 117924.5");
    // Bids descend then asks ascend; every line is `<tag> <price> <qty>`.
    let parse = |l: &str| -> (char, i128) {
        let mut parts = l.split(' ');
        let tag = parts.next().unwrap().chars().next().unwrap();
        let price = util::decimal_units(parts.next().unwrap(), 8).expect("exact decimal");
        let qty = util::decimal_units(parts.next().unwrap(), 8).expect("exact decimal");
        assert!(qty > 0 && parts.next().is_none(), "{l}");
        // Trailing fractional zeros (and a bare point) are trimmed.
        for number in l.split(' ').skip(1) {
            let trimmed = !number.contains('.') || !number.ends_with(['0', '.']);
            assert!(trimmed, "{l}");
        }
        (tag, price)
    };
    let parsed: Vec<(char, i128)> = lines.iter().map(|l| parse(l)).collect();
    let bids: Vec<i128> = parsed.iter().filter(|p| p.0 == 'B').map(|p| p.1).collect();
    let asks: Vec<i128> = parsed.iter().filter(|p| p.0 == 'A').map(|p| p.1).collect();
    assert_eq!(bids.len() + asks.len(), lines.len());
    assert!(bids.windows(2).all(|w| w[0] > w[1]));
    assert!(asks.windows(2).all(|w| w[0] < w[1]));
    assert!(bids[0] < asks[0], "not crossed");
    assert!(parsed.iter().position(|p| p.0 == 'A') == Some(bids.len()));
}

#[test]
fn a_coarser_instrument_scale_prints_the_same_book() {
    // SUSHIUSDT ticks at 0.001 with whole-number quantities.
    let dir = venue_dir(Venue::BinanceUsdm);
    let input = fixture_path(&format!("{dir}/ws_depth_100ms_SUSHIUSDT.jsonl"));
    let snapshot = fixture_path(&format!("{dir}/rest_depth_snapshot_SUSHIUSDT.json"));
    let base = [
        "replay",
        "--venue",
        "binance-usdm",
        "--symbol",
        "SUSHIUSDT",
        "--input",
        &input,
        "--snapshot",
        &snapshot,
        "--dump-book",
    ];
    let wire = tickwire(&base);
    let mut coarse_args = base.to_vec();
    coarse_args.extend(["--tick-size", "0.001", "--lot-size", "1"]);
    let coarse = tickwire(&coarse_args);
    assert_eq!((code(&wire), code(&coarse)), (0, 0), "{}", stderr(&coarse));
    assert_same_dump(&stdout(&coarse), &stdout(&wire), "tick 0.001");
    // Too coarse: the snapshot has prices at 0.001, so a 0.01 tick refuses it.
    let mut bad_args = base.to_vec();
    bad_args.extend(["--tick-size", "0.01"]);
    let bad = tickwire(&bad_args);
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("not a usable depth snapshot"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn replay_without_a_snapshot_matches_the_model() {
    for (venue, symbol) in [
        (Venue::BinanceSpot, "LRCBTC"),
        (Venue::BinanceUsdm, "KEEPUSDT"),
    ] {
        let input = format!("{}/ws_depth_100ms_{symbol}.jsonl", venue_dir(venue));
        let out = tickwire(&[
            "replay",
            "--venue",
            venue_arg(venue),
            "--symbol",
            symbol,
            "--input",
            &fixture_path(&input),
            "--dump-book",
            // Without it a book built from diffs alone is exit 3 (`partial:`).
            "--allow-partial",
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let model = model_replay(venue, symbol, None, &fixture_lines(&input), (8, 8));
        assert_same_dump(&stdout(&out), &model.book.dump(8, 8), &input);
    }
}

/// The capture with line `drop` (0-based) removed, as file text.
fn without_line(lines: &[Vec<u8>], drop: usize) -> Vec<Vec<u8>> {
    lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != drop)
        .map(|(_, l)| l.clone())
        .collect()
}

fn json_u64(line: &[u8], key: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(line).unwrap();
    v["data"][key].as_u64().unwrap()
}

#[test]
fn a_missing_line_is_a_gap_exit_3() {
    // (venue, symbol, line to drop)
    for (venue, symbol, drop) in [
        (Venue::BinanceSpot, "NKNUSDT", 60),
        (Venue::BinanceUsdm, "SUSHIUSDT", 100),
    ] {
        let dir = venue_dir(venue);
        let lines = without_line(
            &fixture_lines(&format!("{dir}/ws_depth_100ms_{symbol}.jsonl")),
            drop,
        );
        let path = temp_file(&format!("gap_{symbol}.jsonl"), &lines.join(&b'\n'));
        let snapshot = format!("{dir}/rest_depth_snapshot_{symbol}.json");
        let out = tickwire(&[
            "replay",
            "--venue",
            venue_arg(venue),
            "--symbol",
            symbol,
            "--input",
            &path,
            "--snapshot",
            &fixture_path(&snapshot),
            "--dump-book",
        ]);
        assert_eq!(code(&out), 3, "{symbol}: {}", stderr(&out));
        // The diff after the hole (file line drop + 1, 1-based) breaks the chain.
        let (before, after) = (&lines[drop - 1], &lines[drop]);
        let (expected, got) = match venue {
            Venue::BinanceSpot => (json_u64(before, "u") + 1, json_u64(after, "U")),
            _ => (json_u64(before, "u"), json_u64(after, "pu")),
        };
        let err = stderr(&out);
        let gaps: Vec<&str> = err.lines().filter(|l| l.starts_with("gap:")).collect();
        assert_eq!(
            gaps,
            vec![format!(
                "gap: line {}: expected update id {expected}, got {got}",
                drop + 1
            )],
            "{symbol}"
        );
        // Replay reports the gap and applies the diff anyway, as the model does.
        let model = model_replay(
            venue,
            symbol,
            Some(&read_fixture(&snapshot)),
            &lines,
            (8, 8),
        );
        assert_eq!(model.gaps, vec![drop]);
        assert_same_dump(&stdout(&out), &model.book.dump(8, 8), symbol);
    }
}

#[test]
fn malformed_lines_only_exit_4() {
    let lines = [
        "not json",
        "",
        r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[["0.1","x"]],"a":[]}"#,
        "{}",
        r#"{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate""#,
        "[]",
    ];
    let path = temp_file("malformed.jsonl", lines.join("\n").as_bytes());
    let out = tickwire(&[
        "replay",
        "--venue",
        "binance-spot",
        "--symbol",
        "NKNUSDT",
        "--input",
        &path,
    ]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let err = stderr(&out);
    // Physical line numbers, the blank line 2 skipped.
    for n in [1, 3, 4, 5, 6] {
        let prefix = format!("error: line {n}: ");
        assert!(
            err.lines().any(|l| l.starts_with(&prefix)),
            "no {prefix:?} in {err}"
        );
    }
    assert!(
        !err.lines().any(|l| l.starts_with("error: line 2:")),
        "{err}"
    );
    assert!(err.contains("line 3: binance-spot: bad number"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("gap:")));
}

#[test]
fn a_gap_outranks_malformed_lines() {
    let dir = venue_dir(Venue::BinanceSpot);
    let mut lines = without_line(
        &fixture_lines(&format!("{dir}/ws_depth_100ms_BLZETH.jsonl")),
        5,
    );
    lines.insert(2, b"{\"oops\":".to_vec());
    let path = temp_file("gap_and_malformed.jsonl", &lines.join(&b'\n'));
    let out = tickwire(&[
        "replay",
        "--venue",
        "binance-spot",
        "--symbol",
        "BLZETH",
        "--input",
        &path,
        "--snapshot",
        &fixture_path(&format!("{dir}/rest_depth_snapshot_BLZETH.json")),
    ]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l.starts_with("error: line 3:")),
        "{err}"
    );
    // Original line 6 is gone and one line was inserted before it, so
    // original line 7, the first after the hole, is still file line 7.
    assert!(err.lines().any(|l| l.starts_with("gap: line 7:")), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    let input = fixture_path("binance/ws_depth_100ms_NKNUSDT.jsonl");
    let snapshot = fixture_path("binance/rest_depth_snapshot_NKNUSDT.json");
    let missing = fixture_path("binance/no_such_file.jsonl");
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["replay"],
        vec!["replay", "--venue", "binance-spot", "--symbol", "NKNUSDT"],
        vec![
            "replay", "--venue", "deribit", "--symbol", "NKNUSDT", "--input", &input,
        ],
        vec!["replay", "--venue", "binance-spot", "--input", &input],
        vec!["frobnicate"],
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "NKNUSDT",
            "--input",
            &input,
            "--bogus",
        ],
        // Unreadable files and a bad instrument spec are usage errors too.
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "NKNUSDT",
            "--input",
            &missing,
        ],
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "NKNUSDT",
            "--input",
            &input,
            "--snapshot",
            &missing,
        ],
        // A diff frame is not a snapshot.
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "NKNUSDT",
            "--input",
            &input,
            "--snapshot",
            &input,
        ],
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "NKNUSDT",
            "--input",
            &input,
            "--snapshot",
            &snapshot,
            "--tick-size",
            "0",
        ],
        vec![
            "replay",
            "--venue",
            "binance-spot",
            "--symbol",
            "THIS_SYMBOL_IS_FAR_TOO_LONG",
            "--input",
            &input,
        ],
    ];
    for args in cases {
        let out = tickwire(&args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?}: says why");
    }
}

#[test]
fn stats_go_to_stderr() {
    let dir = venue_dir(Venue::BinanceSpot);
    let input = format!("{dir}/ws_combined_all_frames.jsonl");
    let out = tickwire(&[
        "replay",
        "--venue",
        "binance-spot",
        "--symbol",
        "NKNUSDT",
        "--input",
        &fixture_path(&input),
        "--snapshot",
        &fixture_path(&format!("{dir}/rest_depth_snapshot_NKNUSDT.json")),
        "--stats",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stats only, no book");
    let err = stderr(&out);
    let field = |name: &str| -> String {
        let prefix = format!("{name}: ");
        err.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} line in {err}"))
            .to_owned()
    };
    assert_eq!(field("frames"), fixture_lines(&input).len().to_string());
    assert!(
        field("seconds").parse::<f64>().is_ok_and(|s| s > 0.0),
        "{err}"
    );
    assert!(
        field("frames_per_sec").parse::<u64>().is_ok_and(|f| f > 0),
        "{err}"
    );
    let latency = field("decode_apply_ns");
    for part in ["p50=", "p99=", "p99.9=", "max="] {
        assert!(latency.contains(part), "{latency}");
    }
    assert_eq!(
        field("sync"),
        "applied=149 stale=1 gaps=0 snapshots=1 truncated=0"
    );
}
