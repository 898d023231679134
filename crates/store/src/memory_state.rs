//! The in-memory state store, for a single gateway process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use installgate_core::{
    StateKind, StateStore, StateStoreError, StateToken, Throttle, ThrottleWindow,
};
use moka::Expiry;
use moka::sync::Cache;

type Digest = [u8; 32];

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
    expires_at: Instant,
}

struct PerEntryTtl;

impl Expiry<Digest, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &Digest, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &Digest,
        entry: &Entry,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// Records kept in this process, keyed by a hash of the token. Each kind of record, and the
/// throttling windows, has a space of its own, so a flood of one kind (anonymous installs park
/// requests and mint states) cannot touch another (revoked sessions, sign-in request ids). No
/// space ever evicts: records leave when taken or expired, and a full space refuses new ones.
pub struct MemoryStateStore {
    installs: Space<Digest, Entry>,
    parked: Space<Digest, Entry>,
    sign_ins: Space<Digest, Entry>,
    revoked_sessions: Space<Digest, Entry>,
    deliveries: Space<Digest, Entry>,
    throttles: Space<String, Arc<Window>>,
}

/// One bounded space: a cache with expiry but no eviction, and a count of its live entries.
struct Space<K, V> {
    cache: Cache<K, V>,
    /// Entries inserted and not yet removed (taken, replaced or expired), kept by the cache's
    /// removal listener.
    live: Arc<AtomicU64>,
    capacity: u64,
    what: &'static str,
}

impl<K, V> Space<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(
        what: &'static str,
        capacity: u64,
        expiry: impl Expiry<K, V> + Send + Sync + 'static,
    ) -> Self {
        let live = Arc::new(AtomicU64::new(0));
        let removed = live.clone();
        let cache = Cache::builder()
            .expire_after(expiry)
            .eviction_listener(move |_key, _value, _cause| {
                removed.fetch_sub(1, Ordering::SeqCst);
            })
            .build();
        Self {
            cache,
            live,
            capacity,
            what,
        }
    }

    /// Takes a place for one more entry, if there is one; expired entries are swept out before
    /// a refusal. Concurrent callers cannot take more places than there are.
    fn reserve(&self) -> Result<(), StateStoreError> {
        let take = || {
            self.live
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                    (live < self.capacity).then_some(live + 1)
                })
                .is_ok()
        };
        if take() {
            return Ok(());
        }
        self.cache.run_pending_tasks();
        if take() {
            Ok(())
        } else {
            Err(StateStoreError::Full(self.what))
        }
    }

    /// Gives back a place taken for an entry that was not inserted.
    fn release(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }

    fn insert(&self, key: K, value: V) -> Result<(), StateStoreError> {
        // The place is counted before the entry is in, so the removal listener never runs
        // ahead of the count.
        self.reserve()?;
        self.cache.insert(key, value);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.live.load(Ordering::SeqCst)
    }
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

    fn expire_after_update(
        &self,
        _key: &String,
        window: &Arc<Window>,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(window.length)
    }
}

impl MemoryStateStore {
    /// A store whose every space (each kind of record, and the throttling windows) holds at most
    /// `max_entries` live entries.
    pub fn new(max_entries: u64) -> Self {
        let records = |what| Space::new(what, max_entries, PerEntryTtl);
        Self {
            installs: records("install states"),
            parked: records("parked requests"),
            sign_ins: records("sign-in requests"),
            revoked_sessions: records("revoked sessions"),
            deliveries: records("notice deliveries"),
            throttles: Space::new("throttling windows", max_entries, WindowLength),
        }
    }

    fn space(&self, kind: StateKind) -> &Space<Digest, Entry> {
        match kind {
            StateKind::Install => &self.installs,
            StateKind::ParkedRequest => &self.parked,
            StateKind::SignIn => &self.sign_ins,
            StateKind::RevokedSession => &self.revoked_sessions,
            StateKind::Delivery => &self.deliveries,
        }
    }

    /// The number of live records of `kind`, after pending expiries have run.
    pub fn len(&self, kind: StateKind) -> u64 {
        self.space(kind).len()
    }

    /// Whether no record of any kind is live.
    pub fn is_empty(&self) -> bool {
        [
            StateKind::Install,
            StateKind::ParkedRequest,
            StateKind::SignIn,
            StateKind::RevokedSession,
            StateKind::Delivery,
        ]
        .into_iter()
        .all(|kind| self.len(kind) == 0)
    }
}

impl std::fmt::Debug for MemoryStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStateStore")
            .field("max_entries_per_space", &self.installs.capacity)
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
        self.space(kind).insert(token.digest(), entry)
    }

    async fn put_new(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StateStoreError> {
        let now = Instant::now();
        let expires_at = now
            .checked_add(ttl)
            .ok_or_else(|| StateStoreError::Rejected("the TTL is too long".into()))?;
        let space = self.space(kind);
        space.reserve()?;
        // Of concurrent callers, one inserts (or replaces an expired record); the others give
        // their place back.
        let mut inserted = false;
        space.cache.entry(token.digest()).or_insert_with_if(
            || {
                inserted = true;
                Entry {
                    value: Arc::from(value),
                    ttl,
                    expires_at,
                }
            },
            |existing| existing.expires_at <= now,
        );
        if !inserted {
            space.release();
        }
        Ok(inserted)
    }

    async fn take(
        &self,
        kind: StateKind,
        token: &StateToken,
    ) -> Result<Option<Vec<u8>>, StateStoreError> {
        // `remove` is atomic per key: of concurrent takers, one gets the entry.
        let entry = self.space(kind).cache.remove(&token.digest());
        Ok(entry
            .filter(|entry| entry.expires_at > Instant::now())
            .map(|entry| entry.value.to_vec()))
    }

    async fn exists(&self, kind: StateKind, token: &StateToken) -> Result<bool, StateStoreError> {
        let entry = self.space(kind).cache.get(&token.digest());
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
            .cache
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
        let throttles = &self.throttles;
        let current = throttles
            .cache
            .get(key)
            .filter(|window| window.ends_at > now);
        let window = match current {
            Some(window) => window,
            None => {
                throttles.reserve()?;
                // Of concurrent first failures, one opens the window and the others count in it
                // (and give their place back).
                let mut inserted = false;
                let opened = throttles.cache.entry(key.to_owned()).or_insert_with_if(
                    || {
                        inserted = true;
                        open()
                    },
                    |window| window.ends_at <= now,
                );
                if !inserted {
                    throttles.release();
                }
                opened.into_value()
            }
        };
        let failures = window.failures.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(ThrottleWindow {
            failures,
            remaining: window.ends_at.saturating_duration_since(now),
        })
    }

    async fn forgive(&self, key: &str) -> Result<(), StateStoreError> {
        if let Some(window) = self.throttles.cache.get(key) {
            let _ = window
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), StateStoreError> {
        self.throttles.cache.invalidate(key);
        Ok(())
    }
}
