//! Installing what is missing, where that needs no question: Debian packages when running as
//! root with `apt-get`, Python packages into the project's virtual environment, and
//! `cargo-nextest` with `cargo install`.

use std::path::Path;
use std::process::Command;

use crate::prerequisites::{Machine, Plan};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Why the plan cannot be carried out without asking.
pub fn cannot_install(plan: &Plan, machine: &Machine) -> Option<&'static str> {
    let can_apt = is_root() && machine.find("apt-get").is_some();
    if !plan.apt.is_empty() && !can_apt {
        return Some("Debian packages need root and apt-get");
    }
    if !plan.pip.is_empty() && machine.find("python3").is_none() && plan.apt.is_empty() {
        return Some("the Python packages need python3");
    }
    if !plan.npm.is_empty() && machine.find("npm").is_none() && !plan.apt.contains(&"npm") {
        return Some("the npm packages need npm");
    }
    None
}

fn run(what: &str, command: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {what}");
    let status = command
        .status()
        .map_err(|error| format!("{what}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        &format!("apt-get install {}", packages.join(" ")),
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq"])
            .args(packages)
            .stdout(std::process::Stdio::null()),
    )
}

fn pip_install(machine: &Machine, packages: &[&str]) -> Result<(), String> {
    let python = machine
        .find("python3")
        .ok_or_else(|| "python3 is missing".to_owned())?;
    let venv_python = machine.venv.join("bin").join("python3");
    if !venv_python.exists() {
        // Its `python3` goes first on the tests' `PATH`: it must still see the modules the
        // machine's own Python has, or installing one module would hide the others.
        run(
            &format!(
                "python3 -m venv --system-site-packages {}",
                machine.venv.display()
            ),
            Command::new(&python)
                .args(["-m", "venv", "--system-site-packages"])
                .arg(&machine.venv),
        )?;
    }
    run(
        &format!(
            "pip install {} (into {})",
            packages.join(" "),
            machine.venv.display()
        ),
        Command::new(&venv_python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(packages),
    )
}

/// Carries out `plan`; `cannot_install` said it can be.
pub fn install(plan: &Plan, machine: &Machine) -> Result<(), String> {
    if !plan.apt.is_empty() {
        apt_install(&plan.apt)?;
    }
    if !plan.pip.is_empty() {
        pip_install(machine, &plan.pip)?;
    }
    if !plan.npm.is_empty() {
        let npm = machine
            .find("npm")
            .ok_or_else(|| "npm is missing".to_owned())?;
        run(
            &format!(
                "npm install {} (into {})",
                plan.npm.join(" "),
                machine.node.display()
            ),
            Command::new(npm)
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(&machine.node)
                .args(&plan.npm),
        )?;
    }
    if plan.nextest {
        run(
            "cargo install cargo-nextest --locked",
            Command::new("cargo").args(["install", "cargo-nextest", "--locked"]),
        )?;
    }
    Ok(())
}

/// Stops and removes what earlier runs left (a run killed before it could clean up): their
/// directories under `dir` (`run-<pid>`) and the system's temporary directory
/// (`installgate-xtask-run-<pid>-…`), when that process is gone. A server left running is
/// stopped first, by the pid file it wrote.
pub fn clear_stale(dir: &Path) {
    let places = [
        (dir.to_owned(), "run-"),
        (std::env::temp_dir(), "installgate-xtask-run-"),
    ];
    for (place, prefix) in places {
        let Ok(entries) = std::fs::read_dir(&place) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|name| name.strip_prefix(prefix)) else {
                continue;
            };
            let pid = rest.split('-').next().unwrap_or_default();
            if pid.is_empty() || Path::new("/proc").join(pid).exists() {
                continue;
            }
            stop_servers_under(&entry.path());
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Signals every server whose pid file (`redis.pid`, `postmaster.pid`) lies under `dir`.
fn stop_servers_under(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            stop_servers_under(&path);
            continue;
        }
        let is_pid_file = matches!(
            path.file_name().and_then(|name| name.to_str()),
            Some("redis.pid" | "postmaster.pid")
        );
        let pid = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok());
        if is_pid_file && let Some(pid) = pid {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}
