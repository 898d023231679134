//! `GET /admin/deliveries?app=…`: webhook events that failed (given up) or are being retried,
//! with their attempts, last error and next try; an operator retries one, or every failed one
//! of an app (after a confirmation).

use actix_web::{HttpResponse, web};
use installgate_store::{EventFilter, EventState};
use maud::html;
use serde::Deserialize;

use super::auth::{ConsoleSession, SignedOperator};
use super::connections::events_table;
use super::layout::page;
use crate::errors::PageError;
use crate::services::Services;

/// Events listed at most.
const SHOWN: i64 = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    app: Option<String>,
    done: Option<String>,
    /// How many events a "retry every failed event" queued.
    count: Option<u64>,
}

pub async fn list(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, PageError> {
    let app = query
        .app
        .as_deref()
        .map(str::trim)
        .filter(|app| !app.is_empty());
    let filter = EventFilter {
        state: Some(EventState::Troubled),
        app: app.map(str::to_owned),
        ..EventFilter::default()
    };
    let events = services.outbox.search(&filter, SHOWN).await?;
    let failed = events
        .iter()
        .filter(|event| event.failed_at.is_some())
        .count();
    let csrf = session.csrf_token()?;
    let may_act = signed.operator.role.may_act();
    let apps: Vec<String> = services
        .settings
        .apps
        .keys()
        .map(ToString::to_string)
        .collect();
    let content = html! {
        @match (query.done.as_deref(), query.count) {
            (Some("retried"), _) => p class="ok" role="status" { "The event is queued for delivery again." },
            (Some("retried-all"), Some(count)) => p class="ok" role="status" {
                (count) " failed events of " (app.unwrap_or_default()) " are queued for delivery again."
            },
            _ => {}
        }
        form method="get" action="/admin/deliveries" class="filters card" {
            div {
                label for="app" { "App" }
                select id="app" name="app" {
                    option value="" { "every app" }
                    @for id in &apps {
                        option value=(id) selected[app == Some(id.as_str())] { (id) }
                    }
                }
            }
            div { button type="submit" { "Show" } }
        }
        @if events.is_empty() {
            p { "No delivery is failing." }
        } @else {
            p { (events.len()) " events not delivered after an attempt; " (failed) " given up." }
            @if may_act && failed > 0 {
                @if let Some(app) = app {
                    p { a href=(format!("/admin/deliveries/retry-app?app={app}")) { "Retry every failed event of " (app) "…" } }
                } @else {
                    p class="hint" { "Choose an app to retry all of its failed events at once." }
                }
            }
            (events_table(&events, &csrf, may_act, "/admin/deliveries"))
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Deliveries",
        "/admin/deliveries",
        content,
    ))
}
