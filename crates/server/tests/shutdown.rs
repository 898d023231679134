//! SIGTERM as an orchestrator sends it: the replica reports not-ready at once while it goes on
//! serving for the drain delay, then stops; the webhook delivery still under way when the
//! shutdown grace ends is cut short and its event handed back, so that another replica can
//! claim it at once instead of after the lease.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    Running, free_port, installgate, publish_event, sqlite_database, terminate, wait_for_200,
};
use installgate_core::{Clock as _, SystemClock};
use installgate_store::Outbox;

const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=";

/// A webhook receiver that takes connections and never answers: a delivery stays under way.
async fn silent_receiver() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    port
}

#[tokio::test]
async fn sigterm_reports_not_ready_at_once_then_stops_and_hands_back_held_events() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_database(dir.path()).await;
    let outbox = Outbox::new(database.clone());
    let id = publish_event(&database, "demo").await;

    let hook_port = silent_receiver().await;
    let port = free_port();
    let child = installgate(dir.path())
        .arg("serve")
        .env("INSTALLGATE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("INSTALLGATE__SERVER__DRAIN_DELAY_MS", "1500")
        .env("INSTALLGATE__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "1")
        .env(
            "INSTALLGATE__WEBHOOK__URL",
            format!("http://127.0.0.1:{hook_port}/hooks"),
        )
        .env("INSTALLGATE__WEBHOOK__SECRET", SECRET)
        .env("INSTALLGATE__WEBHOOK__TIMEOUT_MS", "20000")
        .env("INSTALLGATE__WEBHOOK__POLL_INTERVAL_MS", "50")
        // Far longer than the test: only a hand-back lets another worker claim the event.
        .env("INSTALLGATE__WEBHOOK__LEASE_SECONDS", "600")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_for_200(&format!("{base}/readyz")).await;
    // The delivery is under way: claimed, posted, unanswered.
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox.find(&id).await.unwrap().unwrap().attempts == 0 {
        assert!(Instant::now() < deadline, "the event was never claimed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let later = SystemClock.now().plus(Duration::from_secs(1));
    assert!(
        outbox
            .claim("another-replica", later, Duration::from_secs(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "held by the first worker"
    );

    let pid = running.0.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    // Not ready at once, while the rest is still served.
    let client = reqwest::Client::new();
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().contains_key("retry-after"));
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "draining"
    );
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);

    let status = terminate(&mut running.0).await;
    assert!(status.success(), "{status:?}");
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "the listener is closed"
    );
    // Handed back: another worker claims it long before its lease would have ended.
    let claimed = outbox
        .claim(
            "another-replica",
            SystemClock.now(),
            Duration::from_secs(60),
            10,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert!(
        outbox
            .find(&id)
            .await
            .unwrap()
            .unwrap()
            .delivered_at
            .is_none()
    );
}
