//! Where a live command's engine configuration comes from: `--config FILE`,
//! or the flags for one venue (`--venue`, `--symbols`, `--ws-url`,
//! `--rest-url`, `--ca-file`). Shared by `tap`, `record` and `bridge`.

use std::path::PathBuf;

use tickwire::config::{Config, ConfigError, EngineConfig, EngineSection, VenueSection};

/// The flags that name the venue to connect to.
#[derive(Debug, clap::Args)]
pub(crate) struct Source {
    /// A TOML configuration (instead of --venue/--symbols).
    #[arg(long, conflicts_with_all = ["venue", "symbols", "ws_url", "rest_url"])]
    config: Option<PathBuf>,
    /// The venue.
    #[arg(long, value_parser = crate::venues::venue(), required_unless_present = "config")]
    venue: Option<tickwire::types::Venue>,
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', required_unless_present = "config")]
    symbols: Vec<String>,
    /// WebSocket base URL (default: the venue's production endpoint).
    #[arg(long)]
    ws_url: Option<String>,
    /// REST base URL (default: the venue's production endpoint).
    #[arg(long)]
    rest_url: Option<String>,
    /// Extra CA certificate (PEM) to trust, e.g. the simulator's.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl Source {
    /// The validated configuration: from `--config`, or from the flags
    /// (then an error names the flag that caused it, not the configuration
    /// key).
    pub(crate) fn engine_config(&self) -> Result<EngineConfig, String> {
        if let Some(path) = &self.config {
            return Config::load(path)
                .and_then(|c| c.validate())
                .map_err(|e| e.to_string());
        }
        let venue = self.venue.ok_or("--venue is required")?;
        Config {
            engine: EngineSection::default(),
            venues: vec![VenueSection {
                ws_url: self.ws_url.clone(),
                rest_url: self.rest_url.clone(),
                ca_file: self.ca_file.clone(),
                symbols: self.symbols.clone(),
                ..VenueSection::new(venue)
            }],
            risk: Default::default(),
        }
        .validate()
        .map_err(flag_error)
    }
}

/// A configuration error built from the flags, naming the flag.
pub(crate) fn flag_error(e: ConfigError) -> String {
    let ConfigError::Invalid { key, message } = &e else {
        return e.to_string();
    };
    let field = key.strip_prefix("venue[0].").unwrap_or(key);
    let flag = match field.split(['.', '[']).next().unwrap_or(field) {
        "ws_url" => "--ws-url",
        "rest_url" => "--rest-url",
        "ca_file" => "--ca-file",
        "symbols" | "symbol" => "--symbols",
        "name" => "--venue",
        _ => return e.to_string(),
    };
    format!("{flag}: {message}")
}
