//! Saturation rounds driven by `wrk` (Debian's package), a load generator that costs little
//! per request, so that the two cores go to the servers measured rather than to the client. A
//! Lua script (`crates/bench/wrk/bench.lua`) sends each scenario's request: one path, or a
//! file of paths in turn (single-use ones sent once, each wrk thread taking its own lines).
//!
//! wrk runs under the `SCHED_BATCH` policy (`chrt -b 0`, from util-linux) where it can: on cores
//! it shares with the server measured, a normal-policy client woken by a response preempts the
//! server's worker at once, and each of those switches is charged to the server's CPU a request
//! (about one switch every two requests on the gateway, one in sixteen on the reference,
//! which idles more). Under `SCHED_BATCH` the client still gets its share of the cores, but waits for
//! the server's time slice to end: the switches, and what they add, go away for both.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

const SCRIPT: &str = include_str!("../wrk/bench.lua");

/// wrk's threads: one per core of a 2-core machine.
pub const THREADS: usize = 2;

/// What a scenario's requests are.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://host:port`.
    pub base: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub paths: Paths,
}

#[derive(Debug, Clone)]
pub enum Paths {
    /// The same path every time.
    One(String),
    /// These paths in turn, over and over (a few connections' token requests).
    Cycle(Vec<String>),
    /// Each path once (states and codes); a round uses the next unused ones.
    Once(Vec<String>),
}

/// One round's outcome as wrk saw it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Round {
    /// Requests answered (any status).
    pub requests: u64,
    pub seconds: f64,
    /// Answers that were not 2xx or 3xx, and socket errors.
    pub errors: u64,
}

/// Runs wrk against targets, from a directory of its own for the script and path files.
#[derive(Debug)]
pub struct Wrk {
    dir: PathBuf,
    script: PathBuf,
    /// wrk runs under `chrt -b 0`.
    batch: bool,
}

impl Wrk {
    /// Checks that wrk is installed and writes the script.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let found = Command::new("wrk").arg("--version").output();
        if found.is_err() {
            bail!("wrk is not installed (Debian's package `wrk`: apt-get install wrk)");
        }
        let batch = Command::new("chrt")
            .args(["-b", "0", "true"])
            .status()
            .is_ok_and(|status| status.success());
        if !batch {
            eprintln!(
                "chrt cannot run wrk under SCHED_BATCH here: the client's wake-ups will preempt \
                 the servers measured, and their CPU a request will include those switches"
            );
        }
        std::fs::create_dir_all(dir)?;
        let script = dir.join("bench.lua");
        std::fs::write(&script, SCRIPT)?;
        Ok(Self {
            dir: dir.to_owned(),
            script,
            batch,
        })
    }

    /// One round of `duration` with `connections` connections. A `Paths::Once` target loses the
    /// paths the round sent (answered or not), so the next round sends fresh ones.
    pub fn round(
        &self,
        target: &mut Target,
        connections: usize,
        duration: Duration,
    ) -> anyhow::Result<Round> {
        let mut command = if self.batch {
            let mut chrt = Command::new("chrt");
            chrt.args(["-b", "0", "wrk"]);
            chrt
        } else {
            Command::new("wrk")
        };
        command
            .arg(format!("-t{THREADS}"))
            .arg(format!("-c{}", connections.max(THREADS)))
            .arg(format!("-d{}s", duration.as_secs().max(1)))
            .arg("--timeout")
            .arg("10s")
            .arg("-s")
            .arg(&self.script)
            .arg(&target.base)
            .env("BENCH_METHOD", target.method)
            .env("BENCH_THREADS", THREADS.to_string())
            .env(
                "BENCH_HEADERS",
                target
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        if let Some(body) = &target.body {
            command.env("BENCH_BODY", body);
        }
        match &target.paths {
            Paths::One(path) => {
                command.env("BENCH_PATH", path);
            }
            Paths::Cycle(paths) | Paths::Once(paths) => {
                if matches!(target.paths, Paths::Once(_)) {
                    command.env("BENCH_ONCE", "1");
                }
                if paths.is_empty() {
                    bail!("no paths left to send");
                }
                let file = self.dir.join("paths.txt");
                std::fs::write(&file, paths.join("\n"))?;
                command.env("BENCH_PATHS", &file);
            }
        }
        let output = command.output().context("running wrk")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed: {}{}",
                text,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let round = parse(&text).with_context(|| format!("reading wrk's output:\n{text}"))?;
        if let Paths::Once(paths) = &mut target.paths {
            let used = used_per_thread(&text);
            *paths = unused(std::mem::take(paths), &used);
        }
        Ok(round)
    }
}

/// The figures of wrk's report.
fn parse(text: &str) -> Option<Round> {
    let mut round = Round::default();
    for line in text.lines().map(str::trim) {
        // "123456 requests in 2.00s, 12.34MB read"
        if let Some((requests, rest)) = line.split_once(" requests in ") {
            round.requests = requests.trim().parse().ok()?;
            let seconds = rest.split(',').next()?.trim();
            round.seconds = duration_of(seconds)?;
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            round.errors += count.trim().parse::<u64>().ok()?;
        } else if let Some(sockets) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            round.errors += sockets
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (round.seconds > 0.0).then_some(round)
}

/// wrk's durations: `2.00s`, `999.12ms`, `1.00m`.
fn duration_of(text: &str) -> Option<f64> {
    if let Some(ms) = text.strip_suffix("ms") {
        return Some(ms.parse::<f64>().ok()? / 1000.0);
    }
    if let Some(us) = text.strip_suffix("us") {
        return Some(us.parse::<f64>().ok()? / 1e6);
    }
    if let Some(s) = text.strip_suffix('s') {
        return s.parse().ok();
    }
    if let Some(m) = text.strip_suffix('m') {
        return Some(m.parse::<f64>().ok()? * 60.0);
    }
    None
}

/// How many of its lines each wrk thread sent, as the script's `done` prints them
/// (`bench-used THREAD COUNT`).
fn used_per_thread(text: &str) -> Vec<usize> {
    let mut used = vec![0; THREADS];
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if parts.next() == Some("bench-used")
            && let (Some(thread), Some(count)) = (parts.next(), parts.next())
            && let (Ok(thread), Ok(count)) = (thread.parse::<usize>(), count.parse::<usize>())
            && thread < used.len()
        {
            used[thread] = count;
        }
    }
    used
}

/// The paths no thread sent: thread `t` sends lines `t`, `t + THREADS`, … of the file.
fn unused(paths: Vec<String>, used: &[usize]) -> Vec<String> {
    paths
        .into_iter()
        .enumerate()
        .filter(|(line, _)| {
            let thread = line % THREADS;
            let nth = line / THREADS;
            nth >= used.get(thread).copied().unwrap_or(0)
        })
        .map(|(_, path)| path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 2s test @ http://127.0.0.1:8080
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   541.24us  300.12us   9.99ms   90.00%
  245678 requests in 2.00s, 30.12MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec: 122839.00
Transfer/sec:     15.06MB
bench-used 0 120000
bench-used 1 125679
";

    #[test]
    fn reads_the_report_and_the_paths_each_thread_sent() {
        let round = parse(REPORT).unwrap();
        assert_eq!(round.requests, 245_678);
        assert!((round.seconds - 2.0).abs() < 1e-9);
        assert_eq!(round.errors, 6);
        assert_eq!(used_per_thread(REPORT), vec![120_000, 125_679]);
        assert_eq!(duration_of("999.50ms"), Some(0.9995));
    }

    #[test]
    fn the_next_round_gets_only_unsent_paths() {
        let paths: Vec<String> = (0..10).map(|n| n.to_string()).collect();
        // Thread 0 sent lines 0 and 2, thread 1 line 1.
        let left = unused(paths, &[2, 1]);
        assert_eq!(left, ["3", "4", "5", "6", "7", "8", "9"]);
    }
}
