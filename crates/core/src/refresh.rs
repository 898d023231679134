//! Token refresh: one refresh per connection at a time across every replica.
//!
//! A refresh runs under a [`RefreshLock`] lease held in the shared state store. The lease lives
//! longer than a provider call may take, so a live holder never loses it mid-call; a holder that
//! dies leaves it to expire. The write is fenced by the connection's revision: the new tokens are
//! stored only if nobody stored others since the holder read them, and they are stored before
//! the lease is released. Callers that find the lease taken wait for the holder's result by
//! re-reading the connection until its revision moves or the lease is free again.
//!
//! A refused refresh token (`invalid_grant`) is told apart from a lost race by re-reading it: if
//! the stored refresh token changed meanwhile, someone else refreshed and the stored tokens are
//! the answer; if it did not, the grant is gone and the connection becomes revoked.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    AppDirectory, Clock, Connection, ConnectionId, ConnectionStatus, ConnectionVault,
    ProviderError, StateStoreError, TokenSet, VaultError,
};

/// Proof of holding a connection's refresh lock: the value only the holder knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub connection: ConnectionId,
    pub holder: String,
}

/// A lock per connection, shared by every replica (or by every task of one process).
#[async_trait]
pub trait RefreshLock: Send + Sync + 'static {
    /// Takes the lock for `ttl` unless someone holds it.
    async fn try_acquire(
        &self,
        connection: ConnectionId,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateStoreError>;

    /// Gives the lock back, if it is still this lease's (an expired lease frees nothing).
    async fn release(&self, lease: &Lease) -> Result<(), StateStoreError>;
}

/// How refreshes behave.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    /// Tokens expiring within this margin are refreshed before they are handed out.
    pub margin: Duration,
    /// How long a lease lasts: longer than a provider call can take.
    pub lock_ttl: Duration,
    /// How long a caller waits for another holder's refresh before giving up with `Busy`.
    pub max_wait: Duration,
    /// How often a waiting caller looks again.
    pub poll: Duration,
    /// A forced refresh takes tokens stored this recently instead of refreshing again, so
    /// callers who all found one token refused share one refresh, on every replica.
    pub force_window: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(300),
            lock_ttl: Duration::from_secs(30),
            max_wait: Duration::from_secs(35),
            poll: Duration::from_millis(25),
            force_window: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no such connection")]
    NotFound,
    /// The connection holds no tokens (revoked or uninstalled).
    #[error("the connection is {}", .0.as_str())]
    Inactive(ConnectionStatus),
    /// The tokens expire and there is no refresh token to renew them with.
    #[error("the connection's tokens have expired and cannot be refreshed")]
    NotRefreshable,
    /// The provider refused the unchanged refresh token: the connection is now revoked.
    #[error("the provider revoked the grant")]
    Revoked,
    /// The provider did not answer, or answered 5xx; nothing changed.
    #[error("the provider is unavailable: {0}")]
    ProviderUnavailable(ProviderError),
    /// The provider answered with something else than new tokens; nothing changed.
    #[error("the provider failed the refresh: {0}")]
    ProviderFailed(ProviderError),
    /// The app of the connection is not configured any more.
    #[error("the connection's app is not configured")]
    UnknownApp,
    /// Another holder's refresh did not finish within the wait.
    #[error("another refresh of this connection is taking too long")]
    Busy,
    #[error("the refresh lock is unavailable: {0}")]
    Lock(#[from] StateStoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Whether tokens must be renewed before they are handed out.
pub fn expiring(tokens: &TokenSet, now: crate::Timestamp, margin: Duration) -> bool {
    tokens
        .expires_at
        .is_some_and(|expires_at| expires_at <= now.plus(margin))
}

/// Refreshes tokens under the cross-replica lock.
#[derive(Clone)]
pub struct Refresher {
    vault: Arc<dyn ConnectionVault>,
    lock: Arc<dyn RefreshLock>,
    apps: Arc<dyn AppDirectory>,
    clock: Arc<dyn Clock>,
    policy: RefreshPolicy,
}

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refresher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What a caller asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct FreshnessWanted {
    /// Refresh even if the tokens are not expiring, unless someone refreshed since `seen`.
    pub force: bool,
    /// The revision the caller last saw, if any.
    pub seen: Option<i64>,
    /// Refresh tokens expiring within this, instead of the policy's margin.
    pub within: Option<Duration>,
}

/// Usable tokens, and whether this call renewed them.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub connection: Connection,
    pub refreshed: bool,
}

impl Refresher {
    pub(crate) fn vault(&self) -> &dyn ConnectionVault {
        self.vault.as_ref()
    }

    pub(crate) fn apps(&self) -> &dyn AppDirectory {
        self.apps.as_ref()
    }

    pub(crate) fn lock(&self) -> &dyn RefreshLock {
        self.lock.as_ref()
    }

    pub(crate) fn now(&self) -> crate::Timestamp {
        self.clock.now()
    }

    pub fn new(
        vault: Arc<dyn ConnectionVault>,
        lock: Arc<dyn RefreshLock>,
        apps: Arc<dyn AppDirectory>,
        clock: Arc<dyn Clock>,
        policy: RefreshPolicy,
    ) -> Self {
        Self {
            vault,
            lock,
            apps,
            clock,
            policy,
        }
    }

    pub fn policy(&self) -> &RefreshPolicy {
        &self.policy
    }

    /// The connection with tokens that do not expire within the margin, refreshing first if
    /// needed (or if forced), under the lock.
    pub async fn fresh(
        &self,
        id: ConnectionId,
        wanted: FreshnessWanted,
    ) -> Result<Fresh, RefreshError> {
        let started = tokio::time::Instant::now();
        let mut seen = wanted.seen;
        loop {
            let connection = self.load(id).await?;
            let seen_revision = *seen.get_or_insert(connection.revision);
            if !self.needs_refresh(&connection, &wanted, seen_revision) {
                return Ok(Fresh {
                    connection,
                    refreshed: false,
                });
            }
            if let Some(lease) = self.lock.try_acquire(id, self.policy.lock_ttl).await? {
                let result = self.refresh_holding(id, &wanted, seen_revision).await;
                if let Err(error) = self.lock.release(&lease).await {
                    // The lease expires by itself; nothing is lost.
                    tracing::warn!(%error, connection = %id, "could not release a refresh lock");
                }
                return result;
            }
            if started.elapsed() >= self.policy.max_wait {
                return Err(RefreshError::Busy);
            }
            tokio::time::sleep(self.policy.poll).await;
        }
    }

    async fn load(&self, id: ConnectionId) -> Result<Connection, RefreshError> {
        let connection = self.vault.get(id).await?.ok_or(RefreshError::NotFound)?;
        if connection.tokens.is_none() || !connection.status.holds_tokens() {
            return Err(RefreshError::Inactive(connection.status));
        }
        Ok(connection)
    }

    fn needs_refresh(&self, connection: &Connection, wanted: &FreshnessWanted, seen: i64) -> bool {
        if wanted.force {
            return connection.revision <= seen && !self.renewed_lately(connection);
        }
        let margin = wanted.within.unwrap_or(self.policy.margin);
        connection
            .tokens
            .as_ref()
            .is_some_and(|tokens| expiring(tokens, self.clock.now(), margin))
    }

    /// Whether the connection's tokens were renewed after its install within the force window,
    /// here or on another replica: a forced refresh then takes them, as they are what it would
    /// fetch. (A first install's tokens are not counted: its row was never updated.)
    fn renewed_lately(&self, connection: &Connection) -> bool {
        connection.updated_at > connection.created_at
            && self.clock.now().since(connection.updated_at) < self.policy.force_window
    }

    /// With the lease held: read again (someone may have finished just before), refresh, and
    /// store the result fenced by the revision read.
    async fn refresh_holding(
        &self,
        id: ConnectionId,
        wanted: &FreshnessWanted,
        seen: i64,
    ) -> Result<Fresh, RefreshError> {
        let connection = self.load(id).await?;
        if !self.needs_refresh(&connection, wanted, seen) {
            return Ok(Fresh {
                connection,
                refreshed: false,
            });
        }
        let tokens = connection
            .tokens
            .clone()
            .ok_or(RefreshError::NotRefreshable)?;
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(RefreshError::NotRefreshable);
        };
        let (credentials, provider) = self
            .apps
            .lookup(&connection.app)
            .ok_or(RefreshError::UnknownApp)?;
        let answer = provider
            .refresh(&credentials.for_connection(&connection), &refresh_token)
            .await
            .and_then(|grant| {
                grant.check(provider.token_answers(), crate::TokenCall::Refresh)?;
                Ok(grant)
            });
        match answer {
            Ok(grant) => {
                let renewed = TokenSet {
                    access_token: grant.tokens.access_token,
                    // No refresh token in the answer: the old one stays valid.
                    refresh_token: grant.tokens.refresh_token.or(Some(refresh_token)),
                    expires_at: grant
                        .expires_in
                        .map(|expires_in| self.clock.now().plus(expires_in)),
                };
                let mut metadata = connection.metadata.clone();
                metadata.extend(grant.metadata);
                match self
                    .vault
                    .swap_tokens(id, connection.revision, renewed, Some(metadata))
                    .await?
                {
                    crate::TokenSwap::Swapped(stored) => Ok(Fresh {
                        connection: stored,
                        refreshed: true,
                    }),
                    crate::TokenSwap::Stale(stored) => {
                        tracing::warn!(connection = %id, "tokens changed during a refresh under the lock");
                        self.usable(stored)
                    }
                }
            }
            Err(ProviderError::InvalidGrant) => {
                // Revoked only if nobody stored other tokens since this refresh token was read.
                match self.vault.revoke_unchanged(id, connection.revision).await? {
                    Some(_) => {
                        tracing::info!(connection = %id, "the provider refused the refresh token: revoked");
                        Err(RefreshError::Revoked)
                    }
                    None => self.usable(self.load(id).await?),
                }
            }
            Err(error) if error.is_transient() => Err(RefreshError::ProviderUnavailable(error)),
            Err(error) => Err(RefreshError::ProviderFailed(error)),
        }
    }

    fn usable(&self, connection: Connection) -> Result<Fresh, RefreshError> {
        if connection.tokens.is_none() || !connection.status.holds_tokens() {
            return Err(RefreshError::Inactive(connection.status));
        }
        Ok(Fresh {
            connection,
            refreshed: false,
        })
    }
}
