//! Console sessions in the database, behind actix-session: every replica reads the same
//! sessions, and signing out deletes the session everywhere. The cookie carries a random key;
//! the database keeps only its SHA-256.

use std::sync::Arc;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use installgate_core::{Clock, StateToken, Timestamp};
use installgate_store::OperatorSessions;
use sha2::{Digest as _, Sha256};

type SessionState = std::collections::HashMap<String, String>;

#[derive(Clone)]
pub struct ConsoleSessionStore {
    pub sessions: OperatorSessions,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConsoleSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSessionStore")
    }
}

fn digest(key: &SessionKey) -> String {
    let hash = Sha256::digest(key.as_ref().as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl ConsoleSessionStore {
    fn expiry(&self, ttl: &Duration) -> Timestamp {
        let seconds = u64::try_from(ttl.whole_seconds()).unwrap_or(1).max(1);
        self.clock
            .now()
            .plus(std::time::Duration::from_secs(seconds))
    }
}

impl SessionStore for ConsoleSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let state = self
            .sessions
            .load(&digest(key), self.clock.now())
            .await
            .map_err(|error| LoadError::Other(error.into()))?;
        state
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|error| LoadError::Deserialization(error.into()))
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let json = serde_json::to_string(&state)
            .map_err(|error| SaveError::Serialization(error.into()))?;
        let token = StateToken::generate().map_err(|error| SaveError::Other(error.into()))?;
        let key = SessionKey::try_from(token.expose().to_owned())
            .map_err(|error| SaveError::Other(error.into()))?;
        self.sessions
            .save(&digest(&key), &json, self.expiry(ttl))
            .await
            .map_err(|error| SaveError::Other(error.into()))?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let json = serde_json::to_string(&state)
            .map_err(|error| UpdateError::Serialization(error.into()))?;
        // A session that ended meanwhile stays ended: the change is dropped.
        self.sessions
            .replace(&digest(&key), &json, self.expiry(ttl))
            .await
            .map_err(|error| UpdateError::Other(error.into()))?;
        Ok(key)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        Ok(self.sessions.extend(&digest(key), self.expiry(ttl)).await?)
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        Ok(self.sessions.delete(&digest(key)).await?)
    }
}
