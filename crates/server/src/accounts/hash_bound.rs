//! How many password hashes run at once in one replica. Each argon2id hash holds its whole
//! memory cost (19 MiB by default) while it runs, so unbounded sign-ins under a flood would take
//! the process's memory with them. A few hashes run at once; a bounded queue waits for a turn
//! for a short while; anyone else, and anyone whose wait runs out, is told to come back later
//! (503 with `Retry-After`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::errors::AppError;
use crate::settings::Settings;

/// The configured bound: hashes at once, callers waiting, and how long one waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub at_once: usize,
    pub queued: usize,
    pub wait: Duration,
}

impl HashLimits {
    /// The configured limits; `0` hashes at once means one per worker (`server.workers`, or
    /// one per CPU when that is 0 too, as the server counts its workers).
    pub fn from_settings(settings: &Settings) -> Self {
        let accounts = &settings.accounts;
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            workers => workers,
        };
        let at_once = match accounts.max_concurrent_hashes {
            0 => workers,
            at_once => at_once,
        };
        Self {
            at_once,
            queued: accounts.hash_queue_length,
            wait: accounts.hash_queue_wait,
        }
    }
}

/// What `HashBound::enter` refuses with: the hashing capacity is taken for now.
const BUSY: AppError = AppError::Unavailable("password hashing");

#[derive(Debug, Clone)]
pub struct HashBound {
    /// One permit per hash that may run.
    running: Arc<Semaphore>,
    /// One permit per caller that may run or wait; the rest are refused at once.
    admitted: Arc<Semaphore>,
    wait: Duration,
}

/// A turn to hash; the next caller's turn comes when it is dropped.
#[derive(Debug)]
pub struct HashTurn {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl HashBound {
    pub fn new(limits: HashLimits) -> Self {
        let at_once = limits.at_once.max(1);
        Self {
            running: Arc::new(Semaphore::new(at_once)),
            admitted: Arc::new(Semaphore::new(at_once + limits.queued)),
            wait: limits.wait,
        }
    }

    /// Waits for a turn to hash, or refuses when the queue is full or the wait runs out.
    pub async fn enter(&self) -> Result<HashTurn, AppError> {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            tracing::info!("password hashing queue full");
            BUSY
        })?;
        let running = tokio::time::timeout(self.wait, self.running.clone().acquire_owned())
            .await
            .map_err(|_| {
                tracing::info!("password hashing wait ran out");
                BUSY
            })?
            .map_err(|_| BUSY)?;
        Ok(HashTurn {
            _running: running,
            _admitted: admitted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn callers_past_the_queue_are_refused_at_once_and_waiters_after_their_deadline() {
        let bound = HashBound::new(HashLimits {
            at_once: 1,
            queued: 1,
            wait: Duration::from_millis(50),
        });
        let first = bound.enter().await.unwrap();
        let waiting = tokio::spawn({
            let bound = bound.clone();
            async move { bound.enter().await.map(drop) }
        });
        tokio::task::yield_now().await;
        // The one queue place is taken by the waiter.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(matches!(bound.enter().await, Err(AppError::Unavailable(_))));
        // The waiter's deadline passes while the first turn is held.
        assert!(matches!(
            waiting.await.unwrap(),
            Err(AppError::Unavailable(_))
        ));
        drop(first);
        bound.enter().await.expect("a turn once the hash is done");
    }
}
