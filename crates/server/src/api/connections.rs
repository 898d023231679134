//! `GET /api/v1/connections` and `GET /api/v1/connections/{id}`: connection metadata, never
//! tokens.

use actix_web::{HttpResponse, web};
use installgate_core::{Connection, ConnectionFilter, ConnectionId, ConnectionStatus, Metadata};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiClient;
use crate::errors::{ApiError, AppError, ErrorBody};
use crate::operations::ConnectionQuery;
use crate::services::Services;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn status_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["pending", "active", "revoked", "uninstalled"]))
        .description(Some(
            "pending: installed but not yet claimed by a vendor account; active; revoked: the \
             marketplace no longer honours the grant; uninstalled",
        ))
        .build()
}

/// A connection as the API shows it: never its tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    pub id: String,
    pub app: String,
    /// The marketplace's provider id, as in the app's configuration.
    pub provider: String,
    /// The marketplace account, in the marketplace's own terms (a portal id, `company:user`, …).
    pub marketplace_key: String,
    /// The vendor account it is attached to; `null` while pending.
    pub account: Option<String>,
    #[schema(schema_with = status_schema)]
    pub status: ConnectionStatus,
    pub scopes: Vec<String>,
    /// Marketplace facts (`hublet`, `api_domain`, `company_name`, …).
    pub metadata: Metadata,
    /// The workspace of the vendor's product the install landed in, when the vendor named
    /// workspaces; `null` otherwise.
    pub workspace: Option<WorkspaceView>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<Connection> for ConnectionView {
    fn from(connection: Connection) -> Self {
        Self {
            id: connection.id.to_string(),
            app: connection.app.to_string(),
            provider: connection.provider.to_string(),
            marketplace_key: connection.marketplace_key.as_str().to_owned(),
            account: connection.account.map(|account| account.to_string()),
            status: connection.status,
            scopes: connection.scopes,
            metadata: connection.metadata,
            workspace: connection.workspace.map(|workspace| WorkspaceView {
                id: workspace.id,
                name: workspace.name,
            }),
            created_at: connection.created_at.to_rfc3339(),
            updated_at: connection.updated_at.to_rfc3339(),
        }
    }
}

/// A workspace of the vendor's product.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionPage {
    pub data: Vec<ConnectionView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Filters of a listing; every one given must match. Unknown parameters are refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// An app id.
    app: Option<String>,
    /// The marketplace's provider id, as in the app's configuration.
    provider: Option<String>,
    /// A vendor account id.
    account: Option<String>,
    /// A marketplace account key.
    marketplace_key: Option<String>,
    /// `pending`, `active`, `revoked` or `uninstalled`.
    status: Option<String>,
    /// `true`: only connections whose access token never expires (to move them to expiring
    /// tokens where the marketplace requires it).
    never_expiring: Option<bool>,
    /// A workspace id, as the vendor named it.
    workspace: Option<String>,
    /// 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self, client: &ApiClient) -> Result<ConnectionFilter, AppError> {
        let query = ConnectionQuery {
            app: self.app.clone(),
            provider: self.provider.clone(),
            account: self.account.clone(),
            marketplace_key: self.marketplace_key.clone(),
            status: self.status.clone(),
            workspace: self.workspace.clone(),
            never_expiring: self.never_expiring.unwrap_or(false),
        };
        query.filter(client.apps.as_deref())
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/connections",
    tag = "connections",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of connections, in id order", body = ConnectionPage),
        (status = 400, description = "A filter, the limit or the cursor is not valid", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    services: web::Data<Services>,
    client: ApiClient,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter(&client)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(
            AppError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")).into(),
        );
    }
    let after = query
        .cursor
        .as_deref()
        .map(ConnectionId::parse)
        .transpose()
        .map_err(|_| AppError::BadRequest("the cursor is not valid".into()))?;
    let (connections, next) =
        crate::operations::list_connections(&services, &filter, after, limit).await?;
    Ok(HttpResponse::Ok().json(ConnectionPage {
        data: connections.into_iter().map(ConnectionView::from).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// A connection id from a path.
pub fn parse_id(input: &str) -> Result<ConnectionId, AppError> {
    ConnectionId::parse(input)
        .map_err(|_| AppError::BadRequest("the connection id is not valid".into()))
}

/// The connection (without tokens) if this key may see it; `NotFound` otherwise, so that ids of
/// other apps' connections cannot be told from unknown ones.
pub async fn find_visible(
    services: &Services,
    client: &ApiClient,
    id: ConnectionId,
) -> Result<Connection, AppError> {
    let filter = ConnectionFilter {
        apps: client.apps.clone(),
        ..ConnectionFilter::default()
    };
    crate::operations::find_connection(services, filter, id).await
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}",
    tag = "connections",
    params(("id" = String, Path, description = "The connection id (a UUID)")),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such connection for this key", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    services: web::Data<Services>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let connection = find_visible(&services, &client, parse_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(connection)))
}
