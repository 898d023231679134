use std::sync::Arc;
use std::time::Duration;

use installgate_core::{Clock, SystemClock};
use installgate_store::{Database, DatabaseOptions, Keyring, SqlVault};

use crate::FreshPostgres;

/// A migrated database of the test's own, on either engine.
pub struct TestDatabase {
    pub database: Database,
    /// The SQLite directory, for tests that read the raw files.
    pub sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<FreshPostgres>,
}

fn options(url: &str) -> DatabaseOptions {
    DatabaseOptions {
        url: url.into(),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
        sqlite_sync_each_commit: true,
    }
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/gateway.db", dir.path().display());
        let database = Database::connect(&options(&url)).await.unwrap();
        database.migrate().await.unwrap();
        Self {
            database,
            sqlite_dir: Some(dir),
            _postgres: None,
        }
    }

    pub async fn postgres() -> Self {
        let fresh = FreshPostgres::create().await;
        let database = Database::connect(&options(fresh.url())).await.unwrap();
        database.migrate().await.unwrap();
        Self {
            database,
            sqlite_dir: None,
            _postgres: Some(fresh),
        }
    }

    /// Another pool on the same database, as a second process would have.
    pub async fn reconnect(&self) -> Database {
        let url = match (&self.sqlite_dir, &self._postgres) {
            (Some(dir), _) => format!("sqlite://{}/gateway.db", dir.path().display()),
            (None, Some(postgres)) => postgres.url().to_owned(),
            (None, None) => unreachable!("a test database is SQLite or PostgreSQL"),
        };
        Database::connect(&options(&url)).await.unwrap()
    }

    /// A vault whose active key is `active`, knowing `keys` (id, fill byte).
    pub fn vault(&self, active: &str, keys: &[(&str, u8)]) -> SqlVault {
        self.vault_with_clock(active, keys, Arc::new(SystemClock))
    }

    pub fn vault_with_clock(
        &self,
        active: &str,
        keys: &[(&str, u8)],
        clock: Arc<dyn Clock>,
    ) -> SqlVault {
        let keyring = Keyring::new(
            Some(active),
            keys.iter()
                .map(|(id, fill)| ((*id).to_owned(), [*fill; 32])),
        )
        .unwrap();
        SqlVault::new(self.database.clone(), Arc::new(keyring), clock)
    }
}
