//! `Accounts` on SQLite and PostgreSQL.
//!
//! Accounts found are kept in memory for [`KNOWN_FOR`]: a signed-in user's every install step
//! checks that the account still exists, and that need not cost a database read each time.
//! Accounts are never deleted by the gateway; a row deleted by hand, or details changed by
//! another replica, show here within that time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use installgate_core::{Account, AccountError, AccountId, Accounts, Clock, Email};

use crate::Database;
use crate::database::on_pool;

/// How long an account read stays in memory.
pub const KNOWN_FOR: Duration = Duration::from_secs(30);
/// How many accounts are kept in memory at most.
const KNOWN_CAPACITY: u64 = 10_000;

#[derive(Clone)]
pub struct SqlAccounts {
    database: Database,
    clock: Arc<dyn Clock>,
    known: moka::sync::Cache<AccountId, Account>,
}

impl std::fmt::Debug for SqlAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAccounts").finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    email: Option<String>,
    name: Option<String>,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, AccountError> {
        let corrupt = |what: &str| AccountError::Corrupt(format!("the stored {what} is not valid"));
        Ok(Account {
            id: AccountId::parse(&self.id).map_err(|_| corrupt("id"))?,
            email: self
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|_| corrupt("email"))?,
            name: self.name,
        })
    }
}

fn unavailable(error: sqlx::Error) -> AccountError {
    AccountError::Unavailable(crate::database::sql_error(error).to_string())
}

impl SqlAccounts {
    pub fn new(database: Database, clock: Arc<dyn Clock>) -> Self {
        let known = moka::sync::Cache::builder()
            .max_capacity(KNOWN_CAPACITY)
            .time_to_live(KNOWN_FOR)
            .build();
        Self {
            database,
            clock,
            known,
        }
    }
}

#[async_trait]
impl Accounts for SqlAccounts {
    async fn create(&self, email: &Email, password_hash: &str) -> Result<Account, AccountError> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now().as_millis();
        let inserted = on_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO accounts (id, kind, email, password_hash, created_at, updated_at) \
                 VALUES ($1, 'builtin', $2, $3, $4, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(email.as_str())
            .bind(password_hash)
            .bind(now)
            .execute(pool)
            .await
            .map_err(unavailable)?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(AccountError::EmailTaken);
        }
        Ok(Account {
            id: AccountId::parse(&id).map_err(|e| AccountError::Corrupt(e.to_string()))?,
            email: Some(email.clone()),
            name: None,
        })
    }

    async fn credentials(&self, email: &Email) -> Result<Option<(Account, String)>, AccountError> {
        let row: Option<(String, Option<String>, Option<String>, Option<String>)> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, email, name, password_hash FROM accounts \
                 WHERE kind = 'builtin' AND email = $1",
            )
            .bind(email.as_str())
            .fetch_optional(pool)
            .await
            .map_err(unavailable)?
        });
        match row {
            Some((id, email, name, Some(hash))) => {
                Ok(Some((AccountRow { id, email, name }.into_account()?, hash)))
            }
            _ => Ok(None),
        }
    }

    async fn get(&self, id: &AccountId) -> Result<Option<Account>, AccountError> {
        if let Some(account) = self.known.get(id) {
            return Ok(Some(account));
        }
        let row: Option<AccountRow> = on_pool!(&self.database, pool => {
            sqlx::query_as("SELECT id, email, name FROM accounts WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(pool)
                .await
                .map_err(unavailable)?
        });
        let account = row.map(AccountRow::into_account).transpose()?;
        if let Some(account) = &account {
            self.known.insert(account.id.clone(), account.clone());
        }
        Ok(account)
    }

    async fn remember_external(
        &self,
        id: &AccountId,
        email: Option<&Email>,
        name: Option<&str>,
    ) -> Result<Account, AccountError> {
        let now = self.clock.now().as_millis();
        on_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO accounts (id, kind, email, name, created_at, updated_at) \
                 VALUES ($1, 'external', $2, $3, $4, $4) \
                 ON CONFLICT (id) DO UPDATE SET email = $2, name = $3, updated_at = $4",
            )
            .bind(id.as_str())
            .bind(email.map(Email::as_str))
            .bind(name)
            .bind(now)
            .execute(pool)
            .await
            .map_err(unavailable)?
            .rows_affected()
        });
        let account = Account {
            id: id.clone(),
            email: email.cloned(),
            name: name.map(str::to_owned),
        };
        self.known.insert(id.clone(), account.clone());
        Ok(account)
    }
}
