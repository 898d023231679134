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
    /// Manage token encryption.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Inspect and retry webhook events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Bring in connections made before the gateway, and find those still on tokens that never
    /// expire.
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Manage built-in accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Vendor API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// The operator console: operators, the audit log, the overview's figures.
    #[command(subcommand)]
    Admin(AdminCommand),
    #[cfg(feature = "sandbox")]
    /// Try every install locally: the gateway and a simulator of each marketplace,
    /// wired together, with a page that lists the demo apps, connections and events.
    Sandbox {
        /// The sandbox page's port; the gateway and the simulators take the next four.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Keep the database and the generated configuration here (default: a temporary
        /// directory removed at exit).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Keep state in this Redis instead of memory (`redis://127.0.0.1:6379`).
        #[arg(long, value_name = "URL")]
        redis: Option<String>,
        /// Use this PostgreSQL database instead of SQLite (`postgres://…`).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// Show the gateway's and the simulators' whole log on the console, not only warnings
        /// (it is written in full to `sandbox.log` in the data directory either way).
        #[arg(long)]
        verbose: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Print a new key, and the configuration that accepts it (only its SHA-256 is configured).
    New {
        /// The key's name in the configuration.
        #[arg(long, default_value = "default")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create a built-in account. The password is asked for on a terminal, or read from the
    /// first line of standard input.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-encrypt every stored token under the active key, in batches. Safe to interrupt and
    /// run again; rows under keys that are no longer configured are reported and left as they are.
    Rotate {
        #[arg(long, default_value_t = 500)]
        batch_size: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Store connections from a JSON lines file, one connection a line (app, shop or tenant,
    /// access_token, and optionally refresh_token, expires_at, scopes, account). Every line is
    /// checked before any is stored; connections that exist already are left as they are.
    Import {
        /// The file (`-` for standard input).
        file: PathBuf,
    },
    /// List connections.
    List {
        /// Only active connections whose access token never expires (to move them to expiring
        /// tokens where their marketplace requires it).
        #[arg(long)]
        non_expiring: bool,
        /// Only this app's.
        #[arg(long)]
        app: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an operator of the console. The password is asked for on a terminal, or read
    /// from the first line of standard input; a TOTP second factor is set up at first sign-in.
    Create {
        #[arg(long)]
        email: String,
        /// `viewer` (sees every page) or `operator` (may also act).
        #[arg(long, value_parser = ["viewer", "operator"])]
        role: String,
    },
    /// List the console's operators.
    List,
    /// Remove an operator (its console sessions end; create it again to start over, a lost
    /// second factor included).
    Remove {
        #[arg(long)]
        email: String,
    },
    /// List the audit log, newest first: what operators did, and every refused sign-in.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Print the overview's figures of every app (as the console's overview shows them).
    Overview {
        /// `hour`, `day` or `week`.
        #[arg(long, default_value = "day", value_parser = ["hour", "day", "week"])]
        window: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events, newest first.
    List {
        /// Only events whose delivery was given up.
        #[arg(long, conflicts_with = "retrying")]
        failed: bool,
        /// Only events not delivered yet after a failed attempt, or given up.
        #[arg(long)]
        retrying: bool,
        /// Only this app's events.
        #[arg(long)]
        app: Option<String>,
        /// Only this connection's events (its timeline).
        #[arg(long)]
        connection: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Queue a failed event for delivery again, or every failed event of an app.
    Retry {
        /// The event id (`evt_…`).
        #[arg(required_unless_present = "app", conflicts_with = "app")]
        id: Option<String>,
        /// Every failed event of this app.
        #[arg(long)]
        app: Option<String>,
    },
}
