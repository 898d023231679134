//! The connection-vault port: every install's durable record, and the event outbox written in
//! the same transaction as the change an event describes.

use async_trait::async_trait;

use crate::{
    AccountId, AppId, Connection, ConnectionId, ConnectionStatus, Event, EventKind, MarketplaceKey,
    Metadata, NewInstall, ProviderId, Timestamp, TokenSet,
};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no such connection")]
    NotFound,
    /// An attach found the connection owned by another account; it was left as it was.
    #[error("the connection belongs to another account")]
    OwnedByAnother(Box<crate::Connection>),
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
    /// Only connections holding an access token that never expires.
    pub never_expiring: bool,
    /// Only connections in this workspace (its id).
    pub workspace: Option<String>,
}

/// What [`ConnectionVault::insert_install`] did.
#[derive(Debug)]
pub enum Inserted {
    /// The key had no connection: this one is new.
    New(Connection),
    /// The key has a connection already: nothing was written, and here is the install again.
    Exists(NewInstall),
}

impl Inserted {
    /// The new connection, if one was written.
    pub fn connection(self) -> Option<Connection> {
        match self {
            Self::New(connection) => Some(connection),
            Self::Exists(_) => None,
        }
    }
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

    /// Creates the connection of `install.marketplace_key` only when that key has none yet,
    /// writing `event` about it in the same transaction; when the key has a connection already,
    /// nothing is written and the install comes back.
    async fn insert_install(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
    ) -> Result<Inserted, VaultError>;

    /// Attaches a connection to a vendor account and makes it active. A compare-and-set: an
    /// unowned connection becomes `account`'s, one it owns stays so, and one another account
    /// owns is left as it is (`VaultError::OwnedByAnother`).
    async fn attach(
        &self,
        id: ConnectionId,
        account: &AccountId,
        workspace: Option<&crate::Workspace>,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError>;

    /// Moves `account`'s active connection to `workspace` (the user confirmed it), writing
    /// `connection.moved`. `None` when it is not `account`'s active connection.
    async fn move_to(
        &self,
        id: ConnectionId,
        account: &AccountId,
        workspace: &crate::Workspace,
    ) -> Result<Option<Connection>, VaultError>;

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

    /// Ends a held install its user cancelled: only a connection still pending and unowned
    /// becomes uninstalled (tokens deleted, with `event`); `None` when it was not (claimed
    /// meanwhile, or gone).
    async fn cancel_pending(
        &self,
        id: ConnectionId,
        event: Option<EventKind>,
    ) -> Result<Option<Connection>, VaultError>;

    /// Replaces the tokens (and the metadata, when given) if they are still at
    /// `expected_revision`.
    async fn swap_tokens(
        &self,
        id: ConnectionId,
        expected_revision: i64,
        tokens: TokenSet,
        metadata: Option<Metadata>,
    ) -> Result<TokenSwap, VaultError>;

    /// Revokes a connection whose grant the provider refused, only if its tokens are still at
    /// `expected_revision` (nobody refreshed meanwhile), deleting them and writing
    /// `connection.revoked`. `None` when the tokens had changed or the connection was not live.
    async fn revoke_unchanged(
        &self,
        id: ConnectionId,
        expected_revision: i64,
    ) -> Result<Option<Connection>, VaultError>;

    /// Marks a connection uninstalled at the vendor's request and writes
    /// `installation.uninstalled`. With `revoke_retry_at`, the sealed tokens are kept only so
    /// that revoking them at the provider can be retried from then on (they are never handed
    /// out again); without, they are deleted. `None` if it was uninstalled already.
    async fn uninstall(
        &self,
        id: ConnectionId,
        revoke_retry_at: Option<Timestamp>,
    ) -> Result<Option<Connection>, VaultError>;

    /// Uninstalled connections whose revoke at the provider is due, with their tokens.
    async fn revocations_due(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<Connection>, VaultError>;

    /// A pending revoke is settled: `None` deletes the kept tokens (done, or given up);
    /// `Some(at)` tries again then.
    async fn settle_revocation(
        &self,
        id: ConnectionId,
        retry_at: Option<Timestamp>,
    ) -> Result<(), VaultError>;

    /// Active connections whose access token expires before `before`, soonest first, without
    /// their tokens.
    async fn expiring(&self, before: Timestamp, limit: i64) -> Result<Vec<Connection>, VaultError>;

    /// Writes an event that belongs to no stored change (an install cancelled before it began).
    async fn publish(&self, event: Event) -> Result<(), VaultError>;

    /// Pending connections not changed since `before`, oldest first.
    async fn stale_pending(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<Connection>, VaultError>;

    /// Revokes a connection only if it is still pending (nobody claimed it meanwhile), deleting
    /// its tokens and writing `installation.abandoned`. `None` when it was not pending any more.
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
