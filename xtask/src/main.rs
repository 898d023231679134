//! `cargo xtask test`: the whole test suite on any machine with Rust. It finds what the tests
//! need, installs what it can without asking (or stops, printing the command that would), uses
//! the Redis and PostgreSQL that `INSTALLGATE_TEST_REDIS_URL` and
//! `INSTALLGATE_TEST_POSTGRES_URL` name when they answer (or starts private ones under `target/`),
//! runs `cargo nextest run --workspace` and exits with its status.

mod prerequisites;
mod provision;
mod services;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use prerequisites::{Machine, Plan};

const USAGE: &str = "usage: cargo xtask test [--no-install] [-- <cargo nextest run arguments>]

  --no-install   never install anything: stop, naming the command, when something is missing

Environment: INSTALLGATE_TEST_REDIS_URL (default redis://127.0.0.1:6379) and
INSTALLGATE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) are used
when they answer; otherwise private servers are started for the run.";

const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Exit status when the run could not start (a missing prerequisite, a server that would not
/// come up); nextest's own status otherwise.
const CANNOT_RUN: u8 = 2;

#[derive(Debug)]
struct TestOptions {
    install: bool,
    nextest_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<TestOptions, String> {
    let (task, rest) = args.split_first().ok_or_else(|| USAGE.to_owned())?;
    if task != "test" {
        return Err(USAGE.to_owned());
    }
    let mut options = TestOptions {
        install: true,
        nextest_args: Vec::new(),
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--no-install" => options.install = false,
            "--" => options.nextest_args.extend(rest.by_ref().cloned()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

/// The workspace's root (this crate sits in `xtask/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Finds what is missing and installs it, or says how to.
fn provide(machine: &Machine, install: bool) -> Result<(), String> {
    let missing = machine.missing();
    if missing.is_empty() {
        return Ok(());
    }
    let mut plan = Plan::of(&missing);
    if !plan.pip.is_empty()
        && !machine.python_can_make_venvs()
        && !plan.apt.contains(&"python3-venv")
    {
        // Debian's python3 makes virtual environments only with python3-venv.
        plan.apt.push("python3-venv");
    }
    let root = provision::is_root();
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    let refusal = if install {
        provision::cannot_install(&plan, machine)
    } else {
        Some("--no-install was given")
    };
    if let Some(why) = refusal {
        return Err(format!(
            "missing: {}\nNothing was run ({why}). This installs everything missing:\n\n  {}\n",
            names.join(", "),
            plan.command(root, &machine.venv)
        ));
    }
    eprintln!("xtask: installing what is missing: {}", names.join(", "));
    provision::install(&plan, machine)?;
    let still: Vec<&str> = machine.missing().iter().map(|p| p.name).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after installing: {}\nNothing was run. Try:\n\n  {}\n",
            still.join(", "),
            Plan::of(&machine.missing()).command(root, &machine.venv)
        ))
    }
}

/// The URL the environment names for a service, or the default.
fn configured(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

fn test(options: &TestOptions) -> Result<ExitCode, String> {
    let root = workspace_root();
    let xtask_dir = target_dir(&root).join("xtask");
    let machine = Machine::new(xtask_dir.join("venv"));
    provide(&machine, options.install)?;

    provision::clear_stale(&xtask_dir);
    let run_dir = xtask_dir.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir).map_err(|error| format!("{}: {error}", run_dir.display()))?;
    let run = RunDir(run_dir.clone());

    let redis_url = configured("INSTALLGATE_TEST_REDIS_URL", DEFAULT_REDIS);
    let private_redis = if services::redis_answers(&redis_url) {
        eprintln!("xtask: Redis at {}", redacted(&redis_url));
        None
    } else {
        let private = services::start_redis(&machine, &run.0)?;
        eprintln!(
            "xtask: nothing answers at {}; started a private Redis at {}",
            redacted(&redis_url),
            private.url
        );
        Some(private)
    };
    let postgres_url = configured("INSTALLGATE_TEST_POSTGRES_URL", DEFAULT_POSTGRES);
    let psql = machine.postgres_bin().map(|bin| bin.join("psql"));
    let psql = psql.filter(|psql| psql.exists());
    let private_postgres = if services::postgres_usable(&postgres_url, psql.as_deref()) {
        eprintln!("xtask: PostgreSQL at {}", redacted(&postgres_url));
        None
    } else {
        let private = services::start_postgres(&machine, &run.0, provision::is_root())?;
        eprintln!(
            "xtask: no usable PostgreSQL at {}; started a private one at {}",
            redacted(&postgres_url),
            private.url
        );
        Some(private)
    };

    let status = Command::new("cargo")
        .current_dir(&root)
        .args(["nextest", "run", "--workspace"])
        .args(&options.nextest_args)
        .env("PATH", machine.joined_path())
        .env("INSTALLGATE_TEST_AXE", machine.axe_core())
        .env(
            "INSTALLGATE_TEST_REDIS_URL",
            private_redis.as_ref().map_or(&redis_url, |p| &p.url),
        )
        .env(
            "INSTALLGATE_TEST_POSTGRES_URL",
            private_postgres.as_ref().map_or(&postgres_url, |p| &p.url),
        )
        .status()
        .map_err(|error| format!("running cargo nextest: {error}"))?;
    // The private servers stop here, before the exit status is handed on.
    drop(private_postgres);
    drop(private_redis);
    drop(run);
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("…"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

/// This run's directory under `target/xtask`, removed when the run ends.
struct RunDir(PathBuf);

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = parse(&args).and_then(|options| test(&options));
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cargo xtask test: {message}");
            ExitCode::from(CANNOT_RUN)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn arguments_after_a_double_dash_go_to_nextest() {
        let options = parse(&args("test --no-install -- --profile ci -E test(x)")).unwrap();
        assert!(!options.install);
        assert_eq!(options.nextest_args, args("--profile ci -E test(x)"));
        assert!(parse(&args("test")).unwrap().install);
    }

    #[test]
    fn anything_else_gets_the_usage() {
        for bad in ["", "build", "test --frobnicate"] {
            let error = parse(&args(bad)).unwrap_err();
            assert!(error.contains("usage: cargo xtask test"), "{bad}: {error}");
        }
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("postgres://postgres:secret@127.0.0.1:5432/postgres"),
            "postgres://postgres:%E2%80%A6@127.0.0.1:5432/postgres"
        );
        assert!(!redacted("postgres://u:hunter2@h/db").contains("hunter2"));
    }
}
