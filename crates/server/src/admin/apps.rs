//! `GET /admin/apps`: what an operator pastes into each marketplace's developer console (each
//! field its provider names, with the gateway URL that goes there and a copy button; and the
//! start URL for a Connect button), the app's
//! scopes, the origins that may frame its pages, its install policy, whether its secrets are
//! set (never their values), and what `installgate check-config` says of the configuration as
//! it is on disk now.

use actix_web::{HttpResponse, web};
use installgate_core::GatewayRoute;
use maud::{Markup, html};
use secrecy::ExposeSecret as _;

use super::auth::{ConsoleSession, SignedOperator};
use super::layout::page;
use crate::errors::PageError;
use crate::services::Services;
use crate::settings::{self, AppSettings, Problem, SignUpPolicy};

fn copyable(id: &str, label: &str, url: &str) -> Markup {
    html! {
        dt { (label) }
        dd {
            code id=(id) { (url) }
            " "
            button type="button" class="secondary" data-copy=(id) aria-label=(format!("Copy the {}", label.to_lowercase())) { "Copy" }
            " "
            span id=(format!("{id}-status")) class="hint" aria-live="polite" {}
        }
    }
}

fn set_or_not(set: bool) -> &'static str {
    if set { "set" } else { "not set" }
}

/// The configuration's problems as `check-config` finds them now: `None` when it was not read
/// from files or the environment (nothing to check again).
fn check_again(services: &Services) -> Option<Vec<Problem>> {
    let sources = services.settings.loaded_from.as_ref()?;
    Some(match settings::load(sources) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().cloned().collect(),
    })
}

fn app_section(services: &Services, app: &AppSettings, problems: Option<&[Problem]>) -> Markup {
    let public = services
        .settings
        .server
        .public_url
        .as_str()
        .trim_end_matches('/');
    let (provider, id) = (app.provider.as_str(), app.id.as_str());
    let prepared = services.prepared.get(&app.id);
    // What the marketplace's developer console asks for, as its provider says.
    let fields = prepared
        .map(|prepared| prepared.provider.console_fields())
        .unwrap_or_default();
    let url_of = |route: GatewayRoute| match route {
        GatewayRoute::Install => format!("{public}/install/{provider}/{id}"),
        GatewayRoute::Notify => format!("{public}/notify/{provider}/{id}"),
    };
    // The policy's `frame-ancestors` directive: the origins that may frame the app's pages.
    let framing = prepared
        .and_then(|prepared| prepared.frame_policy.as_ref())
        .and_then(|policy| policy.to_str().ok())
        .and_then(|policy| {
            policy
                .split(';')
                .map(str::trim)
                .find_map(|directive| directive.strip_prefix("frame-ancestors "))
        })
        .unwrap_or("'none'")
        .to_owned();
    let prefix = format!("apps.{id}.");
    let own: Vec<&Problem> = problems
        .unwrap_or_default()
        .iter()
        .filter(|problem| problem.path.starts_with(&prefix))
        .collect();
    html! {
        section class="card" aria-labelledby=(format!("app-{id}")) {
            h2 id=(format!("app-{id}")) { (id) " " span class="hint" { "(" (provider) ")" } }
            dl {
                @for (index, field) in fields.iter().enumerate() {
                    (copyable(&format!("{id}-field-{index}"), field.name, &url_of(field.route)))
                }
                (copyable(&format!("{id}-connect"), "Start URL (a Connect button on your own site)", &format!("{public}/connect/{provider}/{id}")))

                dt { "Scopes" } dd {
                    @if app.scopes.is_empty() { "none configured (those set in the marketplace's developer console apply)" }
                    @else { (app.scopes.join(" ")) }
                }
                @if !app.optional_scopes.is_empty() {
                    dt { "Optional scopes" } dd { (app.optional_scopes.join(" ")) }
                }
                dt { "May frame its pages" } dd { code { (framing) } }
                dt { "Sign-up" } dd {
                    @match &app.install_policy.sign_up {
                        SignUpPolicy::Allowed => "new users may sign up",
                        SignUpPolicy::Off { get_account_url } => { "off; users without an account go to " code { (get_account_url.as_str()) } }
                    }
                }
                dt { "Entitlement check" } dd {
                    @match &app.install_policy.entitlement {
                        None => "none: every signed-in user may install",
                        Some(entitlement) => { "asked at " code { (entitlement.url.as_str()) } }
                    }
                }
                dt { "Client id" } dd { code { (app.client_id) } }
                dt { "Client secret" } dd data-secret="client" { (set_or_not(!app.client_secret.expose_secret().is_empty())) }
                dt { "Configuration" } dd data-verdict=(if own.is_empty() { "valid" } else { "invalid" }) {
                    @if problems.is_none() { "as loaded at start" }
                    @else if own.is_empty() { "valid" }
                    @else {
                        ul { @for problem in &own { li { code { (problem.path) } ": " (problem.message) } } }
                    }
                }
            }
        }
    }
}

pub async fn list(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
) -> Result<HttpResponse, PageError> {
    let problems = check_again(&services);
    let shared: Vec<&Problem> = problems
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|problem| !problem.path.starts_with("apps."))
        .collect();
    let settings = &services.settings;
    let csrf = session.csrf_token()?;
    let content = html! {
        section class="card" aria-labelledby="gateway" {
            h2 id="gateway" { "Gateway" }
            dl {
                dt { "Public URL" } dd { code { (settings.server.public_url.as_str()) } }
                dt { "Webhook" } dd {
                    @match &settings.webhook.target {
                        None => "none: events stay in the outbox",
                        Some(target) => { code { (target.url.as_str()) } ", secret " (set_or_not(!target.secret.expose_secret().is_empty())) }
                    }
                }
                dt { "Vault keys" } dd {
                    @if settings.vault.keys.is_empty() { "none configured: a development key kept beside the SQLite database" }
                    @else { (settings.vault.keys.len()) " configured, active: " (settings.vault.active_key.clone().unwrap_or_default()) }
                }
                dt { "check-config" } dd data-verdict=(if shared.is_empty() && problems.as_ref().is_none_or(Vec::is_empty) { "valid" } else { "invalid" }) {
                    @match &problems {
                        None => "the configuration was not read from files here; it was valid at start",
                        Some(all) if all.is_empty() => "the configuration on disk is valid",
                        Some(all) => { (all.len()) " problems in the configuration on disk (the running gateway keeps what it loaded at start)" }
                    }
                    @if !shared.is_empty() {
                        ul { @for problem in &shared { li { code { (problem.path) } ": " (problem.message) } } }
                    }
                }
            }
        }
        @for app in settings.apps.values() {
            (app_section(&services, app, problems.as_deref()))
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Apps",
        "/admin/apps",
        content,
    ))
}
