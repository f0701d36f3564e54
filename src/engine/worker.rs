//! The blocking helper thread: DNS lookups and REST snapshot requests, so
//! the feed thread never blocks. Jobs and results travel through two SPSC
//! rings; the feed thread unparks the helper after pushing, the helper wakes
//! the feed thread's poller after answering.
//!
//! Jobs carry indices into tables built at start-up (URLs, hosts), so the
//! feed thread allocates nothing to ask. The helper allocates the response
//! body; the feed thread frees it after decoding (per snapshot, not per
//! message).
//!
//! Stopping never waits on the network. A blocking request (a snapshot
//! dribbled in byte by byte, a DNS lookup that hangs) cannot be interrupted
//! from outside, so [`Worker::shutdown`] raises the stop flag, gives the
//! helper [`STOP_GRACE`] to return, and otherwise detaches it. A detached
//! helper owns nothing the engine still uses (its tables, the ring ends and
//! a waker whose poller is gone); it runs no further job, and ends as soon
//! as its request does, which the agent's timeout bounds (a DNS lookup: the
//! system resolver's). So a stop takes at most the grace, and a lingering
//! thread lives at most one request timeout longer. (Making the request
//! abortable would need ureq's unversioned transport API; not worth it.)

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::types::{InstrumentId, SnapshotFailReason};

/// How long [`Worker::shutdown`] waits for the helper before detaching it.
pub(crate) const STOP_GRACE: Duration = Duration::from_millis(100);

/// What the feed thread asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Job {
    /// GET the snapshot URL of an instrument with its venue's agent.
    Snapshot {
        instrument: InstrumentId,
        venue: usize,
    },
    /// Resolve the host of a connection.
    Resolve { conn: usize },
}

/// Why a snapshot request failed.
#[derive(Debug)]
pub(crate) struct FetchError {
    /// The class of failure (`Transport`, `Http` or `RateLimited`).
    pub(crate) reason: SnapshotFailReason,
    /// HTTP status, when there was a response.
    pub(crate) status: Option<u16>,
    /// `Retry-After` (429 / 418).
    pub(crate) retry_after: Option<Duration>,
    /// Human-readable reason.
    pub(crate) message: String,
}

/// What the helper answers.
#[derive(Debug)]
pub(crate) enum Done {
    /// A snapshot body, or why there is none.
    Snapshot {
        instrument: InstrumentId,
        result: Result<Vec<u8>, FetchError>,
    },
    /// The first address of a connection's host.
    Resolved {
        conn: usize,
        result: Result<SocketAddr, String>,
    },
}

/// Tables the helper reads (built once at start-up).
#[derive(Debug)]
pub(crate) struct WorkerTables {
    /// Snapshot URL per instrument.
    pub(crate) snapshot_urls: Vec<String>,
    /// (host, port) per connection.
    pub(crate) hosts: Vec<(String, u16)>,
    /// One HTTP agent per venue (its TLS trust).
    pub(crate) agents: Vec<ureq::Agent>,
}

/// The feed thread's side.
#[derive(Debug)]
pub(crate) struct Worker {
    jobs: rtrb::Producer<Job>,
    done: rtrb::Consumer<Done>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Disconnected once the helper thread has returned (or unwound): its
    /// sender lives on the helper's stack.
    exited: mpsc::Receiver<()>,
}

impl Worker {
    /// Starts the helper thread; `wake` is called after each answer.
    pub(crate) fn spawn(tables: WorkerTables, wake: Arc<mio::Waker>) -> std::io::Result<Worker> {
        let (jobs, mut job_rx) = rtrb::RingBuffer::new(4096);
        let (mut done_tx, done) = rtrb::RingBuffer::new(4096);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let (exit_tx, exited) = mpsc::sync_channel::<()>(0);
        let thread = std::thread::Builder::new()
            .name("tickwire-rest".into())
            .spawn(move || {
                let _exit = exit_tx;
                while !stop_flag.load(Ordering::Relaxed) {
                    let Ok(job) = job_rx.pop() else {
                        std::thread::park_timeout(Duration::from_millis(50));
                        continue;
                    };
                    if stop_flag.load(Ordering::Relaxed) {
                        break;
                    }
                    let answer = run(&tables, job);
                    // The feed thread drains answers every turn; it cannot fall 4096 behind.
                    let _ = done_tx.push(answer);
                    let _ = wake.wake();
                }
            })?;
        Ok(Worker {
            jobs,
            done,
            thread: Some(thread),
            stop,
            exited,
        })
    }

    /// Queues a job; `false` when the queue is full (try again later).
    pub(crate) fn submit(&mut self, job: Job) -> bool {
        let ok = self.jobs.push(job).is_ok();
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        ok
    }

    /// The next answer, if any.
    pub(crate) fn poll(&mut self) -> Option<Done> {
        self.done.pop().ok()
    }

    /// Stops the helper: joins it when it returns within [`STOP_GRACE`],
    /// else detaches it (see the module doc). Returns within the grace.
    pub(crate) fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let Some(t) = self.thread.take() else { return };
        t.thread().unpark();
        match self.exited.recv_timeout(STOP_GRACE) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let _ = t.join();
            }
            Err(RecvTimeoutError::Timeout) => {
                tracing::info!(
                    grace_ms = STOP_GRACE.as_millis() as u64,
                    "helper thread still in a request: detached, it ends with the request"
                );
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(tables: &WorkerTables, job: Job) -> Done {
    match job {
        Job::Resolve { conn } => {
            let result = match tables.hosts.get(conn) {
                None => Err("unknown connection".to_owned()),
                Some((host, port)) => match (host.as_str(), *port).to_socket_addrs() {
                    // Prefer IPv4: loopback tests and most venues' edges.
                    Ok(addrs) => {
                        let all: Vec<SocketAddr> = addrs.collect();
                        all.iter()
                            .find(|a| a.is_ipv4())
                            .or(all.first())
                            .copied()
                            .ok_or_else(|| format!("{host}: no address"))
                    }
                    Err(e) => Err(format!("{host}: {e}")),
                },
            };
            Done::Resolved { conn, result }
        }
        Job::Snapshot { instrument, venue } => {
            let result = match (
                tables.snapshot_urls.get(instrument.index()),
                tables.agents.get(venue),
            ) {
                (Some(url), Some(agent)) => fetch(agent, url),
                _ => Err(FetchError {
                    reason: SnapshotFailReason::Transport,
                    status: None,
                    retry_after: None,
                    message: "unknown instrument".to_owned(),
                }),
            };
            Done::Snapshot { instrument, result }
        }
    }
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, FetchError> {
    let fail = |reason, status, retry_after, message| FetchError {
        reason,
        status,
        retry_after,
        message,
    };
    let mut response = agent.get(url).call().map_err(|e| {
        fail(
            SnapshotFailReason::Transport,
            None,
            None,
            format!("GET {url}: {e}"),
        )
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| {
            fail(
                SnapshotFailReason::Transport,
                Some(status),
                retry_after,
                format!("GET {url}: reading the body: {e}"),
            )
        })?;
    if status == 200 {
        return Ok(body);
    }
    let reason = match status {
        429 | 418 => SnapshotFailReason::RateLimited,
        _ => SnapshotFailReason::Http,
    };
    let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(fail(
        reason,
        Some(status),
        retry_after,
        format!("GET {url}: HTTP {status}: {snippet}"),
    ))
}

/// An HTTP agent trusting the webpki roots, plus `extra` CAs when given.
///
/// Redirects are refused: a snapshot URL is an API endpoint, and a 3xx
/// answer comes back as an HTTP failure with its status (`SnapshotFailed`,
/// reason `Http`, `b` = the 3xx code) instead of being followed, so a
/// redirect loop costs one request per retry, not ten.
pub(crate) fn agent(
    extra: Option<&[rustls::pki_types::CertificateDer<'static>]>,
    timeout: Duration,
) -> ureq::Agent {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(extra) = extra {
        // ureq takes certificates, not trust anchors: the Mozilla roots as
        // certificates plus the extra ones.
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .chain(
                extra
                    .iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()),
            );
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(
            &roots.collect::<Vec<_>>(),
        ));
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}
