//! The state-store port: short-lived, single-use records keyed by a state token.
//!
//! Implementations keep only a hash of each token, bound every operation in time, and report
//! an unreachable or slow backend as [`StateStoreError::Unavailable`] so that callers fail closed.

use std::time::Duration;

use async_trait::async_trait;

use crate::StateToken;

/// What a record is for. Each kind lives in its own key space, so a token minted for one
/// purpose can never be taken as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// The `state` of an install or connect flow.
    Install,
    /// A request parked while the user signs in, resumed afterwards.
    ParkedRequest,
    /// A one-time request id sent to the vendor's own login page.
    SignIn,
    /// A signed-in session that signed out; its cookie must not work again.
    RevokedSession,
    /// A marketplace notice's delivery id, remembered so that a repeat is applied once.
    Delivery,
}

impl StateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::ParkedRequest => "parked",
            Self::SignIn => "signin",
            Self::RevokedSession => "revoked-session",
            Self::Delivery => "delivery",
        }
    }
}

/// A state-store failure. Every variant means "could not tell" or "not done": callers must not go
/// on as if the record were absent or stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateStoreError {
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    #[error("the state store refused the record: {0}")]
    Rejected(String),
    /// The space for records of this kind is full; a new one waits until others are taken or
    /// expire. Nothing already stored was dropped to make room.
    #[error("the state store has no room for more {0}")]
    Full(&'static str),
}

#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Stores `value` under `token` for `ttl`. Replaces any record already there. A store with a
    /// bounded space refuses a new record with [`StateStoreError::Full`] rather than dropping a
    /// stored one.
    async fn put(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StateStoreError>;

    /// Stores `value` under `token` for `ttl` unless a live record is there already; whether it
    /// stored it. Atomic: of concurrent calls for one token, at most one stores.
    async fn put_new(
        &self,
        kind: StateKind,
        token: &StateToken,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StateStoreError>;

    /// Removes and returns the record under `token`, atomically: of any number of concurrent
    /// takes of one token, at most one gets `Some`. Expired records are `None`.
    async fn take(
        &self,
        kind: StateKind,
        token: &StateToken,
    ) -> Result<Option<Vec<u8>>, StateStoreError>;

    /// Whether a live record sits under `token`, without taking it.
    async fn exists(&self, kind: StateKind, token: &StateToken) -> Result<bool, StateStoreError>;

    /// Answers when the backend is reachable.
    async fn ping(&self) -> Result<(), StateStoreError>;

    /// A short name of the backend for start-up logs and readiness output.
    fn backend(&self) -> &'static str;
}
