//! Access tokens for the vendor API: a small in-process cache of decrypted access tokens in
//! front of the [`Refresher`], and word to the other replicas whenever tokens change.
//!
//! The cache holds a token only while it is valid beyond the refresh margin, and an entry is
//! dropped whenever this or another replica refreshes, revokes or disconnects the connection
//! (other replicas hear of it over Redis pub/sub). Concurrent requests for a token that is not
//! cached share one load (and at most one refresh) per process; across replicas the refresh
//! lock does the same.

pub mod background;
pub mod news;

use std::sync::Arc;
use std::time::Duration;

use installgate_core::{
    AccessToken, AppId, Clock, Connection, ConnectionId, Fresh, FreshnessWanted, RefreshError,
    Refresher, Timestamp,
};
use installgate_store::RedisStateStore;
use moka::future::Cache;

/// A decrypted access token as the API hands it out.
#[derive(Debug)]
pub struct CachedToken {
    pub app: AppId,
    pub access_token: AccessToken,
    pub expires_at: Option<Timestamp>,
    /// `expires_at` in RFC 3339, as the API answers it: formatted once, when cached.
    pub expires_at_rfc3339: Option<String>,
    /// The account's own API base URL (`api_domain` in the connection's metadata), where the
    /// marketplace gives one.
    pub api_domain: Option<String>,
    pub revision: i64,
    /// How long the cache may keep it (until the refresh margin begins).
    keep_for: Duration,
}

struct KeepWhileValid;

impl moka::Expiry<ConnectionId, Arc<CachedToken>> for KeepWhileValid {
    fn expire_after_create(
        &self,
        _key: &ConnectionId,
        value: &Arc<CachedToken>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.keep_for)
    }
}

/// Longest a token stays cached even if it never expires.
const LONGEST_KEEP: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Tokens {
    cache: Cache<ConnectionId, Arc<CachedToken>>,
    refresher: Refresher,
    clock: Arc<dyn Clock>,
    /// Present with the Redis backend: other replicas hear of changes.
    redis: Option<RedisStateStore>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("cached", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(
        refresher: Refresher,
        clock: Arc<dyn Clock>,
        capacity: u64,
        redis: Option<RedisStateStore>,
    ) -> Self {
        let cache = Cache::builder()
            .max_capacity(capacity)
            .expire_after(KeepWhileValid)
            .build();
        Self {
            cache,
            refresher,
            clock,
            redis,
        }
    }

    pub fn refresher(&self) -> &Refresher {
        &self.refresher
    }

    fn margin(&self) -> Duration {
        self.refresher.policy().margin
    }

    fn usable(&self, token: &CachedToken) -> bool {
        token
            .expires_at
            .is_none_or(|expires_at| expires_at > self.clock.now().plus(self.margin()))
    }

    /// The cached token of `id`, if it is still valid beyond the margin.
    pub async fn cached(&self, id: ConnectionId) -> Option<Arc<CachedToken>> {
        let token = self.cache.get(&id).await?;
        if self.usable(&token) {
            Some(token)
        } else {
            None
        }
    }

    /// A token valid beyond the margin, refreshing first if needed (or if `force`).
    pub async fn access_token(
        &self,
        id: ConnectionId,
        force: bool,
    ) -> Result<Arc<CachedToken>, Arc<RefreshError>> {
        let seen = self.cache.get(&id).await.map(|token| token.revision);
        if force {
            // Not shared with concurrent callers: a forced refresh must not be satisfied by a
            // load that began before it. The refresh lock still lets only one of them refresh.
            let wanted = FreshnessWanted {
                force: true,
                seen,
                within: None,
            };
            let fresh = self.refresher.fresh(id, wanted).await.map_err(Arc::new);
            return self.settle(id, fresh).await;
        }
        if let Some(token) = self.cached(id).await {
            return Ok(token);
        }
        self.cache.invalidate(&id).await;
        let this = self.clone();
        self.cache
            .try_get_with(id, async move {
                let fresh = this
                    .refresher
                    .fresh(id, FreshnessWanted::default())
                    .await
                    .map_err(Arc::new);
                this.after_refresh(id, fresh).await
            })
            .await
            .map_err(|error: Arc<Arc<RefreshError>>| (*error).clone())
    }

    /// Renews the tokens of `id` if they expire within `within` (the background refresher).
    pub async fn renew_expiring(
        &self,
        id: ConnectionId,
        within: Duration,
    ) -> Result<bool, RefreshError> {
        let wanted = FreshnessWanted {
            force: false,
            seen: None,
            within: Some(within),
        };
        let fresh = self.refresher.fresh(id, wanted).await;
        if matches!(fresh, Err(RefreshError::Revoked)) {
            self.forget(id).await;
        }
        let fresh = fresh?;
        if fresh.refreshed {
            self.cache.invalidate(&id).await;
            self.announce(id).await;
        }
        Ok(fresh.refreshed)
    }

    /// Moves `id` from an access token that never expires to an expiring one, where its
    /// marketplace offers that; whether it did.
    pub async fn upgrade(&self, id: ConnectionId) -> Result<bool, RefreshError> {
        let upgraded = self.refresher.upgrade(id).await?;
        if upgraded {
            self.cache.invalidate(&id).await;
            self.announce(id).await;
        }
        Ok(upgraded)
    }

    async fn settle(
        &self,
        id: ConnectionId,
        fresh: Result<Fresh, Arc<RefreshError>>,
    ) -> Result<Arc<CachedToken>, Arc<RefreshError>> {
        let token = self.after_refresh(id, fresh).await?;
        self.cache.insert(id, token.clone()).await;
        Ok(token)
    }

    /// Tells the other replicas about a refresh or a revocation, and turns the connection into
    /// what the cache holds.
    async fn after_refresh(
        &self,
        id: ConnectionId,
        fresh: Result<Fresh, Arc<RefreshError>>,
    ) -> Result<Arc<CachedToken>, Arc<RefreshError>> {
        match fresh {
            Ok(fresh) => {
                if fresh.refreshed {
                    self.announce(id).await;
                }
                let status = fresh.connection.status;
                self.to_cached(fresh.connection)
                    .map(Arc::new)
                    .ok_or_else(|| Arc::new(RefreshError::Inactive(status)))
            }
            Err(error) => {
                if matches!(*error, RefreshError::Revoked | RefreshError::Inactive(_)) {
                    self.forget(id).await;
                }
                Err(error)
            }
        }
    }

    fn to_cached(&self, connection: Connection) -> Option<CachedToken> {
        let tokens = connection.tokens?;
        let keep_for = match tokens.expires_at {
            Some(expires_at) => {
                let until = expires_at.minus(self.margin());
                let now = self.clock.now();
                if until > now {
                    until.since(now).min(LONGEST_KEEP)
                } else {
                    Duration::ZERO
                }
            }
            None => LONGEST_KEEP,
        };
        Some(CachedToken {
            app: connection.app,
            access_token: tokens.access_token,
            expires_at: tokens.expires_at,
            expires_at_rfc3339: tokens.expires_at.map(Timestamp::to_rfc3339),
            api_domain: connection.metadata.get("api_domain").cloned(),
            revision: connection.revision,
            keep_for,
        })
    }

    /// Drops the cached token of `id` here and on every other replica: its tokens changed
    /// (disconnected, uninstalled, revoked).
    pub async fn forget(&self, id: ConnectionId) {
        self.cache.invalidate(&id).await;
        self.announce(id).await;
    }

    async fn announce(&self, id: ConnectionId) {
        if let Some(redis) = &self.redis
            && let Err(error) = redis.announce_token_change(id).await
        {
            // Other replicas' copies still end at the refresh margin.
            tracing::warn!(%error, connection = %id, "could not tell other replicas of a token change");
        }
    }

    /// Drops one entry without telling anyone (another replica told us).
    pub async fn drop_local(&self, id: ConnectionId) {
        self.cache.invalidate(&id).await;
    }

    pub fn drop_all_local(&self) {
        self.cache.invalidate_all();
    }
}
