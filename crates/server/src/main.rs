use std::process::ExitCode;

use clap::Parser as _;
use installgate_server::cli::{Cli, Command};
use installgate_server::commands;
#[cfg(feature = "sandbox")]
use installgate_server::sandbox::SandboxOptions;
use installgate_server::settings::Sources;

/// mimalloc instead of the C library's allocator: a request allocates and frees about ninety
/// small buffers, and mimalloc's thread-local pages make each of them cheaper (about 10% of the
/// gateway's CPU time per install request; see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let sources = Sources::from_process(cli.config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve(&sources).await,
        Command::CheckConfig => commands::check_config(&sources),
        Command::Migrate => commands::migrate(&sources).await,
        Command::Vault(command) => commands::vault(&sources, command).await,
        Command::Events(command) => commands::events(&sources, command).await,
        Command::Connections(command) => commands::connections(&sources, command).await,
        Command::Accounts(command) => commands::accounts(&sources, command).await,
        Command::ApiKey(command) => commands::api_key(command),
        Command::Admin(command) => installgate_server::admin::cli::run(&sources, command).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox {
            port,
            data_dir,
            redis,
            database,
            verbose,
        } => {
            let options = SandboxOptions {
                port,
                data_dir,
                redis_url: redis,
                database_url: database,
                settings: Vec::new(),
            };
            commands::sandbox(options, verbose).await
        }
    }
}
