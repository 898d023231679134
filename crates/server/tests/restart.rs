//! A gateway process killed with SIGKILL between writing an event and delivering it: the
//! event goes out after the restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, installgate, publish_event, sqlite_database, start_receiver};
use installgate_store::Outbox;

const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=";

fn serve(dir: &std::path::Path, hook_port: u16) -> Child {
    installgate(dir)
        .arg("serve")
        .env(
            "INSTALLGATE__SERVER__BIND",
            format!("127.0.0.1:{}", free_port()),
        )
        .env(
            "INSTALLGATE__WEBHOOK__URL",
            format!("http://127.0.0.1:{hook_port}/hooks"),
        )
        .env("INSTALLGATE__WEBHOOK__SECRET", SECRET)
        .env("INSTALLGATE__WEBHOOK__INITIAL_BACKOFF_MS", "100")
        .env("INSTALLGATE__WEBHOOK__POLL_INTERVAL_MS", "50")
        .env("INSTALLGATE__WEBHOOK__LEASE_SECONDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn an_event_survives_a_sigkill_before_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_database(dir.path()).await;
    let outbox = Outbox::new(database.clone());
    let id = publish_event(&database, "demo").await;

    // The receiver is down: the first process tries, fails, and is killed mid-retry.
    let hook_port = free_port();
    let mut first = serve(dir.path(), hook_port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while outbox.find(&id).await.unwrap().unwrap().attempts == 0 {
        assert!(Instant::now() < deadline, "the first process never tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        outbox
            .find(&id)
            .await
            .unwrap()
            .unwrap()
            .delivered_at
            .is_none()
    );

    // The receiver comes up; a new process delivers the event.
    let received = start_receiver(hook_port);
    let mut second = serve(dir.path(), hook_port);
    // Delivered means received and recorded; the record follows the receiver's answer.
    let deadline = Instant::now() + Duration::from_secs(30);
    while outbox
        .find(&id)
        .await
        .unwrap()
        .unwrap()
        .delivered_at
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the event never went out after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(*received.lock().unwrap(), vec![id.clone()]);
}

#[tokio::test]
async fn two_gateway_processes_on_one_database_deliver_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = sqlite_database(dir.path()).await;
    let outbox = Outbox::new(database.clone());
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(publish_event(&database, &format!("app{n}")).await);
    }

    let hook_port = free_port();
    let received = start_receiver(hook_port);

    let mut first = serve(dir.path(), hook_port);
    let mut second = serve(dir.path(), hook_port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < ids.len() {
        assert!(Instant::now() < deadline, "not every event went out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while outbox.backlog().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "deliveries were not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A little longer, so that a duplicate delivery would have time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for process in [&mut first, &mut second] {
        process.kill().unwrap();
        process.wait().unwrap();
    }
    let mut got = received.lock().unwrap().clone();
    assert_eq!(got.len(), ids.len(), "an event was sent twice");
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    assert_eq!(outbox.backlog().await.unwrap(), 0);
}
