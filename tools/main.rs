//! The `tickwire` command line: replay captures, run the engine, watch a
//! feed, and start the simulated venue.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod replay;

/// Exact, low-latency crypto market data.
#[derive(Debug, Parser)]
#[command(name = "tickwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rebuild a book from captured frames and check the venue's sequence rules.
    Replay(replay::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(args) => replay::run(&args),
    }
}
