//! `GET /admin/overview?window=hour|day|week`: every app's install funnel, connections and
//! webhook backlog over the window (see `figures`), with a chart per app.

use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::auth::{ConsoleSession, SignedOperator};
use super::chart;
use super::console::Console;
use super::figures::{self, Window};
use super::layout::page;
use crate::errors::{AppError, PageError};
use crate::services::Services;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    window: Option<String>,
}

/// Every configured app, as (id, provider).
pub fn configured_apps(services: &Services) -> Vec<(String, String)> {
    services
        .settings
        .apps
        .values()
        .map(|app| (app.id.to_string(), app.provider.to_string()))
        .collect()
}

pub async fn overview(
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    signed: SignedOperator,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, PageError> {
    let window = match query.window.as_deref() {
        None => Window::Day,
        Some(text) => Window::parse(text)
            .ok_or_else(|| AppError::BadRequest("the window is hour, day or week".into()))?,
    };
    let now = services.clock.now();
    let since = installgate_core::Timestamp::from_millis(
        now.as_millis() - i64::try_from(window.length().as_millis()).unwrap_or(0),
    );
    let apps = configured_apps(&services);
    let all = figures::figures(&apps, &console.activity, &console.overview, since).await?;
    let mut charts = Vec::with_capacity(all.len());
    for figures in &all {
        let bars = figures::bars(
            &figures.app,
            &console.activity,
            &console.overview,
            window,
            now,
        )
        .await?;
        charts.push(chart::installs(
            &figures.app,
            &bars,
            &format!("1 {}", window.as_str()),
        ));
    }
    let csrf = session.csrf_token()?;
    let content = html! {
        nav aria-label="Period" class="card" {
            "Last: "
            @for option in Window::ALL {
                @if option == window {
                    strong aria-current="true" { (option.as_str()) }
                } @else {
                    a href=(format!("/admin/overview?window={}", option.as_str())) { (option.as_str()) }
                }
                " "
            }
        }
        @if all.is_empty() {
            p { "No app is configured." }
        }
        @for (figures, chart) in all.iter().zip(charts) {
            section class="card" aria-labelledby=(format!("app-{}", figures.app)) {
                h2 id=(format!("app-{}", figures.app)) { (figures.app) " " span class="hint" { "(" (figures.provider) ")" } }
                (chart)
                table {
                    caption class="hint" { "Installs in the last " (window.as_str()) }
                    thead { tr {
                        th scope="col" class="num" { "Started" }
                        th scope="col" class="num" { "Completed" }
                        th scope="col" class="num" { "Failed" }
                        th scope="col" class="num" { "Cancelled" }
                        th scope="col" class="num" { "Abandoned" }
                        th scope="col" class="num" { "Uninstalled" }
                        th scope="col" class="num" { "Grants revoked" }
                        th scope="col" class="num" { "Refresh failures" }
                    } }
                    tbody { tr data-app=(figures.app) {
                        td class="num" data-figure="started" { (figures.started) }
                        td class="num" data-figure="completed" { (figures.completed) }
                        td class="num" data-figure="failed" { (figures.failed_total()) }
                        td class="num" data-figure="cancelled" { (figures.cancelled) }
                        td class="num" data-figure="abandoned" { (figures.abandoned) }
                        td class="num" data-figure="uninstalled" { (figures.uninstalled) }
                        td class="num" data-figure="revoked" { (figures.revoked) }
                        td class="num" data-figure="refresh-failed" { (figures.refresh_failed_total()) }
                    } }
                }
                @if !figures.failed.is_empty() {
                    p { "Failed by reason: "
                        @for (index, (reason, count)) in figures.failed.iter().enumerate() {
                            @if index > 0 { ", " }
                            span data-reason=(reason) { (reason) ": " (count) }
                        }
                    }
                }
                @if !figures.refresh_failed.is_empty() {
                    p { "Refresh failures by outcome: "
                        @for (index, (outcome, count)) in figures.refresh_failed.iter().enumerate() {
                            @if index > 0 { ", " }
                            (outcome) ": " (count)
                        }
                    }
                }
                p { "Connections now: "
                    @if figures.connections.is_empty() { "none" }
                    @for (index, (status, count)) in figures.connections.iter().enumerate() {
                        @if index > 0 { ", " }
                        a href=(format!("/admin/connections?app={}&status={}", figures.app, status)) { (status) ": " (count) }
                    }
                }
                p { "Webhook deliveries now: "
                    span data-figure="waiting" { (figures.deliveries_waiting) } " waiting, "
                    a href=(format!("/admin/deliveries?app={}", figures.app)) {
                        span data-figure="delivery-failed" { (figures.deliveries_failed) } " failed"
                    }
                }
            }
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Overview",
        "/admin/overview",
        content,
    ))
}
