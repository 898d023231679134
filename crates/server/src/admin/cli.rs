//! `installgate admin …`: create an operator, list the audit log, print the overview's figures.

use std::process::ExitCode;
use std::sync::Arc;

use installgate_core::{Clock as _, Email, SystemClock, Timestamp};
use installgate_store::{ActivityCounts, AuditLog, OperatorRole, Operators, Overview};

use super::figures::{self, Window};
use crate::cli::AdminCommand;
use crate::commands::{open_database, read_password};
use crate::settings::{Settings, Sources};

pub async fn run(sources: &Sources, command: AdminCommand) -> ExitCode {
    let (settings, database) = match open_database(sources).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let outcome = async {
        match command {
            AdminCommand::Create { email, role } => {
                create(&settings, database, &email, &role, read_password()).await
            }
            AdminCommand::List => list(&operators(&settings, database)?).await,
            AdminCommand::Remove { email } => {
                remove(&operators(&settings, database)?, &email).await
            }
            AdminCommand::Audit { limit } => audit(&AuditLog::new(database), limit).await,
            AdminCommand::Overview { window } => overview(&settings, database, &window).await,
        }
    }
    .await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Creates an operator with a password; the error is a sentence for the person at the terminal.
pub async fn create(
    settings: &Settings,
    database: installgate_store::Database,
    email: &str,
    role: &str,
    password: std::io::Result<String>,
) -> Result<(), String> {
    let email = Email::parse(email).map_err(|error| error.to_string())?;
    let role = OperatorRole::parse(role).ok_or("the role is viewer or operator")?;
    let hash = crate::commands::new_password_hash(settings, password).await?;
    let operator = operators(settings, database)?
        .create(&email, role, Some(&hash))
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "created {} {} ({}); the second factor is set up at the first sign-in",
        operator.role.as_str(),
        operator.email,
        operator.id
    );
    Ok(())
}

fn operators(
    settings: &Settings,
    database: installgate_store::Database,
) -> Result<Operators, String> {
    let keys = crate::vault_keys::keyring(settings).map_err(|error| format!("{error:#}"))?;
    Ok(Operators::new(
        database,
        Arc::new(keys),
        Arc::new(SystemClock),
    ))
}

async fn list(operators: &Operators) -> Result<(), String> {
    for operator in operators.list().await.map_err(|error| error.to_string())? {
        println!(
            "{:<40} {:<9} {}",
            operator.email,
            operator.role.as_str(),
            match (operator.password, operator.totp_enrolled) {
                (false, _) => "signs in through the identity provider",
                (true, true) => "password and TOTP",
                (true, false) => "no second factor yet",
            }
        );
    }
    Ok(())
}

async fn remove(operators: &Operators, email: &str) -> Result<(), String> {
    let email = Email::parse(email).map_err(|error| error.to_string())?;
    if operators
        .remove(&email)
        .await
        .map_err(|error| error.to_string())?
    {
        println!("removed {}", email.as_str());
        Ok(())
    } else {
        Err(format!("no operator has the email {}", email.as_str()))
    }
}

async fn audit(log: &AuditLog, limit: i64) -> Result<(), String> {
    let entries = log.list(limit).await.map_err(|error| error.to_string())?;
    println!(
        "{:<29} {:<28} {:<24} {:<38} {:<16} outcome",
        "at", "who", "action", "on", "from"
    );
    for entry in entries {
        println!(
            "{:<29} {:<28} {:<24} {:<38} {:<16} {}",
            Timestamp::from_millis(entry.at).to_rfc3339(),
            entry.actor,
            entry.action,
            entry.target,
            entry.client,
            entry.outcome
        );
    }
    Ok(())
}

async fn overview(
    settings: &Settings,
    database: installgate_store::Database,
    window: &str,
) -> Result<(), String> {
    let window = Window::parse(window).ok_or("the window is hour, day or week")?;
    let now = SystemClock.now();
    let since = Timestamp::from_millis(
        now.as_millis() - i64::try_from(window.length().as_millis()).unwrap_or(0),
    );
    let apps: Vec<(String, String)> = settings
        .apps
        .values()
        .map(|app| (app.id.to_string(), app.provider.to_string()))
        .collect();
    let all = figures::figures(
        &apps,
        &ActivityCounts::new(database.clone()),
        &Overview::new(database),
        since,
    )
    .await
    .map_err(|error| error.to_string())?;
    println!("the last {}:", window.as_str());
    for app in all {
        println!(
            "{} ({}): started {}, completed {}, failed {}, cancelled {}, abandoned {}, \
             uninstalled {}, grants revoked {}, refresh failures {}; webhook {} waiting, {} failed",
            app.app,
            app.provider,
            app.started,
            app.completed,
            app.failed_total(),
            app.cancelled,
            app.abandoned,
            app.uninstalled,
            app.revoked,
            app.refresh_failed_total(),
            app.deliveries_waiting,
            app.deliveries_failed
        );
        for (reason, count) in &app.failed {
            println!("  failed ({reason}): {count}");
        }
        let statuses: Vec<String> = app
            .connections
            .iter()
            .map(|(status, count)| format!("{status} {count}"))
            .collect();
        println!(
            "  connections: {}",
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(", ")
            }
        );
    }
    Ok(())
}
