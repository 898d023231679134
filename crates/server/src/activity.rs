//! The install funnel's figures that no event records (installs started; installs that failed,
//! and why), counted in memory on each replica and added to the database every
//! `admin.activity_flush_ms`, so that the console's overview adds up every replica and outlives
//! restarts. Counting is a short lock and a map update; nothing waits for the database.
//!
//! Token refreshes that failed (the marketplace down, or refusing) are counted the same way,
//! by their outcome.
//!
//! An install counts as started when the gateway mints its state (a seamless install's
//! authorize, an install started at `/connect` or by a marketplace's "begin") or when a
//! marketplace sends its user back with a code the gateway did not ask for (an install the
//! marketplace started). Failures count with the funnel's reason, at whatever step they happen,
//! exactly as `installgate_install_steps_total{outcome="failed"}` counts them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use installgate_core::Clock;
use installgate_store::{ActivityCount, ActivityCounts};

/// The step names stored.
pub const STARTED: &str = "started";
pub const FAILED: &str = "failed";
pub const REFRESH_FAILED: &str = "refresh_failed";

type Key = (String, String, &'static str, String);

/// This replica's counts since they were last added to the database.
#[derive(Debug, Clone, Default)]
pub struct ActivityTally(Arc<Mutex<HashMap<Key, i64>>>);

impl ActivityTally {
    pub fn started(&self, provider: &str, app: &str) {
        self.add(provider, app, STARTED, "");
    }

    pub fn failed(&self, provider: &str, app: &str, reason: &'static str) {
        self.add(provider, app, FAILED, reason);
    }

    /// A token refresh that failed, with the outcome `installgate_token_calls_total` names.
    pub fn refresh_failed(&self, provider: &str, app: &str, outcome: &str) {
        self.add(provider, app, REFRESH_FAILED, outcome);
    }

    fn add(&self, provider: &str, app: &str, step: &'static str, reason: &str) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *counts
            .entry((app.to_owned(), provider.to_owned(), step, reason.to_owned()))
            .or_default() += 1;
    }

    /// Takes every count, leaving none.
    fn take(&self) -> Vec<ActivityCount> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .drain()
            .map(|((app, provider, step, reason), count)| ActivityCount {
                app,
                provider,
                step: step.to_owned(),
                reason,
                count,
            })
            .collect()
    }

    /// Puts counts back that could not be stored, to be tried with the next ones.
    fn put_back(&self, taken: Vec<ActivityCount>) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for count in taken {
            let step = match count.step.as_str() {
                STARTED => STARTED,
                REFRESH_FAILED => REFRESH_FAILED,
                _ => FAILED,
            };
            *counts
                .entry((count.app, count.provider, step, count.reason))
                .or_default() += count.count;
        }
    }

    /// Adds what was counted to the database; kept for the next try if that fails.
    pub async fn flush(&self, store: &ActivityCounts, clock: &dyn Clock) {
        let taken = self.take();
        if taken.is_empty() {
            return;
        }
        if let Err(error) = store.add(&taken, clock.now()).await {
            tracing::warn!(%error, "cannot store the install funnel's counts; trying again later");
            self.put_back(taken);
        }
    }
}

/// Flushes the tally every `every`, until the task is dropped (the gateway flushes once more
/// as it stops).
pub async fn flush_every(
    tally: ActivityTally,
    store: ActivityCounts,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        tally.flush(&store, clock.as_ref()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_put_back_keep_their_step_and_reason() {
        let tally = ActivityTally::default();
        tally.started("market", "crm");
        tally.failed("market", "crm", "state");
        tally.refresh_failed("market", "crm", "timeout");
        tally.refresh_failed("market", "crm", "timeout");
        let taken = tally.take();
        tally.put_back(taken.clone());
        tally.started("market", "crm");
        let mut again: Vec<(String, String, i64)> = tally
            .take()
            .into_iter()
            .map(|count| (count.step, count.reason, count.count))
            .collect();
        again.sort();
        assert_eq!(
            again,
            vec![
                ("failed".to_owned(), "state".to_owned(), 1),
                ("refresh_failed".to_owned(), "timeout".to_owned(), 2),
                ("started".to_owned(), String::new(), 2),
            ]
        );
    }
}
