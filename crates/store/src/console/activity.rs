//! The install funnel's steps that write no event (an install started; one that failed, and
//! why) and failed refreshes, counted in memory by each replica and added here every few
//! seconds, one row per app, provider, step, reason and minute. The sum over the rows is the sum
//! over every replica, and it outlives restarts.

use installgate_core::{Timestamp, VaultError};

use crate::Database;
use crate::database::{in_transaction, on_pool, sql_error};

/// A count of one step for one app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct ActivityCount {
    pub app: String,
    pub provider: String,
    /// `started`, `failed`, `refresh_failed`.
    pub step: String,
    /// Why, for a failure; empty otherwise.
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Clone)]
pub struct ActivityCounts {
    database: Database,
}

/// The minute a time falls in, as stored.
pub fn minute_of(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(60_000)
}

impl ActivityCounts {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Adds `counts` to the minute of `at`, in one transaction.
    pub async fn add(&self, counts: &[ActivityCount], at: Timestamp) -> Result<(), VaultError> {
        if counts.is_empty() {
            return Ok(());
        }
        let minute = minute_of(at);
        in_transaction!(&self.database, tx => {
            for count in counts {
                sqlx::query(
                    "INSERT INTO activity_counts (app, provider, step, reason, minute, count) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (app, provider, step, reason, minute) \
                     DO UPDATE SET count = activity_counts.count + excluded.count",
                )
                .bind(&count.app)
                .bind(&count.provider)
                .bind(&count.step)
                .bind(&count.reason)
                .bind(minute)
                .bind(count.count)
                .execute(&mut *tx)
                .await
                .map_err(sql_error)?;
            }
        });
        Ok(())
    }

    /// Every count since `since`, added up per app, provider, step and reason.
    pub async fn since(&self, since: Timestamp) -> Result<Vec<ActivityCount>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT app, provider, step, reason, CAST(SUM(count) AS BIGINT) AS count FROM activity_counts \
                 WHERE minute >= $1 GROUP BY app, provider, step, reason \
                 ORDER BY app, provider, step, reason",
            )
            .bind(minute_of(since))
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }

    /// One step's counts for `app` since `since`, per minute (`(minute, count)`, oldest first).
    pub async fn per_minute(
        &self,
        app: &str,
        step: &str,
        since: Timestamp,
    ) -> Result<Vec<(i64, i64)>, VaultError> {
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT minute, CAST(SUM(count) AS BIGINT) FROM activity_counts \
                 WHERE app = $1 AND step = $2 AND minute >= $3 GROUP BY minute ORDER BY minute",
            )
            .bind(app)
            .bind(step)
            .bind(minute_of(since))
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        }))
    }
}
