//! The install funnel's figures that no event records (installs started; installs that failed,
//! and why; token refreshes that failed), added to the database every
//! `admin.activity_flush_ms`, so that the console's overview adds up every replica and outlives
//! restarts. They are the replica's own Prometheus counters (`installgate_installs_started_total`,
//! `installgate_install_steps_total{outcome="failed"}`, `installgate_refresh_failures_total`):
//! each flush stores how much each grew since the last stored flush, so a request costs nothing
//! beyond the counter it increments anyway, and a flush that fails is made up by the next.
//!
//! An install counts as started when the gateway mints its state (a seamless install's
//! authorize, an install started at `/connect` or by a marketplace's "begin") or when a
//! marketplace sends its user back with a code the gateway did not ask for (an install the
//! marketplace started).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use installgate_core::Clock;
use installgate_store::{ActivityCount, ActivityCounts};

use crate::metrics::Metrics;

/// The step names stored.
pub const STARTED: &str = "started";
pub const FAILED: &str = "failed";
pub const REFRESH_FAILED: &str = "refresh_failed";

type Key = (String, String, String, String);

fn key(count: &ActivityCount) -> Key {
    (
        count.app.clone(),
        count.provider.clone(),
        count.step.clone(),
        count.reason.clone(),
    )
}

/// Adds a replica's counters to the database, by their growth since the last stored flush.
#[derive(Clone)]
pub struct ActivityFlusher {
    metrics: Metrics,
    store: ActivityCounts,
    clock: Arc<dyn Clock>,
    /// The totals the database has, per counter.
    stored: Arc<Mutex<HashMap<Key, i64>>>,
}

impl std::fmt::Debug for ActivityFlusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityFlusher").finish_non_exhaustive()
    }
}

/// How much each of `totals` grew since `stored`.
fn growth(totals: &[ActivityCount], stored: &HashMap<Key, i64>) -> Vec<ActivityCount> {
    totals
        .iter()
        .filter_map(|total| {
            let grown = total.count - stored.get(&key(total)).copied().unwrap_or(0);
            (grown > 0).then(|| ActivityCount {
                count: grown,
                ..total.clone()
            })
        })
        .collect()
}

impl ActivityFlusher {
    pub fn new(metrics: Metrics, store: ActivityCounts, clock: Arc<dyn Clock>) -> Self {
        Self {
            metrics,
            store,
            clock,
            stored: Arc::default(),
        }
    }

    /// Stores what the counters gained; a failure leaves it for the next flush.
    pub async fn flush(&self) {
        let totals = self.metrics.activity_totals();
        let grown = {
            let stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
            growth(&totals, &stored)
        };
        if grown.is_empty() {
            return;
        }
        match self.store.add(&grown, self.clock.now()).await {
            Ok(()) => {
                let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
                for count in &grown {
                    *stored.entry(key(count)).or_default() += count.count;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot store the install funnel's counts; trying again later");
            }
        }
    }

    /// Flushes every `every`, until the task is dropped (the gateway flushes once more as it
    /// stops).
    pub async fn every(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.flush().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(step: &str, reason: &str, count: i64) -> ActivityCount {
        ActivityCount {
            app: "crm".into(),
            provider: "market".into(),
            step: step.into(),
            reason: reason.into(),
            count,
        }
    }

    #[test]
    fn a_flush_stores_what_each_counter_gained_since_the_last_stored_one() {
        let metrics = Metrics::new().unwrap();
        metrics.install_started_by_marketplace("market", "crm");
        metrics.install(
            "market",
            "crm",
            crate::metrics::Step::Callback,
            crate::metrics::Outcome::Failed("state"),
        );
        metrics.refresh_failed("market", "crm", "timeout");
        metrics.refresh_failed("market", "crm", "timeout");
        let mut totals = metrics.activity_totals();
        totals.sort_by_key(key);
        assert_eq!(
            totals,
            vec![
                count("failed", "state", 1),
                count("refresh_failed", "timeout", 2),
                count("started", "", 1),
            ]
        );
        // Stored so far: one start. A failed flush stores nothing, so the next still has it all.
        let stored = HashMap::from([(key(&count("started", "", 0)), 1)]);
        let mut grown = growth(&totals, &stored);
        grown.sort_by_key(key);
        assert_eq!(
            grown,
            vec![
                count("failed", "state", 1),
                count("refresh_failed", "timeout", 2)
            ]
        );
    }
}
