//! Counters every venue's protocol code keeps, in one venue-agnostic shape
//! so that engine reports and tools name no venue.

/// Counters of one instrument's book sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs ignored as already covered by the book.
    pub stale: u64,
    /// Sequence gaps.
    pub gaps: u64,
    /// Times the book was discarded and rebuilt.
    pub resyncs: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Snapshots refused as too old (fetched again).
    pub snapshot_retries: u64,
    /// Buffered diffs dropped because the buffer was full.
    pub buffer_dropped: u64,
    /// Levels evicted or not stored because the book was at capacity.
    pub truncated: u64,
    /// Books found crossed after an update or snapshot (each started over).
    pub crossed: u64,
    /// Books whose checksum differed from the venue's (each started over).
    pub checksum_mismatches: u64,
    /// Messages that carried no checksum (absent, or 0), so none was checked.
    pub checksums_skipped: u64,
}

/// Which decoder handled the frames so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames the fast path decoded.
    pub fast: u64,
    /// Frames that went to the simd-json tape path.
    pub fallback: u64,
}
