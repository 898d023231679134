//! The audit log: what operators did in the console, and every failed sign-in. Entries are only
//! ever added.

use installgate_core::{Timestamp, VaultError};

use crate::Database;
use crate::database::{on_pool, sql_error};

/// An entry to add.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// The operator's email, or for a failed sign-in what was typed (cut to 200 characters).
    pub actor: &'a str,
    /// `sign_in`, `connection.disconnect`, `event.retry`, …
    pub action: &'a str,
    /// What the action was on (a connection id, an event id, an app), or empty.
    pub target: &'a str,
    /// `ok`, `refused`, or what went wrong.
    pub outcome: &'a str,
    /// The client address the request came from.
    pub client: &'a str,
}

/// An entry as the console and `installgate admin audit` show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub client: String,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    database: Database,
}

fn cut(text: &str) -> String {
    text.chars().take(200).collect()
}

impl AuditLog {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    pub async fn record(&self, entry: NewAuditEntry<'_>, at: Timestamp) -> Result<(), VaultError> {
        on_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, target, outcome, client) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(at.as_millis())
            .bind(cut(entry.actor))
            .bind(cut(entry.action))
            .bind(cut(entry.target))
            .bind(cut(entry.outcome))
            .bind(cut(entry.client))
            .execute(pool)
            .await
            .map_err(sql_error)?
                .rows_affected()
        });
        Ok(())
    }

    /// The newest entries first.
    pub async fn list(&self, limit: i64) -> Result<Vec<AuditEntry>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT seq, at, actor, action, target, outcome, client FROM audit_log \
                 ORDER BY seq DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }
}
