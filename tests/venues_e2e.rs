//! Bybit (spot, linear), OKX, Coinbase and Kraken through the engine, over
//! wss:// against the simulator speaking each venue's dialect: every book
//! converges to the venue's, and every fault — a gap, a bad checksum, a
//! malformed frame, a dropped connection, a stall, a refused subscription —
//! ends in recovery to the true book, with a sequence or checksum fault
//! touching only its own instrument.

mod live;

use std::time::Duration;

use live::{Mirror, config_for, converges_top, sim, start, symbols};
use tickwire::engine::EngineHandle;
use tickwire::sim::{Fault, SimVenue};
use tickwire::types::{InstrumentId, StatusCode, Venue};

const LIMIT: Duration = Duration::from_secs(20);
const VENUES: [Venue; 5] = [
    Venue::BybitSpot,
    Venue::BybitLinear,
    Venue::Okx,
    Venue::Coinbase,
    Venue::Kraken,
];

/// Levels a side each venue streams (the subscribed depth).
fn depth(venue: Venue) -> usize {
    tickwire::venue::profile(venue).default_snapshot_limit as usize
}

/// A synced engine on a TLS simulator of `venue`.
fn synced(venue: Venue, rate: u32) -> (SimVenue, EngineHandle, Mirror) {
    let sim = sim(venue, true, rate);
    let (handle, mut m) = start(config_for(&sim, venue));
    assert!(
        m.until(LIMIT, |m| m.all_consistent() && m.events > 500),
        "{venue}: books never synced: {:?} {:?}",
        handle.counters(),
        m.statuses
    );
    (sim, handle, m)
}

fn id_of(m: &Mirror, venue: Venue, symbol: &str) -> InstrumentId {
    m.registry
        .lookup(venue, symbol.as_bytes())
        .expect("configured")
        .id
}

/// The status codes about `inst`'s own book it received from position
/// `from` on (per-connection ones, such as the connection's `Session` state
/// going from live back to syncing while one book resyncs, are left out).
fn codes_of(m: &Mirror, inst: InstrumentId, from: usize) -> Vec<StatusCode> {
    m.statuses[from..]
        .iter()
        .filter(|s| s.0 == inst && s.1 != StatusCode::Session)
        .map(|s| s.1)
        .collect()
}

#[test]
fn every_venue_converges_over_tls() {
    for venue in VENUES {
        let (sim, handle, mut m) = synced(venue, 3_000);
        assert!(
            converges_top(&sim, &mut m, depth(venue), LIMIT),
            "{venue}: mirror differs from the venue: {:?}",
            handle.counters()
        );
        let report = handle.stop();
        let c = report.counters;
        assert_eq!(
            (c.gaps, c.decode_errors, c.resyncs),
            (0, 0, 0),
            "{venue}: {c:?}"
        );
        assert!(report.decode.fast > 0, "{venue}: {:?}", report.decode);
        assert!(
            report.instruments.iter().all(|i| i.synced),
            "{venue}: {:?}",
            report.instruments
        );
    }
}

#[test]
fn a_gap_resyncs_one_instrument_by_resubscribing() {
    // Coinbase numbers the connection, not the book: see below.
    for venue in VENUES.into_iter().filter(|&v| v != Venue::Coinbase) {
        let (sim, handle, mut m) = synced(venue, 3_000);
        let [first, second] = symbols(venue);
        let (gapped, other) = (id_of(&m, venue, first), id_of(&m, venue, second));
        let mark = m.statuses.len();
        // Kraken numbers nothing: a lost update shows as a checksum mismatch.
        let detected = if venue == Venue::Kraken {
            StatusCode::ChecksumMismatch
        } else {
            StatusCode::Gap
        };
        sim.inject(Fault::Gap(Some(first.to_owned())));
        assert!(
            m.until(LIMIT, |m| codes_of(m, gapped, mark).contains(&detected)
                && m.all_consistent()),
            "{venue}: no gap handling: {:?}",
            m.statuses
        );
        let seen = codes_of(&m, gapped, mark);
        let gap = seen.iter().position(|&c| c == detected).unwrap_or(0);
        assert_eq!(
            seen.get(gap + 1),
            Some(&StatusCode::Resync),
            "{venue}: Gap, then Resync: {seen:?}"
        );
        assert!(
            codes_of(&m, other, mark).is_empty(),
            "{venue}: the other instrument is untouched: {:?}",
            m.statuses
        );
        assert!(converges_top(&sim, &mut m, depth(venue), LIMIT), "{venue}");
        let c = handle.stop().counters;
        assert!(
            (c.gaps >= 1 || venue == Venue::Kraken) && c.reconnects == 0,
            "{venue}: {c:?}"
        );
    }
}

#[test]
fn a_bad_checksum_resyncs_one_instrument_and_no_wrong_book_is_seen() {
    for venue in [Venue::Okx, Venue::Kraken] {
        let (sim, handle, mut m) = synced(venue, 3_000);
        let [first, second] = symbols(venue);
        let (bad, other) = (id_of(&m, venue, first), id_of(&m, venue, second));
        let mark = m.statuses.len();
        sim.inject(Fault::BadChecksum(Some(first.to_owned())));
        assert!(
            m.until(LIMIT, |m| codes_of(m, bad, mark)
                .contains(&StatusCode::ChecksumMismatch)
                && m.all_consistent()),
            "{venue}: no checksum handling: {:?}",
            m.statuses
        );
        let seen = codes_of(&m, bad, mark);
        let at = seen
            .iter()
            .position(|&c| c == StatusCode::ChecksumMismatch)
            .unwrap_or(0);
        assert_eq!(
            seen.get(at + 1),
            Some(&StatusCode::Resync),
            "{venue}: {seen:?}"
        );
        assert!(
            codes_of(&m, other, mark).is_empty(),
            "{venue}: {:?}",
            m.statuses
        );
        assert!(converges_top(&sim, &mut m, depth(venue), LIMIT), "{venue}");
        let c = handle.stop().counters;
        assert_eq!(c.reconnects, 0, "{venue}: {c:?}");
    }
}

#[test]
fn a_refused_kraken_subscription_is_a_venue_error_and_the_rest_syncs() {
    let venue = Venue::Kraken;
    let sim = sim(venue, true, 3_000);
    let mut config = config_for(&sim, venue);
    // A pair the venue does not list: its subscribe is refused
    // (`success: false`), never a silent socket.
    config.venues[0]
        .symbol_specs
        .push(tickwire::config::SymbolSection {
            symbol: "NOPE/USD".to_owned(),
            tick_size: "0.01".to_owned(),
            lot_size: "0.00001".to_owned(),
        });
    let (handle, mut m) = start(config);
    assert!(
        m.until(LIMIT, |m| m.seen(StatusCode::VenueError) >= 1),
        "no VenueError: {:?} {:?}",
        handle.counters(),
        m.statuses
    );
    let [first, second] = symbols(venue);
    let ids = [id_of(&m, venue, first), id_of(&m, venue, second)];
    assert!(
        m.until(LIMIT, |m| ids.iter().all(|&i| m.mirror.is_consistent(i))),
        "the listed pairs sync: {:?}",
        m.statuses
    );
    let c = handle.stop().counters;
    assert!(c.venue_errors >= 1 && c.reconnects == 0, "{c:?}");
}

#[test]
fn malformed_frames_and_drops_recover_to_the_true_book() {
    for venue in VENUES {
        let (sim, handle, mut m) = synced(venue, 3_000);
        sim.inject(Fault::Malformed);
        assert!(
            m.until(LIMIT, |_| handle.counters().decode_errors >= 1),
            "{venue}: malformed frame not counted"
        );
        sim.inject(Fault::Disconnect);
        assert!(
            m.until(LIMIT, |m| m.seen(StatusCode::Reconnected) >= 1
                && m.all_consistent()),
            "{venue}: no reconnect: {:?}",
            m.statuses
        );
        assert!(converges_top(&sim, &mut m, depth(venue), LIMIT), "{venue}");
        let c = handle.stop().counters;
        assert!(c.reconnects >= 1 && c.decode_errors >= 1, "{venue}: {c:?}");
    }
}

#[test]
fn a_stalled_connection_is_restarted_and_resynced() {
    for venue in VENUES {
        let sim = sim(venue, true, 3_000);
        let mut config = config_for(&sim, venue);
        config.engine.stale_timeout_ms = 400;
        let (handle, mut m) = start(config);
        assert!(
            m.until(LIMIT, |m| m.all_consistent()),
            "{venue}: never synced"
        );
        sim.inject(Fault::Stall(Duration::from_millis(1_200)));
        assert!(
            m.until(LIMIT, |m| m.seen(StatusCode::Reconnected) >= 1
                && m.all_consistent()),
            "{venue}: no restart after a stall: {:?}",
            m.statuses
        );
        let c = handle.stop().counters;
        assert!(c.reconnects >= 1 && c.failures >= 1, "{venue}: {c:?}");
    }
}

/// A symbol the simulator does not list: the venue refuses its subscribe
/// and never sends its book. The refusal is reported, the wait for the
/// snapshot times out as a `SnapshotFailed` (reason 7, `no_snapshot`) and is
/// retried after a backoff — never a book left waiting in silence — while
/// the listed instruments sync and track the venue as usual.
#[test]
fn a_refused_subscription_is_reported_and_retried_and_the_others_sync() {
    for venue in [Venue::BybitSpot, Venue::Okx, Venue::Coinbase, Venue::Kraken] {
        let sim = sim(venue, true, 2_000);
        let mut config = config_for(&sim, venue);
        config.engine.stream_snapshot_timeout_ms = 300;
        config.engine.backoff_initial_ms = 50;
        let section = &mut config.venues[0];
        let mut unknown = section.symbol_specs[0].clone();
        unknown.symbol = match venue {
            Venue::Okx | Venue::Coinbase => "NOPE-USDT".to_owned(),
            Venue::Kraken => "NOPE/USD".to_owned(),
            _ => "NOPEUSDT".to_owned(),
        };
        section.symbol_specs.push(unknown.clone());
        let (handle, mut m) = start(config);
        let refused = id_of(&m, venue, &unknown.symbol);
        let no_snapshot = |m: &Mirror| {
            m.statuses
                .iter()
                .filter(|s| s.0 == refused && s.1 == StatusCode::SnapshotFailed && s.2 == 7)
                .count()
        };
        let listed = [symbols(venue)[0], symbols(venue)[1]].map(|s| id_of(&m, venue, s));
        assert!(
            m.until(LIMIT, |m| no_snapshot(m) >= 2
                && listed.iter().all(|&i| m.mirror.is_consistent(i))),
            "{venue}: the refused book is not retried or the others never synced: {:?} {:?}",
            handle.counters(),
            m.statuses
        );
        assert!(
            m.seen(StatusCode::VenueError) >= 1,
            "{venue}: the refusal is reported: {:?}",
            m.statuses
        );
        assert!(
            !m.mirror.is_consistent(refused),
            "{venue}: no book for a symbol the venue does not list"
        );
        let c = handle.stop().counters;
        assert!(
            c.snapshot_failures >= 2 && c.reconnects == 0,
            "{venue}: {c:?} {:?}",
            m.statuses
        );
    }
}

/// Coinbase's `sequence_num` counts the whole connection: a jump does not
/// say whose message was lost, so every book on it gets `Gap` and `Resync`
/// and is resubscribed, and all converge again without a reconnect.
#[test]
fn coinbase_a_sequence_jump_resyncs_every_book_on_the_connection() {
    let venue = Venue::Coinbase;
    let (sim, handle, mut m) = synced(venue, 3_000);
    let [first, second] = symbols(venue);
    let ids = [id_of(&m, venue, first), id_of(&m, venue, second)];
    let mark = m.statuses.len();
    sim.inject(Fault::Gap(Some(first.to_owned())));
    assert!(
        m.until(LIMIT, |m| ids.iter().all(|&i| {
            let seen = codes_of(m, i, mark);
            seen.contains(&StatusCode::Gap) && seen.contains(&StatusCode::Resync)
        }) && m.all_consistent()),
        "no gap handling: {:?}",
        m.statuses
    );
    for id in ids {
        let seen = codes_of(&m, id, mark);
        let gap = seen.iter().position(|&c| c == StatusCode::Gap).unwrap_or(0);
        assert_eq!(seen.get(gap + 1), Some(&StatusCode::Resync), "{seen:?}");
    }
    assert!(converges_top(&sim, &mut m, depth(venue), LIMIT));
    let report = handle.stop();
    let c = report.counters;
    // One frame broke the count; both books started over.
    assert!(
        c.gaps >= 1 && c.resyncs >= 2 && c.reconnects == 0,
        "{c:?} {:?}",
        report.errors
    );
}

/// A Coinbase frame larger than the configured `max_frame_bytes` is a
/// `DecodeError` for the product it names, which alone resyncs; the other
/// book is untouched, and both converge.
#[test]
fn coinbase_an_oversized_frame_resyncs_its_product_only() {
    let venue = Venue::Coinbase;
    let sim = sim(venue, true, 3_000);
    let mut config = config_for(&sim, venue);
    config.venues[0].max_frame_bytes = Some(1 << 20);
    let (handle, mut m) = start(config);
    assert!(
        m.until(LIMIT, |m| m.all_consistent() && m.events > 500),
        "never synced: {:?}",
        m.statuses
    );
    let [first, second] = symbols(venue);
    let (big, other) = (id_of(&m, venue, first), id_of(&m, venue, second));
    let mark = m.statuses.len();
    sim.inject(Fault::Oversized {
        symbol: Some(first.to_owned()),
        bytes: 2 << 20,
    });
    assert!(
        m.until(LIMIT, |m| {
            let seen = codes_of(m, big, mark);
            seen.contains(&StatusCode::DecodeError)
                && seen.contains(&StatusCode::Resync)
                && m.all_consistent()
        }),
        "no oversized handling: {:?}",
        m.statuses
    );
    let seen = codes_of(&m, big, mark);
    let at = seen
        .iter()
        .position(|&c| c == StatusCode::DecodeError)
        .unwrap_or(0);
    assert_eq!(seen.get(at + 1), Some(&StatusCode::Resync), "{seen:?}");
    assert!(codes_of(&m, other, mark).is_empty(), "{:?}", m.statuses);
    assert!(converges_top(&sim, &mut m, depth(venue), LIMIT));
    let c = handle.stop().counters;
    assert!(c.decode_errors >= 1 && c.reconnects == 0, "{c:?}");
}
