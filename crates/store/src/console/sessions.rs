//! Console sessions, kept in the database so that every replica knows them and signing out
//! ends them everywhere. A session is found by the digest of its cookie's key (the key itself is
//! never stored); its state is a JSON object.

use installgate_core::{Timestamp, VaultError};

use crate::Database;
use crate::database::{on_pool, sql_error};

#[derive(Debug, Clone)]
pub struct OperatorSessions {
    database: Database,
}

impl OperatorSessions {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// The state of the live session with this key digest.
    pub async fn load(&self, key_hash: &str, now: Timestamp) -> Result<Option<String>, VaultError> {
        let row: Option<(String,)> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT state FROM operator_sessions WHERE key_hash = $1 AND expires_at > $2",
            )
            .bind(key_hash)
            .bind(now.as_millis())
            .fetch_optional(pool)
            .await
            .map_err(sql_error)?
        });
        Ok(row.map(|(state,)| state))
    }

    /// Stores a session's state until `expires_at`, replacing what its key held.
    pub async fn save(
        &self,
        key_hash: &str,
        state: &str,
        expires_at: Timestamp,
    ) -> Result<(), VaultError> {
        on_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO operator_sessions (key_hash, state, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key_hash) DO UPDATE SET state = $2, expires_at = $3",
            )
            .bind(key_hash)
            .bind(state)
            .bind(expires_at.as_millis())
            .execute(pool)
            .await
            .map_err(sql_error)?
                .rows_affected()
        });
        Ok(())
    }

    /// Replaces the state of a session that still exists: `false` when it ended meanwhile (a
    /// request that overlapped a sign-out must not bring the session back).
    pub async fn replace(
        &self,
        key_hash: &str,
        state: &str,
        expires_at: Timestamp,
    ) -> Result<bool, VaultError> {
        let updated = on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE operator_sessions SET state = $2, expires_at = $3 WHERE key_hash = $1",
            )
            .bind(key_hash)
            .bind(state)
            .bind(expires_at.as_millis())
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Moves a live session's expiry.
    pub async fn extend(&self, key_hash: &str, expires_at: Timestamp) -> Result<(), VaultError> {
        on_pool!(&self.database, pool => {
            sqlx::query("UPDATE operator_sessions SET expires_at = $2 WHERE key_hash = $1")
                .bind(key_hash)
                .bind(expires_at.as_millis())
                .execute(pool)
                .await
                .map_err(sql_error)?
                .rows_affected()
        });
        Ok(())
    }

    pub async fn delete(&self, key_hash: &str) -> Result<(), VaultError> {
        on_pool!(&self.database, pool => {
            sqlx::query("DELETE FROM operator_sessions WHERE key_hash = $1")
                .bind(key_hash)
                .execute(pool)
                .await
                .map_err(sql_error)?
                .rows_affected()
        });
        Ok(())
    }

    /// Deletes sessions that expired before `now`; how many.
    pub async fn delete_expired(&self, now: Timestamp) -> Result<u64, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query("DELETE FROM operator_sessions WHERE expires_at <= $1")
                .bind(now.as_millis())
                .execute(pool)
                .await
                .map_err(sql_error)?
                .rows_affected()
        }))
    }
}
