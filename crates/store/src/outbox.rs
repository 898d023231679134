//! The delivery side of the event outbox: claiming due events under a lease, and recording what
//! became of each delivery.
//!
//! Only the oldest undelivered event of each ordering key (a connection) can be claimed, so
//! events of one connection go out in the order they were written. A claim is a lease: a worker
//! that dies leaves its events to be claimed again once the lease ends. Several workers on one
//! database never hold the same event at the same time.

use std::time::Duration;

use installgate_core::{Timestamp, VaultError};

use crate::Database;
use crate::database::{on_pool, sql_error};

/// An event claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingEvent {
    pub seq: i64,
    pub id: String,
    pub event_type: String,
    pub payload: String,
    /// When the event was written, or last queued again by an operator: its give-up age counts
    /// from then.
    pub created_at: i64,
    /// Delivery attempts so far, this one included.
    pub attempts: i64,
}

/// An event as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    pub event_type: String,
    pub ordering_key: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

/// Which events a search finds; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub state: Option<EventState>,
    /// Events of this app's connections.
    pub app: Option<String>,
    /// Events of this connection.
    pub connection: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    /// Given up: waiting for an operator's retry.
    Failed,
    /// Not delivered yet, after at least one failed attempt.
    Retrying,
    /// Failed or retrying.
    Troubled,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    database: Database,
}

const CLAIM: &str = "UPDATE events SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
    WHERE seq IN ( \
        SELECT e.seq FROM events e \
        WHERE e.delivered_at IS NULL AND e.failed_at IS NULL \
          AND e.next_attempt_at <= $3 \
          AND (e.lease_until IS NULL OR e.lease_until <= $3) \
          AND NOT EXISTS ( \
              SELECT 1 FROM events p \
              WHERE p.ordering_key = e.ordering_key AND p.seq < e.seq \
                AND p.delivered_at IS NULL AND p.failed_at IS NULL) \
        ORDER BY e.seq LIMIT $4) \
      AND delivered_at IS NULL AND failed_at IS NULL \
      AND (lease_until IS NULL OR lease_until <= $3) \
    RETURNING seq, id, event_type, payload, COALESCE(requeued_at, created_at) AS created_at, \
      attempts";

const RECORD_COLUMNS: &str = "seq, id, event_type, ordering_key, created_at, attempts, \
    next_attempt_at, delivered_at, failed_at, last_error";

impl Outbox {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Claims up to `limit` due events for `worker` until `now + lease`.
    pub async fn claim(
        &self,
        worker: &str,
        now: Timestamp,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<PendingEvent>, VaultError> {
        let mut events: Vec<PendingEvent> = on_pool!(&self.database, pool => {
            sqlx::query_as(CLAIM)
                .bind(worker)
                .bind(now.plus(lease).as_millis())
                .bind(now.as_millis())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(sql_error)?
        });
        events.sort_by_key(|event| event.seq);
        Ok(events)
    }

    /// Records a successful delivery. `false` when the lease had passed to another worker.
    pub async fn delivered(
        &self,
        seq: i64,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool, VaultError> {
        self.finish(
            "UPDATE events SET delivered_at = $1, lease_owner = NULL, lease_until = NULL, \
             last_error = $4 WHERE seq = $2 AND lease_owner = $3",
            seq,
            worker,
            now.as_millis(),
            None,
        )
        .await
    }

    /// Records a failed attempt and when to try again.
    pub async fn retry_at(
        &self,
        seq: i64,
        worker: &str,
        next_attempt: Timestamp,
        error: &str,
    ) -> Result<bool, VaultError> {
        self.finish(
            "UPDATE events SET next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, \
             last_error = $4 WHERE seq = $2 AND lease_owner = $3",
            seq,
            worker,
            next_attempt.as_millis(),
            Some(error),
        )
        .await
    }

    /// Gives up on an event: it stays, marked failed, for operators to see and retry.
    pub async fn give_up(
        &self,
        seq: i64,
        worker: &str,
        now: Timestamp,
        error: &str,
    ) -> Result<bool, VaultError> {
        self.finish(
            "UPDATE events SET failed_at = $1, lease_owner = NULL, lease_until = NULL, \
             last_error = $4 WHERE seq = $2 AND lease_owner = $3",
            seq,
            worker,
            now.as_millis(),
            Some(error),
        )
        .await
    }

    async fn finish(
        &self,
        sql: &str,
        seq: i64,
        worker: &str,
        at: i64,
        error: Option<&str>,
    ) -> Result<bool, VaultError> {
        let error: Option<String> = error.map(|text| text.chars().take(500).collect());
        let affected = on_pool!(&self.database, pool => {
            sqlx::query(sql)
                .bind(at)
                .bind(seq)
                .bind(worker)
                .bind(&error)
                .execute(pool)
                .await
                .map_err(sql_error)?
                .rows_affected()
        });
        Ok(affected == 1)
    }

    /// The newest events first; only failed ones when `failed_only`.
    pub async fn list(
        &self,
        failed_only: bool,
        limit: i64,
    ) -> Result<Vec<EventRecord>, VaultError> {
        let filter = EventFilter {
            state: failed_only.then_some(EventState::Failed),
            ..EventFilter::default()
        };
        self.search(&filter, limit).await
    }

    /// The newest events that match `filter` first.
    pub async fn search(
        &self,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<Vec<EventRecord>, VaultError> {
        let mut conditions = vec!["1 = 1".to_owned()];
        conditions.push(
            match filter.state {
                None => "",
                Some(EventState::Failed) => "failed_at IS NOT NULL",
                Some(EventState::Retrying) => {
                    "delivered_at IS NULL AND failed_at IS NULL AND attempts > 0 \
                     AND last_error IS NOT NULL"
                }
                Some(EventState::Troubled) => {
                    "delivered_at IS NULL AND (failed_at IS NOT NULL OR last_error IS NOT NULL)"
                }
            }
            .to_owned(),
        );
        conditions.retain(|condition| !condition.is_empty());
        // $1 is the limit; the filters' values follow in this order.
        let mut values: Vec<&str> = Vec::new();
        if let Some(app) = &filter.app {
            values.push(app);
            conditions.push(format!(
                "ordering_key IN (SELECT id FROM connections WHERE app = ${})",
                values.len() + 1
            ));
        }
        if let Some(connection) = &filter.connection {
            values.push(connection);
            conditions.push(format!("ordering_key = ${}", values.len() + 1));
        }
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM events WHERE {} ORDER BY seq DESC LIMIT $1",
            conditions.join(" AND ")
        );
        Ok(on_pool!(&self.database, pool => {
            let mut query = sqlx::query_as(&sql).bind(limit);
            for value in &values {
                query = query.bind(*value);
            }
            query.fetch_all(pool).await.map_err(sql_error)?
        }))
    }

    /// Puts every failed event of `app` back in the queue (as [`Outbox::requeue`] does one);
    /// how many.
    pub async fn requeue_failed_of_app(
        &self,
        app: &str,
        now: Timestamp,
    ) -> Result<u64, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE events SET failed_at = NULL, attempts = 0, next_attempt_at = $1, \
                 requeued_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL \
                 WHERE failed_at IS NOT NULL \
                   AND ordering_key IN (SELECT id FROM connections WHERE app = $2)",
            )
            .bind(now.as_millis())
            .bind(app)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        }))
    }

    pub async fn find(&self, id: &str) -> Result<Option<EventRecord>, VaultError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM events WHERE id = $1");
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await.map_err(sql_error)?
        }))
    }

    /// Puts a failed event back in the queue, due now, with its attempts and last error reset.
    /// `false` when no failed event has that id.
    pub async fn requeue(&self, id: &str, now: Timestamp) -> Result<bool, VaultError> {
        let affected = on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE events SET failed_at = NULL, attempts = 0, next_attempt_at = $1, \
                 requeued_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL \
                 WHERE id = $2 AND failed_at IS NOT NULL",
            )
            .bind(now.as_millis())
            .bind(id)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Events neither delivered nor failed.
    /// Hands back the events `owner` holds but has not settled, so that any worker can claim
    /// them at once instead of after the lease. Returns how many there were.
    pub async fn release(&self, owner: &str) -> Result<u64, VaultError> {
        let result = on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL \
                 WHERE lease_owner = $1 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(owner)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        Ok(result)
    }

    pub async fn backlog(&self) -> Result<i64, VaultError> {
        let (count,): (i64,) = on_pool!(&self.database, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE delivered_at IS NULL AND failed_at IS NULL")
                .fetch_one(pool)
                .await
                .map_err(sql_error)?
        });
        Ok(count)
    }
}
