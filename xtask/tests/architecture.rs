//! The architecture's rules, checked on the source tree as CI runs it:
//! - core, the provider kit and every provider crate stay free of the web framework, the
//!   database and Redis (`cargo tree`);
//! - the server names no marketplace outside its registry and the sandbox's demo;
//! - the server builds without the sandbox's simulators (`--no-default-features`), as the
//!   container image does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `cargo tree` of normal dependencies, one crate a line, with `args`.
fn cargo_tree(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Crates that must stay free of adapters, besides every marketplace's crate.
const PORT_SIDE: &[&str] = &["installgate-core", "installgate-provider-kit"];
/// Dependencies that belong to adapters only.
const ADAPTERS: &[&str] = &["actix-web", "actix-http", "actix-session", "sqlx", "redis"];

#[test]
fn core_and_the_providers_depend_on_no_web_framework_database_or_redis() {
    let providers = marketplaces(&workspace_root())
        .into_iter()
        .map(|marketplace| format!("installgate-provider-{marketplace}"));
    let crates: Vec<String> = PORT_SIDE
        .iter()
        .map(|krate| (*krate).to_owned())
        .chain(providers)
        .collect();
    assert!(
        crates.len() > PORT_SIDE.len(),
        "the marketplaces' crates are found"
    );
    for krate in &crates {
        let tree = cargo_tree(&["--package", krate]);
        let found: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| ADAPTERS.contains(name))
            .collect();
        assert!(found.is_empty(), "{krate} depends on {found:?}");
    }
}

#[test]
fn without_its_default_features_the_server_leaves_the_simulators_out() {
    let tree = |features: &[&str]| {
        let mut args = vec!["--package", "installgate-server"];
        args.extend_from_slice(features);
        cargo_tree(&args)
    };
    let has_sandbox = |tree: &str| {
        tree.lines()
            .any(|line| line.starts_with("installgate-sandbox "))
    };
    assert!(has_sandbox(&tree(&[])), "the default build has the sandbox");
    assert!(!has_sandbox(&tree(&["--no-default-features"])));
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Marketplaces the build knows, by the names their crates carry.
fn marketplaces(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("crates"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().ok()?;
            let marketplace = name.strip_prefix("provider-")?;
            // The kit and the conformance suite are shared by every marketplace.
            (!matches!(marketplace, "kit" | "conformance")).then(|| marketplace.to_owned())
        })
        .collect()
}

#[test]
fn the_server_names_no_marketplace_outside_its_registry_and_the_sandbox() {
    let root = workspace_root();
    let names = marketplaces(&root);
    assert!(names.len() >= 2, "{names:?}");
    let source = root.join("crates/server/src");
    let allowed = [source.join("registry.rs")];
    let sandbox = source.join("sandbox");
    let mut offending = Vec::new();
    for file in files(&source) {
        if allowed.contains(&file) || file.starts_with(&sandbox) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
        for (number, line) in text.lines().enumerate() {
            if let Some(name) = names.iter().find(|name| line.contains(name.as_str())) {
                offending.push(format!(
                    "{}:{}: {name}",
                    file.strip_prefix(&root).unwrap().display(),
                    number + 1
                ));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "marketplace names outside crates/server/src/registry.rs and sandbox/:\n{}",
        offending.join("\n")
    );
}

#[test]
fn only_a_location_value_becomes_a_location_header() {
    let root = workspace_root();
    let source = root.join("crates/server/src");
    let allowed = source.join("routes/respond.rs");
    let mut offending = Vec::new();
    for file in files(&source) {
        if file == allowed {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.contains("header::LOCATION") || line.contains("\"location\"") {
                offending.push(format!(
                    "{}:{}",
                    file.strip_prefix(&root).unwrap().display(),
                    number + 1
                ));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "Location headers outside routes/respond.rs (make a routes::location::Location and use \
         found or see_other):\n{}",
        offending.join("\n")
    );
}
