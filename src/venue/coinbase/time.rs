//! RFC 3339 timestamps (`2026-08-09T21:05:48.228568804Z`) to nanoseconds
//! since the Unix epoch, without allocation or floats.

use crate::types::Nanos;

/// Two ASCII digits at `at`.
#[inline(always)]
fn two(b: &[u8], at: usize) -> Option<u32> {
    let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
    if !h.is_ascii_digit() || !l.is_ascii_digit() {
        return None;
    }
    Some(u32::from(h - b'0') * 10 + u32::from(l - b'0'))
}

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
#[inline]
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days in month `m` of year `y`.
fn month_days(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` as nanoseconds since the
/// epoch; `None` for anything else, a date that does not exist, or a time
/// before 1970. A `t`/`z` or a space for `T` is not accepted (Coinbase
/// writes the upper-case form).
pub fn rfc3339_ns(b: &[u8]) -> Option<Nanos> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = i64::from(two(b, 0)? * 100 + two(b, 2)?);
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    let (hour, min, sec) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    if !(1..=12).contains(&month) || day == 0 || day > month_days(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut i = 19;
    let mut frac: u64 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            if i - start == 9 {
                return None;
            }
            frac = frac * 10 + u64::from(c - b'0');
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        frac *= 10u64.pow(9 - n as u32);
    }
    let offset_s: i64 = match b.get(i..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let (oh, om) = (two(rest, 0)?, two(rest, 3)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let s = i64::from(oh * 3600 + om * 60);
            if *sign == b'+' { s } else { -s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec) - offset_s;
    let secs = u64::try_from(secs).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_ns;

    #[test]
    fn reads_coinbase_timestamps_exactly() {
        // 2026-08-09T21:05:48Z = 1786309548 s (the capture's `recorded`, to the second).
        assert_eq!(
            rfc3339_ns(b"2026-08-09T21:05:48.228568804Z"),
            Some(1_786_309_548_228_568_804)
        );
        assert_eq!(
            rfc3339_ns(b"2026-08-09T21:05:38.50436Z"),
            Some(1_786_309_538_504_360_000)
        );
        assert_eq!(rfc3339_ns(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_ns(b"2024-02-29T01:00:00+01:00"),
            Some(1_709_164_800_000_000_000)
        );
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            &b""[..],
            b"2026-08-09 21:05:48Z",
            b"2026-13-09T21:05:48Z",
            b"2025-02-29T21:05:48Z",
            b"2026-08-09T24:05:48Z",
            b"2026-08-09T21:05:48.Z",
            b"2026-08-09T21:05:48.1234567890Z",
            b"2026-08-09T21:05:48",
            b"2026-08-09T21:05:48.1x",
            b"1969-12-31T23:59:59Z",
            b"2026-08-09T21:05:4aZ",
        ] {
            assert_eq!(rfc3339_ns(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
