//! The recording writer: a thread off the feed thread that drains the
//! [`RecordDrain`], writes each record as a JSON line into its venue's
//! zstd-compressed file, rotates files by UTC period and size
//! ([`RotatePolicy`]), and ends the zstd frame of every file with new data
//! at least once a second, so a killed process leaves every record up to
//! the last second readable (a file is a sequence of complete zstd frames,
//! which `zstdcat` reads as one stream).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::format::{Kind, RecordRef, encode_line};
use super::rotate::{Placement, RotatePolicy, Rotation};
use super::tap::{NO_INSTRUMENT, RecordDrain, TapHeader, TapStats};
use crate::types::{Nanos, Venue};

/// How the writer lays out files.
#[derive(Clone, Debug)]
pub struct WriterConfig {
    /// The output folder (one sub-folder per venue).
    pub dir: PathBuf,
    /// The period one file covers.
    pub rotation: Rotation,
    /// Size limit of one file in bytes (0: none). Checked per record
    /// against the compressed bytes written so far (a file may pass the
    /// limit by the last second's frame).
    pub max_file_bytes: u64,
    /// How often every file's zstd frame is ended (1 s at most).
    pub flush_every: Duration,
    /// zstd level.
    pub level: i32,
    /// Added to the engine's clock to get ns since the UNIX epoch.
    pub mono_offset_ns: Nanos,
    /// The `start` record of each venue's files (the engine writes them:
    /// `engine::recording::recording_header`).
    pub headers: Vec<(Venue, String)>,
    /// Symbols by instrument index (names REST bodies).
    pub symbols: Vec<String>,
}

/// What the writer did.
#[derive(Clone, Debug, Default)]
pub struct WriterReport {
    /// Records written.
    pub records: u64,
    /// Raw bytes of the JSON lines.
    pub raw_bytes: u64,
    /// Compressed bytes written.
    pub compressed_bytes: u64,
    /// Files opened, in order.
    pub files: Vec<PathBuf>,
    /// The hand-over's counters (records lost, overflowed).
    pub tap: TapStats,
    /// The first I/O error, if any (the writer stops at it).
    pub error: Option<String>,
}

/// Counts the bytes that reach the file.
#[derive(Debug)]
struct Counting {
    inner: BufWriter<File>,
    written: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One venue's open file.
struct VenueFile {
    venue: Venue,
    policy: RotatePolicy,
    enc: Option<zstd::stream::write::Encoder<'static, Counting>>,
    /// Bytes written into the current frame since it was ended.
    pending: u64,
}

impl std::fmt::Debug for VenueFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VenueFile")
            .field("venue", &self.venue)
            .field("pending", &self.pending)
            .finish()
    }
}

/// The writer's state (run it with [`Writer::spawn`], or drive it by hand
/// with [`Writer::pump`] and [`Writer::finish`]).
#[derive(Debug)]
pub struct Writer {
    cfg: WriterConfig,
    drain: RecordDrain,
    files: Vec<VenueFile>,
    line: Vec<u8>,
    data: Vec<u8>,
    report: WriterReport,
    last_flush: Instant,
}

impl Writer {
    /// A writer of `drain`'s records.
    pub fn new(cfg: WriterConfig, drain: RecordDrain) -> Writer {
        Writer {
            cfg,
            drain,
            files: Vec::new(),
            line: Vec::with_capacity(64 << 10),
            data: Vec::with_capacity(64 << 10),
            report: WriterReport::default(),
            last_flush: Instant::now(),
        }
    }

    /// Runs the writer on its own thread until the tap is dropped (the
    /// engine stopped) and everything is written.
    pub fn spawn(mut self) -> std::io::Result<std::thread::JoinHandle<WriterReport>> {
        std::thread::Builder::new()
            .name("tickwire-record".into())
            .spawn(move || {
                while self.report.error.is_none() {
                    let n = self.pump();
                    if n == 0 {
                        if self.drain.is_finished() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                self.finish()
            })
    }

    /// Writes what is waiting (at most 4096 records); ends the frames when
    /// `flush_every` has passed. Returns the records written.
    pub fn pump(&mut self) -> usize {
        let mut n = 0;
        while n < 4096 && self.report.error.is_none() {
            let mut data = std::mem::take(&mut self.data);
            let Some(h) = self.drain.pop(&mut data) else {
                self.data = data;
                break;
            };
            if let Err(e) = self.write(&h, &data) {
                self.report.error = Some(e.to_string());
            }
            self.data = data;
            n += 1;
        }
        if self.last_flush.elapsed() >= self.cfg.flush_every {
            self.last_flush = Instant::now();
            if let Err(e) = self.end_frames() {
                self.report.error = Some(e.to_string());
            }
        }
        n
    }

    /// Ends every file and returns the report.
    pub fn finish(mut self) -> WriterReport {
        for f in &mut self.files {
            if let Some(enc) = f.enc.take() {
                match enc.finish().and_then(|mut c| c.flush().map(|()| c)) {
                    Ok(c) => self.report.compressed_bytes += c.written,
                    Err(e) => self.report.error = Some(e.to_string()),
                }
            }
        }
        self.report.tap = self.drain.stats();
        self.report
    }

    fn write(&mut self, h: &TapHeader, data: &[u8]) -> std::io::Result<()> {
        let wall = h.recv_ns.saturating_add(self.cfg.mono_offset_ns);
        let fi = match self.files.iter().position(|f| f.venue == h.venue) {
            Some(i) => i,
            None => {
                self.files.push(VenueFile {
                    venue: h.venue,
                    policy: RotatePolicy::new(self.cfg.rotation, self.cfg.max_file_bytes),
                    enc: None,
                    pending: 0,
                });
                self.files.len() - 1
            }
        };
        let written = self.files[fi]
            .enc
            .as_ref()
            .map_or(0, |e| e.get_ref().written);
        if let Placement::Open(key) = self.files[fi].policy.place(wall, written) {
            self.open(fi, &key.file_name(), wall)?;
        }
        let symbol = (h.kind == Kind::Rest && h.instrument != NO_INSTRUMENT)
            .then(|| self.cfg.symbols.get(h.instrument as usize))
            .flatten()
            .map(String::as_str);
        self.line.clear();
        encode_line(
            &RecordRef {
                recv_ns: wall,
                venue: h.venue,
                conn: h.conn,
                kind: h.kind,
                symbol,
                data,
            },
            &mut self.line,
        );
        let f = &mut self.files[fi];
        if let Some(enc) = f.enc.as_mut() {
            enc.write_all(&self.line)?;
        }
        f.pending += self.line.len() as u64;
        self.report.records += 1;
        self.report.raw_bytes += self.line.len() as u64;
        Ok(())
    }

    /// Closes `fi`'s current file and opens `name`, starting it with the
    /// venue's `start` record.
    fn open(&mut self, fi: usize, name: &str, wall: Nanos) -> std::io::Result<()> {
        let venue = self.files[fi].venue;
        if let Some(enc) = self.files[fi].enc.take() {
            let mut c = enc.finish()?;
            c.flush()?;
            self.report.compressed_bytes += c.written;
        }
        let dir = self.cfg.dir.join(venue.name());
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        let file = File::create(&path)?;
        let counting = Counting {
            inner: BufWriter::with_capacity(1 << 20, file),
            written: 0,
        };
        let mut enc = zstd::stream::write::Encoder::new(counting, self.cfg.level)?;
        if let Some((_, header)) = self.cfg.headers.iter().find(|(v, _)| *v == venue) {
            self.line.clear();
            encode_line(
                &RecordRef {
                    recv_ns: wall,
                    venue,
                    conn: u32::MAX,
                    kind: Kind::Status,
                    symbol: None,
                    data: header.as_bytes(),
                },
                &mut self.line,
            );
            enc.write_all(&self.line)?;
        }
        self.files[fi].enc = Some(enc);
        self.files[fi].pending = 1;
        self.report.files.push(path);
        Ok(())
    }

    /// Ends the zstd frame of every file written to since the last end
    /// (and pushes it to the file): everything written so far is readable
    /// whatever happens next. [`pump`](Self::pump) does it every
    /// `flush_every`.
    pub fn end_frames(&mut self) -> std::io::Result<()> {
        for f in &mut self.files {
            if f.pending == 0 {
                continue;
            }
            if let Some(enc) = f.enc.take() {
                let mut c = enc.finish()?;
                c.flush()?;
                f.enc = Some(zstd::stream::write::Encoder::new(c, self.cfg.level)?);
            }
            f.pending = 0;
        }
        Ok(())
    }
}

/// The files of a recording: `path` itself, or every `*.jsonl.zst` under
/// it (the venue folders, or one venue's folder), in name order (time
/// order within a venue), optionally of one venue only.
pub fn recording_files(path: &Path, venue: Option<Venue>) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_owned()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(".jsonl.zst") {
                out.push(p);
            }
        }
    }
    if let Some(v) = venue {
        out.retain(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .is_some_and(|n| n == v.name())
        });
    }
    out.sort_by(|a, b| (a.parent(), a.file_name()).cmp(&(b.parent(), b.file_name())));
    Ok(out)
}
