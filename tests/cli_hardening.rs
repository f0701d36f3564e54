//! The `tickwire` binary under hostile use: closed and full standard output,
//! out-of-range flags, signals, and flag names in errors (issue 9, items 2,
//! 5, 15 and 16). Every wait is bounded by a deadline.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod util;

use tickwire::sim::{SimConfig, SimVenue};
use tickwire::types::Venue;
use util::process::{drain, run_bounded, spawn_piped, tickwire, wait_bounded};

/// Stdout lines, delivered through a channel so a test can wait with a deadline.
fn line_channel(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A TOML configuration for `run` against a simulated venue (plain ws/http).
fn sim_config(sim: &SimVenue, name: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli_hardening_{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[[venue]]\nname = \"binance-spot\"\nsymbols = [\"BTCUSDT\"]\nws_url = \"{}\"\nrest_url = \"{}\"\n",
            sim.ws_url(),
            sim.rest_url()
        ),
    )
    .expect("write config");
    path
}

fn sim() -> SimVenue {
    let mut cfg = SimConfig::new(Venue::BinanceSpot, &["BTCUSDT"]);
    cfg.rate = 2_000;
    SimVenue::start(cfg).expect("sim")
}

/// Spawns `cmd` with stdout piped, reads its first line, closes the read
/// end, and returns (status, stderr).
fn close_after_first_line(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = spawn_piped(&mut cmd);
    let err = drain(child.stderr.take().expect("stderr"));
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    let n = out.read_line(&mut first).expect("read the first line");
    assert!(n > 0, "no first line");
    drop(out);
    let code = wait_bounded(&mut child, Duration::from_secs(30));
    (code, err.join().unwrap_or_default())
}

#[test]
fn demo_into_a_closed_pipe_ends_quietly_with_status_0() {
    let mut cmd = tickwire();
    cmd.args(["demo", "--seconds", "15", "--rate", "2000"]);
    let started = Instant::now();
    let (code, err) = close_after_first_line(cmd);
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "stops when the reader is gone"
    );
}

#[test]
fn run_into_a_closed_pipe_ends_quietly_with_status_0() {
    let sim = sim();
    let config = sim_config(&sim, "pipe");
    let mut cmd = tickwire();
    cmd.arg("run").arg("--config").arg(&config);
    cmd.args(["--seconds", "15"]);
    let (code, err) = close_after_first_line(cmd);
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn run_into_a_full_device_is_one_error_line_and_status_1() {
    let sim = sim();
    let config = sim_config(&sim, "full");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut child = tickwire()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .args(["--seconds", "15"])
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = drain(child.stderr.take().expect("stderr"));
    let code = wait_bounded(&mut child, Duration::from_secs(30));
    let err = err.join().unwrap_or_default();
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("standard output"), "{err}");
}

#[test]
fn impossible_rates_and_durations_are_clap_errors_naming_the_flag() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["demo", "--seconds", "1", "--rate", "4000000000"],
            "--rate",
        ),
        (&["demo", "--seconds", "1", "--rate", "2000001"], "--rate"),
        (&["demo", "--seconds", "1", "--rate", "0"], "--rate"),
        (&["demo", "--seconds", "99999999999999"], "--seconds"),
        (
            &["sim", "--seconds", "1", "--rate", "18446744073709551615"],
            "--rate",
        ),
        (&["sim", "--seconds", "1", "--rate", "0"], "--rate"),
        (&["sim", "--seconds", "99999999999999"], "--seconds"),
        (&["sim", "--seconds", "1", "--port", "70000"], "--port"),
    ];
    for (args, flag) in cases {
        let mut cmd = tickwire();
        cmd.args(args);
        let (code, out, err) = run_bounded(cmd, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn sim_refuses_impossible_stdin_numbers_and_keeps_running() {
    let mut child = tickwire()
        .args(["sim", "--symbols", "BTCUSDT", "--seconds", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sim");
    let err = drain(child.stderr.take().expect("stderr"));
    let lines = line_channel(child.stdout.take().expect("stdout"));
    let mut stdin = child.stdin.take().expect("stdin");
    let commands = [
        "rate 18446744073709551615",
        "rate 4000000000",
        "stall 18446744073709551615",
        "slow 0 1000",
        "slow 2 18446744073709551615",
        "refuse 4294967296",
        "ratelimit 99999999999",
        "book BTCUSDT",
    ];
    for c in commands {
        writeln!(stdin, "{c}").expect("write a command");
    }
    stdin.flush().expect("flush");
    // The sim must still answer `book` (the market thread is not spinning).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answered = false;
    while Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(l) if l.starts_with("BTCUSDT:") => {
                answered = true;
                break;
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    writeln!(stdin, "quit").expect("quit");
    drop(stdin);
    let code = wait_bounded(&mut child, Duration::from_secs(20));
    let err = err.join().unwrap_or_default();
    assert!(answered, "no answer to `book`: {err}");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 7, "one error per bad command: {err}");
    for (e, word) in errors.iter().zip([
        "rate",
        "rate",
        "stall",
        "slow",
        "slow",
        "refuse",
        "ratelimit",
    ]) {
        assert!(e.contains(word), "{e}");
    }
}

/// Spawns `args`, waits for `ready` lines on stdout, sends `signals` with
/// the `kill` command, and returns (status, stdout, stderr).
fn signalled(args: &[&str], signals: &[&str]) -> (Option<i32>, String, String) {
    let mut child = spawn_piped(tickwire().args(args));
    let err = drain(child.stderr.take().expect("stderr"));
    let lines = line_channel(child.stdout.take().expect("stdout"));
    // Running: the first stdout line (demo's banner, run's live view, a tap event).
    let first = lines
        .recv_timeout(Duration::from_secs(20))
        .expect("a first line");
    let pid = child.id().to_string();
    for sig in signals {
        let status = Command::new("kill")
            .args([*sig, pid.as_str()])
            .status()
            .expect("kill");
        assert!(status.success());
    }
    let started = Instant::now();
    let code = wait_bounded(&mut child, Duration::from_secs(20));
    let mut out = vec![first];
    while let Ok(l) = lines.recv_timeout(Duration::from_millis(500)) {
        out.push(l);
        if out.len() > 1_000_000 {
            break;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stops promptly"
    );
    (code, out.join("\n"), err.join().unwrap_or_default())
}

#[test]
fn sigint_stops_demo_with_its_report_and_status_0() {
    let (code, out, err) = signalled(&["demo", "--seconds", "60", "--rate", "2000"], &["-INT"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("report after"), "{out}");
}

#[test]
fn sigterm_stops_run_with_its_report_and_status_0() {
    let sim = sim();
    let config = sim_config(&sim, "sigterm");
    let config = config.to_string_lossy().into_owned();
    let (code, out, err) = signalled(&["run", "--config", &config], &["-TERM"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("report after"), "{out}");
}

#[test]
fn sigterm_stops_tap_with_status_0() {
    let sim = sim();
    let (code, _out, err) = signalled(
        &[
            "tap",
            "--venue",
            "binance-spot",
            "--symbols",
            "BTCUSDT",
            "--ws-url",
            &sim.ws_url(),
            "--rest-url",
            &sim.rest_url(),
        ],
        &["-TERM"],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_second_signal_forces_the_exit() {
    // Stopped, the process cannot begin its orderly stop before both
    // signals are pending; resumed, it receives both.
    let (code, _out, err) = signalled(
        &["demo", "--seconds", "60", "--rate", "2000"],
        &["-STOP", "-INT", "-TERM", "-CONT"],
    );
    assert!(matches!(code, Some(130 | 143)), "{code:?}: {err}");
}

#[test]
fn flag_errors_name_the_flag_not_the_config_key() {
    let cases: [(&[&str], &str); 3] = [
        (&["--ws-url", "bad"], "--ws-url"),
        (&["--rest-url", "ftp://x"], "--rest-url"),
        (&["--ca-file", "/nonexistent/ca.pem"], "--ca-file"),
    ];
    for (extra, flag) in cases {
        let mut cmd = tickwire();
        cmd.args([
            "tap",
            "--venue",
            "binance-spot",
            "--symbols",
            "BTCUSDT",
            "--seconds",
            "1",
        ])
        .args(extra);
        let (code, _, err) = run_bounded(cmd, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains(flag), "{extra:?}: {err}");
        assert!(!err.contains("venue[0]"), "{extra:?}: {err}");
    }
    let mut cmd = tickwire();
    cmd.args([
        "tap",
        "--venue",
        "binance-spot",
        "--symbols",
        "",
        "--seconds",
        "1",
    ]);
    let (code, _, err) = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--symbols"), "{err}");
    // `demo` checks its symbols before its simulator starts: a symbol that
    // would be injected into a stream URL, or more than a venue may have.
    let many: Vec<String> = (0..5_000).map(|i| format!("S{i}")).collect();
    for symbols in [
        "BTC/USDT".to_owned(),
        "BTCUSDT@trade".to_owned(),
        many.join(","),
    ] {
        let mut cmd = tickwire();
        cmd.args(["demo", "--seconds", "1", "--symbols", &symbols]);
        let (code, _, err) = run_bounded(cmd, Duration::from_secs(20));
        assert_eq!(code, Some(2), "{err}");
        assert!(err.starts_with("error: --symbols: "), "{err}");
    }
}
