//! `GET /api/v1/connections` and `GET /api/v1/connections/{id}`: connection metadata, never
//! tokens.

use actix_web::{HttpResponse, web};
use installgate_core::{
    AccountId, AppId, Connection, ConnectionFilter, ConnectionId, ConnectionStatus,
    ConnectionVault as _, MarketplaceKey, Metadata, ProviderId,
};
use serde::{Deserialize, Serialize};

use super::ApiClient;
use crate::errors::{ApiError, AppError};
use crate::services::Services;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// A connection as the API shows it.
#[derive(Debug, Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub app: String,
    pub provider: String,
    pub marketplace_key: String,
    pub account: Option<String>,
    pub status: ConnectionStatus,
    pub scopes: Vec<String>,
    pub metadata: Metadata,
    pub created_at: String,
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
            created_at: connection.created_at.to_rfc3339(),
            updated_at: connection.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ConnectionPage {
    pub data: Vec<ConnectionView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    app: Option<String>,
    provider: Option<String>,
    account: Option<String>,
    marketplace_key: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn bad(what: &str) -> AppError {
    AppError::BadRequest(format!("the {what} filter is not valid"))
}

impl ListQuery {
    fn filter(&self, client: &ApiClient) -> Result<ConnectionFilter, AppError> {
        let app = self
            .app
            .as_deref()
            .map(AppId::parse)
            .transpose()
            .map_err(|_| bad("app"))?;
        let apps = match (app, &client.apps) {
            (Some(app), _) if !client.may_see(&app) => Some(Vec::new()),
            (Some(app), _) => Some(vec![app]),
            (None, Some(allowed)) => Some(allowed.clone()),
            (None, None) => None,
        };
        Ok(ConnectionFilter {
            id: None,
            apps,
            provider: self
                .provider
                .as_deref()
                .map(ProviderId::parse)
                .transpose()
                .map_err(|_| bad("provider"))?,
            account: self
                .account
                .as_deref()
                .map(AccountId::parse)
                .transpose()
                .map_err(|_| bad("account"))?,
            marketplace_key: self
                .marketplace_key
                .as_deref()
                .map(MarketplaceKey::parse)
                .transpose()
                .map_err(|_| bad("marketplace_key"))?,
            status: self
                .status
                .as_deref()
                .map(|status| ConnectionStatus::parse(status).ok_or_else(|| bad("status")))
                .transpose()?,
        })
    }
}

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
    let mut connections = services.vault.list(&filter, after, limit + 1).await?;
    let more = connections.len() > limit as usize;
    connections.truncate(limit as usize);
    let next_cursor = more
        .then(|| connections.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(ConnectionPage {
        data: connections.into_iter().map(ConnectionView::from).collect(),
        next_cursor,
    }))
}

pub async fn get(
    services: web::Data<Services>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ConnectionId::parse(&path)
        .map_err(|_| AppError::BadRequest("the connection id is not valid".into()))?;
    let filter = ConnectionFilter {
        id: Some(id),
        apps: client.apps.clone(),
        ..ConnectionFilter::default()
    };
    let found = services
        .vault
        .list(&filter, None, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(ConnectionView::from(found)))
}
