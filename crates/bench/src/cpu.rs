//! CPU time of the processes a scenario runs on, from `/proc/<pid>/stat` (user + system, all
//! threads): what a request costs, whatever the load generator leaves over.

use std::time::Duration;

/// Clock ticks a second of `/proc/<pid>/stat`'s times (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU time of process `pid` so far; `None` when it is gone or unreadable.
pub fn of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// The processes whose command name is `name` (every PostgreSQL backend, say).
pub fn named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == name)
        })
        .collect()
}

/// The CPU time of a set of processes, read before and after a round.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    pids: Vec<u32>,
}

impl Meter {
    pub fn new(pids: Vec<u32>) -> Self {
        Self { pids }
    }

    /// Whether it measures anything.
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
    }

    /// Their CPU time so far, summed (a process that is gone counts nothing).
    pub fn read(&self) -> Duration {
        self.pids.iter().filter_map(|pid| of(*pid)).sum()
    }
}

/// CPU microseconds per request over a round: `used` for `requests` answered.
pub fn per_request(used: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| used.as_secs_f64() * 1e6 / requests as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_and_a_missing_one_none() {
        let mut spin = 0_u64;
        for n in 0..30_000_000_u64 {
            spin = spin.wrapping_add(n * n);
        }
        assert!(spin > 0);
        assert!(of(std::process::id()).is_some_and(|used| used > Duration::ZERO));
        assert_eq!(of(u32::MAX), None);
        assert_eq!(per_request(Duration::from_millis(10), 1000), Some(10.0));
        assert_eq!(per_request(Duration::from_millis(10), 0), None);
    }
}
