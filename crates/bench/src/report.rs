//! The results: a table for people, JSON for tools.

use std::fmt::Write as _;

use crate::load::OpenLoop;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    pub name: String,
    /// At saturation, the median of the rounds.
    pub requests_per_second: f64,
    pub ratio_to_reference: Option<f64>,
    /// Each saturation round's ratio to the reference rounds beside it.
    pub round_ratios: Vec<f64>,
    pub fixed_rate: OpenLoop,
    pub errors: u64,
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
    let ratio = scenario
        .ratio_to_reference
        .map_or_else(|| "—".to_owned(), |ratio| format!("{ratio:.2}"));
    let fixed = &scenario.fixed_rate;
    format!(
        "{:<30} {:>10.0} {:>7} {:>7} {:>8.2} {:>8.2} {:>9.2} {:>7}",
        scenario.name,
        scenario.requests_per_second,
        ratio,
        fixed.rate,
        fixed.p50_ms,
        fixed.p99_ms,
        fixed.p999_ms,
        scenario.errors + fixed.dropped,
    )
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
        "\nInstallgate benchmark{} ({} cores, {} workers, Redis and {})\n\n{}\n",
        if results.smoke { " (smoke run)" } else { "" },
        results.cores,
        results.workers,
        results.database,
        header()
    );
    for scenario in &results.scenarios {
        let _ = writeln!(text, "{}", row(scenario));
    }
    let round_ratios: Vec<String> = results
        .scenarios
        .iter()
        .filter(|scenario| !scenario.round_ratios.is_empty())
        .map(|scenario| {
            format!(
                "{}: ratios of the rounds {}",
                scenario.name,
                figures(&scenario.round_ratios)
            )
        })
        .collect();
    if !round_ratios.is_empty() {
        let _ = writeln!(text, "\n{}", round_ratios.join("\n"));
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
