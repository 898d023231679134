//! `DELETE /api/v1/connections/{id}`: the vendor disconnects a customer. The grant is revoked at
//! the marketplace, the connection marked uninstalled and its tokens deleted, and
//! `installation.uninstalled` written. A marketplace that is down does not stop the disconnect:
//! the connection is uninstalled at once, and the revoke retried in the background with the
//! sealed tokens kept only for that.

use actix_web::{HttpResponse, web};
use installgate_core::ProviderRevoke as Revoked;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiClient;
use super::connections::{self, ConnectionView};
use crate::errors::{ApiError, ErrorBody};
use crate::services::Services;

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

impl From<Revoked> for ProviderRevoke {
    fn from(revoked: Revoked) -> Self {
        match revoked {
            Revoked::Done => Self::Done,
            Revoked::Pending => Self::Pending,
            Revoked::NotNeeded => Self::NotNeeded,
            Revoked::Refused => Self::Refused,
        }
    }
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
    let (connection, revoke) = crate::operations::disconnect(&services, visible).await?;
    Ok(HttpResponse::Ok().json(DisconnectResponse {
        connection: connection.into(),
        provider_revoke: revoke.into(),
    }))
}
