//! What the vendor API, the operator console and the command line do to connections and
//! events, each written once here so that the three cannot disagree: list and find
//! connections, refresh a connection's tokens now, disconnect it (revoking its grant at the
//! marketplace), retry a revoke that failed, and queue failed events for delivery again.

use installgate_core::{
    AccountId, AppId, Connection, ConnectionFilter, ConnectionId, ConnectionStatus, MarketplaceKey,
    ProviderId, ProviderRevoke, VaultError, Workspace,
};
use installgate_store::Outbox;

use crate::errors::AppError;
use crate::services::Services;

/// A listing's filters as given (query parameters, form fields); every one given must match.
#[derive(Debug, Clone, Default)]
pub struct ConnectionQuery {
    pub app: Option<String>,
    pub provider: Option<String>,
    pub account: Option<String>,
    pub marketplace_key: Option<String>,
    pub status: Option<String>,
    pub workspace: Option<String>,
    pub never_expiring: bool,
}

fn bad(what: &str) -> AppError {
    AppError::BadRequest(format!("the {what} filter is not valid"))
}

impl ConnectionQuery {
    /// The filter, limited to the `visible` apps when the caller may see only those (an API
    /// key for some apps); a filter naming another app finds nothing.
    pub fn filter(&self, visible: Option<&[AppId]>) -> Result<ConnectionFilter, AppError> {
        fn parsed<T, E>(
            value: Option<&String>,
            what: &str,
            parse: impl Fn(&str) -> Result<T, E>,
        ) -> Result<Option<T>, AppError> {
            value
                .map(|text| parse(text.as_str()))
                .transpose()
                .map_err(|_| bad(what))
        }
        let app = parsed(self.app.as_ref(), "app", AppId::parse)?;
        let apps = match (app, visible) {
            (Some(app), Some(visible)) if !visible.contains(&app) => Some(Vec::new()),
            (Some(app), _) => Some(vec![app]),
            (None, Some(visible)) => Some(visible.to_vec()),
            (None, None) => None,
        };
        Ok(ConnectionFilter {
            id: None,
            apps,
            provider: parsed(self.provider.as_ref(), "provider", ProviderId::parse)?,
            account: parsed(self.account.as_ref(), "account", AccountId::parse)?,
            marketplace_key: parsed(
                self.marketplace_key.as_ref(),
                "marketplace_key",
                MarketplaceKey::parse,
            )?,
            status: parsed(self.status.as_ref(), "status", |status| {
                ConnectionStatus::parse(status).ok_or(())
            })?,
            never_expiring: self.never_expiring,
            workspace: match self.workspace.as_deref() {
                Some(id) if id.is_empty() || id.chars().count() > Workspace::MAX_CHARS => {
                    return Err(bad("workspace"));
                }
                other => other.map(str::to_owned),
            },
        })
    }
}

/// One page of connections matching `filter`, in id order, after `after`; and the cursor of
/// the next page when there is one.
pub async fn list_connections(
    services: &Services,
    filter: &ConnectionFilter,
    after: Option<ConnectionId>,
    limit: u32,
) -> Result<(Vec<Connection>, Option<ConnectionId>), AppError> {
    let mut connections = services.vault.list(filter, after, limit + 1).await?;
    let more = connections.len() > limit as usize;
    connections.truncate(limit as usize);
    let next = more
        .then(|| connections.last().map(|last| last.id))
        .flatten();
    Ok((connections, next))
}

/// The connection with `id` (without tokens) among those `filter` lets the caller see;
/// `NotFound` otherwise, so that ids the caller may not see cannot be told from unknown ones.
pub async fn find_connection(
    services: &Services,
    mut filter: ConnectionFilter,
    id: ConnectionId,
) -> Result<Connection, AppError> {
    filter.id = Some(id);
    services
        .vault
        .list(&filter, None, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// Refreshes the connection's tokens now, whatever their expiry (the API's `force_refresh`).
pub async fn refresh_now(services: &Services, id: ConnectionId) -> Result<(), AppError> {
    services
        .tokens
        .access_token(id, true)
        .await
        .map(|_| ())
        .map_err(|error| AppError::from(error.as_ref()))
}

/// Disconnects a connection found visible to the caller: its grant revoked at the marketplace
/// (retried in the background when the marketplace is down), the connection uninstalled, its
/// cached tokens forgotten on every replica.
pub async fn disconnect(
    services: &Services,
    connection: Connection,
) -> Result<(Connection, ProviderRevoke), AppError> {
    let id = connection.id;
    let already = connection.status == ConnectionStatus::Uninstalled;
    let (connection, revoke) = services
        .tokens
        .refresher()
        .disconnect(connection, services.settings.tokens.revoke_retry)
        .await?;
    if !already {
        services.tokens.forget(id).await;
    }
    Ok((connection, revoke))
}

/// Whether the connection is uninstalled with its grant still to be revoked at the marketplace.
pub async fn revoke_pending(services: &Services, id: ConnectionId) -> Result<bool, AppError> {
    let connection = services.vault.get(id).await?;
    Ok(connection.is_some_and(|connection| {
        connection.status == ConnectionStatus::Uninstalled && connection.tokens.is_some()
    }))
}

/// One more try at a revoke that failed, at once: `Ok(true)` when the marketplace took it;
/// `Conflict` when no revoke of this connection is waiting.
pub async fn retry_revoke(services: &Services, id: ConnectionId) -> Result<bool, AppError> {
    let connection = services.vault.get(id).await?.ok_or(AppError::NotFound)?;
    if connection.status != ConnectionStatus::Uninstalled || connection.tokens.is_none() {
        return Err(AppError::Conflict(
            "no revoke of this connection is waiting",
        ));
    }
    Ok(crate::tokens::background::retry_revocation(
        services.vault.as_ref(),
        &services.prepared,
        &connection,
        services.clock.now(),
        &services.settings.tokens,
    )
    .await)
}

/// Queues a failed event for delivery again; `false` when no failed event has that id.
pub async fn retry_event(
    outbox: &Outbox,
    id: &str,
    now: installgate_core::Timestamp,
) -> Result<bool, VaultError> {
    outbox.requeue(id, now).await
}

/// Queues every failed event of `app` for delivery again; how many.
pub async fn retry_failed_events(
    outbox: &Outbox,
    app: &str,
    now: installgate_core::Timestamp,
) -> Result<u64, VaultError> {
    outbox.requeue_failed_of_app(app, now).await
}
