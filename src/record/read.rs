//! Reading recordings back: the records of a file (or of every file of a
//! folder, in order) decoded line by line from the zstd stream. A file cut
//! off mid-way (the process was killed) yields every complete line before
//! the cut and then reports that it was cut ([`Records::truncated`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::format::Kind;
use crate::types::{Nanos, Venue};

/// One record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Receive time, ns since the UNIX epoch.
    pub recv_ns: Nanos,
    /// The venue.
    pub venue: Venue,
    /// The engine's connection index (`u32::MAX` for a file's `start` record).
    pub conn: u32,
    /// What it is.
    pub kind: Kind,
    /// The instrument of a REST body.
    pub symbol: Option<String>,
    /// The raw text.
    pub data: String,
}

#[derive(serde::Deserialize)]
struct Wire {
    recv_ns: u64,
    venue: String,
    conn: u64,
    kind: String,
    #[serde(default)]
    symbol: Option<String>,
    data: String,
}

/// Why a line is not a record.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading or decompressing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The line is not JSON of the record format.
    #[error("line {line}: {message}")]
    Format {
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Parses one line of the format.
pub fn parse_line(line: &[u8]) -> Result<Record, String> {
    let w: Wire = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok(Record {
        recv_ns: w.recv_ns,
        venue: Venue::from_name(&w.venue).ok_or_else(|| format!("unknown venue {:?}", w.venue))?,
        conn: u32::try_from(w.conn).map_err(|_| "conn out of range".to_owned())?,
        kind: Kind::parse(&w.kind).ok_or_else(|| format!("unknown kind {:?}", w.kind))?,
        symbol: w.symbol,
        data: w.data,
    })
}

/// The records of a list of files, in order.
pub struct Records {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<BufReader<Decoder>>,
    line: Vec<u8>,
    line_no: u64,
    truncated: Vec<PathBuf>,
    path: PathBuf,
}

type Decoder = zstd::stream::read::Decoder<'static, BufReader<std::fs::File>>;

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("path", &self.path)
            .field("line_no", &self.line_no)
            .field("truncated", &self.truncated)
            .finish()
    }
}

impl Records {
    /// The records of `files`, one after the other.
    pub fn new(files: Vec<PathBuf>) -> Records {
        Records {
            files: files.into_iter(),
            current: None,
            line: Vec::with_capacity(64 << 10),
            line_no: 0,
            truncated: Vec::new(),
            path: PathBuf::new(),
        }
    }

    /// The records of one file.
    pub fn of_file(path: &Path) -> Records {
        Records::new(vec![path.to_owned()])
    }

    /// Files that ended mid-way (a cut-off zstd frame or an unfinished line):
    /// every complete record before the cut was read.
    pub fn truncated(&self) -> &[PathBuf] {
        &self.truncated
    }

    fn open_next(&mut self) -> Option<Result<(), ReadError>> {
        let path = self.files.next()?;
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => return Some(Err(e.into())),
        };
        let dec = match zstd::stream::read::Decoder::new(file) {
            Ok(d) => d,
            Err(e) => return Some(Err(e.into())),
        };
        self.current = Some(BufReader::with_capacity(1 << 20, dec));
        self.line_no = 0;
        self.path = path;
        Some(Ok(()))
    }
}

impl Iterator for Records {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(reader) = self.current.as_mut() else {
                if let Err(e) = self.open_next()? {
                    return Some(Err(e));
                }
                continue;
            };
            self.line.clear();
            match reader.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    self.current = None;
                }
                Ok(_) if self.line.last() != Some(&b'\n') => {
                    // An unfinished last line: the writer was cut off.
                    self.truncated.push(self.path.clone());
                    self.current = None;
                }
                Ok(_) => {
                    self.line_no += 1;
                    return Some(parse_line(&self.line).map_err(|message| ReadError::Format {
                        line: self.line_no,
                        message,
                    }));
                }
                Err(_) => {
                    // A zstd frame cut off: what came before it stands.
                    self.truncated.push(self.path.clone());
                    self.current = None;
                }
            }
        }
    }
}
