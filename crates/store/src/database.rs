//! The relational database: SQLite (the embedded default) or PostgreSQL, chosen by URL, with the
//! schema migrations embedded in the binary.

use std::str::FromStr as _;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// `sqlite://path/to/file.db` or `postgres://user:password@host/db`. Secret because it may
    /// carry a password.
    pub url: SecretString,
    pub max_connections: u32,
    /// Upper bound for waiting on a connection, and for a readiness check.
    pub acquire_timeout: Duration,
    /// SQLite: sync the disk at every commit (`synchronous = FULL`), or only at checkpoints
    /// (`NORMAL`: still consistent, but commits since the last checkpoint can be lost to a power
    /// cut or an OS crash).
    pub sqlite_sync_each_commit: bool,
}

/// Which engine a [`Database`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a URL names, if it names one this gateway supports.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme)?;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Database failures. Messages never contain the URL, which may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("the database URL is not valid: {0}")]
    InvalidUrl(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a database migration failed: {0}")]
    Migration(String),
}

/// A connection pool on one of the supported engines.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool, SqliteWriters),
    Postgres(PgPool),
}

/// The queue of this process's SQLite write transactions.
///
/// SQLite lets one connection write at a time; the others wait by sleeping and trying again
/// (the busy timeout), in steps of a millisecond and more, so the lock stands idle between one
/// commit and the next writer's wake-up, and under load most of the time goes to that. Write
/// transactions therefore queue here first, in order, and reach SQLite one at a time; the busy
/// timeout is left for other processes on the same file and for single-statement writes.
#[derive(Debug, Clone, Default)]
pub struct SqliteWriters(std::sync::Arc<tokio::sync::Mutex<()>>);

impl SqliteWriters {
    /// Waits for this process's turn to write; the turn passes on when the guard is dropped.
    pub async fn turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.0.clone().lock_owned().await
    }
}

impl Database {
    /// Opens a pool. For SQLite, the file and its directory are created when missing.
    pub async fn connect(options: &DatabaseOptions) -> Result<Self, DatabaseError> {
        let url = options.url.expose_secret();
        match Engine::of_url(url).ok_or(DatabaseError::UnsupportedUrl)? {
            Engine::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(|error| DatabaseError::InvalidUrl(error.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(if options.sqlite_sync_each_commit {
                        SqliteSynchronous::Full
                    } else {
                        SqliteSynchronous::Normal
                    })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                create_parent_directory(connect.get_filename())?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(unavailable)?;
                Ok(Self::Sqlite(pool, SqliteWriters::default()))
            }
            Engine::Postgres => {
                let connect = PgConnectOptions::from_str(url)
                    .map_err(|_| DatabaseError::InvalidUrl("not a PostgreSQL URL".into()))?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(unavailable)?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Self::Sqlite(..) => Engine::Sqlite,
            Self::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies every embedded migration not yet applied. Safe to run from several processes at
    /// once on PostgreSQL (the migrator takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        let result = match self {
            Self::Sqlite(pool, _) => SQLITE_MIGRATIONS.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|error| DatabaseError::Migration(error.to_string()))
    }

    /// The versions of the migrations this binary carries for this engine.
    pub fn embedded_migrations(&self) -> Vec<i64> {
        let migrator = match self {
            Self::Sqlite(..) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|migration| migration.version).collect()
    }

    /// Answers when a connection can be had and runs a trivial query.
    pub async fn ping(&self) -> Result<(), DatabaseError> {
        let result = match self {
            Self::Sqlite(pool, _) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        };
        result.map_err(unavailable)
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool, _) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

fn create_parent_directory(file: &std::path::Path) -> Result<(), DatabaseError> {
    let in_memory = file.as_os_str().is_empty() || file.to_string_lossy().starts_with(":memory:");
    match file.parent() {
        Some(parent) if !in_memory && !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|error| {
                DatabaseError::Unavailable(format!("cannot create the database directory: {error}"))
            })
        }
        _ => Ok(()),
    }
}

fn unavailable(error: sqlx::Error) -> DatabaseError {
    let reason = match &error {
        sqlx::Error::PoolTimedOut => "no connection within the acquire timeout".to_owned(),
        sqlx::Error::Io(io) => format!("connection failed: {}", io.kind()),
        sqlx::Error::Database(db) => format!("database error: {}", db.message()),
        other => format!("{other}"),
    };
    DatabaseError::Unavailable(reason)
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds. The body is compiled once per
/// engine, so the same SQL (with `$1`-style parameters, which both engines accept) serves both.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Database::Sqlite($pool, _) => $body,
            $crate::Database::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a transaction on `$db`, committing when it completes. An early return
/// (`?`) drops the transaction, which rolls it back. SQLite transactions wait for their turn
/// among this process's writers ([`SqliteWriters`]), then take the write lock at once
/// (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way on a busy snapshot.
macro_rules! in_transaction {
    ($db:expr, $tx:ident => $body:expr) => {
        match $db {
            $crate::Database::Sqlite(pool, writers) => {
                let _turn = writers.turn().await;
                let mut $tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err($crate::database::sql_error)?;
                let value = $body;
                $tx.commit().await.map_err($crate::database::sql_error)?;
                value
            }
            $crate::Database::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err($crate::database::sql_error)?;
                let value = $body;
                $tx.commit().await.map_err($crate::database::sql_error)?;
                value
            }
        }
    };
}

pub(crate) use {in_transaction, on_pool};

/// A database error as the vault reports it, without the query or its parameters.
pub(crate) fn sql_error(error: sqlx::Error) -> installgate_core::VaultError {
    installgate_core::VaultError::Unavailable(match unavailable(error) {
        DatabaseError::Unavailable(reason) => reason,
        other => other.to_string(),
    })
}

/// The file a `sqlite://` URL names; `None` for other engines and in-memory databases.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if Engine::of_url(url) != Some(Engine::Sqlite) {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    let name = file.to_string_lossy();
    (!name.is_empty() && !name.starts_with(":memory:")).then(|| file.to_path_buf())
}
