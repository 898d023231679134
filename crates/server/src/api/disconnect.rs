//! `DELETE /api/v1/connections/{id}`: the vendor disconnects a customer. The grant is revoked at
//! the marketplace, the connection marked uninstalled and its tokens deleted, and
//! `installation.uninstalled` written. A marketplace that is down does not stop the disconnect:
//! the connection is uninstalled at once, and the revoke retried in the background with the
//! sealed tokens kept only for that.

use actix_web::{HttpResponse, web};
use installgate_core::{ConnectionStatus, FreshnessWanted, RefreshError};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiClient;
use super::connections::{self, ConnectionView};
use crate::errors::{ApiError, AppError, ErrorBody};
use crate::services::Services;
use crate::tokens::background::revoke_at_provider;

/// What happened at the marketplace.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderRevoke {
    /// The marketplace confirmed the revoke.
    Done,
    /// The marketplace was unavailable; the revoke is retried in the background.
    Pending,
    /// There was nothing to revoke (no live grant, or already disconnected).
    NotNeeded,
    /// The marketplace refused the revoke (its grant was probably gone already).
    Refused,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisconnectResponse {
    pub connection: ConnectionView,
    pub provider_revoke: ProviderRevoke,
}

#[utoipa::path(
    delete,
    path = "/api/v1/connections/{id}",
    tag = "connections",
    params(("id" = String, Path, description = "The connection id (a UUID)")),
    responses(
        (status = 200, description = "Disconnected (also when it already was)", body = DisconnectResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such connection for this key", body = ErrorBody),
        (status = 503, description = "The database is unavailable; nothing changed", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn disconnect(
    services: web::Data<Services>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = connections::parse_id(&path)?;
    let visible = connections::find_visible(&services, &client, id).await?;
    if visible.status == ConnectionStatus::Uninstalled {
        return Ok(HttpResponse::Ok().json(DisconnectResponse {
            connection: visible.into(),
            provider_revoke: ProviderRevoke::NotNeeded,
        }));
    }
    // Some marketplaces revoke with the access token, which must be valid; a refresh the
    // marketplace refuses means the grant is gone already.
    let live = match services
        .tokens
        .refresher()
        .fresh(id, FreshnessWanted::default())
        .await
    {
        Ok(fresh) => Some(fresh.connection),
        Err(RefreshError::Revoked | RefreshError::Inactive(_)) => None,
        Err(error) => {
            tracing::warn!(%error, connection = %id, "disconnect: no fresh tokens; revoking with the stored ones");
            services.vault.get(id).await?.filter(|c| c.tokens.is_some())
        }
    };
    let outcome = match &live {
        None => ProviderRevoke::NotNeeded,
        Some(connection) => match revoke_at_provider(&services.prepared, connection).await {
            Ok(()) => ProviderRevoke::Done,
            Err(error) if error.is_transient() => {
                tracing::warn!(%error, connection = %id, "disconnect: the marketplace is unavailable; retrying later");
                ProviderRevoke::Pending
            }
            Err(error) => {
                tracing::warn!(%error, connection = %id, "disconnect: the marketplace refused the revoke");
                ProviderRevoke::Refused
            }
        },
    };
    let retry_at = matches!(outcome, ProviderRevoke::Pending).then(|| {
        services
            .clock
            .now()
            .plus(services.settings.tokens.revoke_retry)
    });
    let uninstalled = services.vault.uninstall(id, retry_at).await?;
    services.tokens.forget(id).await;
    let connection = match uninstalled {
        Some(connection) => {
            tracing::info!(connection = %id, revoke = ?outcome, "disconnected by the vendor");
            connection
        }
        // Someone else uninstalled it meanwhile (the marketplace's own notice, say).
        None => services.vault.get(id).await?.ok_or(AppError::NotFound)?,
    };
    Ok(HttpResponse::Ok().json(DisconnectResponse {
        connection: connection.into(),
        provider_revoke: outcome,
    }))
}
