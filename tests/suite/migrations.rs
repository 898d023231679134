//! Schema migrations run on both engines, and again without harm.

use std::time::Duration;

use installgate_store::{Database, DatabaseOptions};
use installgate_tests::FreshPostgres;
use sqlx::Row as _;

fn options(url: &str) -> DatabaseOptions {
    DatabaseOptions {
        url: url.into(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
        sqlite_sync_each_commit: true,
    }
}

async fn applied_versions(database: &Database) -> Vec<i64> {
    let query = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
    match database {
        Database::Sqlite(pool, _) => {
            let rows = sqlx::query(query).fetch_all(pool).await.unwrap();
            rows.iter().map(|row| row.get::<i64, _>(0)).collect()
        }
        Database::Postgres(pool) => {
            let rows = sqlx::query(query).fetch_all(pool).await.unwrap();
            rows.iter().map(|row| row.get::<i64, _>(0)).collect()
        }
    }
}

async fn migrations_apply_and_reapply(url: &str) {
    let database = Database::connect(&options(url)).await.unwrap();
    database.migrate().await.unwrap();
    assert_eq!(
        applied_versions(&database).await,
        database.embedded_migrations()
    );
    // A second run (a restart, another replica) changes nothing and does not fail.
    database.migrate().await.unwrap();
    assert_eq!(
        applied_versions(&database).await,
        database.embedded_migrations()
    );
    database.close().await;
}

#[tokio::test]
async fn migrations_run_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/dir/gateway.db", dir.path().display());
    migrations_apply_and_reapply(&url).await;
    assert!(dir.path().join("nested/dir/gateway.db").exists());
}

#[tokio::test]
async fn migrations_run_on_postgres() {
    let database = FreshPostgres::create().await;
    migrations_apply_and_reapply(database.url()).await;
}

#[tokio::test]
async fn replicas_migrating_at_once_on_postgres_all_succeed() {
    let database = FreshPostgres::create().await;
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = database.url().to_owned();
            tokio::spawn(async move {
                let database = Database::connect(&options(&url)).await.unwrap();
                database.migrate().await
            })
        })
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn an_unsupported_database_url_is_refused_clearly() {
    let error = Database::connect(&options("mysql://root@127.0.0.1/test"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("sqlite:// or postgres://"));
}

#[tokio::test]
async fn an_unreachable_postgres_is_reported_without_its_password() {
    let port = installgate_tests::free_port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/x");
    let error = Database::connect(&options(&url)).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("unavailable"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}
