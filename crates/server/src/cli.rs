//! The `installgate` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "installgate",
    version,
    about = "The marketplace install gateway"
)]
pub struct Cli {
    /// A TOML file layered over the defaults and config/{INSTALLGATE_ENVIRONMENT}.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default).
    Serve,
    /// Validate the configuration and print every problem with its key path.
    CheckConfig,
    /// Apply database migrations and exit.
    Migrate,
}
