use std::collections::HashMap;

use installgate_server::Application;
use installgate_server::settings::{self, Settings, Sources};

/// A running gateway on a random port, with a client that follows no redirects and keeps cookies.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Where `/metrics` is served alone, when `server.metrics_bind` asks for it.
    pub metrics_port: Option<u16>,
    /// Where the operator console is served, unless `admin.bind` turns it off.
    pub admin_port: Option<u16>,
    pub client: reqwest::Client,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// Configuration sources: the embedded defaults plus `vars`, given as `INSTALLGATE__…`
/// environment variables (the process environment is not read).
/// Later entries win over earlier ones with the same name.
pub fn test_sources(vars: &[(&str, &str)]) -> Sources {
    let env_vars: HashMap<String, String> = vars
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    Sources {
        env_vars: Some(env_vars),
        ..Sources::default()
    }
}

/// Starts the real application on 127.0.0.1 with a fresh SQLite file, the embedded defaults
/// and `vars` layered over them.
pub async fn spawn_app(vars: &[(&str, &str)]) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        let log = settings::load(&Sources::defaults_only()).unwrap().log;
        // The writer thread lives as long as the test process.
        std::mem::forget(installgate_server::telemetry::init(&log));
    }
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/installgate.db", data_dir.path().display());
    // The public URL must be known before the server binds, so the port is picked first; another
    // process may take it in between (an outgoing connection's ephemeral port), so a bind that
    // finds it taken is tried again on another port.
    let mut attempts = 0;
    let (settings, application) = loop {
        attempts += 1;
        let port = crate::free_port();
        let bind = format!("127.0.0.1:{port}");
        let public_url = format!("http://127.0.0.1:{port}");
        let mut all: Vec<(&str, &str)> = vec![
            ("INSTALLGATE__SERVER__BIND", &bind),
            ("INSTALLGATE__SERVER__PUBLIC_URL", &public_url),
            ("INSTALLGATE__SERVER__WORKERS", "2"),
            // Each gateway's console on a port of its own.
            ("INSTALLGATE__ADMIN__BIND", "127.0.0.1:0"),
            ("INSTALLGATE__DATABASE__URL", &database_url),
            // Cheap password hashing keeps sign-in tests quick; production uses the defaults.
            ("INSTALLGATE__ACCOUNTS__ARGON2_MEMORY_KIB", "1024"),
            ("INSTALLGATE__ACCOUNTS__ARGON2_ITERATIONS", "1"),
            // Suites send thousands of requests from one address; the rate-limit tests set their
            // own.
            ("INSTALLGATE__CLIENTS__RATE_LIMIT_PER_MINUTE", "0"),
        ];
        all.extend_from_slice(vars);
        let settings = settings::load(&test_sources(&all)).unwrap();
        match Application::build(settings.clone()).await {
            Ok(application) => break (settings, application),
            Err(error) if attempts < 5 && format!("{error:#}").contains("in use") => continue,
            Err(error) => panic!("the gateway did not start: {error:#}"),
        }
    };
    let port = application.port();
    let metrics_port = application.metrics_port();
    let admin_port = application.admin_port();
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        admin_port,
        client,
        settings,
        handle,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops the server, letting requests in flight finish.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

impl TestApp {
    /// The app's vault, opened as another process would: own pool, same keys.
    pub async fn vault(&self) -> installgate_store::SqlVault {
        let database = installgate_store::Database::connect(&self.settings.database)
            .await
            .unwrap();
        let keys = installgate_server::vault_keys::keyring(&self.settings).unwrap();
        installgate_store::SqlVault::new(
            database,
            std::sync::Arc::new(keys),
            std::sync::Arc::new(installgate_core::SystemClock),
        )
    }

    /// The connection of `provider`'s marketplace account `key` for app `app`.
    pub async fn connection(
        &self,
        app: &str,
        provider: &str,
        key: &str,
    ) -> Option<installgate_core::Connection> {
        use installgate_core::ConnectionVault as _;
        self.vault()
            .await
            .find_by_key(
                &installgate_core::AppId::parse(app).unwrap(),
                &installgate_core::ProviderId::parse(provider).unwrap(),
                &installgate_core::MarketplaceKey::parse(key).unwrap(),
            )
            .await
            .unwrap()
    }

    /// How many events of type `kind` the outbox holds.
    pub async fn event_count(&self, kind: &str) -> usize {
        let database = installgate_store::Database::connect(&self.settings.database)
            .await
            .unwrap();
        installgate_store::Outbox::new(database)
            .list(false, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|event| event.event_type == kind)
            .count()
    }

    /// The `data` of every event of type `kind` in the outbox, oldest first.
    pub async fn events(&self, kind: &str) -> Vec<serde_json::Value> {
        let database = installgate_store::Database::connect(&self.settings.database)
            .await
            .unwrap();
        let installgate_store::Database::Sqlite(pool, _) = &database else {
            panic!("the suites' gateways run on SQLite")
        };
        let payloads: Vec<(String,)> =
            sqlx::query_as("SELECT payload FROM events WHERE event_type = $1 ORDER BY seq")
                .bind(kind)
                .fetch_all(pool)
                .await
                .unwrap();
        payloads
            .iter()
            .map(|(payload,)| {
                let body: serde_json::Value = serde_json::from_str(payload).unwrap();
                body["data"].clone()
            })
            .collect()
    }
}
