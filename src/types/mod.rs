//! Domain values shared by every stage: exact numbers, instruments, time and
//! the event record.

mod clock;
mod event;
mod instrument;
pub mod limits;
mod num;
mod rng;
pub(crate) mod swar;

pub use clock::{Clock, ManualClock, MonotonicClock};
pub use event::{
    Aggressor, Bbo, Body, Event, EventKind, FLAG_AGGREGATED, FLAG_END_OF_BATCH, FLAG_SNAPSHOT,
    LevelUpdate, Nanos, ResyncReason, Side, SnapshotFailReason, Stamp, Status, StatusCode, Trade,
};
pub use instrument::{
    IncrementError, Instrument, InstrumentId, Registry, RegistryError, ResolveSymbol, SYMBOL_CAP,
    Scaling, Symbol, Venue, VenueSymbols, parse_increment,
};
pub(crate) use num::parse_decimal_prefix;
pub use num::{
    Decimal, MAX_SCALE, NumError, Price, Qty, Ratio, Scale, format_decimal, parse_decimal,
};
pub use rng::Rng;
