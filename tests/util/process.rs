//! Running the `tickwire` binary from a test: every child is waited for
//! with a hard deadline (killed past it) and its pipes are drained on their
//! own threads, so a chatty child never blocks and no test hangs.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A `Command` for the built `tickwire` binary.
pub(crate) fn tickwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickwire"))
}

/// Reads a pipe to the end on its own thread.
pub(crate) fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for the child until `limit`, killing it then; `None` when killed.
pub(crate) fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        // A polling interval; the child's exit or the deadline ends it.
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `cmd` with no standard input and both outputs piped.
pub(crate) fn spawn_piped(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tickwire")
}

/// Runs a command to the end with a hard deadline and no standard input:
/// (status, stdout, stderr); the status is `None` when it had to be killed.
pub(crate) fn run_bounded(mut cmd: Command, limit: Duration) -> (Option<i32>, String, String) {
    let mut child = spawn_piped(&mut cmd);
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let code = wait_bounded(&mut child, limit);
    (
        code,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}
