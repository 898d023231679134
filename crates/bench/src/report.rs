//! The results: a table for people, JSON for tools.

use std::fmt::Write as _;

use crate::load::OpenLoop;

/// A scenario measured with the built-in client alone (the scale command's token requests).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientScenario {
    pub name: String,
    /// At saturation, the median of the rounds.
    pub requests_per_second: f64,
    pub fixed_rate: OpenLoop,
    pub errors: u64,
}

pub fn client_row(scenario: &ClientScenario) -> String {
    let fixed = &scenario.fixed_rate;
    format!(
        "{:<30} {:>10.0} {:>7} {:>7} {:>8.2} {:>8.2} {:>9.2} {:>7}",
        scenario.name,
        scenario.requests_per_second,
        "—",
        fixed.rate,
        fixed.p50_ms,
        fixed.p99_ms,
        fixed.p999_ms,
        scenario.errors + fixed.dropped,
    )
}

/// A scenario: what a request costs and how many a second wrk got (its saturation rounds),
/// and the latency at a fixed arrival rate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    pub cost: Cost,
    /// `None` for the Node reference, whose latency is not a target.
    pub fixed_rate: Option<OpenLoop>,
}

/// The CPU a request costs, and the throughput, over a scenario's rounds (medians).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cost {
    pub name: String,
    /// Requests a second at saturation under wrk.
    pub requests_per_second: f64,
    /// To the reference rounds beside each round.
    pub throughput_ratio: Option<f64>,
    pub throughput_round_ratios: Vec<f64>,
    /// CPU microseconds a request, in the server process measured.
    pub server_us: Option<f64>,
    /// In Redis, during the scenario's rounds.
    pub redis_us: Option<f64>,
    /// In PostgreSQL's processes (SQLite runs inside the gateway).
    pub database_us: Option<f64>,
    /// The bare reference's, in the rounds around this scenario's.
    pub reference_us: Option<f64>,
    /// `reference_us / server_us`: the primary figure.
    pub cpu_ratio: Option<f64>,
    /// `reference_us / (server_us + redis_us + database_us)`.
    pub cpu_ratio_with_backends: Option<f64>,
    pub errors: u64,
    /// Redis commands a request (every client's, so the run must have Redis to itself).
    pub redis_commands: Option<f64>,
    pub rounds: Vec<CostRound>,
}

/// One saturation round.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CostRound {
    pub requests_per_second: f64,
    pub server_us: Option<f64>,
    pub redis_us: Option<f64>,
    pub database_us: Option<f64>,
    pub errors: u64,
    pub redis_commands: Option<f64>,
}

fn micros(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |us| format!("{us:.1}"))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |ratio| format!("{ratio:.2}"))
}

pub fn cost_header() -> String {
    format!(
        "{:<30} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>7} {:>8}",
        "scenario",
        "server µs",
        "Redis µs",
        "DB µs",
        "ref µs",
        "CPU ratio",
        "+backends",
        "req/s",
        "errors",
        "Redis/req"
    )
}

pub fn cost_row(cost: &Cost) -> String {
    format!(
        "{:<30} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10.0} {:>7} {:>8}",
        cost.name,
        micros(cost.server_us),
        micros(cost.redis_us),
        micros(cost.database_us),
        micros(cost.reference_us),
        ratio(cost.cpu_ratio),
        ratio(cost.cpu_ratio_with_backends),
        cost.requests_per_second,
        cost.errors,
        ratio(cost.redis_commands),
    )
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Memory {
    pub idle_mib: Option<f64>,
    pub after_installs_mib: Option<f64>,
    pub installs: usize,
    pub after_load_mib: Option<f64>,
    /// Resident memory as installs accumulate.
    pub curve: Vec<MemoryPoint>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryPoint {
    pub installs: usize,
    pub resident_mib: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Results {
    pub smoke: bool,
    pub workers: usize,
    pub database: String,
    pub cores: usize,
    pub scenarios: Vec<Scenario>,
    pub memory: Memory,
}

pub fn header() -> String {
    format!(
        "{:<30} {:>10} {:>7} {:>7} {:>8} {:>8} {:>9} {:>7}",
        "scenario", "req/s", "ratio", "rate/s", "p50 ms", "p99 ms", "p99.9 ms", "errors"
    )
}

pub fn row(scenario: &Scenario) -> String {
    let cost = &scenario.cost;
    match &scenario.fixed_rate {
        Some(fixed) => format!(
            "{:<30} {:>10.0} {:>7} {:>7} {:>8.2} {:>8.2} {:>9.2} {:>7}",
            cost.name,
            cost.requests_per_second,
            ratio(cost.throughput_ratio),
            fixed.rate,
            fixed.p50_ms,
            fixed.p99_ms,
            fixed.p999_ms,
            cost.errors + fixed.errors + fixed.dropped,
        ),
        None => format!(
            "{:<30} {:>10.0} {:>7} {:>7} {:>8} {:>8} {:>9} {:>7}",
            cost.name,
            cost.requests_per_second,
            ratio(cost.throughput_ratio),
            "—",
            "—",
            "—",
            "—",
            cost.errors,
        ),
    }
}

/// Figures of the rounds, two decimals each: `0.45, 0.47, 0.51`.
pub fn figures(values: &[f64]) -> String {
    let figures: Vec<String> = values.iter().map(|value| format!("{value:.2}")).collect();
    figures.join(", ")
}

fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "?".to_owned(), |mib| format!("{mib:.1} MiB"))
}

pub fn table(results: &Results) -> String {
    let mut text = format!(
        "\nInstallgate benchmark{} ({} cores, {} workers, Redis and {}, load by wrk)\n\n\
         CPU a request (medians of the rounds; ratio = the reference's µs / the server's)\n{}\n",
        if results.smoke { " (smoke run)" } else { "" },
        results.cores,
        results.workers,
        results.database,
        cost_header()
    );
    for scenario in &results.scenarios {
        let _ = writeln!(text, "{}", cost_row(&scenario.cost));
    }
    let _ = writeln!(
        text,
        "\nThroughput (wrk) and latency at a fixed rate (the built-in open-loop client)\n{}",
        header()
    );
    for scenario in &results.scenarios {
        let _ = writeln!(text, "{}", row(scenario));
    }
    let per_round: Vec<String> = results
        .scenarios
        .iter()
        .filter(|scenario| scenario.cost.rounds.len() > 1)
        .map(|scenario| {
            let cpu: Vec<f64> = scenario
                .cost
                .rounds
                .iter()
                .filter_map(|round| round.server_us)
                .collect();
            format!(
                "{}: server µs of the rounds {}; throughput ratios {}",
                scenario.cost.name,
                figures(&cpu),
                figures(&scenario.cost.throughput_round_ratios)
            )
        })
        .collect();
    if !per_round.is_empty() {
        let _ = writeln!(text, "\n{}", per_round.join("\n"));
    }
    let memory = &results.memory;
    let _ = write!(
        text,
        "\nresident memory of the gateway: idle {}, after {} installs {}, after the token load {}",
        mib(memory.idle_mib),
        memory.installs,
        mib(memory.after_installs_mib),
        mib(memory.after_load_mib),
    );
    let curve: Vec<String> = memory
        .curve
        .iter()
        .map(|point| {
            format!(
                "{} after {} installs",
                mib(point.resident_mib),
                point.installs
            )
        })
        .collect();
    let _ = write!(text, "\nas installs accumulate: {}", curve.join(", "));
    text
}
