//! The vendor disconnects a connection: the grant is revoked at the marketplace (with fresh
//! tokens, since some marketplaces revoke with the access token), and the connection is
//! uninstalled at once, whether or not the marketplace answered.

use std::time::Duration;

use crate::{
    AppDirectory, Connection, ConnectionStatus, FreshnessWanted, ProviderError, RefreshError,
    Refresher, VaultError,
};

/// What became of the revoke at the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRevoke {
    /// The connection held no grant any more (uninstalled already, or refused as revoked).
    NotNeeded,
    Done,
    /// The marketplace was unavailable: retried later.
    Pending,
    /// The marketplace refused; nothing more is tried.
    Refused,
}

/// Revokes a connection's grant at its marketplace.
pub async fn revoke_at_provider(
    apps: &dyn AppDirectory,
    connection: &Connection,
) -> Result<(), ProviderError> {
    let Some(tokens) = &connection.tokens else {
        return Ok(());
    };
    let Some((credentials, provider)) = apps.lookup(&connection.app) else {
        return Err(ProviderError::Unacceptable(
            "the connection's app is not configured".into(),
        ));
    };
    provider
        .revoke(&credentials.for_connection(connection), tokens)
        .await
}

impl Refresher {
    /// Disconnects `connection` (already found visible to the caller): the revoke's outcome and
    /// the connection as it stays. A failed revoke that may succeed later is retried after
    /// `revoke_retry` by the revocation retries.
    pub async fn disconnect(
        &self,
        connection: Connection,
        revoke_retry: Duration,
    ) -> Result<(Connection, ProviderRevoke), VaultError> {
        let id = connection.id;
        if connection.status == ConnectionStatus::Uninstalled {
            return Ok((connection, ProviderRevoke::NotNeeded));
        }
        // A refresh the marketplace refuses means the grant is gone already.
        let live = match self.fresh(id, FreshnessWanted::default()).await {
            Ok(fresh) => Some(fresh.connection),
            Err(RefreshError::Revoked | RefreshError::Inactive(_)) => None,
            Err(error) => {
                tracing::warn!(%error, connection = %id, "disconnect: no fresh tokens; revoking with the stored ones");
                self.vault()
                    .get(id)
                    .await?
                    .filter(|connection| connection.tokens.is_some())
            }
        };
        let outcome = match &live {
            None => ProviderRevoke::NotNeeded,
            Some(connection) => match revoke_at_provider(self.apps(), connection).await {
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
        let retry_at = (outcome == ProviderRevoke::Pending).then(|| self.now().plus(revoke_retry));
        let stays = match self.vault().uninstall(id, retry_at).await? {
            Some(connection) => {
                tracing::info!(connection = %id, revoke = ?outcome, "disconnected by the vendor");
                connection
            }
            // Someone else uninstalled it meanwhile (the marketplace's own notice, say).
            None => self.vault().get(id).await?.ok_or(VaultError::NotFound)?,
        };
        Ok((stays, outcome))
    }
}
