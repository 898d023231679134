//! Where session state lives: in Redis (over the gateway's own Redis connection, with its
//! timeouts) when the state backend is Redis, otherwise in an encrypted cookie.
//!
//! A Redis session's idle timeout is extended by the read that loads it (`GETEX`), so a request
//! that leaves the session unchanged costs one round trip, not a read and then a `PEXPIRE`.

use std::collections::HashMap;

use actix_session::storage::{
    CookieSessionStore, LoadError, SaveError, SessionKey, SessionStore, UpdateError,
};
use actix_web::cookie::time::Duration;
use installgate_core::StateToken;
use installgate_store::RedisStateStore;

type SessionState = HashMap<String, String>;

pub enum GatewaySessionStore {
    Cookie(CookieSessionStore),
    Redis {
        redis: RedisStateStore,
        /// The idle timeout, which every load extends the record's life to.
        idle: std::time::Duration,
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
            Self::Redis { redis, idle } => {
                let value = redis
                    .session_get(key.as_ref(), *idle)
                    .await
                    .map_err(|error| LoadError::Other(error.into()))?;
                match value {
                    None => Ok(None),
                    Some(json) => serde_json::from_str(&json)
                        .map(Some)
                        .map_err(|error| LoadError::Deserialization(error.into())),
                }
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
            Self::Redis { redis, .. } => {
                let json = serde_json::to_string(&state)
                    .map_err(|error| SaveError::Serialization(error.into()))?;
                let key = new_key().map_err(SaveError::Other)?;
                let stored = redis
                    .session_set(key.as_ref(), &json, ttl(duration), true)
                    .await
                    .map_err(|error| SaveError::Other(error.into()))?;
                if stored {
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
            Self::Redis { redis, .. } => {
                let json = serde_json::to_string(&state)
                    .map_err(|error| UpdateError::Serialization(error.into()))?;
                redis
                    .session_set(key.as_ref(), &json, ttl(duration), false)
                    .await
                    .map_err(|error| UpdateError::Other(error.into()))?;
                Ok(key)
            }
        }
    }

    async fn update_ttl(&self, key: &SessionKey, duration: &Duration) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie(store) => store.update_ttl(key, duration).await,
            // `load` extended it already, to the same idle timeout.
            Self::Redis { .. } => Ok(()),
        }
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie(store) => store.delete(key).await,
            Self::Redis { redis, .. } => Ok(redis.session_delete(key.as_ref()).await?),
        }
    }
}
