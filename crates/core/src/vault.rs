//! The connection-vault port: every install's durable record, and the event outbox written in
//! the same transaction as the change an event describes.

use async_trait::async_trait;

use crate::{
    AccountId, AppId, Connection, ConnectionId, ConnectionStatus, Event, EventKind, MarketplaceKey,
    NewInstall, ProviderId, Timestamp, TokenSet,
};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no such connection")]
    NotFound,
    /// A ciphertext does not open: its key is not configured, or it was moved from another row.
    #[error("the tokens of connection {connection} cannot be decrypted: {reason}")]
    Undecryptable {
        connection: ConnectionId,
        reason: String,
    },
    #[error("no vault key is configured to encrypt tokens")]
    NoActiveKey,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored connection is not valid: {0}")]
    Corrupt(String),
}

/// The outcome of a compare-and-swap of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSwap {
    /// The tokens were replaced; the connection as it is now.
    Swapped(Connection),
    /// Someone else replaced the tokens first; the connection as they left it.
    Stale(Connection),
}

/// Which connections a listing returns; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionFilter {
    pub id: Option<ConnectionId>,
    /// `None` for every app; otherwise one of these.
    pub apps: Option<Vec<AppId>>,
    pub provider: Option<ProviderId>,
    pub account: Option<AccountId>,
    pub marketplace_key: Option<MarketplaceKey>,
    pub status: Option<ConnectionStatus>,
}

#[async_trait]
pub trait ConnectionVault: Send + Sync + 'static {
    /// Creates the connection of `install.marketplace_key`, or updates the one that exists (a
    /// reinstall), never duplicating it. Writes `event` about the result in the same transaction.
    async fn upsert_install(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError>;

    /// Attaches a connection to a vendor account and makes it active.
    async fn attach(
        &self,
        id: ConnectionId,
        account: &AccountId,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError>;

    async fn get(&self, id: ConnectionId) -> Result<Option<Connection>, VaultError>;

    async fn find_by_key(
        &self,
        app: &AppId,
        provider: &ProviderId,
        key: &MarketplaceKey,
    ) -> Result<Option<Connection>, VaultError>;

    async fn list_by_account(&self, account: &AccountId) -> Result<Vec<Connection>, VaultError>;

    /// Changes the status; a status that holds no tokens deletes them.
    async fn set_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError>;

    /// Replaces the tokens if they are still at `expected_revision`.
    async fn swap_tokens(
        &self,
        id: ConnectionId,
        expected_revision: i64,
        tokens: TokenSet,
    ) -> Result<TokenSwap, VaultError>;

    /// Writes an event that belongs to no stored change (an install cancelled before it began).
    async fn publish(&self, event: Event) -> Result<(), VaultError>;

    /// Pending connections not changed since `before`, oldest first.
    async fn stale_pending(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<Connection>, VaultError>;

    /// Revokes a connection only if it is still pending (nobody claimed it meanwhile), deleting
    /// its tokens and writing `connection.revoked`. `None` when it was not pending any more.
    async fn expire_pending(&self, id: ConnectionId) -> Result<Option<Connection>, VaultError>;

    /// Connections matching `filter` in id order, after `after`, without their tokens (which
    /// are not decrypted for a listing).
    async fn list(
        &self,
        filter: &ConnectionFilter,
        after: Option<ConnectionId>,
        limit: u32,
    ) -> Result<Vec<Connection>, VaultError>;
}
