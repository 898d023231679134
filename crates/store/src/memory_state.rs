//! The in-memory state store, for a single gateway process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use installgate_core::{
    StateKind, StateStore, StateStoreError, StateToken, Throttle, ThrottleWindow,
};
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
    throttles: Cache<String, Arc<Window>>,
}

/// One throttling window: its failures and when it ends.
struct Window {
    failures: AtomicU64,
    ends_at: Instant,
    length: Duration,
}

struct WindowLength;

impl Expiry<String, Arc<Window>> for WindowLength {
    fn expire_after_create(
        &self,
        _key: &String,
        window: &Arc<Window>,
        _now: Instant,
    ) -> Option<Duration> {
        Some(window.length)
    }
}

impl MemoryStateStore {
    pub fn new(max_entries: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_entries)
            // LRU admits every new record; the default TinyLFU policy could refuse a fresh state.
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(PerEntryTtl)
            .build();
        let throttles = Cache::builder()
            .max_capacity(max_entries)
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(WindowLength)
            .build();
        Self { cache, throttles }
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

    async fn exists(&self, kind: StateKind, token: &StateToken) -> Result<bool, StateStoreError> {
        let entry = self.cache.get(&(kind, token.digest()));
        Ok(entry.is_some_and(|entry| entry.expires_at > Instant::now()))
    }

    async fn ping(&self) -> Result<(), StateStoreError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

impl Window {
    fn snapshot(&self, now: Instant) -> Option<ThrottleWindow> {
        (self.ends_at > now).then(|| ThrottleWindow {
            failures: self.failures.load(Ordering::SeqCst),
            remaining: self.ends_at - now,
        })
    }
}

#[async_trait]
impl Throttle for MemoryStateStore {
    async fn failures(&self, key: &str) -> Result<Option<ThrottleWindow>, StateStoreError> {
        let now = Instant::now();
        Ok(self
            .throttles
            .get(key)
            .and_then(|window| window.snapshot(now)))
    }

    async fn record_failure(
        &self,
        key: &str,
        length: Duration,
    ) -> Result<ThrottleWindow, StateStoreError> {
        let now = Instant::now();
        let open = || {
            Arc::new(Window {
                failures: AtomicU64::new(0),
                ends_at: now + length,
                length,
            })
        };
        let mut window = self.throttles.get_with(key.to_owned(), open);
        if window.ends_at <= now {
            window = open();
            self.throttles.insert(key.to_owned(), window.clone());
        }
        let failures = window.failures.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(ThrottleWindow {
            failures,
            remaining: window.ends_at.saturating_duration_since(now),
        })
    }

    async fn forgive(&self, key: &str) -> Result<(), StateStoreError> {
        if let Some(window) = self.throttles.get(key) {
            let _ = window
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), StateStoreError> {
        self.throttles.invalidate(key);
        Ok(())
    }
}
