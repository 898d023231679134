//! Helpers for the suites: the real gateway on a random port, private Redis servers that tests
//! may stop and pause, private three-node Redis Clusters, and fresh PostgreSQL databases.
//!
//! Tests need `redis-server` and `redis-cli` on the PATH, a Redis at
//! `INSTALLGATE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) and a PostgreSQL at
//! `INSTALLGATE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) whose
//! user may create databases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_debug_implementations
)]

mod app;
mod browser;
mod chrome;
mod console;
mod database;
mod logs;
mod oidc;
mod postgres;
mod receiver;
mod redis_cluster;
mod redis_server;
mod sandbox;
mod seed;
mod vendor;

pub use app::{TestApp, spawn_app, test_sources};
pub use browser::{Browser, SESSION_COOKIE, hidden_input, location};
pub use chrome::Chrome;
pub use console::{ConsoleClient, OPERATOR_PASSWORD, between, create_operator, totp_code, until};
pub use database::TestDatabase;
pub use logs::CapturedLogs;
pub use oidc::{OIDC_CLIENT_ID, OidcPerson, OidcProvider};
pub use postgres::FreshPostgres;
pub use receiver::{Received, Receiver};
pub use redis_cluster::RedisCluster;
pub use redis_server::PrivateRedis;
pub use sandbox::{start_sandbox, start_sandbox_with};
pub use seed::install_pipedrive;
pub use vendor::VendorStub;

/// A valid vault key (32 bytes, base64) for tests that configure one.
pub const TEST_VAULT_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A valid session key (64 bytes, base64), required with the Redis backend.
pub const TEST_SESSION_KEY: &str =
    "c2Vzc2lvbi1rZXktc2Vzc2lvbi1rZXktc2Vzc2lvbi1rZXktc2Vzc2lvbi1rZXktc2Vzc2lvbi1rZXktc2Vzc2lvbg==";

/// The shared Redis most tests use, each under its own key prefix.
pub fn redis_url() -> String {
    std::env::var("INSTALLGATE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The keys of the shared Redis that match `pattern` (`prefix*`). Walks the key space with
/// `SCAN`, a slice per call, so that a Redis holding millions of other keys (a benchmark's,
/// say) answers each call quickly, where one `KEYS` would block it past the client's timeout.
pub async fn redis_keys(pattern: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, mut found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut connection)
            .await
            .unwrap();
        keys.append(&mut found);
        if next == 0 {
            keys.sort();
            keys.dedup();
            return keys;
        }
        cursor = next;
    }
}

/// Runs one command on the shared Redis, behind the gateway's back.
async fn redis_command<T: redis::FromRedisValue>(command: &redis::Cmd) -> T {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    command.query_async(&mut connection).await.unwrap()
}

/// How many clients of the shared Redis are subscribed to `channel`.
pub async fn redis_subscribers(channel: &str) -> u64 {
    let (_, count): (String, u64) =
        redis_command(redis::cmd("PUBSUB").arg("NUMSUB").arg(channel)).await;
    count
}

/// Deletes `key` from the shared Redis behind the gateway's back; whether it was there.
pub async fn redis_delete(key: &str) -> bool {
    let deleted: u64 = redis_command(redis::cmd("DEL").arg(key)).await;
    deleted == 1
}

/// Polls `condition` every 25 ms until it holds, failing the test after `seconds`.
pub async fn eventually(seconds: u64, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("installgate-test:{}:", uuid::Uuid::new_v4().simple())
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free port")
}

/// The `frame-ancestors` directive of a response's `Content-Security-Policy`, after checking that
/// the rest of the policy lets the page load nothing but its own styles (and, where an app
/// configured one, its logo).
pub fn frame_ancestors(response: &reqwest::Response) -> String {
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "),
        "{policy}"
    );
    policy
        .split("; ")
        .find(|directive| directive.starts_with("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {policy}"))
        .to_owned()
}

/// The value of the query parameter `name` of `url`.
pub fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(found, _)| found == name)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .1
        .into_owned()
}

/// A `whsec_…` webhook secret made of `byte` repeated.
pub fn webhook_secret(byte: u8) -> String {
    use base64::Engine as _;
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    )
}
