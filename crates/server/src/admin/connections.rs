//! `GET /admin/connections` (filtered by app, provider, status, account, marketplace key) and
//! `GET /admin/connections/{id}`: a connection's metadata, scopes and token expiry (never a
//! token), its event timeline and webhook deliveries, and the actions an operator may take.

use actix_web::{HttpResponse, web};
use installgate_core::{Connection, ConnectionFilter, ConnectionId, ConnectionStatus};
use installgate_store::{EventFilter, EventRecord};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::{ConsoleSession, SignedOperator};
use super::layout::{action_form, page, when};
use crate::errors::{AppError, PageError};
use crate::operations::{self, ConnectionQuery};
use crate::services::Services;

const PAGE_SIZE: u32 = 50;
/// Events shown on a connection's page.
const TIMELINE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListForm {
    app: Option<String>,
    provider: Option<String>,
    status: Option<String>,
    account: Option<String>,
    marketplace_key: Option<String>,
    cursor: Option<String>,
}

/// An empty field is no filter.
fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn field(id: &str, label: &str, value: &Option<String>) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            input type="text" id=(id) name=(id) value=(value.clone().unwrap_or_default());
        }
    }
}

pub async fn list(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
    form: web::Query<ListForm>,
) -> Result<HttpResponse, PageError> {
    let query = ConnectionQuery {
        app: given(&form.app),
        provider: given(&form.provider),
        account: given(&form.account),
        marketplace_key: given(&form.marketplace_key),
        status: given(&form.status),
        ..ConnectionQuery::default()
    };
    let filter = query.filter(None)?;
    let after = given(&form.cursor)
        .map(|cursor| ConnectionId::parse(&cursor))
        .transpose()
        .map_err(|_| AppError::BadRequest("the page cursor is not valid".into()))?;
    let (connections, next) =
        operations::list_connections(&services, &filter, after, PAGE_SIZE).await?;
    let next_link = next.map(|next| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("app", &query.app),
            ("provider", &query.provider),
            ("status", &query.status),
            ("account", &query.account),
            ("marketplace_key", &query.marketplace_key),
        ] {
            if let Some(value) = value {
                url.append_pair(name, value);
            }
        }
        url.append_pair("cursor", &next.to_string());
        format!("/admin/connections?{}", url.finish())
    });
    let statuses = ["pending", "active", "revoked", "uninstalled"];
    let content = html! {
        form method="get" action="/admin/connections" class="filters card" role="search" {
            (field("app", "App", &query.app))
            (field("provider", "Provider", &query.provider))
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "any" }
                    @for status in statuses {
                        option value=(status) selected[query.status.as_deref() == Some(status)] { (status) }
                    }
                }
            }
            (field("account", "Account", &query.account))
            (field("marketplace_key", "Marketplace key", &query.marketplace_key))
            div { button type="submit" { "Filter" } }
        }
        @if connections.is_empty() {
            p { "No connection matches." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Connection" } th scope="col" { "App" } th scope="col" { "Provider" }
                    th scope="col" { "Marketplace key" } th scope="col" { "Account" } th scope="col" { "Status" }
                    th scope="col" { "Updated" }
                } }
                tbody {
                    @for connection in &connections {
                        tr {
                            td { a href=(format!("/admin/connections/{}", connection.id)) { code { (connection.id) } } }
                            td { (connection.app) } td { (connection.provider) }
                            td { (connection.marketplace_key.as_str()) }
                            td { (connection.account.as_ref().map(ToString::to_string).unwrap_or_default()) }
                            td { (connection.status.as_str()) }
                            td { (connection.updated_at.to_rfc3339()) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next_link { p { a href=(next) { "Next page" } } }
    };
    let csrf = session.csrf_token()?;
    Ok(page(
        &signed.operator,
        &csrf,
        "Connections",
        "/admin/connections",
        content,
    ))
}

/// What an action came to, shown once on the page it returns to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Done {
    done: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "refreshed" => "The tokens were refreshed.",
        "disconnected" => {
            "The connection is disconnected, and its grant revoked at the marketplace."
        }
        "disconnected-pending" => {
            "The connection is disconnected; the marketplace did not answer, so the revoke is retried in the background."
        }
        "revoked" => "The marketplace took the revoke.",
        "revoke-pending" => {
            "The marketplace did not take the revoke; it is retried in the background."
        }
        "retried" => "The event is queued for delivery again.",
        _ => return None,
    })
}

fn delivery_state(event: &EventRecord) -> &'static str {
    if event.delivered_at.is_some() {
        "delivered"
    } else if event.failed_at.is_some() {
        "failed"
    } else if event.last_error.is_some() {
        "retrying"
    } else {
        "waiting"
    }
}

/// Events as a table: type, time, delivery state, attempts, last error, and (for an operator)
/// a retry button on failed ones.
pub fn events_table(events: &[EventRecord], csrf: &str, may_act: bool, back: &str) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "Written" }
                th scope="col" { "Delivery" } th scope="col" class="num" { "Attempts" }
                th scope="col" { "Next try" } th scope="col" { "Last error" }
                @if may_act { th scope="col" { "Action" } }
            } }
            tbody {
                @for event in events {
                    tr data-event=(event.id) {
                        td { code { (event.id) } }
                        td { (event.event_type) }
                        td { (when(event.created_at)) }
                        td { (delivery_state(event)) }
                        td class="num" { (event.attempts) }
                        td { @if event.delivered_at.is_none() && event.failed_at.is_none() { (when(event.next_attempt_at)) } }
                        td { (event.last_error.clone().unwrap_or_default()) }
                        @if may_act {
                            td { @if event.failed_at.is_some() {
                                (action_form(&format!("/admin/deliveries/{}/retry", event.id), csrf, "Retry", &[("back", back)]))
                            } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn show(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = ConnectionId::parse(&path)
        .map_err(|_| AppError::BadRequest("the connection id is not valid".into()))?;
    let connection: Connection =
        operations::find_connection(&services, ConnectionFilter::default(), id).await?;
    let expires_at = services
        .vault
        .get(id)
        .await?
        .and_then(|stored| stored.tokens)
        .map(|tokens| tokens.expires_at);
    let revoke_pending = operations::revoke_pending(&services, id).await?;
    let filter = EventFilter {
        connection: Some(id.to_string()),
        ..EventFilter::default()
    };
    let events = services.outbox.search(&filter, TIMELINE).await?;
    let csrf = session.csrf_token()?;
    let may_act = signed.operator.role.may_act();
    let here = format!("/admin/connections/{id}");
    let content = html! {
        @if let Some(message) = done_message(done.done.as_deref()) {
            p class="ok" role="status" { (message) }
        }
        dl class="card" {
            dt { "App" } dd { (connection.app) }
            dt { "Provider" } dd { (connection.provider) }
            dt { "Marketplace key" } dd { (connection.marketplace_key.as_str()) }
            dt { "Account" } dd { (connection.account.as_ref().map(ToString::to_string).unwrap_or_else(|| "none (pending)".into())) }
            dt { "Status" } dd id="status" { (connection.status.as_str()) }
            dt { "Workspace" } dd { (connection.workspace.as_ref().map(|workspace| format!("{} ({})", workspace.name, workspace.id)).unwrap_or_else(|| "none".into())) }
            dt { "Scopes" } dd { (connection.scopes.join(" ")) }
            dt { "Access token expires" } dd {
                @match expires_at {
                    None => "no tokens held",
                    Some(None) => "never",
                    Some(Some(at)) => (at.to_rfc3339()),
                }
            }
            @if revoke_pending { dt { "Revoke" } dd { "waiting to be retried at the marketplace" } }
            dt { "Created" } dd { (connection.created_at.to_rfc3339()) }
            dt { "Updated" } dd { (connection.updated_at.to_rfc3339()) }
            @for (key, value) in &connection.metadata {
                dt { (key) } dd { (value) }
            }
        }
        @if may_act {
            div class="card" {
                h2 { "Actions" }
                @if connection.status == ConnectionStatus::Active {
                    (action_form(&format!("{here}/refresh"), &csrf, "Refresh tokens now", &[]))
                    " "
                }
                @if connection.status != ConnectionStatus::Uninstalled {
                    a href=(format!("{here}/disconnect")) { "Disconnect…" }
                    " "
                }
                @if revoke_pending {
                    (action_form(&format!("{here}/retry-revoke"), &csrf, "Retry the revoke now", &[]))
                }
            }
        }
        h2 { "Timeline and deliveries" }
        @if events.is_empty() { p { "No events." } } @else { (events_table(&events, &csrf, may_act, &here)) }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        &format!("Connection {id}"),
        "/admin/connections",
        content,
    ))
}
