//! Webhook delivery against a real local receiver: signatures, retries, give-up, order, several
//! workers, and restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use installgate_core::{
    AppId, Clock as _, Connection, ConnectionVault, Event, EventKind, ProviderId, SystemClock,
};
use installgate_server::settings::{RetryPolicy, WebhookSettings, WebhookTarget};
use installgate_server::webhooks::DeliveryWorker;
use installgate_store::{Database, Outbox, SqlVault};
use installgate_tests::{Receiver, TestDatabase, eventually};
use secrecy::SecretBox;
use sha2::Sha256;

const SECRET_BYTES: [u8; 32] = *b"0123456789abcdefghijklmnopqrstuv";

fn whsec() -> String {
    format!("whsec_{}", STANDARD.encode(SECRET_BYTES))
}

fn settings(url: &str, initial_ms: u64, give_up: Duration) -> WebhookSettings {
    WebhookSettings {
        target: Some(WebhookTarget {
            url: url.parse().unwrap(),
            secret: Arc::new(SecretBox::new(Box::new(SECRET_BYTES.to_vec()))),
        }),
        timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(initial_ms),
            max_backoff: Duration::from_secs(10),
            jitter: 0.0,
            give_up_after: give_up,
        },
        poll_interval: Duration::from_millis(20),
        lease: Duration::from_secs(5),
        batch_size: 10,
    }
}

fn worker(database: &Database, settings: &WebhookSettings) -> tokio::task::JoinHandle<()> {
    let worker = DeliveryWorker::new(
        Outbox::new(database.clone()),
        settings,
        Arc::new(SystemClock),
        installgate_server::metrics::Metrics::new().unwrap(),
    )
    .expect("a webhook is configured");
    tokio::spawn(worker.run())
}

/// The Standard Webhooks check, written from the specification and independent of the
/// gateway's signer: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the base64 bytes after
/// `whsec_`, compared against each `v1,` entry, with a five-minute timestamp tolerance.
fn verify(secret: &str, id: &str, timestamp: &str, body: &str, header: &str) -> bool {
    let Some(key) = secret
        .strip_prefix("whsec_")
        .and_then(|k| STANDARD.decode(k).ok())
    else {
        return false;
    };
    let Ok(sent_at) = timestamp.parse::<i64>() else {
        return false;
    };
    let now = SystemClock.now().as_millis() / 1000;
    if (now - sent_at).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|signature| STANDARD.decode(signature).ok())
        .any(|signature| mac.clone().verify_slice(&signature).is_ok())
}

async fn connection(vault: &SqlVault, key: &str) -> Connection {
    use installgate_core::{AccessToken, ConnectionStatus, MarketplaceKey, NewInstall, TokenSet};
    vault
        .upsert_install(
            NewInstall {
                app: AppId::parse("demo").unwrap(),
                provider: ProviderId::parse("hubspot").unwrap(),
                marketplace_key: MarketplaceKey::parse(key).unwrap(),
                account: None,
                status: ConnectionStatus::Active,
                scopes: vec![],
                metadata: Default::default(),
                workspace: None,
                tokens: TokenSet {
                    access_token: AccessToken::new("secret-token-value"),
                    refresh_token: None,
                    expires_at: None,
                },
            },
            Some(EventKind::InstallationCompleted),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn deliveries_carry_a_standard_webhooks_signature_that_verifies() {
    let db = TestDatabase::sqlite().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    connection(&vault, "100").await;
    let receiver = Receiver::start(0).await;
    let delivery = worker(
        &db.database,
        &settings(&receiver.url, 100, Duration::from_secs(60)),
    );
    eventually(10, "the delivery", || receiver.accepted().len() == 1).await;
    delivery.abort();

    let got = &receiver.accepted()[0];
    assert!(got.id.starts_with("evt_"));
    assert!(verify(
        &whsec(),
        &got.id,
        &got.timestamp,
        &got.body,
        &got.signature
    ));
    // A tampered body, a wrong secret or an old timestamp do not verify.
    assert!(!verify(
        &whsec(),
        &got.id,
        &got.timestamp,
        &format!("{} ", got.body),
        &got.signature
    ));
    let other = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    assert!(!verify(
        &other,
        &got.id,
        &got.timestamp,
        &got.body,
        &got.signature
    ));
    let old = (got.timestamp.parse::<i64>().unwrap() - 3600).to_string();
    assert!(!verify(&whsec(), &got.id, &old, &got.body, &got.signature));

    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["type"], "installation.completed");
    assert!(!got.body.contains("secret-token-value"));
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_event_once_with_retries_spaced_as_configured() {
    let db = TestDatabase::sqlite().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    connection(&vault, "101").await;
    let receiver = Receiver::start(3).await;
    let initial_ms = 200;
    let delivery = worker(
        &db.database,
        &settings(&receiver.url, initial_ms, Duration::from_secs(60)),
    );
    eventually(15, "the fourth attempt", || receiver.accepted().len() == 1).await;
    let outbox = Outbox::new(db.database.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    let record = loop {
        let record = outbox.list(false, 1).await.unwrap().remove(0);
        if record.delivered_at.is_some() {
            break record;
        }
        assert!(Instant::now() < deadline, "the delivery was never recorded");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(record.attempts, 4);
    // Nothing more arrives once the event was accepted.
    tokio::time::sleep(Duration::from_millis(600)).await;
    delivery.abort();

    let attempts = receiver.received();
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    assert_eq!(attempts.iter().filter(|a| a.accepted).count(), 1);
    assert!(attempts[3].accepted);
    assert!(
        attempts.iter().all(|a| a.id == attempts[0].id),
        "one event, one id"
    );
    // Backoff doubles from the initial delay: 200 ms, 400 ms, 800 ms (no jitter configured).
    for (n, pair) in attempts.windows(2).enumerate() {
        let gap = pair[1].at.duration_since(pair[0].at);
        let expected = Duration::from_millis(initial_ms << n);
        assert!(
            gap >= expected,
            "gap {n} was {gap:?}, expected at least {expected:?}"
        );
    }
    assert_eq!(record.id, attempts[0].id);
}

#[tokio::test]
async fn a_receiver_down_past_the_give_up_age_leaves_the_event_failed_until_retried() {
    let db = TestDatabase::sqlite().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    connection(&vault, "102").await;
    let port = installgate_tests::free_port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let delivery = worker(&db.database, &settings(&url, 100, Duration::from_secs(1)));
    let outbox = Outbox::new(db.database.clone());
    let deadline = Instant::now() + Duration::from_secs(15);
    let failed = loop {
        let failed = outbox.list(true, 10).await.unwrap();
        if !failed.is_empty() {
            break failed;
        }
        assert!(Instant::now() < deadline, "the event was never given up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed.len(), 1);
    assert!(failed[0].attempts >= 2);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("could not be reached")
    );
    assert_eq!(outbox.backlog().await.unwrap(), 0);

    // An operator retries it once the receiver is back.
    let receiver = Receiver::start_on(port, 0).await;
    assert!(
        outbox
            .requeue(&failed[0].id, SystemClock.now())
            .await
            .unwrap()
    );
    eventually(10, "the retried delivery", || {
        receiver.accepted().len() == 1
    })
    .await;
    delivery.abort();
    assert_eq!(receiver.accepted()[0].id, failed[0].id);
}

#[tokio::test]
async fn events_of_one_connection_go_out_in_the_order_they_were_written() {
    let db = TestDatabase::sqlite().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    let first = connection(&vault, "103").await;
    let mut written = vec![];
    for kind in [
        EventKind::ConnectionClaimed,
        EventKind::ConnectionRevoked,
        EventKind::InstallationUninstalled,
    ] {
        let event = Event::about(kind, &first, SystemClock.now());
        written.push(event.id.clone());
        vault.publish(event).await.unwrap();
    }
    let outbox = Outbox::new(db.database.clone());
    let completed = outbox
        .list(false, 10)
        .await
        .unwrap()
        .last()
        .unwrap()
        .id
        .clone();
    written.insert(0, completed);
    // The receiver fails twice, so the head event is retried while later ones wait.
    let receiver = Receiver::start(2).await;
    let delivery = worker(
        &db.database,
        &settings(&receiver.url, 50, Duration::from_secs(60)),
    );
    eventually(15, "all four events", || receiver.accepted().len() == 4).await;
    delivery.abort();
    let order: Vec<String> = receiver.accepted().into_iter().map(|r| r.id).collect();
    assert_eq!(order, written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_one_database_deliver_each_event_once() {
    let db = TestDatabase::postgres().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    for n in 0..40 {
        connection(&vault, &format!("2{n:02}")).await;
    }
    let receiver = Receiver::start(0).await;
    let settings = settings(&receiver.url, 100, Duration::from_secs(60));
    // Each worker has its own connection pool, as a separate process would.
    let other_pool = db.reconnect().await;
    let first = worker(&db.database, &settings);
    let second = worker(&other_pool, &settings);
    eventually(20, "forty deliveries", || receiver.accepted().len() >= 40).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.abort();
    second.abort();
    let mut ids: Vec<String> = receiver.received().into_iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 40, "no event was sent twice");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
}

#[tokio::test]
async fn an_event_written_before_a_crash_goes_out_after_restart() {
    let db = TestDatabase::sqlite().await;
    {
        // The process that wrote the event stops before any delivery.
        let vault = db.vault("k1", &[("k1", 1)]);
        connection(&vault, "104").await;
        db.database.close().await;
    }
    let restarted = db.reconnect().await;
    let receiver = Receiver::start(0).await;
    let delivery = worker(
        &restarted,
        &settings(&receiver.url, 100, Duration::from_secs(60)),
    );
    eventually(10, "the delivery after restart", || {
        receiver.accepted().len() == 1
    })
    .await;
    delivery.abort();
}

#[tokio::test]
async fn an_event_claimed_by_a_worker_that_died_is_delivered_after_its_lease() {
    let db = TestDatabase::sqlite().await;
    let vault = db.vault("k1", &[("k1", 1)]);
    connection(&vault, "105").await;
    let outbox = Outbox::new(db.database.clone());
    let claimed = outbox
        .claim(
            "worker-that-died",
            SystemClock.now(),
            Duration::from_secs(1),
            10,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let receiver = Receiver::start(0).await;
    let delivery = worker(
        &db.database,
        &settings(&receiver.url, 100, Duration::from_secs(60)),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received().is_empty(), "the lease still holds");
    eventually(10, "the delivery after the lease", || {
        receiver.accepted().len() == 1
    })
    .await;
    delivery.abort();
    assert_eq!(receiver.accepted()[0].id, claimed[0].id);
}
