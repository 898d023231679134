//! Everything a run needs: the simulated HubSpot (in this process), the gateway and the
//! reference (processes of their own), a signed-up vendor account, and the states, codes and
//! connections the scenarios use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use installgate_sandbox::{HubSpotSimulator, SimulatedApp};

pub const CLIENT_ID: &str = "bench-crm";
const CLIENT_SECRET: &str = "bench-crm-secret";
pub const RETURN_URL: &str = "https://app.hubspot.com/marketplace/1/install-return?flow=bench";
const SESSION_COOKIE: &str = "__Host-installgate";
/// 64 bytes, base64: the session key the gateway requires with Redis.
const SESSION_KEY: &str =
    "YmVuY2gtc2Vzc2lvbi1rZXktYmVuY2gtc2Vzc2lvbi1rZXktYmVuY2gtc2Vzc2lvbi1rZXktYmVuY2gtc2Vzcw==";
/// 32 bytes, base64.
const VAULT_KEY: &str = "YmVuY2gtdmF1bHQta2V5LWJlbmNoLXZhdWx0LWtleTE=";

/// A child process, killed when dropped.
pub struct Process {
    pub child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Resident memory in MiB, from `/proc`.
    pub fn resident_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

/// Where the run's parts come from.
#[derive(Debug, Clone)]
pub struct Options {
    pub redis_url: String,
    /// `None`: SQLite in a temporary directory.
    pub postgres_url: Option<String>,
    pub workers: usize,
    /// More `INSTALLGATE__…` settings for the gateway.
    pub extra_env: Vec<(String, String)>,
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The `installgate` binary built beside this one.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release --bin {name}`",
            path.display()
        );
    }
    Ok(path)
}

pub async fn wait_until_up(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(url).send().await
            && (response.status().is_success() || response.status().is_redirection())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} did not answer");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The running parts.
pub struct Rig {
    pub sim: HubSpotSimulator,
    pub gateway: Process,
    pub gateway_url: String,
    /// Kept so that the reference process ends with the rig.
    _reference: Process,
    pub reference_pid: u32,
    pub reference_url: String,
    pub api_key: String,
    pub client: reqwest::Client,
    redis_url: String,
    /// The prefix of the gateway's keys in Redis.
    pub key_prefix: String,
    _dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(options: &Options) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let gateway_port = free_port()?;
        let gateway_url = format!("http://127.0.0.1:{gateway_port}");
        let key_prefix = format!("bench-{gateway_port}:");
        let sim = HubSpotSimulator::start(
            vec![SimulatedApp {
                name: "Bench CRM".into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                redirect_uri: format!("{gateway_url}/install/hubspot/crm"),
                scopes: vec!["oauth".into()],
                partner_sign_in: true,
            }],
            0,
        )
        .await
        .context("starting the HubSpot simulator")?;
        let (api_key, api_key_sha256) = installgate_server::api::new_key()
            .map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
        let database = match &options.postgres_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/installgate.db", dir.path().display()),
        };
        let mut env: Vec<(&str, String)> = vec![
            (
                "INSTALLGATE__SERVER__BIND",
                format!("127.0.0.1:{gateway_port}"),
            ),
            ("INSTALLGATE__SERVER__PUBLIC_URL", gateway_url.clone()),
            ("INSTALLGATE__ADMIN__BIND", String::new()),
            ("INSTALLGATE__SERVER__WORKERS", options.workers.to_string()),
            ("INSTALLGATE__STATE__BACKEND", "redis".into()),
            ("INSTALLGATE__STATE__REDIS_URL", options.redis_url.clone()),
            ("INSTALLGATE__STATE__KEY_PREFIX", key_prefix.clone()),
            ("INSTALLGATE__SESSION__KEY", SESSION_KEY.into()),
            ("INSTALLGATE__DATABASE__URL", database),
            ("INSTALLGATE__VAULT__ACTIVE_KEY", "k1".into()),
            ("INSTALLGATE__VAULT__KEYS__K1", VAULT_KEY.into()),
            ("INSTALLGATE__CLIENTS__RATE_LIMIT_PER_MINUTE", "0".into()),
            ("INSTALLGATE__API__KEYS__BENCH__SHA256", api_key_sha256),
            ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot".into()),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID.into()),
            (
                "INSTALLGATE__APPS__CRM__CLIENT_SECRET",
                CLIENT_SECRET.into(),
            ),
            ("INSTALLGATE__APPS__CRM__PARTNER_SIGN_IN", "true".into()),
            ("INSTALLGATE__APPS__CRM__TOKEN_URL", sim.token_url()),
            ("INSTALLGATE__APPS__CRM__AUTHORIZE_URL", sim.authorize_url()),
            ("INSTALLGATE__APPS__CRM__API_BASE_URL", sim.url().to_owned()),
        ];
        env.extend(
            options
                .extra_env
                .iter()
                .map(|(key, value)| (key.as_str(), value.clone())),
        );
        let gateway = spawn_gateway(dir.path(), &env)?;
        let reference_port = free_port()?;
        let reference = Process {
            child: Command::new(std::env::current_exe()?)
                .args(["reference", "--port", &reference_port.to_string()])
                .args(["--workers", &options.workers.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .context("starting the reference server")?,
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()?;
        let reference_url = format!("http://127.0.0.1:{reference_port}/");
        wait_until_up(&client, &format!("{gateway_url}/readyz")).await?;
        wait_until_up(&client, &reference_url).await?;
        Ok(Self {
            sim,
            gateway,
            gateway_url,
            reference_pid: reference.child.id(),
            _reference: reference,
            reference_url,
            api_key,
            client,
            redis_url: options.redis_url.clone(),
            key_prefix,
            _dir: dir,
        })
    }

    /// Deletes the gateway's keys from Redis: a full run leaves several hundred thousand
    /// states that no finalize took, which would otherwise hold Redis' memory until they expire.
    /// Returns how many went.
    pub async fn forget_keys(&self) -> anyhow::Result<u64> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        let pattern = format!("{}*", self.key_prefix);
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(10_000)
                .query_async(&mut connection)
                .await?;
            if !keys.is_empty() {
                removed += redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<u64>(&mut connection)
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    /// The process id of Redis, when it runs on this machine (its `INFO` says which, and
    /// `/proc` has it as `redis-server`): its CPU time is read around each round.
    pub async fn redis_pid(&self) -> Option<u32> {
        let client = redis::Client::open(self.redis_url.as_str()).ok()?;
        let mut connection = client.get_multiplexed_async_connection().await.ok()?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut connection)
            .await
            .ok()?;
        let pid: u32 = info
            .lines()
            .find_map(|line| line.strip_prefix("process_id:"))?
            .trim()
            .parse()
            .ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        comm.trim().starts_with("redis-server").then_some(pid)
    }

    /// Signs up a vendor account and returns its session cookie (`name=value`).
    pub async fn signed_in_cookie(&self) -> anyhow::Result<String> {
        let page = self
            .client
            .get(format!("{}/account/sign-up", self.gateway_url))
            .send()
            .await?;
        let cookie = session_cookie(&page).context("no session cookie on the sign-up page")?;
        let html = page.text().await?;
        let csrf = hidden_input(&html, "csrf_token").context("no CSRF token")?;
        let signed_up = self
            .client
            .post(format!("{}/account/sign-up", self.gateway_url))
            .header("cookie", &cookie)
            .header("origin", &self.gateway_url)
            .form(&[
                ("email", "bench@example.com"),
                ("password", "a benchmark password"),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await?;
        if signed_up.status().as_u16() != 303 {
            bail!("sign-up answered {}", signed_up.status());
        }
        session_cookie(&signed_up).context("no session cookie after sign-up")
    }

    /// `count` finalize URLs, each with a state minted for `cookie`'s account and a fresh code
    /// for its own portal (from `first_hub`).
    pub async fn finalize_urls(
        &self,
        cookie: &str,
        count: usize,
        first_hub: u64,
    ) -> anyhow::Result<Vec<String>> {
        let authorize = format!(
            "{}/install/hubspot/crm?step=authorize&returnUrl={}",
            self.gateway_url,
            encode(RETURN_URL)
        );
        let mut urls = Vec::with_capacity(count);
        for chunk in (0..count).collect::<Vec<_>>().chunks(256) {
            let states = futures_util::future::join_all(
                chunk.iter().map(|_| self.mint_state(&authorize, cookie)),
            )
            .await;
            for (n, state) in chunk.iter().zip(states) {
                let code = self
                    .sim
                    .issue_code(CLIENT_ID, first_hub + *n as u64)
                    .context("the simulator issued no code")?;
                urls.push(format!(
                    "{}/install/hubspot/crm?step=finalize&code={}&state={}&returnUrl={}",
                    self.gateway_url,
                    encode(&code),
                    encode(&state?),
                    encode(RETURN_URL)
                ));
            }
        }
        Ok(urls)
    }

    /// One `step=authorize` for the signed-in `cookie`: the state it sends back.
    async fn mint_state(&self, authorize: &str, cookie: &str) -> anyhow::Result<String> {
        let response = self
            .client
            .get(authorize)
            .header("cookie", cookie)
            .send()
            .await?;
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .context("authorize gave no redirect")?;
        url::Url::parse(location)?
            .query_pairs()
            .find(|(name, _)| name == "state")
            .map(|(_, value)| value.into_owned())
            .context("authorize gave no state")
    }

    /// The ids of up to `limit` connections, through the vendor API.
    pub async fn connection_ids(&self, limit: usize) -> anyhow::Result<Vec<String>> {
        let listing: serde_json::Value = self
            .client
            .get(format!(
                "{}/api/v1/connections?status=active&limit={limit}",
                self.gateway_url
            ))
            .bearer_auth(&self.api_key)
            .send()
            .await?
            .json()
            .await?;
        Ok(listing["data"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn spawn_gateway(dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Process> {
    let mut command = Command::new(sibling("installgate")?);
    command.arg("serve").current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("INSTALLGATE") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(key, value)| (key, value)));
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the gateway")?;
    Ok(Process { child })
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|line| line.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .and_then(|rest| rest.split(';').next())
        .filter(|value| !value.is_empty())
        .map(|value| format!("{SESSION_COOKIE}={value}"))
}

fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
