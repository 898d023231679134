//! What the test suite needs on the machine, how to tell whether it is there, and what installs
//! it (a Debian package, a Python package, an npm package, or `cargo install`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How a prerequisite is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An executable of this name on the `PATH`.
    Command(&'static str),
    /// PostgreSQL's server binaries (`initdb`, `postgres`, `pg_isready`): on the `PATH`, or in
    /// Debian's `/usr/lib/postgresql/<version>/bin`.
    PostgresServer,
    /// A module the `python3` in use can import.
    PythonModule(&'static str),
    /// `cargo nextest`.
    Nextest,
    /// axe-core's `axe.min.js`, in the project's npm directory.
    AxeCore,
}

/// Where a missing prerequisite comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Debian packages, installed with `apt-get` (as root).
    Apt(&'static [&'static str]),
    /// A Python package, installed with `pip` into the project's virtual environment.
    Pip(&'static str),
    /// `cargo install cargo-nextest --locked`.
    CargoInstall,
    /// An npm package, installed into the project's npm directory (`target/xtask/node`).
    Npm(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Prerequisite {
    /// What it is called in messages.
    pub name: &'static str,
    pub probe: Probe,
    pub source: Source,
}

/// Everything the whole suite needs besides Rust itself.
pub const ALL: &[Prerequisite] = &[
    Prerequisite {
        name: "redis-server",
        probe: Probe::Command("redis-server"),
        source: Source::Apt(&["redis-server"]),
    },
    Prerequisite {
        name: "redis-cli",
        probe: Probe::Command("redis-cli"),
        source: Source::Apt(&["redis-tools"]),
    },
    Prerequisite {
        name: "PostgreSQL server (initdb, postgres, pg_isready)",
        probe: Probe::PostgresServer,
        source: Source::Apt(&["postgresql"]),
    },
    Prerequisite {
        name: "nginx",
        probe: Probe::Command("nginx"),
        source: Source::Apt(&["nginx-light"]),
    },
    Prerequisite {
        name: "chromium",
        probe: Probe::Command("chromium"),
        source: Source::Apt(&["chromium"]),
    },
    Prerequisite {
        name: "chromedriver",
        probe: Probe::Command("chromedriver"),
        source: Source::Apt(&["chromium-driver"]),
    },
    Prerequisite {
        name: "python3",
        probe: Probe::Command("python3"),
        source: Source::Apt(&["python3", "python3-venv"]),
    },
    Prerequisite {
        name: "openapi-spec-validator (Python)",
        probe: Probe::PythonModule("openapi_spec_validator"),
        source: Source::Pip("openapi-spec-validator"),
    },
    Prerequisite {
        name: "prometheus-client (Python)",
        probe: Probe::PythonModule("prometheus_client"),
        source: Source::Pip("prometheus-client"),
    },
    Prerequisite {
        name: "npm",
        probe: Probe::Command("npm"),
        source: Source::Apt(&["npm"]),
    },
    Prerequisite {
        name: "axe-core (npm)",
        probe: Probe::AxeCore,
        source: Source::Npm("axe-core@4"),
    },
    Prerequisite {
        name: "cargo-nextest",
        probe: Probe::Nextest,
        source: Source::CargoInstall,
    },
];

/// The machine as the xtask sees it: its `PATH`, and the virtual environment it may use.
#[derive(Debug, Clone)]
pub struct Machine {
    pub path: Vec<PathBuf>,
    /// `target/xtask/venv`; its `bin` goes first on the tests' `PATH` once it exists.
    pub venv: PathBuf,
    /// `target/xtask/node`, where npm packages the tests load go.
    pub node: PathBuf,
}

impl Machine {
    pub fn new(venv: PathBuf) -> Self {
        let path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let node = venv.with_file_name("node");
        Self { path, venv, node }
    }

    /// axe-core's script, which the browser tests run in every page they check.
    pub fn axe_core(&self) -> PathBuf {
        self.node.join("node_modules/axe-core/axe.min.js")
    }

    /// The directories searched for commands: the virtual environment's first, when it exists.
    pub fn search_path(&self) -> Vec<PathBuf> {
        let venv_bin = self.venv.join("bin");
        let mut dirs = Vec::new();
        if venv_bin.join("python3").exists() {
            dirs.push(venv_bin);
        }
        dirs.extend(self.path.iter().cloned());
        dirs
    }

    /// The `PATH` the tests run with.
    pub fn joined_path(&self) -> std::ffi::OsString {
        std::env::join_paths(self.search_path()).unwrap_or_default()
    }

    pub fn find(&self, command: &str) -> Option<PathBuf> {
        self.search_path()
            .into_iter()
            .map(|dir| dir.join(command))
            .find(|candidate| is_executable(candidate))
    }

    /// The directory of PostgreSQL's server binaries.
    pub fn postgres_bin(&self) -> Option<PathBuf> {
        let complete = |dir: &Path| {
            ["initdb", "postgres", "pg_isready"]
                .iter()
                .all(|binary| is_executable(&dir.join(binary)))
        };
        // `initdb` on the PATH may be a link into the server's own directory.
        if let Some(initdb) = self.find("initdb")
            && let Ok(initdb) = std::fs::canonicalize(initdb)
            && let Some(dir) = initdb.parent()
            && complete(dir)
        {
            return Some(dir.to_owned());
        }
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .filter(|(_, bin)| complete(bin))
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    }

    /// Whether `python3 -m venv` can work here (`ensurepip` is what Debian splits off).
    pub fn python_can_make_venvs(&self) -> bool {
        self.python_imports("venv") && self.python_imports("ensurepip")
    }

    fn python_imports(&self, module: &str) -> bool {
        let Some(python) = self.find("python3") else {
            return false;
        };
        Command::new(python)
            .args(["-c", &format!("import {module}")])
            .env("PATH", self.joined_path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    fn has_nextest(&self) -> bool {
        let cargo_bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
            .map(|home| home.join("bin").join("cargo-nextest"));
        self.find("cargo-nextest").is_some() || cargo_bin.is_some_and(|bin| is_executable(&bin))
    }

    pub fn has(&self, prerequisite: &Prerequisite) -> bool {
        match prerequisite.probe {
            Probe::Command(command) => self.find(command).is_some(),
            Probe::PostgresServer => self.postgres_bin().is_some(),
            Probe::PythonModule(module) => self.python_imports(module),
            Probe::Nextest => self.has_nextest(),
            Probe::AxeCore => self.axe_core().is_file(),
        }
    }

    /// The prerequisites this machine lacks.
    pub fn missing(&self) -> Vec<Prerequisite> {
        ALL.iter()
            .filter(|prerequisite| !self.has(prerequisite))
            .copied()
            .collect()
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// What installs `missing`, grouped by source.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub apt: Vec<&'static str>,
    pub pip: Vec<&'static str>,
    pub npm: Vec<&'static str>,
    pub nextest: bool,
}

impl Plan {
    pub fn of(missing: &[Prerequisite]) -> Self {
        let mut plan = Self::default();
        for prerequisite in missing {
            match prerequisite.source {
                Source::Apt(packages) => {
                    for package in packages {
                        if !plan.apt.contains(package) {
                            plan.apt.push(package);
                        }
                    }
                }
                Source::Pip(package) => plan.pip.push(package),
                Source::CargoInstall => plan.nextest = true,
                Source::Npm(package) => plan.npm.push(package),
            }
        }
        plan
    }

    /// One shell command that installs everything in the plan; `root` says whether `sudo` is
    /// needed for the Debian packages.
    pub fn command(&self, root: bool, venv: &Path) -> String {
        let mut steps = Vec::new();
        if !self.apt.is_empty() {
            let sudo = if root { "" } else { "sudo " };
            steps.push(format!("{sudo}apt-get install -y {}", self.apt.join(" ")));
        }
        if !self.pip.is_empty() {
            let venv = venv.display();
            steps.push(format!(
                "python3 -m venv --system-site-packages {venv} && {venv}/bin/python3 -m pip install {}",
                self.pip.join(" ")
            ));
        }
        if !self.npm.is_empty() {
            let node = venv.with_file_name("node");
            steps.push(format!(
                "npm install --prefix {} {}",
                node.display(),
                self.npm.join(" ")
            ));
        }
        if self.nextest {
            steps.push("cargo install cargo-nextest --locked".to_owned());
        }
        steps.join(" && ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Prerequisite {
        *ALL.iter().find(|p| p.name.starts_with(name)).unwrap()
    }

    #[test]
    fn a_plan_groups_what_is_missing_by_where_it_comes_from() {
        let missing = [
            named("chromedriver"),
            named("nginx"),
            named("prometheus-client"),
            named("cargo-nextest"),
        ];
        let plan = Plan::of(&missing);
        assert_eq!(plan.apt, ["chromium-driver", "nginx-light"]);
        assert_eq!(plan.pip, ["prometheus-client"]);
        assert!(plan.nextest);
        let venv = Path::new("target/xtask/venv");
        assert_eq!(
            plan.command(false, venv),
            "sudo apt-get install -y chromium-driver nginx-light && \
             python3 -m venv --system-site-packages target/xtask/venv && target/xtask/venv/bin/python3 -m pip install \
             prometheus-client && cargo install cargo-nextest --locked"
        );
        assert!(
            plan.command(true, venv)
                .starts_with("apt-get install -y chromium-driver")
        );
    }

    #[test]
    fn nothing_missing_is_an_empty_plan() {
        assert_eq!(Plan::of(&[]), Plan::default());
        assert_eq!(Plan::of(&[]).command(true, Path::new("v")), "");
    }

    #[test]
    fn commands_are_found_on_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("some-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let machine = Machine {
            path: vec![dir.path().to_owned()],
            venv: dir.path().join("venv"),
            node: dir.path().join("node"),
        };
        assert!(machine.find("some-tool").is_none(), "not executable yet");
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(machine.find("some-tool"), Some(tool));
        assert!(machine.find("chromedriver").is_none());
    }
}
