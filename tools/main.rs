//! The `tickwire` command line: replay captures, run the engine, watch a
//! feed, and start the simulated venue.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(feature = "aeron")]
mod bridge;
mod demo;
mod export;
mod limits;
mod lines;
#[cfg(feature = "aeron")]
mod listen;
mod live;
mod out;
mod record;
mod recording;
mod replay;
mod run;
mod signals;
mod sim;
mod source;
mod tap;
mod trade;
mod venues;
mod verdict;

/// Why a command failed; each kind has its exit status (README, "Exit status").
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad flags, configuration or set-up: status 2.
    Usage(String),
    /// Writing to standard output failed for another reason than a closed
    /// pipe (a full device, an I/O error): status 1.
    Output(std::io::Error),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Usage(message)
    }
}

/// Exact, low-latency crypto market data.
#[derive(Debug, Parser)]
#[command(name = "tickwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the engine against the built-in simulated venue and report latency per stage.
    Demo(demo::Args),
    /// Run the engine against the venues of a configuration file.
    Run(run::Args),
    /// Print every normalised event as one JSON line.
    Tap(tap::Args),
    /// Rebuild a book from captured frames and check the venue's sequence rules.
    Replay(replay::Args),
    /// Record every venue frame, REST snapshot and connection event to rotated zstd files.
    Record(record::Args),
    /// Write a recording's book changes as CSV (tardis.dev incremental_book_L2).
    Export(export::Args),
    /// Start the simulated venue (fault injection on standard input).
    Sim(sim::Args),
    /// Send orders read from standard input (JSON lines); print execution reports.
    Trade(trade::Args),
    /// Run the engine and publish every event on an Aeron channel (feature `aeron`).
    #[cfg(feature = "aeron")]
    Bridge(bridge::Args),
    /// Print every event a `bridge` publishes as one JSON line, like `tap` (feature `aeron`).
    #[cfg(feature = "aeron")]
    Listen(listen::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Replay(args) => return replay::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Tap(args) => tap::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Record(args) => record::run(args),
        Command::Export(args) => export::run(args),
        Command::Trade(args) => trade::run(args),
        #[cfg(feature = "aeron")]
        Command::Bridge(args) => bridge::run(args),
        #[cfg(feature = "aeron")]
        Command::Listen(args) => listen::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Output(e)) => {
            eprintln!("error: writing to standard output: {e}");
            ExitCode::from(1)
        }
    }
}
