//! `tickwire demo --record DIR --json`: the demo records what its engine
//! receives, replays the recording when it stops, and reports that every
//! book it could compare is identical to the one its consumer built live;
//! the files are there and readable.

use std::time::Duration;

mod util;

use util::process::{run_bounded, tickwire};

#[test]
fn the_demo_recording_replays_to_the_live_books() {
    let dir = std::env::temp_dir().join(format!("tickwire-demo-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = tickwire();
    cmd.args([
        "demo",
        "--seconds",
        "3",
        "--rate",
        "5000",
        "--json",
        "--record",
    ]);
    cmd.arg(&dir);
    let (code, out, err) = run_bounded(cmd, Duration::from_secs(120));
    assert_eq!(code, Some(0), "stderr: {err}");
    let line = out
        .lines()
        .find(|l| !l.trim().is_empty())
        .expect("a report");
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
    let r = &v["recording"];
    assert!(r["records"].as_u64().unwrap_or(0) > 1000, "{r}");
    assert_eq!(r["lost"], 0, "{r}");
    assert_eq!(r["truncated_files"], 0, "{r}");
    assert!(r.get("error").is_none(), "{r}");
    let compared = r["books_compared"].as_u64().expect("books_compared");
    // The default demo: three Binance spot books, synced within a second.
    assert_eq!(
        compared + r["books_skipped"].as_u64().unwrap_or(9),
        3,
        "{r}"
    );
    assert!(compared >= 1, "{r}");
    assert_eq!(r["books_identical"].as_u64(), Some(compared), "{r}");
    assert_eq!(r["differ"], serde_json::json!([]), "{r}");
    let files: Vec<_> = std::fs::read_dir(dir.join("binance-spot"))
        .expect("the venue's folder")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    assert_eq!(files.len() as u64, r["files"].as_u64().unwrap_or(0), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}
