//! The `tickwire` command line: replay captures, run the engine, watch a
//! feed, and start the simulated venue.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod live;
mod replay;
mod run;
mod sim;
mod tap;

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
    /// Start the simulated venue (fault injection on standard input).
    Sim(sim::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Replay(args) => return replay::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Tap(args) => tap::run(args),
        Command::Sim(args) => sim::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
