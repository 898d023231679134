//! Moving a connection from an access token that never expires to an expiring one with a
//! refresh token, where the marketplace offers that and will stop accepting the old kind
//! (Shopify's public apps, from 2027-01-01).

use crate::{ConnectionId, ProviderError, RefreshError, Refresher, TokenSet};

impl Refresher {
    /// Trades `id`'s never-expiring access token for an expiring one, under the connection's
    /// refresh lock (so that replicas upgrading at once make one call). Whether it was upgraded:
    /// `false` when its token expires already, the marketplace offers no upgrade, or another
    /// replica holds the lock right now (the next pass tries again).
    pub async fn upgrade(&self, id: ConnectionId) -> Result<bool, RefreshError> {
        let Some(lease) = self.lock().try_acquire(id, self.policy().lock_ttl).await? else {
            return Ok(false);
        };
        let result = self.upgrade_holding(id).await;
        if let Err(error) = self.lock().release(&lease).await {
            tracing::warn!(%error, connection = %id, "could not release a refresh lock");
        }
        result
    }

    async fn upgrade_holding(&self, id: ConnectionId) -> Result<bool, RefreshError> {
        let connection = self.vault().get(id).await?.ok_or(RefreshError::NotFound)?;
        let Some(tokens) = connection.tokens.clone() else {
            return Err(RefreshError::Inactive(connection.status));
        };
        if tokens.expires_at.is_some() || !connection.status.holds_tokens() {
            return Ok(false);
        }
        let (credentials, provider) = self
            .apps()
            .lookup(&connection.app)
            .ok_or(RefreshError::UnknownApp)?;
        let answer = provider
            .upgrade_token(&credentials.for_connection(&connection), &tokens)
            .await;
        let grant = match answer {
            Ok(Some(grant)) => grant,
            Ok(None) => return Ok(false),
            Err(error) if error.is_transient() => {
                return Err(RefreshError::ProviderUnavailable(error));
            }
            Err(error) => return Err(RefreshError::ProviderFailed(error)),
        };
        let checked = grant
            .check(provider.token_answers(), crate::TokenCall::Exchange)
            .map_err(RefreshError::ProviderFailed)
            .and_then(|()| match (&grant.tokens.refresh_token, grant.expires_in) {
                (Some(_), Some(_)) => Ok(()),
                _ => Err(RefreshError::ProviderFailed(ProviderError::Unacceptable(
                    "an upgraded token must expire and come with a refresh token".into(),
                ))),
            });
        checked?;
        let upgraded = TokenSet {
            access_token: grant.tokens.access_token,
            refresh_token: grant.tokens.refresh_token,
            expires_at: grant.expires_in.map(|lifetime| self.now().plus(lifetime)),
        };
        // The marketplace retired the old token with this exchange: the new pair must be stored
        // even if the connection changed meanwhile (a claim, a status change), as long as it
        // still holds the token that was exchanged.
        let mut revision = connection.revision;
        loop {
            match self
                .vault()
                .swap_tokens(id, revision, upgraded.clone(), None)
                .await?
            {
                crate::TokenSwap::Swapped(_) => {
                    tracing::info!(connection = %id, "upgraded to an expiring token");
                    return Ok(true);
                }
                crate::TokenSwap::Stale(now) => {
                    let unchanged = now
                        .tokens
                        .as_ref()
                        .is_some_and(|held| held.access_token == tokens.access_token);
                    if !unchanged || now.revision == revision {
                        tracing::error!(connection = %id, "the tokens changed while they were upgraded; the upgraded ones were not stored");
                        return Ok(false);
                    }
                    revision = now.revision;
                }
            }
        }
    }
}
