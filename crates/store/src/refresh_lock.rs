//! The refresh lock: on Redis for several replicas (`SET NX PX` with a random holder value,
//! released by a script that deletes the key only if it still holds that value), and in memory
//! for a single process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use installgate_core::{ConnectionId, Lease, RefreshLock, StateStoreError};

use crate::RedisStateStore;

/// Deletes the lock only if it is still this holder's.
const RELEASE: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

fn holder() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStateStore {
    fn lock_key(&self, connection: ConnectionId) -> String {
        self.prefixed(&format!("refresh-lock:{connection}"))
    }
}

#[async_trait]
impl RefreshLock for RedisStateStore {
    async fn try_acquire(
        &self,
        connection: ConnectionId,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateStoreError> {
        let holder = holder();
        let mut command = redis::cmd("SET");
        command
            .arg(self.lock_key(connection))
            .arg(&holder)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let reply: Option<String> = self.run(command).await?;
        Ok(reply.map(|_| Lease { connection, holder }))
    }

    async fn release(&self, lease: &Lease) -> Result<(), StateStoreError> {
        let script = redis::Script::new(RELEASE);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.lock_key(lease.connection))
            .arg(&lease.holder);
        self.run_script::<i64>(&invocation).await.map(drop)
    }
}

/// The refresh lock of a single gateway process.
#[derive(Debug, Default)]
pub struct MemoryRefreshLock {
    held: Mutex<HashMap<ConnectionId, (String, Instant)>>,
}

impl MemoryRefreshLock {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, (String, Instant)>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl RefreshLock for MemoryRefreshLock {
    async fn try_acquire(
        &self,
        connection: ConnectionId,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateStoreError> {
        let now = Instant::now();
        let mut held = self.held();
        held.retain(|_, (_, until)| *until > now);
        if held.contains_key(&connection) {
            return Ok(None);
        }
        let holder = holder();
        held.insert(connection, (holder.clone(), now + ttl));
        Ok(Some(Lease { connection, holder }))
    }

    async fn release(&self, lease: &Lease) -> Result<(), StateStoreError> {
        let mut held = self.held();
        if held
            .get(&lease.connection)
            .is_some_and(|(holder, _)| *holder == lease.holder)
        {
            held.remove(&lease.connection);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_until_release_or_expiry() {
        let lock = MemoryRefreshLock::default();
        let id = ConnectionId::generate();
        let first = lock
            .try_acquire(id, Duration::from_millis(50))
            .await
            .unwrap();
        let first = first.expect("a free lock is taken");
        assert!(
            lock.try_acquire(id, Duration::from_secs(1))
                .await
                .unwrap()
                .is_none()
        );
        lock.release(&first).await.unwrap();
        let second = lock
            .try_acquire(id, Duration::from_millis(30))
            .await
            .unwrap()
            .unwrap();
        // An old lease releases nothing.
        lock.release(&first).await.unwrap();
        assert!(
            lock.try_acquire(id, Duration::from_secs(1))
                .await
                .unwrap()
                .is_none()
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(
            lock.try_acquire(id, Duration::from_secs(1))
                .await
                .unwrap()
                .is_some()
        );
        drop(second);
    }
}
