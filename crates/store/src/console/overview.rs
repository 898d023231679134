//! The overview's reads: events by app and type over a window, connections by status, and the
//! webhook backlog. An event's app is its connection's (events are ordered by connection).

use installgate_core::{Timestamp, VaultError};

use crate::Database;
use crate::database::{on_pool, sql_error};

/// A count of something (an event type, a status) for one app and provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppTally {
    pub app: String,
    pub provider: String,
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone)]
pub struct Overview {
    database: Database,
}

impl Overview {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Events written since `since`, by app, provider and event type.
    pub async fn events_since(&self, since: Timestamp) -> Result<Vec<AppTally>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT c.app AS app, c.provider AS provider, e.event_type AS name, \
                        COUNT(*) AS count \
                 FROM events e JOIN connections c ON c.id = e.ordering_key \
                 WHERE e.created_at >= $1 \
                 GROUP BY c.app, c.provider, e.event_type ORDER BY c.app, c.provider, e.event_type",
            )
            .bind(since.as_millis())
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }

    /// One event type's events for `app` since `since`, per bucket of `bucket_ms`
    /// (`(bucket start, count)`, oldest first).
    pub async fn event_series(
        &self,
        app: &str,
        event_type: &str,
        since: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, i64)>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT (e.created_at / $4) * $4 AS bucket, COUNT(*) \
                 FROM events e JOIN connections c ON c.id = e.ordering_key \
                 WHERE c.app = $1 AND e.event_type = $2 AND e.created_at >= $3 \
                 GROUP BY bucket ORDER BY bucket",
            )
            .bind(app)
            .bind(event_type)
            .bind(since.as_millis())
            .bind(bucket_ms)
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }

    /// Connections by app, provider and status.
    pub async fn connection_statuses(&self) -> Result<Vec<AppTally>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT app, provider, status AS name, COUNT(*) AS count FROM connections \
                 GROUP BY app, provider, status ORDER BY app, provider, status",
            )
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }

    /// Undelivered events by app and provider: `waiting` (to be sent or sent again) and
    /// `failed` (given up).
    pub async fn deliveries(&self) -> Result<Vec<AppTally>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT c.app AS app, c.provider AS provider, \
                        CASE WHEN e.failed_at IS NULL THEN 'waiting' ELSE 'failed' END AS name, \
                        COUNT(*) AS count \
                 FROM events e JOIN connections c ON c.id = e.ordering_key \
                 WHERE e.delivered_at IS NULL \
                 GROUP BY c.app, c.provider, name ORDER BY c.app, c.provider, name",
            )
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }
}
