//! Binance wire messages, borrowed from the decode buffer.
//!
//! Both decoders (the simd-json tape walk and the fast path) collect the same
//! [`Fields`] and hand them to [`classify`], so they cannot disagree about
//! what a frame means.

use crate::book::Level;
use crate::types::{Price, Qty, Scale, Scaling, Venue};
use crate::venue::{DecodeError, JsonType, Location, What};

/// A decoded Binance frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMsg<'a> {
    /// `depthUpdate`: a diff of the order book.
    Depth(DepthUpdate<'a>),
    /// `bookTicker`: best bid and offer.
    BookTicker(BookTicker),
    /// `trade` or `aggTrade`.
    Trade(TradeMsg),
    /// Reply to `SUBSCRIBE` / `UNSUBSCRIBE` (`{"result":null,"id":1}`).
    SubscribeResult {
        /// The request id, when it was an integer.
        id: Option<i64>,
    },
    /// An error reply (`{"code":2,"msg":"..."}` or `{"error":{...}}`).
    VenueError {
        /// The venue's error code.
        code: i64,
        /// The venue's message.
        msg: &'a str,
    },
    /// `serverShutdown`: the server is going away, reconnect.
    ServerShutdown {
        /// Event time (ms).
        event_ms: u64,
    },
    /// A valid Binance event tickwire does not consume (klines, tickers, ...).
    Unhandled {
        /// The `e` field.
        event: &'a str,
    },
    /// A market-data event for a symbol that is not subscribed.
    UnknownSymbol {
        /// The symbol as sent.
        symbol: &'a str,
    },
}

/// A diff-depth event. Quantities are absolute; zero deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `E`: event time, ms.
    pub event_ms: u64,
    /// `T`: transaction time, ms (futures only).
    pub transact_ms: Option<u64>,
    /// `U`: first update id in the event.
    pub first_id: u64,
    /// `u`: final update id in the event.
    pub final_id: u64,
    /// `pu`: final update id of the previous event (futures only).
    pub prev_final_id: Option<u64>,
    /// `b`: bid levels.
    pub bids: &'a [Level],
    /// `a`: ask levels.
    pub asks: &'a [Level],
}

impl DepthUpdate<'_> {
    /// Exchange time in Unix ns: the transaction time when given, else the event time.
    pub fn exch_ns(&self) -> u64 {
        self.transact_ms
            .unwrap_or(self.event_ms)
            .saturating_mul(1_000_000)
    }
}

/// Best bid/offer from `<symbol>@bookTicker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// `u`: order book update id.
    pub update_id: u64,
    /// `b`.
    pub bid_price: Price,
    /// `B`.
    pub bid_qty: Qty,
    /// `a`.
    pub ask_price: Price,
    /// `A`.
    pub ask_qty: Qty,
    /// `E` (futures only; spot sends none).
    pub event_ms: Option<u64>,
    /// `T` (futures only).
    pub transact_ms: Option<u64>,
}

/// A trade from `<symbol>@trade` or `<symbol>@aggTrade`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeMsg {
    /// Instrument and scales.
    pub scaling: Scaling,
    /// True for `aggTrade`.
    pub aggregated: bool,
    /// `t` (trade) or `a` (aggregate trade id).
    pub id: u64,
    /// `p`.
    pub price: Price,
    /// `q`.
    pub qty: Qty,
    /// `m`: the buyer was the maker (so the seller was the aggressor).
    pub buyer_is_maker: bool,
    /// `T`: trade time, ms.
    pub trade_ms: u64,
    /// `E`: event time, ms.
    pub event_ms: u64,
    /// `f` (aggTrade) or the trade id.
    pub first_id: u64,
    /// `l` (aggTrade) or the trade id.
    pub last_id: u64,
}

/// The REST depth snapshot (`/api/v3/depth`, `/fapi/v1/depth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthSnapshot<'a> {
    /// `lastUpdateId`.
    pub last_update_id: u64,
    /// `E` (futures only).
    pub event_ms: Option<u64>,
    /// `T` (futures only).
    pub transact_ms: Option<u64>,
    /// Bids, best first as sent.
    pub bids: &'a [Level],
    /// Asks, best first as sent.
    pub asks: &'a [Level],
}

/// What a REST depth request returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotReply<'a> {
    /// The book.
    Book(DepthSnapshot<'a>),
    /// `{"code":-1121,"msg":"Invalid symbol."}` and friends.
    VenueError {
        /// The venue's code.
        code: i64,
        /// The venue's message.
        msg: &'a str,
    },
}

/// Event types Binance sends that tickwire recognises but does not consume.
const UNHANDLED_EVENTS: &[&[u8]] = &[
    b"kline",
    b"continuous_kline",
    b"24hrTicker",
    b"24hrMiniTicker",
    b"1hTicker",
    b"4hTicker",
    b"1dTicker",
    b"avgPrice",
    b"markPriceUpdate",
    b"indexPriceUpdate",
    b"forceOrder",
    b"compositeIndex",
    b"contractInfo",
    b"assetIndexUpdate",
    b"listenKeyExpired",
    b"outboundAccountPosition",
    b"balanceUpdate",
    b"executionReport",
    b"listStatus",
    b"ORDER_TRADE_UPDATE",
    b"ACCOUNT_UPDATE",
    b"MARGIN_CALL",
    b"TRADE_LITE",
    b"ACCOUNT_CONFIG_UPDATE",
];

/// A raw JSON value of a field tickwire reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Raw<'a> {
    /// String content (without escapes in the fast path; unescaped in the tape path).
    Str(&'a [u8]),
    /// A non-negative integer.
    UInt(u64),
    /// A negative integer.
    Neg(i64),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// A level list, already parsed into the decoder's side buffer.
    Levels,
    /// Any other type (float, object, a non-level array ...): only for errors.
    Other(JsonType),
}

/// Number of [`KnownKey`]s.
const KNOWN_KEYS: usize = 24;

/// The fields of one Binance object that tickwire reads, by [`KnownKey`].
/// Absent = `None`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields<'a> {
    slots: [Option<Raw<'a>>; KNOWN_KEYS],
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            slots: [None; KNOWN_KEYS],
        }
    }
}

/// Which [`Fields`] slot a key fills, and the key's static name for errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// A field tickwire reads.
    Known(KnownKey),
    /// `{"stream":..}` of the combined-stream envelope.
    Stream,
    /// `{"data":..}` of the combined-stream envelope.
    Data,
    /// `{"error":{"code":..,"msg":..}}`.
    Error,
    /// Anything else: skipped.
    Unknown,
}

/// Keys with a slot in [`Fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(non_camel_case_types, reason = "variants spell Binance's keys")]
pub(crate) enum KnownKey {
    e,
    E,
    T,
    s,
    U,
    u,
    pu,
    b,
    a,
    B,
    A,
    t,
    p,
    q,
    m,
    f,
    l,
    lastUpdateId,
    bids,
    asks,
    result,
    id,
    code,
    msg,
}

const _: () = assert!(KnownKey::msg as usize + 1 == KNOWN_KEYS);

impl KnownKey {
    /// Keys whose value is an update or trade id.
    pub(crate) const fn is_id(self) -> bool {
        matches!(
            self,
            KnownKey::U
                | KnownKey::u
                | KnownKey::pu
                | KnownKey::t
                | KnownKey::a
                | KnownKey::f
                | KnownKey::l
                | KnownKey::lastUpdateId
        )
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            KnownKey::e => "e",
            KnownKey::E => "E",
            KnownKey::T => "T",
            KnownKey::s => "s",
            KnownKey::U => "U",
            KnownKey::u => "u",
            KnownKey::pu => "pu",
            KnownKey::b => "b",
            KnownKey::a => "a",
            KnownKey::B => "B",
            KnownKey::A => "A",
            KnownKey::t => "t",
            KnownKey::p => "p",
            KnownKey::q => "q",
            KnownKey::m => "m",
            KnownKey::f => "f",
            KnownKey::l => "l",
            KnownKey::lastUpdateId => "lastUpdateId",
            KnownKey::bids => "bids",
            KnownKey::asks => "asks",
            KnownKey::result => "result",
            KnownKey::id => "id",
            KnownKey::code => "code",
            KnownKey::msg => "msg",
        }
    }
}

/// Maps a key's bytes to its slot.
#[inline]
pub(crate) fn key_of(k: &[u8]) -> Key {
    use KnownKey as K;
    Key::Known(match k {
        b"e" => K::e,
        b"E" => K::E,
        b"T" => K::T,
        b"s" => K::s,
        b"U" => K::U,
        b"u" => K::u,
        b"pu" => K::pu,
        b"b" => K::b,
        b"a" => K::a,
        b"B" => K::B,
        b"A" => K::A,
        b"t" => K::t,
        b"p" => K::p,
        b"q" => K::q,
        b"m" => K::m,
        b"f" => K::f,
        b"l" => K::l,
        b"lastUpdateId" => K::lastUpdateId,
        b"bids" => K::bids,
        b"asks" => K::asks,
        b"result" => K::result,
        b"id" => K::id,
        b"code" => K::code,
        b"msg" => K::msg,
        b"stream" => return Key::Stream,
        b"data" => return Key::Data,
        b"error" => return Key::Error,
        _ => return Key::Unknown,
    })
}

impl<'a> Fields<'a> {
    /// The value of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: KnownKey) -> Option<Raw<'a>> {
        self.slots[key as usize]
    }

    /// The slot for `key`.
    #[inline]
    pub(crate) fn slot(&mut self, key: KnownKey) -> &mut Option<Raw<'a>> {
        &mut self.slots[key as usize]
    }
}

/// Builds an error for `venue` at a plain field.
#[cold]
pub(crate) fn err(venue: Venue, what: What, key: KnownKey) -> DecodeError {
    DecodeError {
        venue,
        what,
        at: Location::field(key.name()),
    }
}

struct Get<'f, 'a> {
    venue: Venue,
    f: &'f Fields<'a>,
}

impl<'a> Get<'_, 'a> {
    fn raw(&self, key: KnownKey) -> Option<Raw<'a>> {
        self.f.get(key)
    }

    fn present(&self, key: KnownKey) -> Result<Raw<'a>, DecodeError> {
        self.raw(key)
            .ok_or_else(|| err(self.venue, What::Missing, key))
    }

    fn wrong(&self, key: KnownKey, want: JsonType) -> DecodeError {
        err(self.venue, What::Expected(want), key)
    }

    fn uint(&self, key: KnownKey) -> Result<u64, DecodeError> {
        match self.present(key)? {
            Raw::UInt(v) => Ok(v),
            _ => Err(self.wrong(key, JsonType::UnsignedInteger)),
        }
    }

    fn opt_uint(&self, key: KnownKey) -> Result<Option<u64>, DecodeError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Raw::UInt(v)) => Ok(Some(v)),
            Some(_) => Err(self.wrong(key, JsonType::UnsignedInteger)),
        }
    }

    fn int(&self, key: KnownKey) -> Result<i64, DecodeError> {
        match self.present(key)? {
            Raw::UInt(v) => i64::try_from(v).map_err(|_| self.wrong(key, JsonType::Integer)),
            Raw::Neg(v) => Ok(v),
            _ => Err(self.wrong(key, JsonType::Integer)),
        }
    }

    fn bytes(&self, key: KnownKey) -> Result<&'a [u8], DecodeError> {
        match self.present(key)? {
            Raw::Str(s) => Ok(s),
            _ => Err(self.wrong(key, JsonType::String)),
        }
    }

    fn text(&self, key: KnownKey) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes(key)?).map_err(|_| err(self.venue, What::NotUtf8, key))
    }

    fn boolean(&self, key: KnownKey) -> Result<bool, DecodeError> {
        match self.present(key)? {
            Raw::Bool(v) => Ok(v),
            _ => Err(self.wrong(key, JsonType::Bool)),
        }
    }

    fn levels(&self, key: KnownKey) -> Result<(), DecodeError> {
        match self.present(key)? {
            Raw::Levels => Ok(()),
            _ => Err(self.wrong(key, JsonType::Array)),
        }
    }

    /// An update or trade id: an unsigned integer of at most `i64::MAX`.
    fn id(&self, key: KnownKey) -> Result<u64, DecodeError> {
        let v = self.uint(key)?;
        if v > i64::MAX as u64 {
            return Err(err(self.venue, What::IdOutOfRange, key));
        }
        Ok(v)
    }

    /// A price of the instrument: above zero unless it allows otherwise.
    fn price(&self, key: KnownKey, scaling: Scaling) -> Result<Price, DecodeError> {
        let p = Price::parse(self.bytes(key)?, scaling.price)
            .map_err(|e| err(self.venue, What::Number(e), key))?;
        if p.0 <= 0 && !scaling.negative_prices {
            return Err(err(self.venue, What::NotPositive, key));
        }
        Ok(p)
    }

    fn qty(&self, key: KnownKey, scale: Scale) -> Result<Qty, DecodeError> {
        Qty::parse(self.bytes(key)?, scale).map_err(|e| err(self.venue, What::Number(e), key))
    }

    /// The symbol's scaling, or the `UnknownSymbol` message.
    #[inline]
    fn symbol(
        &self,
        scaling: Option<Scaling>,
    ) -> Result<Result<Scaling, BinanceMsg<'a>>, DecodeError> {
        match scaling {
            // Resolved from a string `s`, so it is present and well typed.
            Some(s) => Ok(Ok(s)),
            None => Ok(Err(BinanceMsg::UnknownSymbol {
                symbol: self.text(KnownKey::s)?,
            })),
        }
    }
}

/// Turns collected fields into a message. `scaling` is the resolved `s`;
/// level lists were parsed into `bids` / `asks` by the decoder.
pub(crate) fn classify<'a>(
    venue: Venue,
    f: &Fields<'a>,
    scaling: Option<Scaling>,
    bids: &'a [Level],
    asks: &'a [Level],
) -> Result<BinanceMsg<'a>, DecodeError> {
    use KnownKey as K;
    let g = Get { venue, f };
    let event = match f.get(K::e) {
        Some(Raw::Str(e)) => Some(e),
        Some(_) => return Err(g.wrong(K::e, JsonType::String)),
        None => None,
    };
    match event {
        Some(b"depthUpdate") => {
            let scaling = match g.symbol(scaling)? {
                Ok(s) => s,
                Err(unknown) => return Ok(unknown),
            };
            let prev_final_id = match venue {
                Venue::BinanceUsdm => Some(g.id(K::pu)?),
                _ => g.opt_uint(K::pu)?.map(|_| g.id(K::pu)).transpose()?,
            };
            let update = DepthUpdate {
                scaling,
                event_ms: g.uint(K::E)?,
                transact_ms: g.opt_uint(K::T)?,
                first_id: g.id(K::U)?,
                final_id: g.id(K::u)?,
                prev_final_id,
                bids,
                asks,
            };
            g.levels(K::b)?;
            g.levels(K::a)?;
            Ok(BinanceMsg::Depth(update))
        }
        Some(b"bookTicker") => book_ticker(&g, scaling),
        Some(e @ (b"trade" | b"aggTrade")) => {
            let scaling = match g.symbol(scaling)? {
                Ok(s) => s,
                Err(unknown) => return Ok(unknown),
            };
            let aggregated = e == b"aggTrade";
            let id = g.id(if aggregated { K::a } else { K::t })?;
            let (first_id, last_id) = if aggregated {
                (g.id(K::f)?, g.id(K::l)?)
            } else {
                (id, id)
            };
            Ok(BinanceMsg::Trade(TradeMsg {
                scaling,
                aggregated,
                id,
                price: g.price(K::p, scaling)?,
                qty: match g.qty(K::q, scaling.qty)? {
                    Qty(0) => return Err(err(venue, What::NotPositive, K::q)),
                    q => q,
                },
                buyer_is_maker: g.boolean(K::m)?,
                trade_ms: g.uint(K::T)?,
                event_ms: g.uint(K::E)?,
                first_id,
                last_id,
            }))
        }
        Some(b"serverShutdown") => Ok(BinanceMsg::ServerShutdown {
            event_ms: g.uint(K::E)?,
        }),
        Some(e) if UNHANDLED_EVENTS.contains(&e) => Ok(BinanceMsg::Unhandled {
            event: g.text(K::e)?,
        }),
        Some(_) => Err(err(venue, What::UnknownMessage, K::e)),
        None => {
            if f.get(K::result).is_some() {
                let id = match f.get(K::id) {
                    Some(Raw::UInt(v)) => i64::try_from(v).ok(),
                    Some(Raw::Neg(v)) => Some(v),
                    _ => None,
                };
                Ok(BinanceMsg::SubscribeResult { id })
            } else if f.get(K::code).is_some() {
                Ok(BinanceMsg::VenueError {
                    code: g.int(K::code)?,
                    msg: g.text(K::msg)?,
                })
            } else if [K::u, K::s, K::b, K::a].iter().all(|&k| f.get(k).is_some()) {
                // Spot bookTicker carries no `e`.
                book_ticker(&g, scaling)
            } else if f.get(K::lastUpdateId).is_some() {
                // Partial book depth (`@depth5`): shape known, not consumed.
                Ok(BinanceMsg::Unhandled {
                    event: "depthPartial",
                })
            } else {
                Err(DecodeError {
                    venue,
                    what: What::UnknownMessage,
                    at: Location::Root,
                })
            }
        }
    }
}

fn book_ticker<'a>(
    g: &Get<'_, 'a>,
    scaling: Option<Scaling>,
) -> Result<BinanceMsg<'a>, DecodeError> {
    use KnownKey as K;
    let scaling = match g.symbol(scaling)? {
        Ok(s) => s,
        Err(unknown) => return Ok(unknown),
    };
    Ok(BinanceMsg::BookTicker(BookTicker {
        scaling,
        update_id: g.id(K::u)?,
        bid_price: g.price(K::b, scaling)?,
        bid_qty: g.qty(K::B, scaling.qty)?,
        ask_price: g.price(K::a, scaling)?,
        ask_qty: g.qty(K::A, scaling.qty)?,
        event_ms: g.opt_uint(K::E)?,
        transact_ms: g.opt_uint(K::T)?,
    }))
}

/// Turns the fields of a REST depth body into a snapshot.
pub(crate) fn classify_snapshot<'a>(
    venue: Venue,
    f: &Fields<'a>,
    bids: &'a [Level],
    asks: &'a [Level],
) -> Result<SnapshotReply<'a>, DecodeError> {
    use KnownKey as K;
    let g = Get { venue, f };
    if f.get(K::lastUpdateId).is_none() && f.get(K::code).is_some() {
        return Ok(SnapshotReply::VenueError {
            code: g.int(K::code)?,
            msg: g.text(K::msg)?,
        });
    }
    let snapshot = DepthSnapshot {
        last_update_id: g.id(K::lastUpdateId)?,
        event_ms: g.opt_uint(K::E)?,
        transact_ms: g.opt_uint(K::T)?,
        bids,
        asks,
    };
    g.levels(K::bids)?;
    g.levels(K::asks)?;
    Ok(SnapshotReply::Book(snapshot))
}
