//! Token refresh across replicas: two `installgate serve` processes sharing Redis and
//! PostgreSQL, against the Pipedrive simulator with refresh-token rotation switched on (each
//! refresh returns a new refresh token; a reused one is refused and ends the grant).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::installgate;
use installgate_core::{AccessToken, ConnectionId, ConnectionStatus, ConnectionVault as _};
use installgate_sandbox::{Failure, PipedriveSimulator, PipedriveUser, SimulatedApp};
use installgate_store::{Outbox, SqlVault};
use installgate_tests::{
    FreshPostgres, TEST_SESSION_KEY, TEST_VAULT_KEY, free_port, install_pipedrive, redis_url,
    unique_prefix,
};

const CLIENT_ID: &str = "pd-client";
const CLIENT_SECRET: &str = "pd-secret";
/// Longer than the providers' timeout, as the configuration requires.
const LOCK_TTL_MS: &str = "2000";

struct Cluster {
    sim: PipedriveSimulator,
    _postgres: FreshPostgres,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    key: String,
    client: reqwest::Client,
}

/// A gateway process and its address.
struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Cluster {
    async fn new() -> Self {
        let sim = PipedriveSimulator::start(
            vec![SimulatedApp {
                name: "CRM".into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                redirect_uri: "http://127.0.0.1:1/unused".into(),
                scopes: vec!["deals:full".into()],
                partner_sign_in: false,
            }],
            vec![PipedriveUser {
                company_id: 1,
                user_id: 10,
                company_name: "Acme".into(),
                name: "Ann".into(),
            }],
            0,
        )
        .await
        .unwrap();
        sim.rotate_refresh_tokens(true);
        let postgres = FreshPostgres::create().await;
        let (key, hash) = installgate_server::api::new_key().unwrap();
        let env = [
            ("INSTALLGATE__STATE__BACKEND", "redis".to_owned()),
            ("INSTALLGATE__STATE__REDIS_URL", redis_url()),
            ("INSTALLGATE__STATE__KEY_PREFIX", unique_prefix()),
            ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY.to_owned()),
            ("INSTALLGATE__DATABASE__URL", postgres.url().to_owned()),
            ("INSTALLGATE__VAULT__ACTIVE_KEY", "k1".to_owned()),
            ("INSTALLGATE__VAULT__KEYS__K1", TEST_VAULT_KEY.to_owned()),
            ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive".to_owned()),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID.to_owned()),
            (
                "INSTALLGATE__APPS__CRM__CLIENT_SECRET",
                CLIENT_SECRET.to_owned(),
            ),
            ("INSTALLGATE__APPS__CRM__TOKEN_URL", sim.token_url()),
            ("INSTALLGATE__APPS__CRM__API_BASE_URL", sim.url().to_owned()),
            ("INSTALLGATE__API__KEYS__VENDOR__SHA256", hash),
            ("INSTALLGATE__PROVIDERS__TIMEOUT_MS", "1000".to_owned()),
            ("INSTALLGATE__TOKENS__LOCK_TTL_MS", LOCK_TTL_MS.to_owned()),
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
            key,
            client: reqwest::Client::new(),
        }
    }

    /// Starts a replica and waits until it is ready.
    async fn replica(&self) -> Replica {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let child = installgate(self.dir.path())
            .arg("serve")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("INSTALLGATE__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("INSTALLGATE__SERVER__PUBLIC_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica { child, url };
        common::wait_for_200(&format!("{}/readyz", replica.url)).await;
        replica
    }

    async fn vault(&self) -> SqlVault {
        common::vault_for(&self.env).await
    }

    /// An active connection whose simulator-issued access token expires in `expires_in`.
    async fn install(&self, expires_in: Duration) -> (ConnectionId, String) {
        install_pipedrive(&self.vault().await, &self.sim, CLIENT_ID, expires_in).await
    }

    async fn token(&self, replica: &str, id: ConnectionId) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{replica}/api/v1/connections/{id}/access-token"))
            .bearer_auth(&self.key)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `POST …/access-token` with `{"force_refresh": true}`: the caller's token was refused.
    async fn forced_token(&self, replica: &str, id: ConnectionId) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{replica}/api/v1/connections/{id}/access-token"))
            .bearer_auth(&self.key)
            .json(&serde_json::json!({"force_refresh": true}))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn revoked_events(&self) -> usize {
        let vault = self.vault().await;
        Outbox::new(vault.database().clone())
            .list(false, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|event| event.event_type == "connection.revoked")
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_requests_over_two_replicas_refresh_once() {
    let cluster = Cluster::new().await;
    let one = cluster.replica().await;
    let two = cluster.replica().await;
    let (id, old) = cluster.install(Duration::from_secs(60)).await;
    // A slow refresh keeps the window open: both replicas see the expiring token meanwhile.
    cluster
        .sim
        .fail_next(Failure::Slow(Duration::from_millis(500)));
    let requests = (0..200).map(|n| {
        let replica = if n % 2 == 0 { &one.url } else { &two.url };
        cluster.token(replica, id)
    });
    let answers = futures_util::future::join_all(requests).await;
    let tokens: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    let fresh = tokens.into_iter().next().unwrap();
    assert_ne!(fresh, old, "and it is the new one");
    assert_eq!(cluster.sim.refresh_calls(), 1, "exactly one refresh");
    assert_eq!(cluster.sim.refused_refreshes(), 0, "no invalid_grant");
    assert!(cluster.sim.access_token_works(&fresh));
    let stored = cluster.vault().await.get(id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert_eq!(stored.tokens.unwrap().access_token, AccessToken::new(fresh));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_forced_refreshes_over_two_replicas_refresh_once() {
    let cluster = Cluster::new().await;
    let one = cluster.replica().await;
    let two = cluster.replica().await;
    // A token far from expiry: only the force makes anyone refresh.
    let (id, old) = cluster.install(Duration::from_secs(3600)).await;
    let requests = (0..200).map(|n| {
        let replica = if n % 2 == 0 { &one.url } else { &two.url };
        cluster.forced_token(replica, id)
    });
    let answers = futures_util::future::join_all(requests).await;
    let tokens: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        cluster.sim.refresh_calls(),
        1,
        "one refresh for every forced caller"
    );
    assert_eq!(
        cluster.sim.refused_refreshes(),
        0,
        "no refresh token reused"
    );
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    let fresh = tokens.into_iter().next().unwrap();
    assert_ne!(fresh, old, "and it is the new one");
    assert!(cluster.sim.access_token_works(&fresh));
    let stored = cluster.vault().await.get(id).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_holder_killed_mid_refresh_leaves_it_to_another_replica() {
    let cluster = Cluster::new().await;
    let mut holder = cluster.replica().await;
    let other = cluster.replica().await;
    let (id, old) = cluster.install(Duration::from_secs(60)).await;
    // The holder's refresh reaches the marketplace and hangs there; the holder is killed.
    cluster
        .sim
        .fail_next(Failure::Stall(Duration::from_secs(20)));
    let holder_url = holder.url.clone();
    let client = cluster.client.clone();
    let key = cluster.key.clone();
    let stuck = tokio::spawn(async move {
        client
            .post(format!("{holder_url}/api/v1/connections/{id}/access-token"))
            .bearer_auth(key)
            .send()
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while cluster.sim.token_calls() == 0 {
        assert!(Instant::now() < deadline, "the holder never called");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    assert!(
        stuck.await.unwrap().is_err(),
        "the killed holder never answered"
    );
    // The other replica waits for the lease to expire, then refreshes.
    let (status, body) = cluster.token(&other.url, id).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, old);
    assert!(cluster.sim.access_token_works(&fresh));
    assert_eq!(cluster.sim.refused_refreshes(), 0);
    let stored = cluster.vault().await.get(id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        ConnectionStatus::Active,
        "not revoked wrongly"
    );
    assert_eq!(cluster.revoked_events().await, 0);
}
