//! Which file a record goes to: one file per venue per UTC period (an hour
//! or a day), and a new one within the period once a file reaches its size
//! limit. Sans-IO: the policy takes the record's time and the current
//! file's size and answers; the writer does the I/O. File names sort in
//! time order: `<venue>/<period start>-<seq>.jsonl.zst`.

use crate::types::Nanos;

/// How long one file covers at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// One file per UTC hour.
    Hourly,
    /// One file per UTC day.
    Daily,
}

impl Rotation {
    /// The period's length in ns.
    pub const fn period_ns(self) -> Nanos {
        match self {
            Rotation::Hourly => 3_600 * 1_000_000_000,
            Rotation::Daily => 86_400 * 1_000_000_000,
        }
    }

    /// Parses `hourly` or `daily`.
    pub fn parse(s: &str) -> Option<Rotation> {
        match s {
            "hourly" => Some(Rotation::Hourly),
            "daily" => Some(Rotation::Daily),
            _ => None,
        }
    }
}

/// The file a record belongs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileKey {
    /// Start of the UTC period, ns since the UNIX epoch.
    pub period_start: Nanos,
    /// Files cut within the period because of their size: 0, 1, …
    pub seq: u32,
}

impl FileKey {
    /// The file name (without the venue folder): `YYYYMMDDTHHZ-SSSS.jsonl.zst`.
    pub fn file_name(&self) -> String {
        let secs = self.period_start / 1_000_000_000;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let hour = (secs % 86_400) / 3_600;
        format!("{y:04}{m:02}{d:02}T{hour:02}Z-{:04}.jsonl.zst", self.seq)
    }
}

/// What to do with the next record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Append it to the current file.
    Append,
    /// Close the current file (if any) and open this one first.
    Open(FileKey),
}

/// The rotation rules of one venue's files.
#[derive(Clone, Debug)]
pub struct RotatePolicy {
    rotation: Rotation,
    /// Size limit of one file in bytes (0: none).
    max_bytes: u64,
    current: Option<FileKey>,
}

impl RotatePolicy {
    /// Files of `rotation`'s period, each at most `max_bytes` (0: no limit).
    pub fn new(rotation: Rotation, max_bytes: u64) -> RotatePolicy {
        RotatePolicy {
            rotation,
            max_bytes,
            current: None,
        }
    }

    /// Where a record received at `wall_ns` (ns since the epoch) goes,
    /// given `written` bytes in the current file so far.
    pub fn place(&mut self, wall_ns: Nanos, written: u64) -> Placement {
        let period = self.rotation.period_ns();
        let start = wall_ns - wall_ns % period;
        let next = match self.current {
            // A clock step backwards stays in the current file.
            Some(cur) if start <= cur.period_start => {
                if self.max_bytes == 0 || written < self.max_bytes {
                    return Placement::Append;
                }
                FileKey {
                    period_start: cur.period_start,
                    seq: cur.seq + 1,
                }
            }
            _ => FileKey {
                period_start: start,
                seq: 0,
            },
        };
        self.current = Some(next);
        Placement::Open(next)
    }

    /// The file records go to now.
    pub fn current(&self) -> Option<FileKey> {
        self.current
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Clock, ManualClock};

    const SEC: Nanos = 1_000_000_000;
    /// 2026-12-01T05:59:58Z.
    const T0: Nanos = 1_796_104_798 * SEC;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
    }

    #[test]
    fn hourly_files_change_at_the_hour_on_a_manual_clock() {
        let clock = ManualClock::new(T0);
        let mut p = RotatePolicy::new(Rotation::Hourly, 0);
        let first = p.place(clock.now(), 0);
        let Placement::Open(k) = first else {
            panic!("{first:?}")
        };
        assert_eq!(k.file_name(), "20261201T05Z-0000.jsonl.zst");
        clock.advance(SEC);
        assert_eq!(p.place(clock.now(), 1 << 40), Placement::Append);
        clock.advance(SEC);
        let Placement::Open(k2) = p.place(clock.now(), 10) else {
            panic!("a new hour opens a new file")
        };
        assert_eq!(k2.file_name(), "20261201T06Z-0000.jsonl.zst");
        assert!(k2.file_name() > k.file_name());
        // A clock stepping back keeps the current file.
        assert_eq!(p.place(T0, 10), Placement::Append);
    }

    #[test]
    fn daily_files_change_at_midnight_utc() {
        let clock = ManualClock::new(T0);
        let mut p = RotatePolicy::new(Rotation::Daily, 0);
        let Placement::Open(k) = p.place(clock.now(), 0) else {
            panic!("first record opens")
        };
        assert_eq!(k.file_name(), "20261201T00Z-0000.jsonl.zst");
        clock.advance(17 * 3_600 * SEC);
        assert_eq!(p.place(clock.now(), 0), Placement::Append);
        clock.advance(2 * 3_600 * SEC);
        let Placement::Open(k) = p.place(clock.now(), 0) else {
            panic!("the next day opens a new file")
        };
        assert_eq!(k.file_name(), "20261202T00Z-0000.jsonl.zst");
    }

    #[test]
    fn a_full_file_is_cut_within_the_period_and_names_still_sort() {
        let clock = ManualClock::new(T0);
        let mut p = RotatePolicy::new(Rotation::Hourly, 1_000);
        let mut names = Vec::new();
        let mut written = 0;
        for _ in 0..10 {
            match p.place(clock.now(), written) {
                Placement::Open(k) => {
                    names.push(k.file_name());
                    written = 0;
                }
                Placement::Append => {}
            }
            written += 400;
            clock.advance(SEC / 10);
        }
        // 400 bytes a record, cut at 1000: three records a file.
        assert_eq!(
            names,
            [
                "20261201T05Z-0000.jsonl.zst",
                "20261201T05Z-0001.jsonl.zst",
                "20261201T05Z-0002.jsonl.zst",
                "20261201T05Z-0003.jsonl.zst"
            ]
        );
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names);
    }
}
