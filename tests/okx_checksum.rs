//! OKX's `books` checksum recomputed on the real capture: each instrument's
//! frames replayed into a [`Ladder`] with its [`BookSpelling`] kept in step,
//! and after every frame our CRC32 must equal the venue's: all 290.

use tickwire::book::{Applied, BookApply, BookSpec, Ladder};
use tickwire::types::{Registry, Side, Venue};
use tickwire::venue::okx::{Action, BookMsg, BookSpelling, OkxDecoder, OkxMsg};

fn registry() -> Registry {
    let mut reg = Registry::new();
    reg.add(Venue::Okx, "BTC-USDT", "0.1", "0.00000001")
        .unwrap();
    reg.add(Venue::Okx, "UNI-USD-SWAP", "0.001", "1").unwrap();
    reg.add(Venue::Okx, "BTC-USD-220527", "0.1", "1").unwrap();
    reg
}

fn fixture(name: &str) -> Vec<String> {
    let path = format!("{}/tests/fixtures/okx/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A book and its spellings: the test's stand-in for the sync.
struct Replica {
    book: Ladder,
    spelling: BookSpelling,
}

impl Replica {
    fn new(tick: i64, capacity: usize) -> Replica {
        Replica {
            book: Ladder::new(BookSpec::new(tick).with_capacity(capacity)),
            spelling: BookSpelling::new(capacity),
        }
    }

    /// Each level as the book applies it: the table and the kept top
    /// follow the book's answer (the sync does the same per message).
    fn apply(&mut self, m: &BookMsg<'_>) {
        let fresh = m.action == Action::Snapshot;
        if fresh {
            self.book.clear();
            self.spelling.clear();
        }
        let (ps, qs) = (m.scaling.price, m.scaling.qty);
        for (side, levels, spells) in [
            (Side::Bid, m.bids, m.bid_spells),
            (Side::Ask, m.asks, m.ask_spells),
        ] {
            for (l, s) in levels.iter().zip(spells) {
                let sp = &mut self.spelling;
                match self.book.apply(side, l.price, l.qty).unwrap() {
                    Applied::Set => {
                        assert!(sp.set(side, *l, *s));
                        sp.rank(side, *l, *s, ps, qs);
                    }
                    Applied::Removed | Applied::Absent => {
                        sp.remove(side, l.price);
                        sp.unrank(side, l.price);
                    }
                    Applied::Evicted(worst) => {
                        sp.remove(side, worst);
                        sp.unrank(side, worst);
                        assert!(sp.set(side, *l, *s));
                        sp.rank(side, *l, *s, ps, qs);
                    }
                    Applied::Dropped => {}
                }
            }
            if fresh {
                self.spelling.rerank(side, &self.book, ps, qs);
            } else {
                self.spelling.settle(side, &self.book, ps, qs);
            }
        }
    }

    /// The kept texts' checksum, checked against one rendered from scratch.
    fn checksum(&mut self, m: &BookMsg<'_>) -> i32 {
        let (ps, qs) = (m.scaling.price, m.scaling.qty);
        let kept = self.spelling.checksum(ps, qs).unwrap();
        assert_eq!(
            self.spelling.peek_checksum(&self.book, ps, qs),
            Ok(kept),
            "kept top texts vs rendered now"
        );
        kept
    }
}

/// Replays one instrument's `books` frames; returns how many checksums matched.
fn replay(name: &str, symbol: &str, frames: &[String], capacity: usize) -> usize {
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let tick = reg.lookup(Venue::Okx, symbol.as_bytes()).unwrap().tick;
    let mut dec = OkxDecoder::new();
    let mut replica = Replica::new(tick, capacity);
    let mut matched = 0;
    for (i, frame) in frames.iter().enumerate() {
        let OkxMsg::Book(m) = dec.decode(frame.as_bytes(), &symbols).unwrap() else {
            continue;
        };
        if reg.get(m.scaling.instrument).symbol.as_str() != symbol {
            continue;
        }
        replica.apply(&m);
        let venue = m.checksum.expect("the 2022 capture always sends one");
        assert_eq!(replica.checksum(&m), venue, "{name} frame {i}");
        matched += 1;
    }
    matched
}

#[test]
fn all_290_checksums_of_the_capture_match() {
    let total: usize = [
        ("ws_books_BTC-USDT.jsonl", "BTC-USDT", 98),
        ("ws_books_UNI-USD-SWAP.jsonl", "UNI-USD-SWAP", 93),
        ("ws_books_BTC-USD-220527.jsonl", "BTC-USD-220527", 99),
    ]
    .into_iter()
    .map(|(name, symbol, want)| {
        let n = replay(name, symbol, &fixture(name), 400);
        assert_eq!(n, want, "{name}");
        n
    })
    .sum();
    assert_eq!(total, 290);
}

#[test]
fn the_interleaved_capture_replays_per_instrument() {
    let frames = fixture("ws_public_all_frames_2022-05-13.jsonl");
    let name = "all frames";
    let counts = ["BTC-USDT", "UNI-USD-SWAP", "BTC-USD-220527"]
        .map(|symbol| replay(name, symbol, &frames, 400));
    assert_eq!(counts, [98, 93, 99]);
}

#[test]
fn a_respelled_level_changes_the_checksum() {
    // "5.16" is sent with two decimals at a tick of 0.001: spelled "5.160"
    // the sum must differ, so the spelling, not the value, is what counts.
    let frames = fixture("ws_books_UNI-USD-SWAP.jsonl");
    let respelled = frames[0].replacen("[\"5.16\",", "[\"5.160\",", 1);
    assert_ne!(respelled, frames[0]);
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let mut dec = OkxDecoder::new();
    let mut replica = Replica::new(1, 400);
    let OkxMsg::Book(m) = dec.decode(respelled.as_bytes(), &symbols).unwrap() else {
        panic!("not a book");
    };
    replica.apply(&m);
    assert_ne!(Some(replica.checksum(&m)), m.checksum);
}

#[test]
fn a_small_book_by_hand() {
    // bid 10.5 x 1.20, ask 11 x 0.3 → "10.5:1.20:11:0.3".
    let reg = registry();
    let symbols = reg.venue(Venue::Okx);
    let frame = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["11","0.3","0","1"]],"bids":[["10.5","1.20","0","1"]],"ts":"1","checksum":0}]}"#;
    let mut dec = OkxDecoder::new();
    let OkxMsg::Book(m) = dec.decode(frame, &symbols).unwrap() else {
        panic!("not a book");
    };
    let mut replica = Replica::new(1, 8);
    replica.apply(&m);
    let want = crc32fast::hash(b"10.5:1.20:11:0.3") as i32;
    assert_eq!(replica.checksum(&m), want);
}
