//! Group commit of new installs.
//!
//! An install written alone takes six statements (`BEGIN`, the lookup, the insert, the reload,
//! the event, `COMMIT`), each a round trip to the database, and a commit of its own. On SQLite,
//! which runs one write transaction at a time, those round trips are what bounds installs a
//! second; on PostgreSQL, the statements and the commit's WAL flush are the server's work. So
//! installs queue here, and whichever of them gets the queue's turn first takes the whole queue
//! and writes it in one transaction of four statements: one multi-row insert of the new
//! connections (`ON CONFLICT … DO NOTHING RETURNING` the rows written), one multi-row insert of
//! their events, and the `BEGIN` and `COMMIT` they share. The others find their answer ready.
//!
//! An install whose connection exists already (a reinstall, or a second install of the same key
//! in one batch) is not written by the batch: an upsert is then written alone, by the usual path,
//! and an insert of new connections only is answered "exists". Every install of a batch that
//! failed is written alone. The batch runs in a task of its own, so a request
//! that goes away does not cancel the writes of the others queued with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use installgate_core::{
    Connection, ConnectionId, ConnectionVault as _, Event, EventKind, Inserted, NewInstall,
    Timestamp, VaultError,
};
use sqlx::QueryBuilder;
use tokio::sync::{OwnedMutexGuard, oneshot};

use super::row::{COLUMNS, SealedTokens, StoredRow, seal};
use super::sql::SqlVault;
use crate::database::{in_transaction, sql_error};

/// At most this many installs go into one transaction (15 parameters each: far below the
/// engines' limits of 32,766 and 65,535).
const MAX_BATCH: usize = 64;

/// The installs waiting to be written, in arrival order, and the turn to write them: one batch
/// at a time in this process.
#[derive(Default)]
pub(crate) struct InstallQueue {
    waiting: Mutex<Vec<Queued>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// What becomes of an install whose key has a connection already.
#[derive(Debug, Clone, Copy)]
pub(super) enum WhenExists {
    /// The connection is updated (a reinstall).
    Update,
    /// Nothing is written, and the install comes back ([`Inserted::Exists`]).
    Skip,
}

/// One install ready to be written as a new row: its id chosen and its tokens sealed with it.
pub(crate) struct Queued {
    id: ConnectionId,
    sealed: SealedTokens,
    scopes: String,
    metadata: String,
    now: i64,
    install: NewInstall,
    event: Option<EventKind>,
    when_exists: WhenExists,
    reply: oneshot::Sender<Result<Inserted, VaultError>>,
}

impl InstallQueue {
    fn push(&self, queued: Queued) {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(queued);
    }

    /// The oldest installs waiting, up to [`MAX_BATCH`].
    fn take(&self) -> Vec<Queued> {
        let mut queue = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let count = queue.len().min(MAX_BATCH);
        queue.drain(..count).collect()
    }
}

fn interrupted() -> VaultError {
    VaultError::Unavailable("the install's write was interrupted".into())
}

impl SqlVault {
    /// Writes `install` with the installs queued beside it.
    pub(super) async fn write_grouped(
        &self,
        install: NewInstall,
        event: Option<EventKind>,
        (scopes, metadata): (String, String),
        when_exists: WhenExists,
    ) -> Result<Inserted, VaultError> {
        let id = ConnectionId::generate();
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            id,
            sealed: seal(self.keys(), id, &install.tokens)?,
            scopes,
            metadata,
            now: self.now().as_millis(),
            install,
            event,
            when_exists,
            reply,
        };
        // In a task of its own, so that a request that goes away leaves no install queued
        // without anyone to write it: once queued, an install is written.
        let vault = self.clone();
        tokio::spawn(async move { vault.queue_and_wait(queued, answer).await })
            .await
            .unwrap_or_else(|_| Err(interrupted()))
    }

    async fn queue_and_wait(
        self,
        queued: Queued,
        mut answer: oneshot::Receiver<Result<Inserted, VaultError>>,
    ) -> Result<Inserted, VaultError> {
        self.installs().push(queued);
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => return answer.unwrap_or_else(|_| Err(interrupted())),
                turn = self.installs().turn.clone().lock_owned() => {
                    let batch = self.installs().take();
                    if batch.is_empty() {
                        // This install went out with a batch that held the turn before.
                        drop(turn);
                        return answer.await.unwrap_or_else(|_| Err(interrupted()));
                    }
                    // This install may be in the batch or still queued behind it (a batch takes
                    // at most MAX_BATCH): either way, wait for the answer or the next turn.
                    let vault = self.clone();
                    tokio::spawn(async move { vault.write_batch(turn, batch).await });
                }
            }
        }
    }

    async fn write_batch(self, turn: OwnedMutexGuard<()>, batch: Vec<Queued>) {
        let outcome = self.insert_new(&batch).await;
        let failed = outcome.is_err();
        let mut written = outcome.unwrap_or_else(|error| {
            tracing::warn!(
                %error,
                installs = batch.len(),
                "a batch of installs failed; writing them one at a time"
            );
            HashMap::new()
        });
        let mut alone = Vec::new();
        for queued in batch {
            // The install's request may be gone; its connection is written all the same.
            match (written.remove(&queued.id), queued.when_exists) {
                (Some(connection), _) => drop(queued.reply.send(Ok(Inserted::New(connection)))),
                (None, WhenExists::Skip) if !failed => {
                    drop(queued.reply.send(Ok(Inserted::Exists(queued.install))));
                }
                (None, _) => alone.push(queued),
            }
        }
        drop(turn);
        // Each on its own task, so that none waits for another's answer.
        for queued in alone {
            let vault = self.clone();
            tokio::spawn(async move {
                // A batch whose commit failed may have been committed all the same (the
                // connection dropped after the server committed): what exists is not written
                // again, so that its event is not sent twice.
                if failed && let Ok(Some(connection)) = vault.get(queued.id).await {
                    drop(queued.reply.send(Ok(Inserted::New(connection))));
                    return;
                }
                let result =
                    match queued.when_exists {
                        WhenExists::Update => vault
                            .upsert_one(queued.install, queued.event)
                            .await
                            .map(Inserted::New),
                        WhenExists::Skip => vault
                            .insert_new(std::slice::from_ref(&queued))
                            .await
                            .map(|mut written| match written.remove(&queued.id) {
                                Some(connection) => Inserted::New(connection),
                                None => Inserted::Exists(queued.install),
                            }),
                    };
                drop(queued.reply.send(result));
            });
        }
    }

    /// Inserts the batch's connections that do not exist yet, and their events, in one
    /// transaction; returns the connections written, by id.
    async fn insert_new(
        &self,
        batch: &[Queued],
    ) -> Result<HashMap<ConnectionId, Connection>, VaultError> {
        in_transaction!(self.database(), tx => {
            let mut insert = QueryBuilder::new(
                "INSERT INTO connections (id, app, provider, marketplace_key, account, status, \
                 scopes, metadata, token_key_id, access_token, refresh_token, expires_at, revision, \
                 created_at, updated_at, workspace_id, workspace_name) ",
            );
            // In key order: two replicas writing overlapping batches on PostgreSQL then take the
            // rows' locks in the same order, and cannot deadlock.
            let mut ordered: Vec<&Queued> = batch.iter().collect();
            ordered.sort_by_key(|queued| {
                let install = &queued.install;
                (install.app.as_str(), install.provider.as_str(), install.marketplace_key.as_str())
            });
            insert.push_values(ordered, |mut row, queued| {
                let install = &queued.install;
                row.push_bind(queued.id.to_string())
                    .push_bind(install.app.as_str())
                    .push_bind(install.provider.as_str())
                    .push_bind(install.marketplace_key.as_str())
                    .push_bind(install.account.as_ref().map(|account| account.as_str()))
                    .push_bind(install.status.as_str())
                    .push_bind(&queued.scopes)
                    .push_bind(&queued.metadata)
                    .push_bind(&queued.sealed.key_id)
                    .push_bind(&queued.sealed.access)
                    .push_bind(queued.sealed.refresh.as_deref())
                    .push_bind(queued.sealed.expires_at)
                    .push_bind(1_i64)
                    .push_bind(queued.now)
                    .push_bind(queued.now)
                    .push_bind(install.workspace.as_ref().map(|w| w.id.as_str()))
                    .push_bind(install.workspace.as_ref().map(|w| w.name.as_str()));
            });
            insert.push(" ON CONFLICT (app, provider, marketplace_key) DO NOTHING RETURNING ");
            insert.push(COLUMNS);
            let rows: Vec<StoredRow> = insert
                .build_query_as()
                .fetch_all(&mut *tx)
                .await
                .map_err(sql_error)?;
            let mut written = HashMap::with_capacity(rows.len());
            for row in rows {
                let connection = row.into_connection(self.keys())?;
                written.insert(connection.id, connection);
            }
            let events: Vec<Event> = batch
                .iter()
                .filter_map(|queued| {
                    let connection = written.get(&queued.id)?;
                    Some(Event::about(
                        queued.event?,
                        connection,
                        Timestamp::from_millis(queued.now),
                    ))
                })
                .collect();
            if !events.is_empty() {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO events (id, event_type, ordering_key, payload, created_at, \
                     next_attempt_at) ",
                );
                insert.push_values(&events, |mut row, event| {
                    row.push_bind(&event.id)
                        .push_bind(event.kind.as_str())
                        .push_bind(&event.ordering_key)
                        .push_bind(event.payload())
                        .push_bind(event.occurred_at.as_millis())
                        .push_bind(event.occurred_at.as_millis());
                });
                insert.build().execute(&mut *tx).await.map_err(sql_error)?;
            }
            Ok(written)
        })
    }
}
