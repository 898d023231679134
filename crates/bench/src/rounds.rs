//! Saturation rounds under wrk, each scenario's alternating with rounds of the bare reference,
//! with the CPU each request cost: in the server measured (the gateway, the reference, the
//! Node reference), and in Redis and the database during its rounds.

use std::sync::Arc;

use crate::cpu::{self, Meter};
use crate::report::{Cost, CostRound};
use crate::setup::{Options, Rig};
use crate::wrk::{Round, Target, Wrk};
use crate::{Plan, median};

/// What every scenario is measured with and against.
pub struct Bench {
    pub wrk: Arc<Wrk>,
    pub plan: Plan,
    /// The bare reference, and its process.
    pub reference: Target,
    pub reference_cpu: Meter,
    pub redis_cpu: Meter,
    /// PostgreSQL's processes (empty on SQLite, which runs inside the gateway).
    pub database_cpu: Meter,
    /// Redis, for the count of commands it processed.
    pub redis: Option<redis::Client>,
}

impl Bench {
    /// Measured against `rig`'s reference, with its Redis (and PostgreSQL's processes when the
    /// run is on PostgreSQL).
    pub async fn new(rig: &Rig, options: &Options, plan: Plan, wrk: Arc<Wrk>) -> Self {
        Self {
            wrk,
            plan,
            reference: Target {
                base: rig.reference_url.trim_end_matches('/').to_owned(),
                method: "GET",
                headers: Vec::new(),
                body: None,
                paths: crate::wrk::Paths::One("/".into()),
            },
            reference_cpu: Meter::new(vec![rig.reference_pid]),
            redis_cpu: Meter::new(rig.redis_pid().await.into_iter().collect()),
            database_cpu: Meter::new(if options.postgres_url.is_some() {
                cpu::named("postgres")
            } else {
                Vec::new()
            }),
            redis: redis::Client::open(options.redis_url.as_str()).ok(),
        }
    }

    /// Commands Redis has processed so far (`INFO stats`), when it can tell.
    async fn redis_commands(&self) -> Option<u64> {
        let mut connection = self
            .redis
            .as_ref()?
            .get_multiplexed_async_connection()
            .await
            .ok()?;
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query_async(&mut connection)
            .await
            .ok()?;
        info.lines()
            .find_map(|line| line.strip_prefix("total_commands_processed:"))?
            .trim()
            .parse()
            .ok()
    }
}

/// How many requests a round of a scenario served, when wrk's count is not it (a finalize
/// whose state was used answers `302` too: the simulator's token exchanges count instead).
pub type Served<'a> = dyn Fn() -> u64 + Send + Sync + 'a;

impl Bench {
    /// One wrk round of `target`, with the CPU of `server` over it, and of Redis and the
    /// database when it uses them (`backends`).
    async fn round(
        &self,
        target: &mut Target,
        server: &Meter,
        backends: bool,
        duration: std::time::Duration,
        served: Option<&Served<'_>>,
    ) -> anyhow::Result<CostRound> {
        let none = Meter::default();
        let (redis_cpu, database_cpu) = if backends {
            (&self.redis_cpu, &self.database_cpu)
        } else {
            (&none, &none)
        };
        let commands_before = if backends {
            self.redis_commands().await
        } else {
            None
        };
        let before = (server.read(), redis_cpu.read(), database_cpu.read());
        let counted_before = served.map(|served| served());
        let wrk = self.wrk.clone();
        let clients = self.plan.clients;
        let mut moved = target.clone();
        let (round, moved): (Round, Target) = tokio::task::spawn_blocking(move || {
            let round = wrk.round(&mut moved, clients, duration);
            round.map(|round| (round, moved))
        })
        .await??;
        *target = moved;
        let after = (server.read(), redis_cpu.read(), database_cpu.read());
        let commands_after = if backends {
            self.redis_commands().await
        } else {
            None
        };
        let requests = match (served, counted_before) {
            (Some(served), Some(before)) => served() - before,
            _ => round.requests,
        };
        let per = |used| cpu::per_request(used, requests);
        Ok(CostRound {
            requests_per_second: requests as f64 / round.seconds.max(1e-9),
            server_us: per(after.0.saturating_sub(before.0)),
            redis_us: (!redis_cpu.is_empty())
                .then(|| per(after.1.saturating_sub(before.1)))
                .flatten(),
            database_us: (!database_cpu.is_empty())
                .then(|| per(after.2.saturating_sub(before.2)))
                .flatten(),
            errors: round.errors,
            // The two `INFO` calls themselves are not counted.
            redis_commands: commands_before
                .zip(commands_after)
                .and_then(|(before, after)| {
                    (requests > 0)
                        .then(|| after.saturating_sub(before + 1) as f64 / requests as f64)
                }),
        })
    }

    async fn reference_round(&self) -> anyhow::Result<CostRound> {
        let mut reference = self.reference.clone();
        self.round(
            &mut reference,
            &self.reference_cpu,
            false,
            self.plan.round,
            None,
        )
        .await
    }

    /// A warm-up, then `plan.rounds` rounds of `target` (whose process is `server`), each after
    /// a round of the reference, and one more of the reference at the end. A round's ratios
    /// are to the mean of the reference rounds on either side of it; the scenario's figures
    /// are the medians of its rounds'.
    pub async fn measure(
        &self,
        name: &str,
        target: &mut Target,
        server: &Meter,
        served: Option<&Served<'_>>,
    ) -> anyhow::Result<Cost> {
        self.round(target, server, true, self.plan.warmup, served)
            .await?;
        let mut references = vec![self.reference_round().await?];
        let mut rounds = Vec::new();
        for _ in 0..self.plan.rounds {
            let round = self.round(target, server, true, self.plan.round, served);
            rounds.push(round.await?);
            references.push(self.reference_round().await?);
        }
        let cost = Cost::of(name, rounds, references);
        eprintln!("{}", crate::report::cost_row(&cost));
        Ok(cost)
    }

    /// The reference alone, as a scenario of its own.
    pub async fn measure_reference(&self) -> anyhow::Result<Cost> {
        let mut references = Vec::new();
        for _ in 0..=self.plan.rounds {
            references.push(self.reference_round().await?);
        }
        let rounds = references[1..].to_vec();
        let cost = Cost::of("reference (bare 302)", rounds, references);
        eprintln!("{}", crate::report::cost_row(&cost));
        Ok(cost)
    }
}

impl Cost {
    /// The figures of `rounds`, measured between `references` (one more than rounds).
    fn of(name: &str, rounds: Vec<CostRound>, references: Vec<CostRound>) -> Self {
        let some = |values: Vec<Option<f64>>| {
            let values: Vec<f64> = values.into_iter().flatten().collect();
            (!values.is_empty()).then(|| median(values))
        };
        let throughput_ratios: Vec<f64> = rounds
            .iter()
            .enumerate()
            .filter_map(|(n, round)| {
                let around = (references.get(n)?.requests_per_second
                    + references.get(n + 1)?.requests_per_second)
                    / 2.0;
                (around > 0.0).then(|| round.requests_per_second / around)
            })
            .collect();
        let server_us = some(rounds.iter().map(|round| round.server_us).collect());
        let redis_us = some(rounds.iter().map(|round| round.redis_us).collect());
        let database_us = some(rounds.iter().map(|round| round.database_us).collect());
        let reference_us = some(references.iter().map(|round| round.server_us).collect());
        let redis_commands = some(rounds.iter().map(|round| round.redis_commands).collect());
        let with_backends =
            server_us.map(|server| server + redis_us.unwrap_or(0.0) + database_us.unwrap_or(0.0));
        Self {
            name: name.to_owned(),
            requests_per_second: median(
                rounds
                    .iter()
                    .map(|round| round.requests_per_second)
                    .collect(),
            ),
            throughput_ratio: (!throughput_ratios.is_empty())
                .then(|| median(throughput_ratios.clone())),
            throughput_round_ratios: throughput_ratios,
            server_us,
            redis_us,
            database_us,
            reference_us,
            cpu_ratio: reference_us
                .zip(server_us)
                .map(|(reference, own)| reference / own),
            cpu_ratio_with_backends: reference_us
                .zip(with_backends)
                .map(|(reference, all)| reference / all),
            errors: rounds.iter().map(|round| round.errors).sum(),
            redis_commands,
            rounds,
        }
    }
}
