//! Bounds of every number the command line accepts, so that no flag or
//! simulator command can lead to a panic, a hang or an allocation bomb.
//! clap checks the flags (its error names the flag and the range); `sim`
//! checks the numbers typed on its standard input.

/// Most messages per second the simulated venue is asked to produce. The
/// simulator paces itself in 100 µs steps on one thread; two million a
/// second is already more than one core generates and encodes honestly.
pub(crate) const MAX_RATE: u32 = 2_000_000;

/// Longest `--seconds` (one year).
pub(crate) const MAX_SECONDS: u64 = 365 * 24 * 3600;

/// Longest `stall` and `slow` fault in the simulator, in milliseconds (one hour).
pub(crate) const MAX_FAULT_MS: u64 = 3_600_000;

/// Largest `slow` divisor (it divides a rate of at most [`MAX_RATE`]).
pub(crate) const MAX_SLOW_FACTOR: u64 = MAX_RATE as u64;

/// Most snapshot requests `refuse N` and `ratelimit N` answer with an error.
pub(crate) const MAX_FAULT_COUNT: u64 = 1_000_000;

/// clap parser for a rate flag: `1..=MAX_RATE`.
pub(crate) fn rate() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..=i64::from(MAX_RATE))
}

/// clap parser for a `--seconds` flag: `0..=MAX_SECONDS`.
pub(crate) fn seconds() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=MAX_SECONDS)
}
