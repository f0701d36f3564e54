//! The `--venue` flag of every subcommand: any venue tickwire knows, by the
//! name config files use, so no subcommand lists venues of its own.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use tickwire::types::Venue;

/// Parses a venue name (`binance-spot`, `okx`, ...); `--help` lists them all.
pub(crate) fn venue() -> impl TypedValueParser<Value = Venue> {
    PossibleValuesParser::new(Venue::ALL.map(Venue::name))
        .try_map(|name| Venue::from_name(&name).ok_or("unknown venue"))
}

/// What `tickwire demo --venue` takes: one venue, or `all` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Venues {
    /// One venue.
    One(Venue),
    /// Every venue at once, in one engine.
    All,
}

impl Venues {
    /// The venues meant.
    pub(crate) fn list(self) -> Vec<Venue> {
        match self {
            Venues::One(v) => vec![v],
            Venues::All => Venue::ALL.to_vec(),
        }
    }
}

/// Parses a venue name or `all`.
pub(crate) fn venues() -> impl TypedValueParser<Value = Venues> {
    let names: Vec<&'static str> = Venue::ALL.iter().map(|v| v.name()).chain(["all"]).collect();
    PossibleValuesParser::new(names).try_map(|name| match name.as_str() {
        "all" => Ok(Venues::All),
        other => Venue::from_name(other)
            .map(Venues::One)
            .ok_or("unknown venue"),
    })
}
