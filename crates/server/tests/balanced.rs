//! Two `installgate serve` replicas sharing Redis and PostgreSQL behind nginx, as ops teams run
//! them: a HubSpot install whose `step=authorize` and `step=finalize` land on different replicas,
//! then a load of installs while one replica is killed with SIGKILL and started again. Every
//! install a user was told succeeded exists exactly once with its event delivered; every other
//! one failed visibly; nothing is half-written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Running, free_port, installgate, start_receiver, wait_for_200};
use installgate_core::{ConnectionFilter, ConnectionStatus, ConnectionVault as _};
use installgate_sandbox::{HubSpotSimulator, SimulatedApp};
use installgate_store::{Outbox, SqlVault};
use installgate_tests::{
    Browser, FreshPostgres, TEST_SESSION_KEY, TEST_VAULT_KEY, hidden_input, location, redis_delete,
    redis_keys, redis_subscribers, redis_url, unique_prefix,
};

const CLIENT_ID: &str = "hs-balanced";
const CLIENT_SECRET: &str = "hs-balanced-secret";
const SETUP_URL: &str = "https://app.example.com/hubspot/setup";
const RETURN_URL: &str = "https://app.hubspot.com/marketplace/1/install-return?flow=balanced";
const PASSWORD: &str = "correct horse battery";

/// nginx, stopped with its worker when dropped: killing the master alone would leave the worker
/// running, and listening.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// nginx on a loopback port in front of the given replica ports, in `dir`, in a process group
/// of its own.
fn start_nginx(dir: &Path, port: u16, upstreams: &[u16]) -> Nginx {
    let servers: String = upstreams
        .iter()
        .map(|upstream| format!("    server 127.0.0.1:{upstream} max_fails=1 fail_timeout=1s;\n"))
        .collect();
    let root = dir.display();
    let config = format!(
        "daemon off;\nuser root;\nworker_processes 1;\npid {root}/nginx.pid;\n\
         error_log {root}/nginx-error.log warn;\nevents {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  \
         proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  \
         uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  \
         upstream gateways {{\n{servers}  }}\n  server {{\n    listen 127.0.0.1:{port};\n    \
         location / {{\n      proxy_pass http://gateways;\n      \
         proxy_set_header Host $http_host;\n      \
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      \
         proxy_connect_timeout 1s;\n      proxy_read_timeout 15s;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx must be installed (Debian: nginx-light)");
    Nginx(child)
}

struct Deployment {
    sim: HubSpotSimulator,
    _postgres: FreshPostgres,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    /// What the replicas are reached through.
    balancer: String,
    replica_ports: [u16; 2],
    received: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Deployment {
    async fn new() -> Self {
        let balancer_port = free_port();
        let balancer = format!("http://127.0.0.1:{balancer_port}");
        let sim = HubSpotSimulator::start(
            vec![SimulatedApp {
                name: "Balanced CRM".into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                redirect_uri: format!("{balancer}/install/hubspot/crm"),
                scopes: vec!["oauth".into()],
                partner_sign_in: true,
            }],
            0,
        )
        .await
        .unwrap();
        let postgres = FreshPostgres::create().await;
        let hook_port = free_port();
        let received = start_receiver(hook_port);
        let env = [
            ("INSTALLGATE__SERVER__PUBLIC_URL", balancer.clone()),
            ("INSTALLGATE__STATE__BACKEND", "redis".to_owned()),
            ("INSTALLGATE__STATE__REDIS_URL", redis_url()),
            ("INSTALLGATE__STATE__KEY_PREFIX", unique_prefix()),
            ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY.to_owned()),
            ("INSTALLGATE__DATABASE__URL", postgres.url().to_owned()),
            ("INSTALLGATE__VAULT__ACTIVE_KEY", "k1".to_owned()),
            ("INSTALLGATE__VAULT__KEYS__K1", TEST_VAULT_KEY.to_owned()),
            (
                "INSTALLGATE__ACCOUNTS__ARGON2_MEMORY_KIB",
                "1024".to_owned(),
            ),
            ("INSTALLGATE__ACCOUNTS__ARGON2_ITERATIONS", "1".to_owned()),
            (
                "INSTALLGATE__CLIENTS__TRUSTED_PROXIES",
                "127.0.0.1".to_owned(),
            ),
            (
                "INSTALLGATE__CLIENTS__RATE_LIMIT_PER_MINUTE",
                "0".to_owned(),
            ),
            (
                "INSTALLGATE__WEBHOOK__URL",
                format!("http://127.0.0.1:{hook_port}/hooks"),
            ),
            (
                "INSTALLGATE__WEBHOOK__SECRET",
                "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=".to_owned(),
            ),
            ("INSTALLGATE__WEBHOOK__POLL_INTERVAL_MS", "50".to_owned()),
            ("INSTALLGATE__WEBHOOK__INITIAL_BACKOFF_MS", "100".to_owned()),
            ("INSTALLGATE__WEBHOOK__LEASE_SECONDS", "2".to_owned()),
            ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot".to_owned()),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID.to_owned()),
            (
                "INSTALLGATE__APPS__CRM__CLIENT_SECRET",
                CLIENT_SECRET.to_owned(),
            ),
            ("INSTALLGATE__APPS__CRM__PARTNER_SIGN_IN", "true".to_owned()),
            ("INSTALLGATE__APPS__CRM__SETUP_URL", SETUP_URL.to_owned()),
            ("INSTALLGATE__APPS__CRM__TOKEN_URL", sim.token_url()),
            ("INSTALLGATE__APPS__CRM__AUTHORIZE_URL", sim.authorize_url()),
            ("INSTALLGATE__APPS__CRM__API_BASE_URL", sim.url().to_owned()),
            ("INSTALLGATE__LOG__FILTER", "warn".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        Self {
            sim,
            _postgres: postgres,
            dir: tempfile::tempdir().unwrap(),
            env,
            balancer,
            replica_ports: [free_port(), free_port()],
            received,
        }
    }

    fn replica_url(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.replica_ports[index])
    }

    /// Starts replica `index` on its port and waits until it is ready.
    async fn start_replica(&self, index: usize) -> Running {
        let child: Child = installgate(self.dir.path())
            .arg("serve")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env(
                "INSTALLGATE__SERVER__BIND",
                format!("127.0.0.1:{}", self.replica_ports[index]),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let running = Running(child);
        wait_for_200(&format!("{}/readyz", self.replica_url(index))).await;
        running
    }

    async fn vault(&self) -> SqlVault {
        common::vault_for(&self.env).await
    }

    /// The replicas' Redis key prefix.
    fn key_prefix(&self) -> &str {
        self.env
            .iter()
            .find(|(name, _)| name == "INSTALLGATE__STATE__KEY_PREFIX")
            .map(|(_, value)| value.as_str())
            .unwrap()
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Signs up `email` through the pages of `browser`'s gateway, posting from the public origin
/// as a browser on the gateway's pages does; the session lives in Redis, so every replica
/// knows it.
async fn sign_up(browser: &Browser, public_origin: &str, email: &str) {
    let form = browser.get("/account/sign-up").await;
    let csrf = hidden_input(&form.text().await.unwrap(), "csrf_token").unwrap();
    let fields = [
        ("email", email),
        ("password", PASSWORD),
        ("csrf_token", csrf.as_str()),
    ];
    let done = browser
        .post_from("/account/sign-up", &fields, Some(public_origin))
        .await;
    assert_eq!(done.status(), reqwest::StatusCode::SEE_OTHER, "sign-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_and_finalize_on_different_replicas_complete_the_install() {
    let deployment = Deployment::new().await;
    let _one = deployment.start_replica(0).await;
    let _two = deployment.start_replica(1).await;
    let first = Browser::at(&deployment.replica_url(0));
    sign_up(&first, &deployment.balancer, "split@example.com").await;
    // The same browser (cookie) on the other replica.
    let second = Browser::at(&deployment.replica_url(1));
    second.set_session_cookie(first.session_cookie());

    let authorize = format!(
        "/install/hubspot/crm?step=authorize&returnUrl={}",
        encode(RETURN_URL)
    );
    let minted = first.get(&authorize).await;
    assert_eq!(minted.status(), reqwest::StatusCode::FOUND);
    let back = url::Url::parse(&location(&minted)).unwrap();
    let state = back
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let code = deployment.sim.issue_code(CLIENT_ID, 777).unwrap();
    let finalize = format!(
        "/install/hubspot/crm?step=finalize&code={}&state={}&returnUrl={}",
        encode(&code),
        encode(&state),
        encode(RETURN_URL)
    );
    let finalized = second.get(&finalize).await;
    assert_eq!(finalized.status(), reqwest::StatusCode::FOUND);
    assert_eq!(location(&finalized), RETURN_URL);
    let vault = deployment.vault().await;
    let connections = vault
        .list(&ConnectionFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].marketplace_key.as_str(), "777");
    assert!(
        connections[0].account.is_some(),
        "claimed by the signed-in account"
    );
    assert_eq!(deployment.sim.token_calls(), 1);
}

/// Waits for the announcements of the changes just made to reach every replica (its own
/// included): one arriving after a read drops the copy that read kept.
async fn word_of_changes_arrives() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn account_page(browser: &Browser) -> reqwest::StatusCode {
    browser.get("/account/").await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_on_one_replica_ends_the_session_on_the_other_at_once() {
    let mut deployment = Deployment::new().await;
    deployment.env.push((
        "INSTALLGATE__SESSION__CACHE_SECONDS".to_owned(),
        "30".to_owned(),
    ));
    let _one = deployment.start_replica(0).await;
    let _two = deployment.start_replica(1).await;
    let channel = format!("{}session-changes", deployment.key_prefix());
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_subscribers(&channel).await < 2 {
        assert!(
            Instant::now() < deadline,
            "both replicas listen for session changes"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The subscription is in place; the replicas note it once they read its confirmation.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let first = Browser::at(&deployment.replica_url(0));
    sign_up(&first, &deployment.balancer, "copies@example.com").await;
    let second = Browser::at(&deployment.replica_url(1));
    second.set_session_cookie(first.session_cookie());
    // The first account page makes the session's CSRF token, a change, announced: both
    // replicas drop their copies. The next page on each reads the record and keeps a copy.
    assert_eq!(account_page(&second).await, reqwest::StatusCode::OK);
    word_of_changes_arrives().await;
    assert_eq!(account_page(&second).await, reqwest::StatusCode::OK);
    assert_eq!(account_page(&first).await, reqwest::StatusCode::OK);

    // Each replica now answers from its copy: with the record deleted behind their backs (so
    // no word of it), both still know the session.
    let sessions = redis_keys(&format!("{}session:*", deployment.key_prefix())).await;
    assert_eq!(sessions.len(), 1, "one session: {sessions:?}");
    assert!(redis_delete(&sessions[0]).await);
    assert_eq!(account_page(&second).await, reqwest::StatusCode::OK);
    let page = first.get("/account/").await;
    assert_eq!(page.status(), reqwest::StatusCode::OK, "the first's copy");
    let csrf = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();

    // Signing out on the first replica is announced; the second drops its copy at once, not
    // when the copy would have expired (30 s).
    let out = first
        .post_from(
            "/account/sign-out",
            &[("csrf_token", csrf.as_str())],
            Some(&deployment.balancer),
        )
        .await;
    assert_eq!(out.status(), reqwest::StatusCode::OK, "signed out");
    let deadline = Instant::now() + Duration::from_secs(1);
    while account_page(&second).await == reqwest::StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "the second replica still serves the session a second after the sign-out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(account_page(&first).await, reqwest::StatusCode::OK);

    // A change made from a copy after the session ended (here: deleted behind the replicas'
    // backs) does not bring the session back.
    sign_up(&first, &deployment.balancer, "again@example.com").await;
    let third = Browser::at(&deployment.replica_url(1));
    third.set_session_cookie(first.session_cookie());
    assert_eq!(account_page(&third).await, reqwest::StatusCode::OK);
    word_of_changes_arrives().await;
    assert_eq!(account_page(&third).await, reqwest::StatusCode::OK);
    let before = redis_keys(&format!("{}session:*", deployment.key_prefix())).await;
    assert_eq!(before.len(), 1, "one session: {before:?}");
    assert!(redis_delete(&before[0]).await);
    let started = third.get("/connect/hubspot/crm").await;
    assert_eq!(
        started.status(),
        reqwest::StatusCode::FOUND,
        "signed in, from the copy"
    );
    let after = redis_keys(&format!("{}session:*", deployment.key_prefix())).await;
    assert!(after.is_empty(), "the ended session came back: {after:?}");
    assert_ne!(account_page(&third).await, reqwest::StatusCode::OK);
}

/// What one install through the balancer came to, as its user saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Sent on to the setup page with this connection.
    Installed(String),
    /// An error page or status (the gateway's, or nginx's when no replica answered).
    Failed(u16),
}

/// One install started from the vendor's page: `/connect` mints a state, HubSpot's consent
/// gives a code, the callback exchanges and stores it and sends the user to the setup page.
async fn install_through(browser: &Browser, deployment: &Deployment, hub_id: u64) -> Seen {
    let started = browser.get("/connect/hubspot/crm").await;
    if started.status() != reqwest::StatusCode::FOUND {
        return Seen::Failed(started.status().as_u16());
    }
    let consent = url::Url::parse(&location(&started)).unwrap();
    let state = consent
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let code = deployment.sim.issue_code(CLIENT_ID, hub_id).unwrap();
    let callback = browser
        .get(&format!(
            "/install/hubspot/crm?code={}&state={}",
            encode(&code),
            encode(&state)
        ))
        .await;
    let to = location(&callback);
    match to.strip_prefix(&format!("{SETUP_URL}?connection_id=")) {
        Some(id) if callback.status() == reqwest::StatusCode::SEE_OTHER => {
            Seen::Installed(id.to_owned())
        }
        _ => {
            let status = callback.status().as_u16();
            assert!(
                status >= 400,
                "a failure must be visible, not a {status} to {to:?}"
            );
            assert_ne!(status, 500, "never a 500 from the gateway");
            Seen::Failed(status)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn installs_survive_a_replica_killed_under_load() {
    const WORKERS: u64 = 4;
    /// Installs made in all before one replica is killed.
    const BEFORE_KILL: usize = 40;
    /// Installs each load worker makes once the killed replica is back, however fast the
    /// machine got through the rest.
    const AFTER_RESTART: u64 = 10;
    /// A bound on each worker's installs, should the restart never end.
    const MAX_EACH: u64 = 400;
    let deployment = Arc::new(Deployment::new().await);
    let mut one = deployment.start_replica(0).await;
    let _two = deployment.start_replica(1).await;
    let balancer_port: u16 = deployment
        .balancer
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let _nginx = start_nginx(
        deployment.dir.path(),
        balancer_port,
        &deployment.replica_ports,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{}/healthz", deployment.balancer))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "nginx did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let done = Arc::new(AtomicUsize::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    let load = (0..WORKERS).map(|worker| {
        let deployment = deployment.clone();
        let done = done.clone();
        let restarted = restarted.clone();
        tokio::spawn(async move {
            let browser = Browser::at(&deployment.balancer);
            sign_up(
                &browser,
                &deployment.balancer,
                &format!("load{worker}@example.com"),
            )
            .await;
            let mut seen = Vec::new();
            let mut since_restart = 0;
            for n in 0..MAX_EACH {
                let hub_id = 10_000 + worker * 1000 + n;
                let back = restarted.load(Ordering::SeqCst);
                seen.push((hub_id, install_through(&browser, &deployment, hub_id).await));
                done.fetch_add(1, Ordering::SeqCst);
                if back {
                    since_restart += 1;
                    if since_restart == AFTER_RESTART {
                        break;
                    }
                }
            }
            seen
        })
    });
    let load = tokio::spawn(futures_util::future::join_all(load));
    // Kill one replica mid-load, then start it again on the same port.
    while done.load(Ordering::SeqCst) < BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    one.0.kill().unwrap();
    one.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    one = deployment.start_replica(0).await;
    let after_restart = done.load(Ordering::SeqCst);
    restarted.store(true, Ordering::SeqCst);
    let results: Vec<(u64, Seen)> = load
        .await
        .unwrap()
        .into_iter()
        .flat_map(|worker| worker.unwrap())
        .collect();
    drop(one);

    // Every stored connection is whole: active, with tokens, and its event delivered once.
    let vault = deployment.vault().await;
    let stored = vault
        .list(&ConnectionFilter::default(), None, 5000)
        .await
        .unwrap();
    let mut by_hub: HashMap<String, Vec<String>> = HashMap::new();
    for connection in &stored {
        assert_eq!(connection.status, ConnectionStatus::Active);
        let whole = vault.get(connection.id).await.unwrap().unwrap();
        assert!(whole.tokens.is_some(), "half-written: {}", connection.id);
        by_hub
            .entry(connection.marketplace_key.as_str().to_owned())
            .or_default()
            .push(connection.id.to_string());
    }
    assert!(
        by_hub.values().all(|ids| ids.len() == 1),
        "one connection per portal"
    );
    let outbox = Outbox::new(vault.database().clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = outbox.list(false, 5000).await.unwrap();
        let undelivered = events
            .iter()
            .filter(|event| event.delivered_at.is_none())
            .count();
        if undelivered == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{undelivered} events never delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = outbox.list(false, 5000).await.unwrap();
    let mut completed: BTreeMap<String, usize> = BTreeMap::new();
    for event in events
        .iter()
        .filter(|e| e.event_type == "installation.completed")
    {
        *completed.entry(event.ordering_key.clone()).or_default() += 1;
    }
    let received = deployment.received.lock().unwrap().clone();
    for ids in by_hub.values() {
        let id = &ids[0];
        assert_eq!(
            completed.get(id).copied().unwrap_or_default(),
            1,
            "one completed event for {id}"
        );
    }
    for event in &events {
        assert!(
            received.contains(&event.id),
            "{} reached the webhook",
            event.id
        );
    }

    // What users were told: every success is stored (lost = 0); every other outcome was visible.
    let attempted = results.len();
    let mut told_success = 0;
    let mut failed_visibly = 0;
    let mut lost = 0;
    for (hub_id, seen) in &results {
        match seen {
            Seen::Installed(id) => {
                told_success += 1;
                let stored_here = by_hub.get(&hub_id.to_string());
                if stored_here != Some(&vec![id.clone()]) {
                    lost += 1;
                }
            }
            Seen::Failed(_) => failed_visibly += 1,
        }
    }
    let stored_without_success = stored.len().saturating_sub(told_success);
    println!(
        "installs attempted {attempted}, completed {told_success}, failed visibly {failed_visibly}, \
         stored although the user saw a failure {stored_without_success}, lost {lost}"
    );
    assert!(
        attempted >= after_restart + (WORKERS * AFTER_RESTART) as usize,
        "the load went on after the restart"
    );
    assert!(
        attempted < (WORKERS * MAX_EACH) as usize,
        "the restart ended"
    );
    assert_eq!(lost, 0);
    assert_eq!(told_success + failed_visibly, attempted);
    assert!(
        told_success > attempted / 2,
        "most installs went through: {told_success}"
    );
}
