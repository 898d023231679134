//! Helpers shared by the binary's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// The `installgate` binary run in `dir`, with no `INSTALLGATE…` variables from the caller.
pub fn installgate(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_installgate"));
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("INSTALLGATE") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    // Tests run several gateways at once: each console on a port of its own.
    command.env("INSTALLGATE__ADMIN__BIND", "127.0.0.1:0");
    command
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A webhook receiver on `port` that accepts everything and records each `webhook-id`.
pub fn start_receiver(port: u16) -> Arc<Mutex<Vec<String>>> {
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = web::Data::from(received.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(seen.clone()).route(
            "/hooks",
            web::post().to(
                |seen: web::Data<Mutex<Vec<String>>>, request: HttpRequest| async move {
                    let id = request
                        .headers()
                        .get("webhook-id")
                        .unwrap()
                        .to_str()
                        .unwrap();
                    seen.lock().unwrap().push(id.to_owned());
                    HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    tokio::spawn(server);
    received
}

/// A child process killed when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGTERM and waits (20 s at most) for the process to exit.
pub async fn terminate(child: &mut Child) -> ExitStatus {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the process did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The vault of the gateways configured by `env` (`INSTALLGATE__…` pairs), opened as another
/// process would: its own pool, the same keys.
pub async fn vault_for(env: &[(String, String)]) -> installgate_store::SqlVault {
    let vars: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let settings =
        installgate_server::settings::load(&installgate_tests::test_sources(&vars)).unwrap();
    let database = installgate_store::Database::connect(&settings.database)
        .await
        .unwrap();
    let keys = installgate_server::vault_keys::keyring(&settings).unwrap();
    installgate_store::SqlVault::new(
        database,
        Arc::new(keys),
        Arc::new(installgate_core::SystemClock),
    )
}

/// Polls `url` until it answers 200 (30 s at most).
pub async fn wait_for_200(url: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(url).await
            && response.status() == reqwest::StatusCode::OK
        {
            return response;
        }
        assert!(Instant::now() < deadline, "{url} never answered 200");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The SQLite database `installgate serve` uses when run in `dir` on the embedded defaults,
/// migrated.
pub async fn sqlite_database(dir: &Path) -> installgate_store::Database {
    let database = installgate_store::Database::connect(&installgate_store::DatabaseOptions {
        url: format!("sqlite://{}/data/installgate.db", dir.display()).into(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        sqlite_sync_each_commit: true,
    })
    .await
    .unwrap();
    database.migrate().await.unwrap();
    database
}

/// Writes an `installation.cancelled` event of `app` to the outbox; returns its id.
pub async fn publish_event(database: &installgate_store::Database, app: &str) -> String {
    use installgate_core::{Clock as _, ConnectionVault as _};
    let vault = installgate_store::SqlVault::new(
        database.clone(),
        Arc::new(installgate_store::Keyring::default()),
        Arc::new(installgate_core::SystemClock),
    );
    let event = installgate_core::Event::without_connection(
        installgate_core::EventKind::InstallationCancelled,
        installgate_core::AppId::parse(app).unwrap(),
        installgate_core::ProviderId::parse("pipedrive").unwrap(),
        installgate_core::SystemClock.now(),
    );
    let id = event.id.clone();
    vault.publish(event).await.unwrap();
    id
}
