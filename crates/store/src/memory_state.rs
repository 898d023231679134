//! The in-memory state store, for a single gateway process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use installgate_core::{StateKind, StateStore, StateStoreError, StateToken};
use moka::policy::{EvictionPolicy, Expiry};
use moka::sync::Cache;

type Key = (StateKind, [u8; 32]);

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
    expires_at: Instant,
}

struct PerEntryTtl;

impl Expiry<Key, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &Key, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &Key,
        entry: &Entry,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// Records kept in this process, keyed by a hash of the token. Entries expire after their TTL;
/// past `max_entries` the least recently written are evicted (records are written once and read
/// once, so that is the oldest).
pub struct MemoryStateStore {
    cache: Cache<Key, Entry>,
}

impl MemoryStateStore {
    pub fn new(max_entries: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_entries)
            // LRU admits every new record; the default TinyLFU policy could refuse a fresh state.
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(PerEntryTtl)
            .build();
        Self { cache }
    }

    /// The number of live records, after pending evictions and expiries have run.
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for MemoryStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStateStore")
            .field("max_entries", &self.cache.policy().max_capacity())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn put(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StateStoreError> {
        let expires_at = Instant::now()
            .checked_add(ttl)
            .ok_or_else(|| StateStoreError::Rejected("the TTL is too long".into()))?;
        let entry = Entry {
            value: Arc::from(value),
            ttl,
            expires_at,
        };
        self.cache.insert((kind, token.digest()), entry);
        Ok(())
    }

    async fn take(
        &self,
        kind: StateKind,
        token: &StateToken,
    ) -> Result<Option<Vec<u8>>, StateStoreError> {
        // `remove` is atomic per key: of concurrent takers, one gets the entry.
        let entry = self.cache.remove(&(kind, token.digest()));
        Ok(entry
            .filter(|entry| entry.expires_at > Instant::now())
            .map(|entry| entry.value.to_vec()))
    }

    async fn ping(&self) -> Result<(), StateStoreError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
