//! Each replica's copies of the Redis sessions it read lately, so that a signed-in request
//! costs no Redis read.
//!
//! A copy lasts `session.cache_seconds` at most (well under the idle timeout: the read that
//! follows extends the session in Redis). A replica that changes or ends a session drops its
//! own copy and announces the change; the others drop theirs when the word arrives. Copies are
//! only used while the replica is subscribed to that word: from the moment the subscription
//! is lost until it is made again (when every copy is dropped) each request reads Redis.
//!
//! A read that started before a change may finish after it with the old record: every change
//! moves `generation` on, and a read only leaves a copy if no change came in while it ran.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::news::Follower;

pub type SessionState = HashMap<String, String>;

/// How many sessions a replica keeps copies of.
const CAPACITY: u64 = 10_000;

/// The SHA-256 of a session key: what copies are kept under and changes are announced by.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

#[derive(Clone)]
pub struct SessionCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    copies: moka::sync::Cache<[u8; 32], Arc<SessionState>>,
    /// Subscribed to other replicas' changes: only then are copies used.
    listening: AtomicBool,
    /// Moves on with every change seen, here or announced.
    generation: AtomicU64,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("on", &self.is_on())
            .finish_non_exhaustive()
    }
}

/// Where a read began, for [`SessionCache::keep`].
#[derive(Debug, Clone, Copy)]
pub struct ReadStart(u64);

impl SessionCache {
    /// Copies kept for `lifetime`; none at all if it is zero.
    pub fn new(lifetime: Duration) -> Self {
        let inner = (!lifetime.is_zero()).then(|| {
            Arc::new(Inner {
                copies: moka::sync::Cache::builder()
                    .max_capacity(CAPACITY)
                    .time_to_live(lifetime)
                    .build(),
                listening: AtomicBool::new(false),
                generation: AtomicU64::new(0),
            })
        });
        Self { inner }
    }

    /// Whether copies are kept at all (the listener is then needed).
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// The copy of the session, if there is one and copies may be used now.
    pub fn get(&self, digest: &[u8; 32]) -> Option<SessionState> {
        let inner = self.inner.as_ref()?;
        if !inner.listening.load(Ordering::Acquire) {
            return None;
        }
        inner.copies.get(digest).map(|state| (*state).clone())
    }

    /// To be taken before reading a session from Redis.
    pub fn read_start(&self) -> ReadStart {
        ReadStart(
            self.inner
                .as_ref()
                .map_or(0, |inner| inner.generation.load(Ordering::SeqCst)),
        )
    }

    /// Keeps a copy of what a read that began at `start` found, unless a change came in since.
    pub fn keep(&self, digest: [u8; 32], state: &SessionState, start: ReadStart) {
        let Some(inner) = &self.inner else { return };
        if !inner.listening.load(Ordering::Acquire) {
            return;
        }
        inner.copies.insert(digest, Arc::new(state.clone()));
        // See `change`.
        std::sync::atomic::fence(Ordering::SeqCst);
        // A change that came in meanwhile may have dropped the copy before it was made: take
        // it out again. (Checking after inserting leaves no gap between the check and the
        // insert for a change to slip into.)
        if inner.generation.load(Ordering::SeqCst) != start.0 {
            inner.copies.invalidate(digest.as_slice());
        }
    }

    /// The session changed or ended: drops the copy, and any read under way keeps none.
    pub fn forget(&self, digest: &[u8; 32]) {
        if let Some(inner) = self.change() {
            inner.copies.invalidate(digest);
        }
    }

    /// Drops every copy: changes may have been missed.
    fn forget_all(&self) {
        if let Some(inner) = self.change() {
            inner.copies.invalidate_all();
        }
    }

    /// Moves the generation on, before copies are dropped, so that a read under way keeps none.
    fn change(&self) -> Option<&Inner> {
        let inner = self.inner.as_deref()?;
        inner.generation.fetch_add(1, Ordering::SeqCst);
        // Orders the count before the removal that follows, against `keep`'s insert before
        // its check: one of the two sees the other whatever the cache's own orderings.
        std::sync::atomic::fence(Ordering::SeqCst);
        Some(inner)
    }

    fn set_listening(&self, listening: bool) {
        if let Some(inner) = &self.inner {
            inner.listening.store(listening, Ordering::Release);
        }
    }
}

impl Follower for SessionCache {
    type Change = [u8; 32];
    const WHAT: &'static str = "session changes";

    /// Copies are used only while subscribed; either way, every one is dropped.
    fn reset(&self, subscribed: bool) {
        if !subscribed {
            self.set_listening(false);
        }
        self.forget_all();
        if subscribed {
            self.set_listening(true);
        }
    }

    fn changed(&self, digest: [u8; 32]) -> impl Future<Output = ()> + Send {
        self.forget(&digest);
        std::future::ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listening_cache() -> SessionCache {
        let cache = SessionCache::new(Duration::from_secs(10));
        cache.set_listening(true);
        cache
    }

    fn state(account: &str) -> SessionState {
        HashMap::from([("account".to_owned(), account.to_owned())])
    }

    #[test]
    fn a_kept_copy_is_used_until_it_is_forgotten() {
        let cache = listening_cache();
        let key = digest("session-key");
        let start = cache.read_start();
        cache.keep(key, &state("a"), start);
        assert_eq!(cache.get(&key), Some(state("a")));
        cache.forget(&key);
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn a_read_that_overlapped_a_change_keeps_no_copy() {
        let cache = listening_cache();
        let key = digest("session-key");
        let start = cache.read_start();
        cache.forget(&digest("another session"));
        cache.keep(key, &state("old"), start);
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn copies_are_not_used_or_made_while_not_listening() {
        let cache = listening_cache();
        let key = digest("session-key");
        cache.keep(key, &state("a"), cache.read_start());
        cache.set_listening(false);
        assert_eq!(cache.get(&key), None, "a kept copy is not used");
        let other = digest("other");
        cache.keep(other, &state("b"), cache.read_start());
        cache.set_listening(true);
        assert_eq!(cache.get(&other), None, "no copy was made");
    }

    #[test]
    fn a_zero_lifetime_keeps_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        assert!(!cache.is_on());
        cache.set_listening(true);
        let key = digest("session-key");
        cache.keep(key, &state("a"), cache.read_start());
        assert_eq!(cache.get(&key), None);
    }
}
