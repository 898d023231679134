//! `ConnectionVault` on SQLite and PostgreSQL.

use std::sync::Arc;

use async_trait::async_trait;
use installgate_core::{
    AccountId, AppId, Clock, Connection, ConnectionId, ConnectionStatus, ConnectionVault, Event,
    EventKind, Inserted, MarketplaceKey, Metadata, NewInstall, ProviderId, Timestamp, TokenSet,
    TokenSwap, VaultError,
};

use super::group::{InstallQueue, WhenExists};
use super::keyring::Keyring;
use super::row::{COLUMNS, SealedTokens, StoredRow, seal};
use crate::Database;
use crate::database::{in_transaction, on_pool, sql_error};

/// The vault over a [`Database`], sealing tokens with a [`Keyring`].
#[derive(Clone)]
pub struct SqlVault {
    database: Database,
    keys: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    /// New installs waiting to be written together.
    installs: Arc<InstallQueue>,
}

impl std::fmt::Debug for SqlVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlVault")
            .field("engine", &self.database.engine())
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

const INSERT_EVENT: &str = "INSERT INTO events \
    (id, event_type, ordering_key, payload, created_at, next_attempt_at) \
    VALUES ($1, $2, $3, $4, $5, $5)";

fn select_by_id() -> String {
    format!("SELECT {COLUMNS} FROM connections WHERE id = $1")
}

impl SqlVault {
    pub fn new(database: Database, keys: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        Self {
            database,
            keys,
            clock,
            installs: Arc::default(),
        }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    pub(super) fn installs(&self) -> &InstallQueue {
        &self.installs
    }

    pub(super) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn decode(&self, row: StoredRow) -> Result<Connection, VaultError> {
        row.into_connection(&self.keys)
    }

    fn decode_all(&self, rows: Vec<StoredRow>) -> Result<Vec<Connection>, VaultError> {
        rows.into_iter().map(|row| self.decode(row)).collect()
    }

    /// The rows of `SELECT {COLUMNS} … WHERE …` with a timestamp `$1` and a limit `$2`.
    async fn rows_by_time(
        &self,
        condition: &str,
        at: Timestamp,
        limit: i64,
    ) -> Result<Vec<StoredRow>, VaultError> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE {condition} LIMIT $2");
        Ok(on_pool!(&self.database, pool => {
            sqlx::query_as(&sql)
                .bind(at.as_millis())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(sql_error)?
        }))
    }
}

/// Writes `event` with the statement executor `$tx`.
macro_rules! insert_event {
    ($tx:expr, $event:expr) => {{
        let event: &Event = $event;
        sqlx::query(INSERT_EVENT)
            .bind(&event.id)
            .bind(event.kind.as_str())
            .bind(&event.ordering_key)
            .bind(event.payload())
            .bind(event.occurred_at.as_millis())
            .execute($tx)
            .await
            .map_err(sql_error)?;
    }};
}

/// Loads the row of `$id` inside the transaction `$tx`, decodes it, and writes `$event` about it.
macro_rules! reload_and_emit {
    ($self:ident, $tx:ident, $id:expr, $event:expr) => {{
        let row: StoredRow = sqlx::query_as(&select_by_id())
            .bind($id.to_string())
            .fetch_one(&mut *$tx)
            .await
            .map_err(sql_error)?;
        let connection = $self.decode(row)?;
        if let Some(kind) = $event {
            let event = Event::about(kind, &connection, $self.clock.now());
            insert_event!(&mut *$tx, &event);
        }
        connection
    }};
}

/// Runs `$query`, an `UPDATE` of connection `$id`, in a transaction. When it changed the row,
/// returns `Ok(Some(connection))` after writing `$event` about it; otherwise `Ok(None)`.
macro_rules! update_and_emit {
    ($self:ident, $id:expr, $event:expr, $query:expr) => {{
        in_transaction!(&$self.database, tx => {
            let updated = $query.execute(&mut *tx).await.map_err(sql_error)?;
            if updated.rows_affected() == 0 {
                return Ok(None);
            }
            Ok(Some(reload_and_emit!($self, tx, $id, Some($event))))
        })
    }};
}

/// The `scopes` and `metadata` columns of an install, as JSON.
fn install_columns(install: &NewInstall) -> Result<(String, String), VaultError> {
    let corrupt = |e: serde_json::Error| VaultError::Corrupt(e.to_string());
    Ok((
        serde_json::to_string(&install.scopes).map_err(corrupt)?,
        serde_json::to_string(&install.metadata).map_err(corrupt)?,
    ))
}

impl SqlVault {
    /// Writes one install in a transaction of its own: the connection of its key updated when
    /// it exists, inserted otherwise, and `event` about it.
    pub(super) async fn upsert_one(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError> {
        let (scopes, metadata) = install_columns(&install)?;
        let account = install.account.as_ref().map(AccountId::as_str);
        // A concurrent first install of the same account can win the insert; the loser then
        // finds the row and updates it.
        for _ in 0..3 {
            let now = self.clock.now().as_millis();
            let outcome: Option<Connection> = in_transaction!(&self.database, tx => {
                let existing: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM connections WHERE app = $1 AND provider = $2 AND marketplace_key = $3",
                )
                .bind(install.app.as_str())
                .bind(install.provider.as_str())
                .bind(install.marketplace_key.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(sql_error)?;
                let written = match existing {
                    Some((id,)) => {
                        let id = ConnectionId::parse(&id)
                            .map_err(|_| VaultError::Corrupt("the stored id is not valid".into()))?;
                        let sealed = seal(&self.keys, id, &install.tokens)?;
                        sqlx::query(
                            // A connection that still holds tokens keeps its owner and its
                            // workspace (a move is the user's explicit choice); an uninstalled or
                            // revoked one is claimed afresh.
                            "UPDATE connections SET account = CASE WHEN status IN ('pending', 'active') \
                             THEN COALESCE($1, account) ELSE $1 END, status = $2, \
                             scopes = $3, metadata = $4, token_key_id = $5, access_token = $6, \
                             refresh_token = $7, expires_at = $8, revision = revision + 1, \
                             updated_at = $9, revoke_retry_at = NULL, \
                             workspace_id = CASE WHEN status IN ('pending', 'active') \
                             AND workspace_id IS NOT NULL THEN workspace_id ELSE $11 END, \
                             workspace_name = CASE WHEN status IN ('pending', 'active') \
                             AND workspace_id IS NOT NULL THEN workspace_name ELSE $12 END \
                             WHERE id = $10",
                        )
                        .bind(account)
                        .bind(install.status.as_str())
                        .bind(&scopes)
                        .bind(&metadata)
                        .bind(&sealed.key_id)
                        .bind(&sealed.access)
                        .bind(&sealed.refresh)
                        .bind(sealed.expires_at)
                        .bind(now)
                        .bind(id.to_string())
                        .bind(install.workspace.as_ref().map(|w| w.id.as_str()))
                        .bind(install.workspace.as_ref().map(|w| w.name.as_str()))
                        .execute(&mut *tx)
                        .await
                        .map_err(sql_error)?;
                        Some(id)
                    }
                    None => {
                        let id = ConnectionId::generate();
                        let sealed: SealedTokens = seal(&self.keys, id, &install.tokens)?;
                        let inserted = sqlx::query(
                            "INSERT INTO connections (id, app, provider, marketplace_key, account, \
                             status, scopes, metadata, token_key_id, access_token, refresh_token, \
                             expires_at, revision, created_at, updated_at, workspace_id, \
                             workspace_name) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13, \
                             $14, $15) \
                             ON CONFLICT (app, provider, marketplace_key) DO NOTHING",
                        )
                        .bind(id.to_string())
                        .bind(install.app.as_str())
                        .bind(install.provider.as_str())
                        .bind(install.marketplace_key.as_str())
                        .bind(account)
                        .bind(install.status.as_str())
                        .bind(&scopes)
                        .bind(&metadata)
                        .bind(&sealed.key_id)
                        .bind(&sealed.access)
                        .bind(&sealed.refresh)
                        .bind(sealed.expires_at)
                        .bind(now)
                        .bind(install.workspace.as_ref().map(|w| w.id.as_str()))
                        .bind(install.workspace.as_ref().map(|w| w.name.as_str()))
                        .execute(&mut *tx)
                        .await
                        .map_err(sql_error)?;
                        (inserted.rows_affected() == 1).then_some(id)
                    }
                };
                match written {
                    Some(id) => Some(reload_and_emit!(self, tx, id, event)),
                    None => None,
                }
            });
            if let Some(connection) = outcome {
                return Ok(connection);
            }
        }
        Err(VaultError::Unavailable(
            "the install kept conflicting with concurrent installs".into(),
        ))
    }
}

impl SqlVault {
    /// Changes the status of `id` where `only_if` (an SQL condition starting with ` AND `, or
    /// nothing) holds; a status that holds no tokens deletes them. `None` when no row matched.
    async fn change_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        only_if: &'static str,
        event: Option<EventKind>,
    ) -> Result<Option<Connection>, VaultError> {
        let now = self.clock.now().as_millis();
        let set = if status.holds_tokens() {
            "status = $1, updated_at = $2"
        } else {
            "status = $1, updated_at = $2, token_key_id = NULL, access_token = NULL, \
             refresh_token = NULL, expires_at = NULL, revoke_retry_at = NULL, \
             revision = revision + 1"
        };
        let sql = format!("UPDATE connections SET {set} WHERE id = $3{only_if}");
        in_transaction!(&self.database, tx => {
            let updated = sqlx::query(&sql)
                .bind(status.as_str())
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(sql_error)?;
            if updated.rows_affected() == 0 {
                return Ok(None);
            }
            Ok(Some(reload_and_emit!(self, tx, id, event)))
        })
    }
}

#[async_trait]
impl ConnectionVault for SqlVault {
    async fn upsert_install(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError> {
        let columns = install_columns(&install)?;
        match self
            .write_grouped(install, event, columns, WhenExists::Update)
            .await?
        {
            Inserted::New(connection) => Ok(connection),
            Inserted::Exists(_) => Err(VaultError::Unavailable(
                "the install was not written".into(),
            )),
        }
    }

    async fn insert_install(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
    ) -> Result<Inserted, VaultError> {
        let columns = install_columns(&install)?;
        self.write_grouped(install, event, columns, WhenExists::Skip)
            .await
    }

    async fn attach(
        &self,
        id: ConnectionId,
        account: &AccountId,
        workspace: Option<&installgate_core::Workspace>,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError> {
        let now = self.clock.now().as_millis();
        in_transaction!(&self.database, tx => {
            let updated = sqlx::query(
                "UPDATE connections SET account = $1, status = 'active', updated_at = $2, \
                 workspace_id = COALESCE($4, workspace_id), \
                 workspace_name = CASE WHEN $4 IS NULL THEN workspace_name ELSE $5 END \
                 WHERE id = $3 AND status IN ('pending', 'active') \
                 AND (account IS NULL OR account = $1)",
            )
            .bind(account.as_str())
            .bind(now)
            .bind(id.to_string())
            .bind(workspace.map(|w| w.id.as_str()))
            .bind(workspace.map(|w| w.name.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?;
            if updated.rows_affected() == 0 {
                // Compare-and-set: a connection another account owns is never moved.
                let row: Option<StoredRow> = sqlx::query_as(&select_by_id())
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(sql_error)?;
                let existing = row.map(|row| self.decode(row)).transpose()?;
                return Err(match existing {
                    Some(connection)
                        if connection.status.holds_tokens()
                            && connection.account.as_ref().is_some_and(|owner| owner != account) =>
                    {
                        VaultError::OwnedByAnother(Box::new(connection))
                    }
                    _ => VaultError::NotFound,
                });
            }
            Ok(reload_and_emit!(self, tx, id, event))
        })
    }

    async fn move_to(
        &self,
        id: ConnectionId,
        account: &AccountId,
        workspace: &installgate_core::Workspace,
    ) -> Result<Option<Connection>, VaultError> {
        let now = self.clock.now().as_millis();
        in_transaction!(&self.database, tx => {
            let updated = sqlx::query(
                "UPDATE connections SET workspace_id = $1, workspace_name = $2, updated_at = $3 \
                 WHERE id = $4 AND account = $5 AND status = 'active'",
            )
            .bind(&workspace.id)
            .bind(&workspace.name)
            .bind(now)
            .bind(id.to_string())
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?;
            if updated.rows_affected() == 0 {
                return Ok(None);
            }
            Ok(Some(reload_and_emit!(self, tx, id, Some(EventKind::ConnectionMoved))))
        })
    }

    async fn get(&self, id: ConnectionId) -> Result<Option<Connection>, VaultError> {
        let row: Option<StoredRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(&select_by_id())
                .bind(id.to_string())
                .fetch_optional(pool)
                .await
                .map_err(sql_error)?
        });
        row.map(|row| self.decode(row)).transpose()
    }

    async fn find_by_key(
        &self,
        app: &AppId,
        provider: &ProviderId,
        key: &MarketplaceKey,
    ) -> Result<Option<Connection>, VaultError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE app = $1 AND provider = $2 AND marketplace_key = $3"
        );
        let row: Option<StoredRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(&sql)
                .bind(app.as_str())
                .bind(provider.as_str())
                .bind(key.as_str())
                .fetch_optional(pool)
                .await
                .map_err(sql_error)?
        });
        row.map(|row| self.decode(row)).transpose()
    }

    async fn list_by_account(&self, account: &AccountId) -> Result<Vec<Connection>, VaultError> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE account = $1 ORDER BY id");
        let rows: Vec<StoredRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(&sql)
                .bind(account.as_str())
                .fetch_all(pool)
                .await
                .map_err(sql_error)?
        });
        self.decode_all(rows)
    }

    async fn set_status(
        &self,
        id: ConnectionId,
        status: ConnectionStatus,
        event: Option<EventKind>,
    ) -> Result<Connection, VaultError> {
        self.change_status(id, status, "", event)
            .await?
            .ok_or(VaultError::NotFound)
    }

    async fn cancel_pending(
        &self,
        id: ConnectionId,
        event: Option<EventKind>,
    ) -> Result<Option<Connection>, VaultError> {
        self.change_status(
            id,
            ConnectionStatus::Uninstalled,
            " AND status = 'pending' AND account IS NULL",
            event,
        )
        .await
    }

    async fn swap_tokens(
        &self,
        id: ConnectionId,
        expected_revision: i64,
        tokens: TokenSet,
        metadata: Option<Metadata>,
    ) -> Result<TokenSwap, VaultError> {
        let now = self.clock.now().as_millis();
        let sealed = seal(&self.keys, id, &tokens)?;
        let metadata = metadata
            .map(|metadata| serde_json::to_string(&metadata))
            .transpose()
            .map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let swapped = on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE connections SET token_key_id = $1, access_token = $2, refresh_token = $3, \
                 expires_at = $4, revision = revision + 1, updated_at = $5, \
                 metadata = COALESCE($8, metadata) \
                 WHERE id = $6 AND revision = $7 AND status IN ('pending', 'active')",
            )
            .bind(&sealed.key_id)
            .bind(&sealed.access)
            .bind(&sealed.refresh)
            .bind(sealed.expires_at)
            .bind(now)
            .bind(id.to_string())
            .bind(expected_revision)
            .bind(metadata)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
                == 1
        });
        let current = self.get(id).await?.ok_or(VaultError::NotFound)?;
        Ok(if swapped {
            TokenSwap::Swapped(current)
        } else {
            TokenSwap::Stale(current)
        })
    }

    async fn revoke_unchanged(
        &self,
        id: ConnectionId,
        expected_revision: i64,
    ) -> Result<Option<Connection>, VaultError> {
        let now = self.clock.now().as_millis();
        update_and_emit!(
            self,
            id,
            EventKind::ConnectionRevoked,
            sqlx::query(
                "UPDATE connections SET status = 'revoked', updated_at = $1, token_key_id = NULL, \
                 access_token = NULL, refresh_token = NULL, expires_at = NULL, \
                 revision = revision + 1 \
                 WHERE id = $2 AND revision = $3 AND status IN ('pending', 'active')",
            )
            .bind(now)
            .bind(id.to_string())
            .bind(expected_revision)
        )
    }

    async fn uninstall(
        &self,
        id: ConnectionId,
        revoke_retry_at: Option<Timestamp>,
    ) -> Result<Option<Connection>, VaultError> {
        let now = self.clock.now().as_millis();
        let sql = if revoke_retry_at.is_some() {
            "UPDATE connections SET status = 'uninstalled', updated_at = $1, \
             revoke_retry_at = $2, revision = revision + 1 \
             WHERE id = $3 AND status <> 'uninstalled'"
        } else {
            "UPDATE connections SET status = 'uninstalled', updated_at = $1, \
             revoke_retry_at = $2, token_key_id = NULL, access_token = NULL, \
             refresh_token = NULL, expires_at = NULL, revision = revision + 1 \
             WHERE id = $3 AND status <> 'uninstalled'"
        };
        update_and_emit!(
            self,
            id,
            EventKind::InstallationUninstalled,
            sqlx::query(sql)
                .bind(now)
                .bind(revoke_retry_at.map(Timestamp::as_millis))
                .bind(id.to_string())
        )
    }

    async fn revocations_due(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<Connection>, VaultError> {
        let rows = self
            .rows_by_time(
                "revoke_retry_at IS NOT NULL AND revoke_retry_at <= $1 \
                 AND status = 'uninstalled' ORDER BY revoke_retry_at",
                now,
                limit,
            )
            .await?;
        self.decode_all(rows)
    }

    async fn settle_revocation(
        &self,
        id: ConnectionId,
        retry_at: Option<Timestamp>,
    ) -> Result<(), VaultError> {
        let sql = if retry_at.is_some() {
            "UPDATE connections SET revoke_retry_at = $1 \
             WHERE id = $2 AND revoke_retry_at IS NOT NULL AND status = 'uninstalled'"
        } else {
            "UPDATE connections SET revoke_retry_at = $1, token_key_id = NULL, \
             access_token = NULL, refresh_token = NULL, expires_at = NULL \
             WHERE id = $2 AND revoke_retry_at IS NOT NULL AND status = 'uninstalled'"
        };
        on_pool!(&self.database, pool => {
            sqlx::query(sql)
                .bind(retry_at.map(Timestamp::as_millis))
                .bind(id.to_string())
                .execute(pool)
                .await
                .map_err(sql_error)?;
        });
        Ok(())
    }

    async fn expiring(&self, before: Timestamp, limit: i64) -> Result<Vec<Connection>, VaultError> {
        let rows = self
            .rows_by_time(
                "status = 'active' AND expires_at IS NOT NULL AND expires_at < $1 \
                 ORDER BY expires_at",
                before,
                limit,
            )
            .await?;
        rows.into_iter().map(StoredRow::into_metadata).collect()
    }

    async fn publish(&self, event: Event) -> Result<(), VaultError> {
        on_pool!(&self.database, pool => insert_event!(pool, &event));
        Ok(())
    }

    async fn stale_pending(
        &self,
        before: installgate_core::Timestamp,
        limit: i64,
    ) -> Result<Vec<Connection>, VaultError> {
        let rows = self
            .rows_by_time(
                "status = 'pending' AND updated_at < $1 ORDER BY updated_at",
                before,
                limit,
            )
            .await?;
        self.decode_all(rows)
    }

    async fn expire_pending(&self, id: ConnectionId) -> Result<Option<Connection>, VaultError> {
        let now = self.clock.now().as_millis();
        update_and_emit!(
            self,
            id,
            EventKind::InstallationAbandoned,
            sqlx::query(
                "UPDATE connections SET status = 'revoked', updated_at = $1, token_key_id = NULL, \
                 access_token = NULL, refresh_token = NULL, expires_at = NULL, \
                 revision = revision + 1 WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(id.to_string())
        )
    }

    async fn list(
        &self,
        filter: &installgate_core::ConnectionFilter,
        after: Option<ConnectionId>,
        limit: u32,
    ) -> Result<Vec<Connection>, VaultError> {
        let mut conditions = vec!["id > $1".to_owned()];
        let mut values: Vec<String> = vec![after.map(|id| id.to_string()).unwrap_or_default()];
        let mut bind = |column: &str, value: String| {
            values.push(value);
            conditions.push(format!("{column} = ${}", values.len()));
        };
        if let Some(id) = &filter.id {
            bind("id", id.to_string());
        }
        if let Some(provider) = &filter.provider {
            bind("provider", provider.to_string());
        }
        if let Some(account) = &filter.account {
            bind("account", account.to_string());
        }
        if let Some(key) = &filter.marketplace_key {
            bind("marketplace_key", key.as_str().to_owned());
        }
        if let Some(status) = filter.status {
            bind("status", status.as_str().to_owned());
        }
        if let Some(workspace) = &filter.workspace {
            bind("workspace_id", workspace.clone());
        }
        if filter.never_expiring {
            conditions.push("access_token IS NOT NULL AND expires_at IS NULL".to_owned());
        }
        if let Some(apps) = &filter.apps {
            if apps.is_empty() {
                return Ok(Vec::new());
            }
            let first = values.len() + 1;
            values.extend(apps.iter().map(ToString::to_string));
            let placeholders: Vec<String> =
                (first..=values.len()).map(|n| format!("${n}")).collect();
            conditions.push(format!("app IN ({})", placeholders.join(", ")));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE {} ORDER BY id LIMIT {}",
            conditions.join(" AND "),
            limit.clamp(1, 1000)
        );
        let rows: Vec<StoredRow> = on_pool!(&self.database, pool => {
            let mut query = sqlx::query_as(&sql);
            for value in &values {
                query = query.bind(value);
            }
            query.fetch_all(pool).await.map_err(sql_error)?
        });
        rows.into_iter().map(StoredRow::into_metadata).collect()
    }
}
