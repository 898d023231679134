//! `DELETE /install/pipedrive/{app}`: Pipedrive's notice that a user uninstalled the app.
//! Pipedrive does not read the answer; it is still accurate: 200 once the connection is marked
//! (or was already, or is unknown), 401 for bad credentials, 400 for a body that is not a notice.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{ConnectionStatus, ConnectionVault as _, EventKind};
use installgate_provider_pipedrive::uninstall::{self, UninstallError};
use serde_json::json;

use crate::errors::{ApiError, AppError};
use crate::metrics::{Outcome, Step};
use crate::services::Services;

pub async fn uninstall(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (provider_id, app_id) = path.into_inner();
    if provider_id != installgate_provider_pipedrive::PROVIDER_ID {
        return Err(AppError::MethodNotAllowed.into());
    }
    let (app, prepared) = services
        .prepared
        .resolve(&services.settings, &provider_id, &app_id)
        .ok_or(AppError::NotFound)?;
    let (credentials, provider) = (&prepared.credentials, &prepared.provider);
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let key = match uninstall::parse(credentials, authorization, &body) {
        Ok(key) => key,
        Err(UninstallError::Unauthorized) => {
            tracing::warn!(app = %app.id, "uninstall notice with bad credentials");
            services.metrics.install(
                app.provider.as_str(),
                app.id.as_str(),
                Step::Uninstall,
                Outcome::Failed("refused"),
            );
            return Ok(HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Basic"))
                .json(json!({ "error": { "code": "unauthorized", "message": "the credentials are not this app's" } })));
        }
        Err(UninstallError::Malformed(reason)) => return Err(AppError::BadRequest(reason).into()),
    };
    if let Some(connection) = services
        .vault
        .find_by_key(&app.id, provider.id(), &key)
        .await?
    {
        if connection.status == ConnectionStatus::Uninstalled {
            tracing::info!(app = %app.id, connection = %connection.id, "repeated uninstall notice");
        } else {
            services
                .vault
                .set_status(
                    connection.id,
                    ConnectionStatus::Uninstalled,
                    Some(EventKind::InstallationUninstalled),
                )
                .await?;
            services.tokens.forget(connection.id).await;
            tracing::info!(app = %app.id, connection = %connection.id, "uninstalled");
            services.metrics.install(
                app.provider.as_str(),
                app.id.as_str(),
                Step::Uninstall,
                Outcome::Uninstalled,
            );
        }
    } else {
        tracing::info!(app = %app.id, "uninstall notice for an unknown installation");
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
}
