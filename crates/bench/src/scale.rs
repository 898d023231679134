//! Token requests at growing connection counts: the same 64 real connections, with the rest of
//! the table filled in bulk (PostgreSQL), and the token cache off so that every request reads
//! its row and opens its tokens. The latency should not grow with the table. The ratio of the
//! p99s is taken over rounds that alternate between the counts, as the main run pairs each
//! scenario with the reference.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::Connection as _;

use crate::load::open_loop;
use crate::report::ClientScenario;
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
    /// Throughput at saturation and the latency of one fixed-rate run.
    pub scenario: ClientScenario,
    /// p99 of each paired fixed-rate round, in milliseconds.
    pub p99_rounds_ms: Vec<f64>,
}

/// What the run found: each count, and the p99 of the largest count over the p99 of the
/// smallest, the median of the rounds' ratios.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub steps: Vec<Step>,
    pub p99_ratio: Option<f64>,
}

/// Fixed-rate rounds per count, taken in turn so that a noisy moment weighs on every count.
const ROUNDS: usize = 5;

/// A gateway on a fresh database holding `count` connections, 64 of them real.
async fn prepare(
    admin_url: &str,
    options: &Options,
    count: u64,
) -> anyhow::Result<(Rig, Vec<String>)> {
    let database = fresh_database(admin_url, &format!("installgate_bench_scale_{count}")).await?;
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
    Ok((rig, urls))
}

/// Every count gets its own gateway and database, all running at once. Each is measured alone
/// first (saturation and a fixed rate), then the fixed-rate rounds go round the counts in turn.
pub async fn run(
    admin_url: &str,
    options: &Options,
    counts: &[u64],
    plan: &Plan,
) -> anyhow::Result<Outcome> {
    let mut prepared = Vec::new();
    for &count in counts {
        prepared.push((count, prepare(admin_url, options, count).await?));
    }
    let requests: Vec<_> = prepared
        .iter()
        .map(|(_, (rig, urls))| {
            Arc::new(scenarios::AccessToken {
                client: rig.client.clone(),
                urls: urls.clone(),
                api_key: rig.api_key.clone(),
                force_refresh: false,
            })
        })
        .collect();
    let mut steps = Vec::new();
    for ((count, _), request) in prepared.iter().zip(&requests) {
        let scenario = crate::measure_with_client(
            &format!("access token, {count} connections"),
            request.clone(),
            plan,
            plan.rate,
        )
        .await;
        steps.push(Step {
            connections: *count,
            scenario,
            p99_rounds_ms: Vec::new(),
        });
    }
    let rounds = if plan.rounds > 1 { ROUNDS } else { 1 };
    let mut next = 1 << 32;
    for _ in 0..rounds {
        for (step, request) in steps.iter_mut().zip(&requests) {
            let (fixed, used) =
                open_loop(request.clone(), plan.rate, plan.open / 2, next, 10_000).await;
            next += used;
            step.p99_rounds_ms.push(fixed.p99_ms);
        }
    }
    let p99_ratio = match (steps.first(), steps.last()) {
        (Some(first), Some(last)) if steps.len() > 1 => Some(crate::median(
            first
                .p99_rounds_ms
                .iter()
                .zip(&last.p99_rounds_ms)
                .map(|(first, last)| last / first)
                .collect(),
        )),
        _ => None,
    };
    drop(prepared);
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(Outcome { steps, p99_ratio })
}
