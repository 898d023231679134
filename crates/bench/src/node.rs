//! The second reference: the authorize step as a vendor would write it alone (Node.js with
//! Express and the `redis` client, `crates/bench/node/authorize.js`), run as a process of its
//! own. Express and the client come from npm into `target/bench/node` the first time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use hmac::{Hmac, Mac as _};

use crate::setup::{Process, free_port};

const SCRIPT: &str = include_str!("../node/authorize.js");
/// What npm installs, at the major versions the script is written for.
const PACKAGES: [&str; 2] = ["express@4", "redis@4"];
/// The key the script signs its session cookies with.
const COOKIE_SECRET: &str = "bench-node-cookie-secret";
const ACCOUNT: &str = "bench-account";

/// The running Node reference.
pub struct NodeReference {
    _process: Process,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The signed session cookie of a signed-in account (`sid=…`).
    pub cookie: String,
}

/// Where npm puts Express and the client: `target/bench/node`, beside the binaries' folder.
fn home() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(Path::parent)
        .context("the benchmark's binary is not in a target folder")?;
    Ok(target.join("bench").join("node"))
}

/// Installs the packages with npm unless they are there already.
fn install(home: &Path) -> anyhow::Result<()> {
    if home.join("node_modules/express").exists() && home.join("node_modules/redis").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(home)?;
    eprintln!(
        "installing {} with npm into {}",
        PACKAGES.join(" and "),
        home.display()
    );
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(home)
        .args(PACKAGES)
        .stdout(Stdio::null())
        .status()
        .context("running npm (Node.js's package manager)")?;
    if !status.success() {
        bail!("npm could not install {}", PACKAGES.join(" and "));
    }
    Ok(())
}

fn signed_cookie() -> anyhow::Result<String> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(COOKIE_SECRET.as_bytes())?;
    mac.update(ACCOUNT.as_bytes());
    let signature =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(format!("sid={ACCOUNT}.{signature}"))
}

/// Starts the Node reference on Redis `redis_url`, its keys under `prefix`.
pub async fn start(
    client: &reqwest::Client,
    redis_url: &str,
    prefix: &str,
) -> anyhow::Result<NodeReference> {
    let home = home()?;
    install(&home)?;
    let script = home.join("authorize.js");
    std::fs::write(&script, SCRIPT)?;
    let port = free_port()?;
    let child = Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .arg(redis_url)
        .arg(prefix)
        .arg(COOKIE_SECRET)
        .env("NODE_ENV", "production")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the Node reference (is Node.js installed?)")?;
    let process = Process { child };
    let pid = process.child.id();
    let base = format!("http://127.0.0.1:{port}");
    let cookie = signed_cookie()?;
    let probe = format!(
        "{base}/install/hubspot/crm?step=authorize&returnUrl={}",
        crate::setup::encode(crate::setup::RETURN_URL)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(&probe).header("cookie", &cookie).send().await
            && response.status().as_u16() == 302
        {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("the Node reference did not answer a signed-in authorize with 302");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(NodeReference {
        _process: process,
        pid,
        base,
        cookie,
    })
}
