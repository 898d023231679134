//! Token requests at growing connection counts: the same 64 real connections, with the rest of
//! the table filled in bulk (PostgreSQL), and the token cache off so that every request reads
//! its row and opens its tokens. The latency should not grow with the table.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::Connection as _;

use crate::report::Scenario;
use crate::setup::{Options, Rig};
use crate::{Plan, scenarios};

/// The admin URL with its database replaced by `name`.
fn with_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

async fn fresh_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut connection = sqlx::PgConnection::connect(admin)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut connection)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await?;
    with_database(admin, name)
}

/// Fills the table with `rows` uninstalled connections of another app (no tokens).
async fn seed(url: &str, rows: i64) -> anyhow::Result<()> {
    let mut connection = sqlx::PgConnection::connect(url).await?;
    sqlx::query(
        "INSERT INTO connections (id, app, provider, marketplace_key, status, scopes, metadata, \
         revision, created_at, updated_at) \
         SELECT 'seed-' || g, 'seeded', 'hubspot', g::text, 'uninstalled', '[]', '{}', 0, 0, 0 \
         FROM generate_series(1, $1) AS g",
    )
    .bind(rows)
    .execute(&mut connection)
    .await
    .context("seeding connections")?;
    // Settle what the bulk insert leaves behind (autovacuum, dirty pages), so that it does not
    // run during the measurement.
    for settle in ["VACUUM (ANALYZE) connections", "CHECKPOINT"] {
        sqlx::query(settle).execute(&mut connection).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub connections: u64,
    pub scenario: Scenario,
}

/// One measurement per count in `counts`.
pub async fn run(
    admin_url: &str,
    options: &Options,
    counts: &[u64],
    plan: &Plan,
) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    for &count in counts {
        let database =
            fresh_database(admin_url, &format!("installgate_bench_scale_{count}")).await?;
        let mut options = options.clone();
        options.postgres_url = Some(database.clone());
        options
            .extra_env
            .push(("INSTALLGATE__TOKENS__CACHE_CAPACITY".into(), "0".into()));
        let rig = Rig::start(&options).await?;
        let cookie = rig.signed_in_cookie().await?;
        for url in rig.finalize_urls(&cookie, 64, 1).await? {
            rig.client.get(url).send().await?;
        }
        let ids = rig.connection_ids(64).await?;
        let real = ids.len() as u64;
        eprintln!("seeding {} connections", count.saturating_sub(real));
        seed(&database, i64::try_from(count.saturating_sub(real))?).await?;
        let urls = ids
            .iter()
            .map(|id| format!("{}/api/v1/connections/{id}/access-token", rig.gateway_url))
            .collect();
        let scenario = crate::measure(
            &format!("access token, {count} connections"),
            scenarios::AccessToken {
                client: rig.client.clone(),
                urls,
                api_key: rig.api_key.clone(),
                force_refresh: false,
            },
            plan,
            plan.rate,
            None,
        )
        .await;
        steps.push(Step {
            connections: count,
            scenario,
        });
        drop(rig);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(steps)
}
