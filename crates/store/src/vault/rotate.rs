//! Re-encrypting every token under the active key, in batches. Each batch commits on its own,
//! so an interrupted rotation resumes where it stopped when run again. Rows sealed under a key
//! that is no longer configured are counted and left as they are.

use std::collections::BTreeMap;

use installgate_core::{ConnectionId, VaultError};

use super::row::{COLUMNS, StoredRow, seal};
use super::sql::SqlVault;
use crate::database::{in_transaction, on_pool, sql_error};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows re-encrypted under the active key by this run.
    pub rotated: u64,
    /// Rows whose ciphertext did not open with its (configured) key; left unchanged.
    pub undecryptable: Vec<ConnectionId>,
    /// Rows under keys that are not configured, by key id; left unchanged.
    pub unknown_keys: BTreeMap<String, u64>,
}

/// `$1, $2, …` placeholders from `first` on, `count` of them.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn rotate_keys(vault: &SqlVault, batch_size: u32) -> Result<RotationReport, VaultError> {
    let keys = vault.keys();
    let active = keys
        .active_key_id()
        .ok_or(VaultError::NoActiveKey)?
        .to_owned();
    let older = keys.older_key_ids();
    let mut report = RotationReport::default();
    let mut cursor = String::new();
    while !older.is_empty() {
        let sql = format!(
            "SELECT {COLUMNS} FROM connections WHERE id > $1 AND token_key_id IN ({}) \
             ORDER BY id LIMIT {batch_size}",
            placeholders(2, older.len())
        );
        let rows: Vec<StoredRow> = on_pool!(vault.database(), pool => {
            let mut query = sqlx::query_as(&sql).bind(&cursor);
            for key_id in &older {
                query = query.bind(key_id);
            }
            query.fetch_all(pool).await.map_err(sql_error)?
        });
        let Some(last) = rows.last() else { break };
        cursor = last.id.clone();

        let mut updates = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.connection_id()?;
            let old_key = row.token_key_id.clone().unwrap_or_default();
            let revision = row.revision;
            match row.into_connection(keys) {
                Ok(connection) => {
                    if let Some(tokens) = connection.tokens {
                        updates.push((id, old_key, revision, seal(keys, id, &tokens)?));
                    }
                }
                Err(VaultError::Undecryptable { .. }) => report.undecryptable.push(id),
                Err(other) => return Err(other),
            }
        }
        let rotated: u64 = in_transaction!(vault.database(), tx => {
            let mut count = 0;
            for (id, old_key, revision, sealed) in &updates {
                // Only if nothing rewrote the tokens meanwhile; a refresh writes them under the
                // active key anyway.
                let done = sqlx::query(
                    "UPDATE connections SET token_key_id = $1, access_token = $2, refresh_token = $3 \
                     WHERE id = $4 AND token_key_id = $5 AND revision = $6",
                )
                .bind(&active)
                .bind(&sealed.access)
                .bind(&sealed.refresh)
                .bind(id.to_string())
                .bind(old_key)
                .bind(revision)
                .execute(&mut *tx)
                .await
                .map_err(sql_error)?;
                count += done.rows_affected();
            }
            count
        });
        report.rotated += rotated;
    }

    let mut configured = older;
    configured.push(active);
    let sql = format!(
        "SELECT token_key_id, COUNT(*) FROM connections WHERE token_key_id IS NOT NULL \
         AND token_key_id NOT IN ({}) GROUP BY token_key_id",
        placeholders(1, configured.len())
    );
    let unknown: Vec<(String, i64)> = on_pool!(vault.database(), pool => {
        let mut query = sqlx::query_as(&sql);
        for key_id in &configured {
            query = query.bind(key_id);
        }
        query.fetch_all(pool).await.map_err(sql_error)?
    });
    report.unknown_keys = unknown
        .into_iter()
        .map(|(key, count)| (key, u64::try_from(count).unwrap_or(0)))
        .collect();
    Ok(report)
}
