//! Building the application: backends, migrations, the listener, and the actix-web server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use installgate_core::{Clock, StateStore, StateStoreError, SystemClock};
use installgate_store::{Database, MemoryStateStore, Outbox, RedisStateStore, SqlVault};
use secrecy::ExposeSecret as _;
use tracing_actix_web::TracingLogger;

use crate::middleware::{self, QueryLimit};
use crate::routes::{fallback, health};
use crate::services::Services;
use crate::settings::{Settings, StateBackend, StateSettings};
use crate::telemetry::RequestSpan;
use crate::vault_keys;
use crate::webhooks::DeliveryWorker;

/// Largest JSON body the API accepts.
const JSON_LIMIT_BYTES: usize = 64 * 1024;
/// Largest form body the pages accept.
const FORM_LIMIT_BYTES: usize = 16 * 1024;

/// A built gateway, bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    delivery: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects the backends, applies migrations and binds `server.bind` (port 0 picks a free
    /// port, which [`Application::port`] then tells).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the clock tests control.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let state_store = open_state_store(&settings.state).context("opening the state store")?;
        let database = Database::connect(&settings.database)
            .await
            .context("connecting to the database")?;
        database.migrate().await.context("migrating the database")?;
        let keys = Arc::new(vault_keys::keyring(&settings).context("loading the vault keys")?);
        let vault = SqlVault::new(database.clone(), keys, clock.clone());
        let outbox = Outbox::new(database.clone());
        let delivery = DeliveryWorker::new(outbox.clone(), &settings.webhook, clock.clone())
            .map(|worker| tokio::spawn(worker.run()));
        if delivery.is_none() {
            tracing::warn!("no webhook is configured: events stay in the outbox");
        }
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let address = listener.local_addr()?;
        tracing::info!(
            listen = %address,
            public_url = %settings.server.public_url,
            state_store = state_store.backend(),
            database = %describe_database_url(settings.database.url.expose_secret()),
            apps = settings.apps.len(),
            "installgate is starting"
        );
        let services = Services {
            settings: Arc::new(settings),
            state_store,
            database,
            vault,
            outbox,
            clock,
        };
        let server = build_server(services, listener)?;
        Ok(Self {
            port: address.port(),
            server,
            delivery,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (gracefully or not) from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // Undelivered events stay in the outbox; a delivery cut short is retried after its lease.
        if let Some(delivery) = self.delivery {
            delivery.abort();
        }
        result
    }
}

/// The configured state store. Redis is connected lazily, so the gateway starts (and reports
/// not-ready) while Redis is down, and recovers by itself.
pub fn open_state_store(settings: &StateSettings) -> Result<Arc<dyn StateStore>, StateStoreError> {
    Ok(match &settings.backend {
        StateBackend::Memory { max_entries } => Arc::new(MemoryStateStore::new(*max_entries)),
        StateBackend::Redis(options) => Arc::new(RedisStateStore::connect_lazy(options)?),
    })
}

fn build_server(services: Services, listener: TcpListener) -> std::io::Result<Server> {
    let server_settings = services.settings.server.clone();
    let services = web::Data::new(services);
    let query_limit = web::Data::new(QueryLimit(server_settings.max_query_bytes));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(query_limit.clone())
            .app_data(web::QueryConfig::default().error_handler(fallback::query_error))
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(fallback::json_error),
            )
            .app_data(
                web::FormConfig::default()
                    .limit(FORM_LIMIT_BYTES)
                    .error_handler(fallback::form_error),
            )
            // The last `wrap` runs first: tracing, then common headers (so that every response
            // below gets them, errors included), then the request guard, then error rendering.
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::METHOD_NOT_ALLOWED, fallback::method_not_allowed),
            )
            .wrap(from_fn(middleware::guard_request))
            .wrap(middleware::default_headers())
            .wrap(TracingLogger::<RequestSpan>::new())
            .service(web::resource("/healthz").get(health::healthz))
            .service(web::resource("/readyz").get(health::readyz))
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(server_settings.shutdown_timeout.as_secs())
    .client_request_timeout(server_settings.client_request_timeout);
    if server_settings.workers > 0 {
        server = server.workers(server_settings.workers);
    }
    Ok(server.run())
}

/// The database URL without its password, for logs.
fn describe_database_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_lose_their_password_in_logs() {
        let shown = describe_database_url("postgres://app:hunter2@db.internal/installgate");
        assert_eq!(shown, "postgres://app:***@db.internal/installgate");
        assert_eq!(
            describe_database_url("sqlite://data/x.db"),
            "sqlite://data/x.db"
        );
    }
}
