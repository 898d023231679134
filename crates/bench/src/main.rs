//! `installgate-bench`: the load benchmark. One run starts the gateway (the `installgate`
//! binary built beside this one) on Redis and SQLite or PostgreSQL, the simulated HubSpot, and
//! a bare actix-web reference with the same worker count, then measures each scenario against
//! the reference: throughput at saturation, and latency quantiles at a fixed arrival rate.
//!
//!     cargo build --release --bin installgate --bin installgate-bench
//!     target/release/installgate-bench run
//!
//! `--smoke` runs every scenario for about a second, so that the benchmark cannot rot; its
//! numbers mean little.

mod cpu;
mod load;
mod node;
mod quick;
mod reference;
mod report;
mod rounds;
mod scale;
mod scenarios;
mod setup;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use load::{OpenLoop, Request, Saturation, open_loop, saturate};
use report::{ClientScenario, Memory, Results};
use setup::{Options, Rig};

#[derive(Debug, Parser)]
#[command(name = "installgate-bench", about = "Installgate's load benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every scenario and prints the table.
    Run {
        /// A second or so per scenario: checks that everything runs, measures little.
        #[arg(long)]
        smoke: bool,
        /// Redis for the gateway's state.
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        redis: String,
        /// PostgreSQL for the gateway's database (`postgres://…`); SQLite when not given.
        #[arg(long)]
        postgres: Option<String>,
        /// Worker threads of the gateway and of the reference.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Where to write the results as JSON.
        #[arg(long, default_value = "target/bench/results.json")]
        json: PathBuf,
        /// A setting for the gateway, as `INSTALLGATE__SECTION__KEY=value` (repeatable), to
        /// measure a configuration other than the defaults.
        #[arg(long = "gateway-env", value_parser = parse_env)]
        gateway_env: Vec<(String, String)>,
    },
    /// Token-request latency at each connection count in PostgreSQL (filled in bulk), with
    /// the token cache off: the table's size must not show.
    Scale {
        /// A PostgreSQL server where the benchmark may create databases (`postgres://…`).
        #[arg(long)]
        postgres: String,
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        redis: String,
        /// Connection counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
        connections: Vec<u64>,
        #[arg(long)]
        smoke: bool,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, default_value = "target/bench/scale.json")]
        json: PathBuf,
    },
    /// Authorize and the valid token request only, with their CPU a request against the
    /// reference: a minute or so, for trying a change.
    Quick {
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        redis: String,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Saturation rounds of each.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// As for `run`.
        #[arg(long = "gateway-env", value_parser = parse_env)]
        gateway_env: Vec<(String, String)>,
    },
    /// The reference server alone (the run starts it).
    #[command(hide = true)]
    Reference {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        workers: usize,
    },
}

/// `KEY=value`, for `--gateway-env`: only the gateway's own settings.
fn parse_env(pair: &str) -> Result<(String, String), String> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| format!("{pair:?} is not KEY=value"))?;
    if !key.starts_with("INSTALLGATE__") {
        return Err(format!("{key:?} is not a gateway setting (INSTALLGATE__…)"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// How long and how hard each scenario runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    warmup: Duration,
    rounds: usize,
    round: Duration,
    open: Duration,
    clients: usize,
    rate: u64,
    slow_rate: u64,
    finalize_pool: usize,
    /// Installs to reach in all before the last memory reading, and at least this many more
    /// after the finalize scenario's, so that the memory curve has readings to compare.
    installs: usize,
    installs_after: usize,
}

impl Plan {
    fn new(smoke: bool) -> Self {
        if smoke {
            Self {
                warmup: Duration::from_millis(300),
                rounds: 1,
                round: Duration::from_secs(1),
                open: Duration::from_secs(1),
                clients: 16,
                rate: 200,
                slow_rate: 50,
                // wrk's rounds last a second at least: enough for two of them.
                finalize_pool: 15_000,
                installs: 2_000,
                installs_after: 500,
            }
        } else {
            Self {
                warmup: Duration::from_secs(2),
                rounds: 7,
                round: Duration::from_secs(2),
                open: Duration::from_secs(10),
                clients: 64,
                rate: 2_000,
                slow_rate: 100,
                finalize_pool: 200_000,
                installs: 100_000,
                installs_after: 40_000,
            }
        }
    }
}

/// Goes on installing (32 at a time) until `total` codes were exchanged since `since`, reading
/// the gateway's resident memory after each batch: it should level off once caches are full.
async fn install_until(
    rig: &Rig,
    cookie: &str,
    total: usize,
    since: usize,
) -> anyhow::Result<Vec<report::MemoryPoint>> {
    use futures_util::StreamExt as _;
    let mut curve = Vec::new();
    let mut next_hub = 1_000_000;
    loop {
        let done = rig.sim.token_calls() - since;
        curve.push(report::MemoryPoint {
            installs: done,
            resident_mib: rig.gateway.resident_mib(),
        });
        if done >= total {
            return Ok(curve);
        }
        let batch = (total - done).min(10_000);
        let urls = rig.finalize_urls(cookie, batch, next_hub).await?;
        next_hub += batch as u64;
        futures_util::stream::iter(urls)
            .for_each_concurrent(32, |url| async move {
                let _ = rig.client.get(url).send().await;
            })
            .await;
    }
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Warm-up and `rounds` saturation rounds with the built-in client (the median counts), then
/// the fixed arrival rate: the scale command's token requests, whose figure is the latency.
pub(crate) async fn measure_with_client<R: Request>(
    name: &str,
    request: R,
    plan: &Plan,
    rate: u64,
) -> ClientScenario {
    let request = Arc::new(request);
    let (_, mut next) = saturate(request.clone(), plan.clients, plan.warmup, 0, None).await;
    let mut rounds: Vec<Saturation> = Vec::new();
    for _ in 0..plan.rounds {
        let (round, used) = saturate(request.clone(), plan.clients, plan.round, next, None).await;
        next += used;
        rounds.push(round);
    }
    let (fixed, _): (OpenLoop, u64) = open_loop(request, rate, plan.open, next, 10_000).await;
    let scenario = ClientScenario {
        name: name.to_owned(),
        requests_per_second: median(
            rounds
                .iter()
                .map(|round| round.requests_per_second)
                .collect(),
        ),
        errors: rounds.iter().map(|round| round.errors).sum::<u64>() + fixed.errors,
        fixed_rate: fixed,
    };
    eprintln!("{}", report::client_row(&scenario));
    scenario
}

/// The latency of `request` at a fixed arrival rate, numbered from `first`.
/// The token request's scenario over `paths` (one a connection): valid tokens from the cache,
/// or with `force_refresh`, under saturation and at a fixed rate (the refresh's slower one).
async fn token_scenario(
    rig: &Rig,
    bench: &rounds::Bench,
    gateway_cpu: &cpu::Meter,
    plan: &Plan,
    paths: &[String],
    force_refresh: bool,
) -> anyhow::Result<report::Scenario> {
    let mut headers = vec![(
        "Authorization".to_owned(),
        format!("Bearer {}", rig.api_key),
    )];
    if force_refresh {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let mut target = wrk::Target {
        base: rig.gateway_url.clone(),
        method: "POST",
        headers,
        body: force_refresh.then(|| r#"{"force_refresh": true}"#.into()),
        paths: wrk::Paths::Cycle(paths.to_vec()),
    };
    let name = if force_refresh {
        "access token (force_refresh)"
    } else {
        "access token (valid)"
    };
    let rate = if force_refresh {
        plan.slow_rate
    } else {
        plan.rate
    };
    Ok(report::Scenario {
        cost: bench.measure(name, &mut target, gateway_cpu, None).await?,
        fixed_rate: Some(
            latency(
                scenarios::AccessToken {
                    client: rig.client.clone(),
                    urls: paths
                        .iter()
                        .map(|path| format!("{}{path}", rig.gateway_url))
                        .collect(),
                    api_key: rig.api_key.clone(),
                    force_refresh,
                },
                rate,
                plan,
                0,
            )
            .await,
        ),
    })
}

async fn latency<R: Request>(request: R, rate: u64, plan: &Plan, first: u64) -> OpenLoop {
    let (fixed, _) = open_loop(Arc::new(request), rate, plan.open, first, 10_000).await;
    fixed
}

async fn run(smoke: bool, options: Options, json: PathBuf) -> anyhow::Result<()> {
    let plan = Plan::new(smoke);
    let rig = Rig::start(&options).await?;
    let idle = rig.gateway.resident_mib();
    // For a profiler to attach to: `perf record -p PID`.
    eprintln!("gateway pid {}", rig.gateway.child.id());
    let cookie = rig.signed_in_cookie().await?;
    let wrk = Arc::new(wrk::Wrk::new(&json.with_file_name("wrk"))?);
    let node = node::start(&rig.client, &options.redis_url, &rig.key_prefix).await?;
    let bench = rounds::Bench::new(&rig, &options, plan, wrk).await;
    let gateway_cpu = cpu::Meter::new(vec![rig.gateway.child.id()]);
    eprintln!("{}", report::cost_header());

    let reference = report::Scenario {
        cost: bench.measure_reference().await?,
        fixed_rate: Some(
            latency(
                scenarios::Redirect {
                    client: rig.client.clone(),
                    url: rig.reference_url.clone(),
                    cookie: None,
                },
                plan.rate,
                &plan,
                0,
            )
            .await,
        ),
    };
    let authorize_path = format!(
        "/install/hubspot/crm?step=authorize&returnUrl={}",
        setup::encode(setup::RETURN_URL)
    );
    let mut target = wrk::Target {
        base: rig.gateway_url.clone(),
        method: "GET",
        headers: vec![("Cookie".into(), cookie.clone())],
        body: None,
        paths: wrk::Paths::One(authorize_path.clone()),
    };
    let authorize = report::Scenario {
        cost: bench
            .measure("authorize (signed in)", &mut target, &gateway_cpu, None)
            .await?,
        fixed_rate: Some(
            latency(
                scenarios::Redirect {
                    client: rig.client.clone(),
                    url: format!("{}{authorize_path}", rig.gateway_url),
                    cookie: Some(cookie.clone()),
                },
                plan.rate,
                &plan,
                0,
            )
            .await,
        ),
    };
    let mut node_target = wrk::Target {
        base: node.base.clone(),
        method: "GET",
        headers: vec![("Cookie".into(), node.cookie.clone())],
        body: None,
        paths: wrk::Paths::One(authorize_path.clone()),
    };
    let node_cpu = cpu::Meter::new(vec![node.pid]);
    let by_hand = report::Scenario {
        cost: bench
            .measure(
                "authorize (Node/express)",
                &mut node_target,
                &node_cpu,
                None,
            )
            .await?,
        fixed_rate: None,
    };
    drop(node);

    // Finalize: single-use states and codes. wrk sends the first part of the pool; the
    // fixed-rate phase the rest.
    let fixed_count = (plan.slow_rate * plan.open.as_secs()) as usize + 100;
    let urls = rig.finalize_urls(&cookie, plan.finalize_pool, 1).await?;
    let (saturating, fixed_urls) = urls.split_at(urls.len().saturating_sub(fixed_count));
    let prefix = rig.gateway_url.len();
    let mut finalize_target = wrk::Target {
        base: rig.gateway_url.clone(),
        method: "GET",
        headers: Vec::new(),
        body: None,
        paths: wrk::Paths::Once(
            saturating
                .iter()
                .map(|url| url[prefix..].to_owned())
                .collect(),
        ),
    };
    let exchanges_before = rig.sim.token_calls();
    let exchanges = || rig.sim.token_calls() as u64;
    let finalize_cost = bench
        .measure(
            "finalize (exchange, store)",
            &mut finalize_target,
            &gateway_cpu,
            Some(&exchanges),
        )
        .await?;
    let finalize = report::Scenario {
        cost: finalize_cost,
        fixed_rate: Some(
            latency(
                scenarios::Finalize {
                    client: rig.client.clone(),
                    urls: Arc::new(fixed_urls.to_vec()),
                },
                plan.slow_rate,
                &plan,
                0,
            )
            .await,
        ),
    };
    let installs = rig.sim.token_calls() - exchanges_before;
    let after_installs = rig.gateway.resident_mib();
    let ids = rig.connection_ids(64).await?;
    if ids.is_empty() {
        anyhow::bail!("no connection was made: the finalize scenario failed");
    }
    let token_paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/connections/{id}/access-token"))
        .collect();
    let token = token_scenario(&rig, &bench, &gateway_cpu, &plan, &token_paths, false).await?;
    let under_load = rig.gateway.resident_mib();
    let refresh = token_scenario(&rig, &bench, &gateway_cpu, &plan, &token_paths, true).await?;
    let total = plan.installs.max(installs + plan.installs_after);
    let curve = install_until(&rig, &cookie, total, exchanges_before).await?;
    let results = Results {
        smoke,
        workers: options.workers,
        database: if options.postgres_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
        .to_owned(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        scenarios: vec![reference, authorize, by_hand, finalize, token, refresh],
        memory: Memory {
            idle_mib: idle,
            after_installs_mib: after_installs,
            installs,
            after_load_mib: under_load,
            curve,
        },
    };
    println!("{}", report::table(&results));
    if let Some(parent) = json.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json, serde_json::to_string_pretty(&results)?)?;
    println!("results written to {}", json.display());
    let removed = rig.forget_keys().await?;
    println!("{removed} keys of the run removed from Redis");
    Ok(())
}

async fn run_scale(
    admin_url: &str,
    options: &Options,
    counts: &[u64],
    smoke: bool,
    json: PathBuf,
) -> anyhow::Result<()> {
    let mut plan = Plan::new(smoke);
    if !smoke {
        plan.rate = 1_000;
    }
    eprintln!("{}", report::header());
    let outcome = scale::run(admin_url, options, counts, &plan).await?;
    println!("\n{}", report::header());
    for step in &outcome.steps {
        println!("{}", report::client_row(&step.scenario));
    }
    for step in &outcome.steps {
        println!(
            "p99 of the paired rounds at {} connections: {} ms",
            step.connections,
            report::figures(&step.p99_rounds_ms)
        );
    }
    if let (Some(ratio), Some(first), Some(last)) = (
        outcome.p99_ratio,
        outcome.steps.first(),
        outcome.steps.last(),
    ) {
        println!(
            "\np99 at {} connections / p99 at {}: {ratio:.2} (median of the paired rounds)",
            last.connections, first.connections
        );
    }
    if let Some(parent) = json.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json, serde_json::to_string_pretty(&outcome)?)?;
    Ok(())
}

/// Runs `work` until it ends or the benchmark is interrupted (Ctrl-C, SIGTERM). Either way
/// `work` is dropped before this returns, so the processes it started are stopped.
async fn until_stopped(work: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        outcome = work => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        _ = terminate.recv() => Err(anyhow::anyhow!("terminated")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Quick {
            redis,
            workers,
            rounds,
            gateway_env,
        } => {
            let options = Options {
                redis_url: redis,
                postgres_url: None,
                workers,
                extra_env: gateway_env,
            };
            until_stopped(async { quick::run(&options, rounds).await.map(|_| ()) }).await
        }
        Command::Reference { port, workers } => {
            reference::serve(port, workers).await.map_err(Into::into)
        }
        Command::Scale {
            postgres,
            redis,
            connections,
            smoke,
            workers,
            json,
        } => {
            let options = Options {
                redis_url: redis,
                postgres_url: None,
                workers,
                extra_env: Vec::new(),
            };
            until_stopped(run_scale(&postgres, &options, &connections, smoke, json)).await
        }
        Command::Run {
            smoke,
            redis,
            postgres,
            workers,
            json,
            gateway_env,
        } => {
            let options = Options {
                redis_url: redis,
                postgres_url: postgres,
                workers,
                extra_env: gateway_env,
            };
            until_stopped(run(smoke, options, json)).await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("installgate-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
