//! `tickwire::replay::Replay` against an independent model of Binance's
//! rules (`util::model_replay`: serde_json, hand-written decimal parsing, a
//! `BTreeMap` book): on the eight real captures, and on long seeded markets
//! from `MarketSim`, whose true book is a third opinion.

mod util;

use tickwire::book::BookRead;
use tickwire::replay::{LineOutcome, Replay, ReplaySpec};
use tickwire::sim::{MarketConfig, MarketSim};
use tickwire::types::{Scale, Side, Venue};
use util::{
    ModelRun, WIRE_SCALE, decimal_units, fixture_lines, model_replay, read_fixture, side_levels,
    units_text, venue_dir,
};

#[test]
fn model_numbers_are_exact() {
    assert_eq!(decimal_units("0.35130000", 8), Some(35_130_000));
    assert_eq!(decimal_units("6195.00000000", 8), Some(619_500_000_000));
    assert_eq!(decimal_units("7.5040", 2), None);
    assert_eq!(decimal_units("7.5040", 3), Some(7_504));
    assert_eq!(decimal_units("813", 0), Some(813));
    assert_eq!(decimal_units("1e5", 8), None);
    assert_eq!(decimal_units("", 8), None);
    assert_eq!(decimal_units(".5", 8), None);
    assert_eq!(units_text(35_130_000, 8), "0.3513");
    assert_eq!(units_text(619_500_000_000, 8), "6195");
    assert_eq!(units_text(5, 3), "0.005");
    assert_eq!(units_text(0, 8), "0");
}

/// Counts of what `Replay::handle_line` reported.
#[derive(Debug, Default)]
struct Outcomes {
    applied: usize,
    stale: usize,
    market: usize,
    skipped: usize,
    gaps: Vec<usize>,
    other: Vec<(usize, LineOutcome)>,
}

fn feed_all(replay: &mut Replay, lines: &[Vec<u8>]) -> Outcomes {
    let mut out = Outcomes::default();
    for (i, line) in lines.iter().enumerate() {
        match replay.handle_line(line, i as u64) {
            LineOutcome::Applied => out.applied += 1,
            LineOutcome::Stale => out.stale += 1,
            LineOutcome::Market => out.market += 1,
            LineOutcome::Skipped => out.skipped += 1,
            LineOutcome::Gap { .. } => out.gaps.push(i),
            other => out.other.push((i, other)),
        }
    }
    out
}

fn assert_same_book(replay: &Replay, model: &ModelRun, what: &str) {
    for side in [Side::Bid, Side::Ask] {
        let got = side_levels(replay.book(), side);
        let want = model.book.levels_i64(side);
        assert_eq!(got.len(), want.len(), "{what}: {side:?} depth");
        assert_eq!(got, want, "{what}: {side:?} levels");
    }
}

/// The eight captures: (venue, symbol, diffs dropped, diffs applied) as
/// checked upstream (`tests/fixtures/SOURCES.md`).
const CAPTURES: [(Venue, &str, usize, usize); 8] = [
    (Venue::BinanceSpot, "NKNUSDT", 1, 149),
    (Venue::BinanceSpot, "BLZETH", 1, 9),
    (Venue::BinanceSpot, "LRCBTC", 2, 13),
    (Venue::BinanceSpot, "RUNEEUR", 1, 1),
    (Venue::BinanceUsdm, "SUSHIUSDT", 3, 252),
    (Venue::BinanceUsdm, "AKROUSDT", 1, 188),
    (Venue::BinanceUsdm, "KEEPUSDT", 3, 132),
    (Venue::BinanceUsdm, "CTKUSDT", 5, 180),
];

#[test]
fn captures_replay_to_the_model_book() {
    for (venue, symbol, dropped, applied) in CAPTURES {
        let dir = venue_dir(venue);
        let snapshot = read_fixture(&format!("{dir}/rest_depth_snapshot_{symbol}.json"));
        // The symbol's own depth stream, and the whole connection (other
        // symbols, bookTicker, aggTrade and kline frames interleaved).
        for file in [
            format!("{dir}/ws_depth_100ms_{symbol}.jsonl"),
            format!("{dir}/ws_combined_all_frames.jsonl"),
        ] {
            let lines = fixture_lines(&file);
            let model = model_replay(
                venue,
                symbol,
                Some(&snapshot),
                &lines,
                (WIRE_SCALE, WIRE_SCALE),
            );
            assert!(model.gaps.is_empty(), "{file}: the capture has no gap");
            assert_eq!(
                (model.dropped, model.applied),
                (dropped, applied),
                "{file}: model"
            );

            let mut replay = Replay::new(&ReplaySpec::new(venue, symbol)).expect("spec");
            replay.load_snapshot(&snapshot).expect("snapshot loads");
            let out = feed_all(&mut replay, &lines);
            assert!(out.gaps.is_empty(), "{file}: gaps at {:?}", out.gaps);
            assert!(out.other.is_empty(), "{file}: {:?}", out.other);
            assert_eq!(
                (out.stale, out.applied),
                (dropped, applied),
                "{file}: replay"
            );
            assert_eq!(
                out.applied + out.stale + out.market + out.skipped,
                lines.len(),
                "{file}"
            );
            let stats = replay.sync_stats();
            assert_eq!(
                (stats.stale, stats.applied, stats.gaps),
                (dropped as u64, applied as u64, 0)
            );
            assert_eq!(replay.last_id(), Some(model.last_id), "{file}");
            assert_same_book(&replay, &model, &file);
            assert!(!replay.book().is_crossed(), "{file}");
        }
    }
}

#[test]
fn captures_replay_without_a_snapshot_to_the_model_book() {
    // Without a snapshot the book holds only what the diffs touched.
    for (venue, symbol, _, _) in CAPTURES {
        let file = format!("{}/ws_depth_100ms_{symbol}.jsonl", venue_dir(venue));
        let lines = fixture_lines(&file);
        let model = model_replay(venue, symbol, None, &lines, (WIRE_SCALE, WIRE_SCALE));
        assert!(model.gaps.is_empty(), "{file}");
        let mut replay = Replay::new(&ReplaySpec::new(venue, symbol)).expect("spec");
        let out = feed_all(&mut replay, &lines);
        assert!(
            out.gaps.is_empty() && out.other.is_empty(),
            "{file}: {out:?}"
        );
        assert_eq!(out.applied, lines.len(), "{file}");
        assert_eq!(replay.last_id(), Some(model.last_id));
        assert_same_book(&replay, &model, &file);
    }
}

/// A seeded market: `before` diffs, a snapshot, then `diffs` diffs with a
/// bookTicker or trade now and then. Returns (snapshot body, all lines).
fn generated_capture(
    cfg: MarketConfig,
    before: usize,
    diffs: usize,
) -> (MarketSim, Vec<u8>, Vec<Vec<u8>>) {
    let mut sim = MarketSim::new(cfg);
    let mut lines = Vec::with_capacity(before + diffs + diffs / 4);
    let mut frame = Vec::new();
    for _ in 0..before {
        sim.depth_update(&mut frame);
        lines.push(frame.clone());
    }
    let mut snapshot = Vec::new();
    sim.snapshot(5_000, &mut snapshot);
    for i in 0..diffs {
        sim.depth_update(&mut frame);
        lines.push(frame.clone());
        if i % 7 == 3 {
            sim.book_ticker(&mut frame);
            lines.push(frame.clone());
        }
        if i % 11 == 5 {
            sim.trade(&mut frame);
            lines.push(frame.clone());
        }
    }
    (sim, snapshot, lines)
}

fn check_generated(cfg: MarketConfig, diffs: usize) {
    let venue = cfg.venue;
    let scales = (
        u32::from(cfg.price_scale.decimals()),
        u32::from(cfg.qty_scale.decimals()),
    );
    let tick = units_text(1, scales.0);
    let lot = units_text(1, scales.1);
    let symbol = cfg.symbol.clone();
    let seed = cfg.seed;
    let (sim, snapshot, lines) = generated_capture(cfg, 3, diffs);

    let mut spec = ReplaySpec::new(venue, &symbol);
    spec.tick_size = tick;
    spec.lot_size = lot;
    let mut replay = Replay::new(&spec).expect("spec");
    replay.load_snapshot(&snapshot).expect("snapshot loads");
    let out = feed_all(&mut replay, &lines);
    let what = format!("{venue} seed {seed}");
    assert!(
        out.gaps.is_empty() && out.other.is_empty(),
        "{what}: {out:?}"
    );
    assert_eq!(
        out.applied, diffs,
        "{what}: every diff after the snapshot applies"
    );
    assert_eq!(
        out.stale, 3,
        "{what}: the diffs before the snapshot are dropped"
    );

    let model = model_replay(venue, &symbol, Some(&snapshot), &lines, scales);
    assert!(model.gaps.is_empty(), "{what}");
    assert_eq!(model.applied, diffs, "{what}");
    assert_same_book(&replay, &model, &what);
    assert_eq!(replay.last_id(), Some(sim.last_update_id()), "{what}");
    for side in [Side::Bid, Side::Ask] {
        let truth: Vec<(i64, i64)> = sim.levels(side).iter().map(|(p, q)| (p.0, q.0)).collect();
        assert_eq!(
            side_levels(replay.book(), side),
            truth,
            "{what}: {side:?} vs the generator"
        );
    }
}

#[test]
fn generated_spot_market_replays_to_the_true_book() {
    check_generated(MarketConfig::btcusdt(Venue::BinanceSpot, 11), 3_000);
}

#[test]
fn generated_usdm_market_replays_to_the_true_book() {
    check_generated(MarketConfig::btcusdt(Venue::BinanceUsdm, 12), 3_000);
}

#[test]
fn generated_thin_wide_market_replays_to_the_true_book() {
    // Few levels spread far from the touch, eight decimals: levels come and
    // go far outside the ladder's window.
    for (venue, seed) in [(Venue::BinanceSpot, 21), (Venue::BinanceUsdm, 22)] {
        let mut cfg = MarketConfig::btcusdt(venue, seed);
        cfg.symbol = "NKNUSDT".to_owned();
        cfg.mid = 35_000_000;
        cfg.price_scale = Scale::new(8).unwrap();
        cfg.qty_scale = Scale::new(8).unwrap();
        cfg.depth = 60;
        cfg.changes_per_diff = 9;
        cfg.mean_distance = 400;
        check_generated(cfg, 2_000);
    }
}

#[test]
fn replay_keeps_going_after_a_bad_update() {
    // Tick 0.05: the second diff's 99.02 is off the grid. Replay has no
    // second snapshot; it reports the bad line and must keep rebuilding the
    // book from the lines that follow, as it does after a gap.
    let mut spec = ReplaySpec::new(Venue::BinanceSpot, "BTCUSDT");
    spec.tick_size = "0.05".to_owned();
    spec.lot_size = "0.001".to_owned();
    let mut replay = Replay::new(&spec).expect("spec");
    let snapshot = util::snapshot_json(
        Venue::BinanceSpot,
        100,
        &[("100.00", "1")],
        &[("101.00", "1")],
    );
    replay.load_snapshot(snapshot.as_bytes()).expect("snapshot");
    let diff = |first: u64, bid: &str| {
        util::depth_json(
            Venue::BinanceSpot,
            "BTCUSDT",
            first,
            first,
            None,
            &[(bid, "2")],
            &[],
        )
    };
    assert_eq!(
        replay.handle_line(diff(101, "99.00").as_bytes(), 1),
        LineOutcome::Applied
    );
    assert!(matches!(
        replay.handle_line(diff(102, "99.02").as_bytes(), 2),
        LineOutcome::BadUpdate(_)
    ));
    let third = replay.handle_line(diff(103, "98.00").as_bytes(), 3);
    assert!(
        matches!(third, LineOutcome::Applied | LineOutcome::Gap { .. }),
        "{third:?}"
    );
    assert_eq!(
        side_levels(replay.book(), Side::Bid),
        vec![(10_000, 1_000), (9_900, 2_000), (9_800, 2_000)]
    );
}
