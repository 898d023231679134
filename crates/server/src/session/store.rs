//! Where session state lives: in Redis (over the gateway's own Redis connection, with its
//! timeouts) when the state backend is Redis, otherwise in an encrypted cookie.
//!
//! A Redis session's idle timeout is extended by the read that loads it (`GETEX`), so a request
//! that leaves the session unchanged costs one round trip, not a read and then a `PEXPIRE`; and
//! none when the replica has a copy (`cache`). Every change to a Redis session, and its end,
//! is announced to the other replicas, which drop their copies.

use actix_session::storage::{
    CookieSessionStore, LoadError, SaveError, SessionKey, SessionStore, UpdateError,
};
use actix_web::cookie::time::Duration;
use installgate_core::{StateStoreError, StateToken};
use installgate_store::RedisStateStore;

use super::cache::{SessionCache, SessionState, digest};

pub enum GatewaySessionStore {
    Cookie(CookieSessionStore),
    Redis {
        redis: RedisStateStore,
        /// The idle timeout, which every load extends the record's life to.
        idle: std::time::Duration,
        /// This replica's copies of the sessions it read lately.
        cache: SessionCache,
    },
}

fn ttl(duration: &Duration) -> std::time::Duration {
    std::time::Duration::from_secs(u64::try_from(duration.whole_seconds()).unwrap_or(1).max(1))
}

fn new_key() -> Result<SessionKey, anyhow::Error> {
    let token = StateToken::generate()?;
    SessionKey::try_from(token.expose().to_owned()).map_err(anyhow::Error::from)
}

impl std::fmt::Debug for GatewaySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cookie(_) => "GatewaySessionStore::Cookie",
            Self::Redis { .. } => "GatewaySessionStore::Redis",
        })
    }
}

impl SessionStore for GatewaySessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        match self {
            Self::Cookie(store) => store.load(key).await,
            Self::Redis { redis, idle, cache } => {
                let digest = digest(key.as_ref());
                if let Some(state) = cache.get(&digest) {
                    return Ok(Some(state));
                }
                let start = cache.read_start();
                let value = redis
                    .session_get(key.as_ref(), *idle)
                    .await
                    .map_err(|error| LoadError::Other(error.into()))?;
                let Some(json) = value else { return Ok(None) };
                let state: SessionState = serde_json::from_str(&json)
                    .map_err(|error| LoadError::Deserialization(error.into()))?;
                cache.keep(digest, &state, start);
                Ok(Some(state))
            }
        }
    }

    async fn save(
        &self,
        state: SessionState,
        duration: &Duration,
    ) -> Result<SessionKey, SaveError> {
        match self {
            Self::Cookie(store) => store.save(state, duration).await,
            Self::Redis { redis, cache, .. } => {
                let json = serde_json::to_string(&state)
                    .map_err(|error| SaveError::Serialization(error.into()))?;
                let key = new_key().map_err(SaveError::Other)?;
                let start = cache.read_start();
                let stored = redis
                    .session_set(key.as_ref(), &json, ttl(duration), true)
                    .await
                    .map_err(|error| SaveError::Other(error.into()))?;
                if stored {
                    // The next request (after a sign-in, often the install it was for) finds it.
                    cache.keep(digest(key.as_ref()), &state, start);
                    Ok(key)
                } else {
                    Err(SaveError::Other(anyhow::anyhow!("a session key collided")))
                }
            }
        }
    }

    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        duration: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self {
            Self::Cookie(store) => store.update(key, state, duration).await,
            Self::Redis { redis, cache, .. } => {
                let json = serde_json::to_string(&state)
                    .map_err(|error| UpdateError::Serialization(error.into()))?;
                // Over the existing record only: a request served from a copy after the session
                // ended elsewhere must not bring it back. Such a change is dropped, and the
                // next request finds no session.
                let write = redis.session_set(key.as_ref(), &json, ttl(duration), false);
                changing(redis, cache, key.as_ref(), write)
                    .await
                    .map_err(UpdateError::Other)?;
                Ok(key)
            }
        }
    }

    async fn update_ttl(&self, key: &SessionKey, duration: &Duration) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie(store) => store.update_ttl(key, duration).await,
            // `load` extended it already, to the same idle timeout, or did so when it made the
            // copy it answered from (at most `session.cache_seconds` ago).
            Self::Redis { .. } => Ok(()),
        }
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie(store) => store.delete(key).await,
            Self::Redis { redis, cache, .. } => {
                let write = redis.session_delete(key.as_ref());
                changing(redis, cache, key.as_ref(), write).await
            }
        }
    }
}

/// Changes the session of `key` by `write`: drops this replica's copy first, so that it is not
/// answered from while the write runs, and again once the write is done, whether it succeeded
/// or not (a command that timed out may have been applied; a read that overlapped the write
/// keeps no copy), then tells the other replicas to drop theirs. They are told even when this
/// replica keeps no copies: another one, configured otherwise, may.
async fn changing<T>(
    redis: &RedisStateStore,
    cache: &SessionCache,
    key: &str,
    write: impl Future<Output = Result<T, StateStoreError>>,
) -> Result<(), anyhow::Error> {
    let digest = digest(key);
    cache.forget(&digest);
    let written = write.await;
    cache.forget(&digest);
    redis.announce_session_change(&digest).await?;
    written?;
    Ok(())
}
