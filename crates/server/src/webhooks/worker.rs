//! The delivery worker: claims due events from the outbox, posts each to the webhook URL, and
//! records the outcome. At least once, in order per connection, with backoff between attempts.

use std::sync::Arc;
use std::time::Duration;

use installgate_core::{Clock, Timestamp, VaultError};
use installgate_store::{Outbox, PendingEvent};
use rand::Rng as _;
use tokio::sync::watch;

use super::Signer;
use crate::metrics::Metrics;
use crate::settings::{RetryPolicy, WebhookSettings, WebhookTarget};

pub struct DeliveryWorker {
    id: String,
    outbox: Outbox,
    client: reqwest::Client,
    target: WebhookTarget,
    signer: Signer,
    settings: WebhookSettings,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
}

impl std::fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("id", &self.id)
            .field("url", &self.target.url.as_str())
            .finish_non_exhaustive()
    }
}

/// The delay before attempt `attempts + 1`, given `attempts` failed ones: doubling from the
/// initial backoff up to the maximum, shortened by up to `jitter` of itself.
pub fn backoff(policy: &RetryPolicy, attempts: i64, random: f64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let base = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(policy.max_backoff);
    base.mul_f64(1.0 - policy.jitter * random.clamp(0.0, 1.0))
}

impl DeliveryWorker {
    /// A worker for `target`, or `None` when the settings name no webhook.
    pub fn new(
        outbox: Outbox,
        settings: &WebhookSettings,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Option<Self> {
        let target = settings.target.clone()?;
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        Some(Self {
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            outbox,
            client,
            signer: Signer::new(target.secret.clone()),
            target,
            settings: settings.clone(),
            clock,
            metrics,
        })
    }

    /// Claims one batch and delivers it. Returns how many events it handled.
    pub async fn run_once(&self) -> Result<usize, VaultError> {
        let now = self.clock.now();
        let limit = i64::from(self.settings.batch_size);
        let batch = self
            .outbox
            .claim(&self.id, now, self.settings.lease, limit)
            .await?;
        let count = batch.len();
        // Each claimed event heads its own ordering key, so they may go out side by side.
        let deliveries = batch.into_iter().map(|event| self.deliver(event));
        for outcome in futures_util::future::join_all(deliveries).await {
            outcome?;
        }
        Ok(count)
    }

    /// Delivers until the task is dropped or aborted.
    pub async fn run(self) {
        let (_never_sent, stop) = watch::channel(false);
        self.run_until(stop).await;
    }

    /// Delivers on a task of its own until [`DeliveryHandle::shutdown`], which gives
    /// deliveries under way `grace` to finish.
    pub fn spawn(self, grace: Duration) -> DeliveryHandle {
        let (stop, stopped) = watch::channel(false);
        DeliveryHandle {
            id: self.id.clone(),
            outbox: self.outbox.clone(),
            grace,
            stop,
            task: tokio::spawn(self.run_until(stopped)),
        }
    }

    /// Delivers until `stop` turns true; a batch under way is finished first.
    async fn run_until(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "webhook delivery started");
        while !*stop.borrow() {
            let pause = match self.run_once().await {
                Ok(0) => self.settings.poll_interval,
                Ok(_) => Duration::ZERO,
                Err(error) => {
                    tracing::warn!(%error, "webhook delivery could not reach the outbox");
                    self.settings.poll_interval
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        // Nobody can stop this worker any more: deliver until dropped.
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
        tracing::info!(worker = %self.id, "webhook delivery stopped");
    }

    async fn deliver(&self, event: PendingEvent) -> Result<(), VaultError> {
        let now = self.clock.now();
        let seconds = now.as_millis().div_euclid(1000);
        let signature = self.signer.sign(&event.id, seconds, &event.payload);
        let sent = self
            .client
            .post(self.target.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", seconds.to_string())
            .header("webhook-signature", signature)
            .body(event.payload.clone())
            .send()
            .await;
        let failure = match sent {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!(
                "the receiver answered {}",
                response.status().as_u16()
            )),
            Err(error) if error.is_timeout() => Some("the receiver did not answer in time".into()),
            Err(error) if error.is_connect() => Some("the receiver could not be reached".into()),
            Err(error) => Some(format!("the request failed: {}", error.without_url())),
        };
        let done_at = self.clock.now();
        match failure {
            None => {
                self.outbox.delivered(event.seq, &self.id, done_at).await?;
                self.metrics.webhook_delivery("delivered");
                tracing::info!(event = %event.id, kind = %event.event_type, attempts = event.attempts, "event delivered");
            }
            Some(reason) => self.schedule_retry(&event, done_at, &reason).await?,
        }
        Ok(())
    }

    async fn schedule_retry(
        &self,
        event: &PendingEvent,
        now: Timestamp,
        reason: &str,
    ) -> Result<(), VaultError> {
        let policy = &self.settings.retry;
        let age = now.since(Timestamp::from_millis(event.created_at));
        if age >= policy.give_up_after {
            self.outbox
                .give_up(event.seq, &self.id, now, reason)
                .await?;
            self.metrics.webhook_delivery("failed");
            tracing::warn!(event = %event.id, attempts = event.attempts, reason, "event delivery given up");
            return Ok(());
        }
        let delay = backoff(policy, event.attempts, rand::rng().random::<f64>());
        self.outbox
            .retry_at(event.seq, &self.id, now.plus(delay), reason)
            .await?;
        self.metrics.webhook_delivery("retry");
        tracing::info!(event = %event.id, attempts = event.attempts, retry_in_ms = delay.as_millis() as u64, reason, "event delivery failed");
        Ok(())
    }
}

/// A running delivery worker.
#[derive(Debug)]
pub struct DeliveryHandle {
    id: String,
    outbox: Outbox,
    grace: Duration,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DeliveryHandle {
    /// Stops claiming events, lets deliveries under way finish (within the grace it was given),
    /// then hands back what this worker still holds, so that another replica delivers it at
    /// once instead of after the lease.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(self.grace, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
        }
        match self.outbox.release(&self.id).await {
            Ok(0) => {}
            Ok(events) => tracing::info!(events, "undelivered events handed back"),
            Err(error) => {
                tracing::warn!(%error, "events could not be handed back; they return after their lease");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_jitter_only_shortens() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            jitter: 0.5,
            give_up_after: Duration::from_secs(60),
        };
        assert_eq!(backoff(&policy, 1, 0.0), Duration::from_millis(100));
        assert_eq!(backoff(&policy, 2, 0.0), Duration::from_millis(200));
        assert_eq!(backoff(&policy, 4, 0.0), Duration::from_millis(800));
        assert_eq!(backoff(&policy, 9, 0.0), Duration::from_millis(1000));
        assert_eq!(backoff(&policy, 2, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(&policy, i64::MAX, 0.0), Duration::from_millis(1000));
    }
}
