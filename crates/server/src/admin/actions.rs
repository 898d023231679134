//! What operators do from the console: refresh a connection's tokens, disconnect it (with the
//! revoke at the marketplace), retry a failed revoke, queue failed deliveries again. Each goes
//! through the same function as the vendor API or the command line (`operations`), is refused
//! to viewers with 403, needs the form's CSRF token and the console's `Origin`, and is written
//! to the audit log, refused or not.

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{Connection, ConnectionFilter, ConnectionId, ProviderRevoke};
use maud::html;
use serde::Deserialize;

use super::auth::{ConsoleSession, SignedOperator};
use super::console::Console;
use super::layout::page;
use super::sign_in::see_other;
use crate::errors::{AppError, PageError};
use crate::operations;
use crate::services::Services;

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
    /// The console page to return to.
    back: Option<String>,
    /// The app whose failed deliveries to retry.
    app: Option<String>,
}

/// What every action needs of its request: the operator, the console session, the services.
pub struct Acting {
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    signed: SignedOperator,
}

impl std::fmt::Debug for Acting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acting")
            .field("operator", &self.signed.operator.email)
            .finish_non_exhaustive()
    }
}

impl actix_web::FromRequest for Acting {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        let signed = SignedOperator::from_request(&request, payload);
        let session = ConsoleSession::from_request(&request, payload);
        Box::pin(async move {
            let signed = signed.await?;
            let session = session.await?;
            let services = request
                .app_data::<web::Data<Services>>()
                .cloned()
                .ok_or_else(|| PageError(AppError::Unexpected(anyhow::anyhow!("no services"))))?;
            let console = request
                .app_data::<web::Data<Console>>()
                .cloned()
                .ok_or_else(|| PageError(AppError::Unexpected(anyhow::anyhow!("no console"))))?;
            Ok(Self {
                request,
                services,
                console,
                session,
                signed,
            })
        })
    }
}

impl Acting {
    /// Runs an action: only for a form from the console, by an operator; audited whatever it
    /// comes to (refused, failed or done).
    async fn run<T>(
        &self,
        csrf: &str,
        action: &str,
        target: &str,
        work: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, PageError> {
        let allowed = self
            .session
            .check_form(&self.request, &self.console, csrf)
            .and_then(|()| self.signed.may_act());
        let (outcome, result) = match allowed {
            Err(error) => (format!("refused: {error}"), Err(error)),
            Ok(()) => match work.await {
                Ok(value) => ("ok".to_owned(), Ok(value)),
                Err(error) => (format!("failed: {error}"), Err(error)),
            },
        };
        self.console
            .audit(
                &self.services,
                &self.request,
                &self.signed.operator.email,
                action,
                target,
                &outcome,
            )
            .await;
        Ok(result?)
    }
}

fn connection_id(path: &str) -> Result<ConnectionId, AppError> {
    ConnectionId::parse(path)
        .map_err(|_| AppError::BadRequest("the connection id is not valid".into()))
}

/// The connection a path names (the console sees every app's).
async fn visible_connection(services: &Services, path: &str) -> Result<Connection, AppError> {
    operations::find_connection(services, ConnectionFilter::default(), connection_id(path)?).await
}

pub async fn refresh(
    acting: Acting,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let services = &acting.services;
    let id = acting
        .run(&form.csrf, "connection.refresh", &path, async {
            let connection = visible_connection(services, &path).await?;
            operations::refresh_now(services, connection.id).await?;
            Ok(connection.id)
        })
        .await?;
    Ok(see_other(&format!(
        "/admin/connections/{id}?done=refreshed"
    )))
}

/// `GET …/disconnect`: asks before disconnecting.
pub async fn confirm_disconnect(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    signed.may_act()?;
    let connection = visible_connection(&services, &path).await?;
    let id = connection.id;
    let csrf = session.csrf_token()?;
    let content = html! {
        p { "Disconnect " strong { (connection.marketplace_key.as_str()) } " from " strong { (connection.app) } "? "
            "The grant is revoked at " (connection.provider) ", the connection marked uninstalled, its tokens deleted, and the vendor told (installation.uninstalled)." }
        form method="post" action=(format!("/admin/connections/{id}/disconnect")) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { "Disconnect" }
            " "
            a href=(format!("/admin/connections/{id}")) { "Cancel" }
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Disconnect?",
        "/admin/connections",
        content,
    ))
}

pub async fn disconnect(
    acting: Acting,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let services = &acting.services;
    let (connection, revoke) = acting
        .run(&form.csrf, "connection.disconnect", &path, async {
            let connection = visible_connection(services, &path).await?;
            operations::disconnect(services, connection).await
        })
        .await?;
    let id = connection.id;
    let done = match revoke {
        ProviderRevoke::Pending => "disconnected-pending",
        _ => "disconnected",
    };
    Ok(see_other(&format!("/admin/connections/{id}?done={done}")))
}

pub async fn retry_revoke(
    acting: Acting,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let services = &acting.services;
    let (id, revoked) = acting
        .run(&form.csrf, "connection.retry_revoke", &path, async {
            let id = connection_id(&path)?;
            Ok((id, operations::retry_revoke(services, id).await?))
        })
        .await?;
    let done = if revoked { "revoked" } else { "revoke-pending" };
    Ok(see_other(&format!("/admin/connections/{id}?done={done}")))
}

/// Where to go back to after an action: a console page, or the deliveries.
fn back_to(back: Option<&str>) -> String {
    back.filter(|back| {
        back.starts_with("/admin/")
            && !back.contains("//")
            && back
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c))
    })
    .unwrap_or("/admin/deliveries")
    .to_owned()
}

pub async fn retry_delivery(
    acting: Acting,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let services = &acting.services;
    acting
        .run(&form.csrf, "event.retry", &path, async {
            let retried =
                operations::retry_event(&services.outbox, &path, services.clock.now()).await?;
            if retried {
                Ok(())
            } else {
                Err(AppError::Conflict("no failed event has this id"))
            }
        })
        .await?;
    Ok(see_other(&format!(
        "{}?done=retried",
        back_to(form.back.as_deref())
    )))
}

/// `GET /admin/deliveries/retry-app?app=…`: asks before queuing every failed event of an app.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppQuery {
    app: String,
}

fn configured(services: &Services, app: &str) -> Result<(), AppError> {
    let known = services.settings.apps.keys().any(|id| id.as_str() == app);
    if known {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn confirm_retry_app(
    services: web::Data<Services>,
    session: ConsoleSession,
    signed: SignedOperator,
    query: web::Query<AppQuery>,
) -> Result<HttpResponse, PageError> {
    signed.may_act()?;
    configured(&services, &query.app)?;
    let csrf = session.csrf_token()?;
    let content = html! {
        p { "Queue every failed event of " strong { (query.app) } " for delivery again? They go out in order, one connection's after another's." }
        form method="post" action="/admin/deliveries/retry-app" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="app" value=(query.app);
            button type="submit" { "Retry every failed event" }
            " "
            a href=(format!("/admin/deliveries?app={}", query.app)) { "Cancel" }
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Retry every failed event?",
        "/admin/deliveries",
        content,
    ))
}

pub async fn retry_app(
    acting: Acting,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let app = form.app.clone().unwrap_or_default();
    let services = &acting.services;
    let count = acting
        .run(&form.csrf, "event.retry_app", &app, async {
            configured(services, &app)?;
            Ok(
                operations::retry_failed_events(&services.outbox, &app, services.clock.now())
                    .await?,
            )
        })
        .await?;
    // The app is a configured one (checked above): a slug, safe in a query.
    Ok(see_other(&format!(
        "/admin/deliveries?app={app}&done=retried-all&count={count}"
    )))
}
