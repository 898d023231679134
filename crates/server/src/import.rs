//! `installgate connections import`: connections a vendor already holds (tokens from before the
//! gateway ran its installs), read from JSON lines, checked whole before anything is stored, and
//! stored encrypted as active connections without events.
//!
//! One line per connection: `{"app": "store", "tenant": "…", "access_token": "…",
//! "refresh_token": "…", "expires_at": "2027-01-01T00:00:00Z", "scopes": ["read_orders"],
//! "account": "acct-1"}`; `shop` may stand for `tenant` (the provider validates it), and
//! everything after `access_token` is optional. Nothing of a token ever reaches an error
//! message.

use installgate_core::{
    AccessToken, AccountId, AppId, ImportOutcome, Imported, InstallFlow, RefreshToken, Timestamp,
    TokenSet,
};
use serde::Deserialize;

use crate::providers::PreparedApps;
use crate::settings::Settings;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    app: String,
    #[serde(alias = "shop")]
    tenant: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    account: Option<String>,
}

/// One line, checked: the app it is for and what to store.
#[derive(Debug)]
pub struct Checked {
    pub line: usize,
    pub app: AppId,
    pub imported: Imported,
}

/// Checks every line of `text`; every problem, with its line number, when any line is wrong.
pub fn check(
    text: &str,
    settings: &Settings,
    prepared: &PreparedApps,
) -> Result<Vec<Checked>, Vec<String>> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match check_line(raw, settings, prepared) {
            Ok((app, imported)) => checked.push(Checked {
                line: number,
                app,
                imported,
            }),
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

fn check_line(
    raw: &str,
    settings: &Settings,
    prepared: &PreparedApps,
) -> Result<(AppId, Imported), String> {
    // serde's messages can quote the value they refuse: only where it went wrong is kept.
    let line: Line = serde_json::from_str(raw).map_err(|error| {
        format!(
            "not a connection ({:?} at column {}; expected app, shop or tenant, access_token, \
             and optionally refresh_token, expires_at, scopes, account)",
            error.classify(),
            error.column()
        )
    })?;
    let app = AppId::parse(&line.app).map_err(|_| "app is not a valid app id".to_owned())?;
    let (settings_app, prepared_app) = settings
        .apps
        .get(&app)
        .and_then(|found| prepared.resolve(settings, found.provider.as_str(), app.as_str()))
        .ok_or_else(|| "app is not a configured app".to_owned())?;
    let provider = &prepared_app.provider;
    let tenant = match line.tenant.as_deref() {
        Some(raw) => Some(
            provider
                .parse_tenant(raw)
                .map_err(|error| error.to_string())?,
        ),
        None if provider.requires_tenant() => {
            return Err(format!(
                "{} connections name their tenant (shop or tenant)",
                provider.display_name()
            ));
        }
        None => None,
    };
    let printable = |token: &str| {
        !token.is_empty() && token.len() <= 4096 && token.bytes().all(|b| b.is_ascii_graphic())
    };
    if !printable(&line.access_token) {
        return Err("access_token must be 1 to 4096 printable characters".into());
    }
    if line
        .refresh_token
        .as_deref()
        .is_some_and(|token| !printable(token))
    {
        return Err("refresh_token must be 1 to 4096 printable characters".into());
    }
    let expires_at = line
        .expires_at
        .as_deref()
        .map(|text| {
            Timestamp::parse_rfc3339(text).ok_or_else(|| {
                "expires_at must be an RFC 3339 time (2027-01-01T00:00:00Z)".to_owned()
            })
        })
        .transpose()?;
    let account = line
        .account
        .as_deref()
        .map(|account| AccountId::parse(account).map_err(|_| "account is not valid".to_owned()))
        .transpose()?;
    let scopes = if line.scopes.is_empty() {
        settings_app.scopes.clone()
    } else {
        line.scopes
    };
    Ok((
        app,
        Imported {
            tenant,
            tokens: TokenSet {
                access_token: AccessToken::new(line.access_token),
                refresh_token: line.refresh_token.map(RefreshToken::new),
                expires_at,
            },
            scopes,
            account,
        },
    ))
}

/// How an import went.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub stored: usize,
    /// Lines whose marketplace account has a connection already (left as it was).
    pub existing: Vec<usize>,
}

/// Stores every checked line, in order. Stops at the first that cannot be stored (the lines
/// before it stay stored; running the import again skips them as existing).
pub async fn store(
    flow: &InstallFlow,
    prepared: &PreparedApps,
    lines: Vec<Checked>,
) -> Result<Report, String> {
    let mut report = Report::default();
    for checked in lines {
        let Some(app) = prepared.get(&checked.app) else {
            return Err(format!(
                "line {}: app is not a configured app",
                checked.line
            ));
        };
        let outcome = flow
            .import(app.provider.as_ref(), &app.credentials, checked.imported)
            .await
            .map_err(|error| format!("line {}: {error}", checked.line))?;
        match outcome {
            ImportOutcome::Stored(_) => report.stored += 1,
            ImportOutcome::Exists => report.existing.push(checked.line),
        }
    }
    Ok(report)
}
