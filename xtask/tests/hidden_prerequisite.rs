//! `cargo xtask test` on a machine that lacks a prerequisite: with installing ruled out, it stops
//! at once, names what is missing and the one command that installs it, and runs nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where `command` is on this machine's `PATH`.
fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
}

/// The real Python executable (not a version manager's shim, which needs its manager on the
/// `PATH`).
fn real_python() -> Option<PathBuf> {
    let output = Command::new(which("python3")?)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    path.is_file().then_some(path)
}

/// A directory of links to every prerequisite this machine has, except `hidden`.
fn path_without(hidden: &str, dir: &Path) {
    let commands = [
        "redis-server",
        "redis-cli",
        "nginx",
        "chromium",
        "chromedriver",
        "cargo",
        "cargo-nextest",
        "id",
        "kill",
        "apt-get",
    ];
    for command in commands.into_iter().filter(|command| *command != hidden) {
        if let Some(found) = which(command) {
            std::os::unix::fs::symlink(found, dir.join(command)).unwrap();
        }
    }
    if let Some(python) = real_python() {
        std::os::unix::fs::symlink(python, dir.join("python3")).unwrap();
    }
}

#[test]
fn a_missing_chromedriver_stops_the_run_at_once_with_the_install_command() {
    let bin = tempfile::tempdir().unwrap();
    path_without("chromedriver", bin.path());
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["test", "--no-install"])
        .env("PATH", bin.path())
        // Services that do not answer: had it gone on, it would have started private ones.
        .env("INSTALLGATE_TEST_REDIS_URL", "redis://127.0.0.1:9")
        .env(
            "INSTALLGATE_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:9/postgres",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("missing: ") && stderr.contains("chromedriver"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was run"), "{stderr}");
    let command = stderr
        .lines()
        .map(str::trim)
        .find(|line| line.contains("apt-get install -y"))
        .unwrap_or_else(|| panic!("an install command in:\n{stderr}"));
    assert!(command.contains("chromium-driver"), "{command}");
    assert!(
        !stderr.contains("started a private"),
        "nothing was started: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it stopped at once, not after a test run"
    );
}

#[test]
fn usage_is_printed_for_an_unknown_task() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("build")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: cargo xtask test"));
}
