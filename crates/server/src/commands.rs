//! What each `installgate` subcommand does, apart from parsing.

use std::process::ExitCode;

use std::sync::Arc;

use installgate_core::{Clock as _, SystemClock, Timestamp};
use installgate_store::{Database, Outbox, SqlVault, rotate_keys};

use crate::Application;
use crate::cli::{AccountsCommand, ApiKeyCommand, ConnectionsCommand, EventsCommand, VaultCommand};
use crate::settings::{self, Settings, Sources};

/// Loads the configuration, or prints every problem and says how to exit.
fn load_or_report(sources: &Sources) -> Result<Settings, ExitCode> {
    settings::load(sources).map_err(|problems| {
        eprint!("{problems}");
        ExitCode::from(2)
    })
}

pub fn check_config(sources: &Sources) -> ExitCode {
    match load_or_report(sources) {
        Ok(settings) => {
            println!(
                "the configuration is valid: {} app{}, state store {}, database {}",
                settings.apps.len(),
                if settings.apps.len() == 1 { "" } else { "s" },
                match settings.state.backend {
                    settings::StateBackend::Memory { .. } => "memory",
                    settings::StateBackend::Redis(_) => "redis",
                },
                installgate_store::Engine::of_url(secrecy::ExposeSecret::expose_secret(
                    &settings.database.url
                ))
                .map_or("?", |engine| engine.as_str()),
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

pub async fn migrate(sources: &Sources) -> ExitCode {
    let settings = match load_or_report(sources) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let _log = crate::telemetry::init(&settings.log);
    let result = async {
        let database = Database::connect(&settings.database).await?;
        database.migrate().await?;
        database.close().await;
        Ok::<_, installgate_store::DatabaseError>(())
    }
    .await;
    match result {
        Ok(()) => {
            println!("the database schema is up to date");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("migration failed: {error}");
            ExitCode::FAILURE
        }
    }
}

pub async fn serve(sources: &Sources) -> ExitCode {
    let settings = match load_or_report(sources) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let _log = crate::telemetry::init(&settings.log);
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "installgate could not start");
            eprintln!("installgate could not start: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    match application.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("installgate stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "the server failed");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration and opens the migrated database, for the operator commands.
pub(crate) async fn open_database(sources: &Sources) -> Result<(Settings, Database), ExitCode> {
    let settings = load_or_report(sources)?;
    let database = async {
        let database = Database::connect(&settings.database).await?;
        database.migrate().await?;
        Ok::<_, installgate_store::DatabaseError>(database)
    }
    .await
    .map_err(|error| {
        eprintln!("{error}");
        ExitCode::FAILURE
    })?;
    Ok((settings, database))
}

/// The database's vault under the configured keys.
async fn open_vault(sources: &Sources) -> Result<(Settings, SqlVault), ExitCode> {
    let (settings, database) = open_database(sources).await?;
    let keys = crate::vault_keys::keyring(&settings).map_err(|error| {
        eprintln!("{error:#}");
        ExitCode::FAILURE
    })?;
    let vault = SqlVault::new(database, Arc::new(keys), Arc::new(SystemClock));
    Ok((settings, vault))
}

pub async fn connections(sources: &Sources, command: ConnectionsCommand) -> ExitCode {
    let (settings, vault) = match open_vault(sources).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    match command {
        ConnectionsCommand::Import { file } => import_connections(&settings, vault, &file).await,
        ConnectionsCommand::List {
            non_expiring,
            app,
            limit,
        } => list_connections(&vault, non_expiring, app.as_deref(), limit).await,
    }
}

async fn import_connections(
    settings: &Settings,
    vault: SqlVault,
    file: &std::path::Path,
) -> ExitCode {
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    };
    let text = match text {
        Ok(text) => text,
        Err(error) => {
            eprintln!("cannot read {}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let metrics = match crate::metrics::Metrics::new() {
        Ok(metrics) => metrics,
        Err(error) => {
            eprintln!("{error:#}");
            return ExitCode::FAILURE;
        }
    };
    let providers = match crate::providers::Providers::all(&settings.providers, &metrics) {
        Ok(providers) => providers,
        Err(error) => {
            eprintln!("{error:#}");
            return ExitCode::FAILURE;
        }
    };
    let prepared = crate::providers::PreparedApps::new(settings, &providers);
    let lines = match crate::import::check(&text, settings, &prepared) {
        Ok(lines) => lines,
        Err(problems) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            eprintln!("nothing was imported");
            return ExitCode::from(2);
        }
    };
    // The flow's state store is not used by an import.
    let flow = installgate_core::InstallFlow::new(
        Arc::new(installgate_store::MemoryStateStore::new(1)),
        Arc::new(vault),
        Arc::new(SystemClock),
        settings.state.ttl,
    );
    match crate::import::store(&flow, &prepared, lines).await {
        Ok(report) => {
            println!("imported {} connection(s)", report.stored);
            for line in report.existing {
                println!(
                    "line {line}: a connection for that account exists already; left as it is"
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn list_connections(
    vault: &SqlVault,
    non_expiring: bool,
    app: Option<&str>,
    limit: u32,
) -> ExitCode {
    use installgate_core::ConnectionVault as _;
    let apps = match app.map(installgate_core::AppId::parse).transpose() {
        Ok(app) => app.map(|app| vec![app]),
        Err(_) => {
            eprintln!("--app is not a valid app id");
            return ExitCode::from(2);
        }
    };
    let filter = installgate_core::ConnectionFilter {
        apps,
        status: non_expiring.then_some(installgate_core::ConnectionStatus::Active),
        never_expiring: non_expiring,
        ..installgate_core::ConnectionFilter::default()
    };
    println!(
        "{:<36} {:<16} {:<10} {:<11} {:<24} marketplace account",
        "id", "app", "provider", "status", "created"
    );
    let mut after = None;
    let mut left = limit;
    while left > 0 {
        let page = match vault.list(&filter, after, left.min(1000)).await {
            Ok(page) => page,
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        };
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.id);
        left = left.saturating_sub(u32::try_from(page.len()).unwrap_or(u32::MAX));
        for connection in page {
            println!(
                "{:<36} {:<16} {:<10} {:<11} {:<24} {}",
                connection.id,
                connection.app,
                connection.provider,
                connection.status.as_str(),
                connection.created_at.to_rfc3339(),
                connection.marketplace_key.as_str()
            );
        }
    }
    ExitCode::SUCCESS
}

pub async fn vault(sources: &Sources, command: VaultCommand) -> ExitCode {
    let (_, vault) = match open_vault(sources).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let VaultCommand::Rotate { batch_size } = command;
    let operators = installgate_store::Operators::new(
        vault.database().clone(),
        Arc::new(vault.keys().clone()),
        Arc::new(SystemClock),
    );
    let rotated = async {
        let tokens = rotate_keys(&vault, batch_size.max(1)).await?;
        let secrets = operators
            .rotate_secrets()
            .await
            .map_err(|error| installgate_core::VaultError::Unavailable(error.to_string()))?;
        Ok::<_, installgate_core::VaultError>((tokens, secrets))
    }
    .await;
    match rotated {
        Ok((report, secrets)) => {
            println!(
                "re-encrypted {} connection(s) and {} operator second factor(s) under the active key",
                report.rotated, secrets.rotated
            );
            for (key, count) in &report.unknown_keys {
                println!("left {count} connection(s) under key \"{key}\", which is not configured");
            }
            for (key, count) in &secrets.unknown_keys {
                println!(
                    "left {count} operator second factor(s) under key \"{key}\", which is not configured"
                );
            }
            for id in &report.undecryptable {
                println!("left connection {id}: its tokens do not decrypt with their key");
            }
            for id in &secrets.undecryptable {
                println!("left operator {id}: its second factor does not decrypt with its key");
            }
            let clean = report.unknown_keys.is_empty()
                && report.undecryptable.is_empty()
                && secrets.unknown_keys.is_empty()
                && secrets.undecryptable.is_empty();
            if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(error) => {
            eprintln!("rotation failed: {error}");
            ExitCode::FAILURE
        }
    }
}

pub async fn events(sources: &Sources, command: EventsCommand) -> ExitCode {
    let (_, database) = match open_database(sources).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let outbox = Outbox::new(database);
    let now = SystemClock.now();
    let result = match command {
        EventsCommand::List {
            failed,
            retrying,
            app,
            connection,
            limit,
        } => {
            let filter = installgate_store::EventFilter {
                state: if failed {
                    Some(installgate_store::EventState::Failed)
                } else if retrying {
                    Some(installgate_store::EventState::Troubled)
                } else {
                    None
                },
                app,
                connection,
            };
            outbox.search(&filter, limit).await.map(|events| {
                print_events(&events);
                ExitCode::SUCCESS
            })
        }
        EventsCommand::Retry { id: Some(id), .. } => {
            crate::operations::retry_event(&outbox, &id, now)
                .await
                .map(|retried| {
                    if retried {
                        println!("event {id} is queued for delivery again");
                        ExitCode::SUCCESS
                    } else {
                        eprintln!("no failed event has the id {id}");
                        ExitCode::FAILURE
                    }
                })
        }
        EventsCommand::Retry { app, .. } => {
            let app = app.unwrap_or_default();
            crate::operations::retry_failed_events(&outbox, &app, now)
                .await
                .map(|count| {
                    println!("{count} failed events of {app} are queued for delivery again");
                    ExitCode::SUCCESS
                })
        }
    };
    result.unwrap_or_else(|error| {
        eprintln!("{error}");
        ExitCode::FAILURE
    })
}

fn print_events(events: &[installgate_store::EventRecord]) {
    println!(
        "{:<36} {:<26} {:<9} {:>8}  {:<24} last error",
        "id", "type", "state", "attempts", "created"
    );
    for event in events {
        let state = if event.delivered_at.is_some() {
            "delivered"
        } else if event.failed_at.is_some() {
            "failed"
        } else {
            "pending"
        };
        println!(
            "{:<36} {:<26} {:<9} {:>8}  {:<24} {}",
            event.id,
            event.event_type,
            state,
            event.attempts,
            Timestamp::from_millis(event.created_at).to_rfc3339(),
            event.last_error.clone().unwrap_or_default()
        );
    }
}

/// The new account's password: asked for without echo on a terminal, else the first line of
/// standard input.
pub(crate) fn read_password() -> std::io::Result<String> {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            return Err(std::io::Error::other("the two passwords differ"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

pub async fn accounts(sources: &Sources, command: AccountsCommand) -> ExitCode {
    let AccountsCommand::Create { email } = command;
    let (settings, database) = match open_database(sources).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    if !matches!(
        settings.accounts.mode,
        crate::settings::AccountMode::BuiltIn
    ) {
        eprintln!("accounts.mode is \"external\": the vendor's own login manages accounts");
        return ExitCode::FAILURE;
    }
    match create_account(&settings, database, &email, read_password()).await {
        Ok(id) => {
            println!("created account {id} for {}", email.trim().to_lowercase());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// A new password read from the terminal or standard input, checked and hashed as the
/// configuration says (an account's or an operator's); the error is a sentence for the person
/// at the terminal.
pub(crate) async fn new_password_hash(
    settings: &Settings,
    password: std::io::Result<String>,
) -> Result<String, String> {
    let password =
        secrecy::SecretString::from(password.map_err(|error| format!("no password: {error}"))?);
    crate::accounts::Passwords::check_new(&password).map_err(|problem| problem.to_string())?;
    let passwords = crate::accounts::Passwords::new(
        settings.accounts.argon2,
        crate::accounts::HashLimits::from_settings(settings),
    )
    .map_err(|error| error.to_string())?;
    passwords
        .hash(password)
        .await
        .map_err(|error| error.to_string())
}

/// Creates a built-in account; the error is a sentence for the operator.
pub async fn create_account(
    settings: &Settings,
    database: Database,
    email: &str,
    password: std::io::Result<String>,
) -> Result<installgate_core::AccountId, String> {
    use installgate_core::Accounts as _;
    let email = installgate_core::Email::parse(email).map_err(|error| error.to_string())?;
    let hash = new_password_hash(settings, password).await?;
    let accounts = installgate_store::SqlAccounts::new(database, Arc::new(SystemClock));
    accounts
        .create(&email, &hash)
        .await
        .map(|account| account.id)
        .map_err(|error| error.to_string())
}

pub fn api_key(command: ApiKeyCommand) -> ExitCode {
    let ApiKeyCommand::New { name } = command;
    match crate::api::new_key() {
        Ok((key, sha256)) => {
            println!(
                "API key (give it to the vendor's backend; it is not shown again):\n  {key}\n"
            );
            println!(
                "Configuration that accepts it:\n  [api.keys.{name}]\n  sha256 = \"{sha256}\""
            );
            println!(
                "or: INSTALLGATE__API__KEYS__{}__SHA256={sha256}",
                name.to_uppercase()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("no randomness: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "sandbox")]
/// `installgate sandbox`.
pub async fn sandbox(mut options: crate::sandbox::SandboxOptions, verbose: bool) -> ExitCode {
    let log = match crate::settings::load(&Sources::defaults_only()) {
        Ok(settings) => settings.log,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::from(2);
        }
    };
    // The data directory is made first, so that the whole log can go to a file in it.
    let (data_dir, _temporary) = match crate::sandbox::data_dir(options.data_dir.as_deref()) {
        Ok(made) => made,
        Err(error) => {
            eprintln!("the sandbox could not start: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    options.data_dir = Some(data_dir.clone());
    let log_path = data_dir.join("sandbox.log");
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
    {
        Ok(file) => file,
        Err(error) => {
            eprintln!(
                "the sandbox could not start: opening {}: {error}",
                log_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    crate::telemetry::init_sandbox(&log, file, verbose);
    match crate::sandbox::run(options, &log_path).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("the sandbox could not start: {error:#}");
            ExitCode::FAILURE
        }
    }
}
