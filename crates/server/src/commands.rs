//! What each `installgate` subcommand does, apart from parsing.

use std::process::ExitCode;

use installgate_store::Database;

use crate::Application;
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
    crate::telemetry::init(&settings.log);
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
    crate::telemetry::init(&settings.log);
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
