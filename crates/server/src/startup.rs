//! Building the application: backends, migrations, background tasks and the listeners; the
//! actix-web servers themselves are in `server.rs`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context as _;
use installgate_core::{
    Accounts, AppDirectory, Clock, ConnectionVault, InstallFlow, RefreshLock, RefreshPolicy,
    Refresher, StateStore, StateStoreError, SystemClock, Throttle,
};
use installgate_store::{
    Database, MemoryRefreshLock, MemoryStateStore, Outbox, RedisStateStore, SqlAccounts, SqlVault,
};
use secrecy::ExposeSecret as _;

use crate::accounts::{AssertionVerifier, HashLimits, Passwords, SignIn};
use crate::metrics::Metrics;
use crate::providers::{PreparedApps, Providers};
use crate::rate_limit::ClientRateLimit;
use crate::server::{build_metrics_server, build_server};
use crate::services::{Lifecycle, Services};
use crate::session::SessionCache;
use crate::settings::{AccountMode, Settings, StateBackend, StateSettings};
use crate::tokens::Tokens;
use crate::webhooks::{DeliveryHandle, DeliveryWorker};
use crate::{news, pending, tokens, vault_keys};

/// A built gateway, bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    /// The port and server of `/metrics` when it has a listener of its own.
    metrics_server: Option<(u16, Server)>,
    /// The port and server of the operator console, when `admin.bind` is set.
    admin_server: Option<(u16, Server)>,
    /// Adds the last funnel counts to the database as the gateway stops.
    activity: crate::activity::ActivityFlusher,
    /// Background tasks that end with the server: the pending-install sweep, refreshes, …
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Webhook delivery, which hands back its events when the server stops.
    delivery: Option<DeliveryHandle>,
    lifecycle: Lifecycle,
    drain_delay: std::time::Duration,
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
        let settings = Arc::new(settings);
        let backends = open_state_store(&settings.state).context("opening the state store")?;
        let state_store = backends.state.clone();
        let database = Database::connect(&settings.database)
            .await
            .context("connecting to the database")?;
        database.migrate().await.context("migrating the database")?;
        let keys = Arc::new(vault_keys::keyring(&settings).context("loading the vault keys")?);
        let vault: Arc<dyn ConnectionVault> =
            Arc::new(SqlVault::new(database.clone(), keys.clone(), clock.clone()));
        let outbox = Outbox::new(database.clone());
        let metrics = Metrics::new().context("registering the metrics")?;
        let providers = Providers::all(&settings.providers, &metrics)?;
        let flow = InstallFlow::new(
            state_store.clone(),
            vault.clone(),
            clock.clone(),
            settings.state.ttl,
        );
        let prepared = PreparedApps::new(&settings, &providers);
        let apps: Arc<dyn AppDirectory> = Arc::new(prepared.clone());
        let refresh_lock: Arc<dyn RefreshLock> = match &backends.redis {
            Some(redis) => Arc::new(redis.clone()),
            None => Arc::new(MemoryRefreshLock::default()),
        };
        let refresher = Refresher::new(
            vault.clone(),
            refresh_lock,
            apps.clone(),
            clock.clone(),
            RefreshPolicy {
                margin: settings.tokens.refresh_margin,
                lock_ttl: settings.tokens.lock_ttl,
                // A waiter outlasts a holder that dies: the lease must expire first.
                max_wait: settings.tokens.lock_ttl + settings.providers.timeout,
                force_window: settings.tokens.force_refresh_window,
                ..RefreshPolicy::default()
            },
        );
        let tokens = Tokens::new(
            refresher,
            clock.clone(),
            settings.tokens.cache_capacity,
            backends.redis.clone(),
        );
        let accounts: Arc<dyn Accounts> =
            Arc::new(SqlAccounts::new(database.clone(), clock.clone()));
        let sign_in = SignIn {
            accounts: accounts.clone(),
            throttle: backends.throttle.clone(),
            passwords: Passwords::new(
                settings.accounts.argon2,
                HashLimits::from_settings(&settings),
            )?,
            settings: settings.accounts.clone(),
        };
        let assertions = match &settings.accounts.mode {
            AccountMode::External(external) => Some(Arc::new(AssertionVerifier::new(external)?)),
            AccountMode::BuiltIn => None,
        };
        let mut tasks = Vec::new();
        let delivery = DeliveryWorker::new(
            outbox.clone(),
            &settings.webhook,
            clock.clone(),
            metrics.clone(),
        )
        .map(|worker| {
            // At shutdown, deliveries under way get what requests in flight get, at most.
            worker.spawn(
                settings
                    .server
                    .shutdown_timeout
                    .min(settings.webhook.timeout),
            )
        });
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
        let session_cache = SessionCache::new(settings.session.cache_for);
        if let Some(redis) = &backends.redis {
            let token_news = redis.clone();
            tasks.push(tokio::spawn(news::follow(tokens.clone(), move || {
                let redis = token_news.clone();
                async move { redis.token_changes().await }
            })));
            if session_cache.is_on() {
                let session_news = redis.clone();
                tasks.push(tokio::spawn(news::follow(
                    session_cache.clone(),
                    move || {
                        let redis = session_news.clone();
                        async move { redis.session_changes().await }
                    },
                )));
            }
        }
        if settings.tokens.background_refresh {
            tasks.push(tokio::spawn(tokens::background::refresh_expiring(
                tokens.clone(),
                vault.clone(),
                clock.clone(),
                settings.tokens,
            )));
        }
        tasks.push(tokio::spawn(tokens::background::retry_revocations(
            vault.clone(),
            apps.clone(),
            clock.clone(),
            settings.tokens,
        )));
        let rate_limit = ClientRateLimit::new(settings.clients.rate_limit);
        let sessions_in_redis = backends.redis.is_some();
        let entitlements = crate::entitlement::Entitlements::new(
            crate::providers::http_client(&settings.providers)?,
            settings
                .webhook
                .target
                .as_ref()
                .map(|target| crate::webhooks::Signer::new(target.secret.clone())),
        );
        let services = Services {
            entitlements,
            catalog: crate::i18n::Catalog::new(&settings),
            settings,
            state_store,
            database,
            vault,
            outbox,
            accounts,
            sign_in,
            assertions,
            flow,
            tokens,
            clock,
            metrics,
            lifecycle: Lifecycle::default(),
            rate_limit,
            sessions_in_redis,
            prepared,
        };
        tasks.push(tokio::spawn(crate::rate_limit::forget_idle_clients(
            services.rate_limit.clone(),
        )));
        tasks.push(tokio::spawn(pending::run(
            services.settings.clone(),
            services.vault.clone(),
            Arc::new(services.prepared.clone()),
            services.clock.clone(),
        )));
        let services = web::Data::new(services);
        let lifecycle = services.lifecycle.clone();
        let drain_delay = services.settings.server.drain_delay;
        let metrics_server = match services.settings.server.metrics_bind {
            Some(bind) => {
                let listener = TcpListener::bind(bind)
                    .with_context(|| format!("binding {bind} for the metrics"))?;
                let port = listener.local_addr()?.port();
                tracing::info!(listen = %bind, "metrics are served on their own listener");
                Some((port, build_metrics_server(services.clone(), listener)?))
            }
            None => None,
        };
        let activity = crate::activity::ActivityFlusher::new(
            services.metrics.clone(),
            installgate_store::ActivityCounts::new(services.database.clone()),
            services.clock.clone(),
        );
        tasks.push(tokio::spawn(
            activity
                .clone()
                .every(services.settings.admin.activity_flush),
        ));
        tasks.push(tokio::spawn(forget_console_sessions(
            installgate_store::OperatorSessions::new(services.database.clone()),
            services.clock.clone(),
        )));
        let admin_server = match services.settings.admin.bind {
            Some(bind) => {
                let listener = TcpListener::bind(bind)
                    .with_context(|| format!("binding {bind} for the operator console"))?;
                let bound = listener.local_addr()?;
                let public_url = crate::admin::public_url(&services, bound)?;
                tracing::info!(listen = %bound, url = %public_url, "the operator console is served on its own listener");
                let console = web::Data::new(crate::admin::console(&services, keys, public_url)?);
                Some((
                    bound.port(),
                    crate::admin::build_admin_server(services.clone(), console, listener)?,
                ))
            }
            None => None,
        };
        let server = build_server(services, listener, backends.redis, session_cache)?;
        Ok(Self {
            port: address.port(),
            server,
            metrics_server,
            admin_server,
            activity,
            tasks,
            delivery,
            lifecycle,
            drain_delay,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on alone, when `server.metrics_bind` asks for one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// The port of the operator console, when `admin.bind` is set.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin_server.as_ref().map(|(port, _)| *port)
    }

    /// A handle to stop the server (gracefully or not) from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT (or [`Application::handle`] stops it). On a signal the
    /// replica reports not-ready at once, keeps serving for `server.drain_delay_ms` (so that
    /// load balancers stop sending it requests), then stops accepting connections and gives
    /// requests in flight `server.shutdown_timeout_seconds` to finish. Webhook delivery then
    /// finishes what it has under way and hands back the events it still holds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let admin = self.admin_server.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let signals = tokio::spawn({
            let handle = self.server.handle();
            let lifecycle = self.lifecycle.clone();
            let drain_delay = self.drain_delay;
            async move {
                if stop_signal().await.is_ok() {
                    lifecycle.start_draining();
                    tracing::info!(
                        drain_delay_ms = drain_delay.as_millis() as u64,
                        "stopping: not ready any more"
                    );
                    tokio::time::sleep(drain_delay).await;
                    handle.stop(true).await;
                }
            }
        });
        let result = self.server.await;
        self.lifecycle.start_draining();
        signals.abort();
        for (handle, running) in metrics.into_iter().chain(admin) {
            handle.stop(true).await;
            let _ = running.await;
        }
        if let Some(delivery) = self.delivery {
            delivery.shutdown().await;
        }
        for task in self.tasks {
            task.abort();
        }
        // The funnel's last counts, for at most a moment: a database that does not answer must
        // not hold the stop up (the counts are lost then, as in a crash).
        if tokio::time::timeout(FINAL_FLUSH, self.activity.flush())
            .await
            .is_err()
        {
            tracing::warn!("the install funnel's last counts could not be stored in time");
        }
        tracing::info!("stopped");
        result
    }
}

/// How long the stop waits for the funnel's last counts to be stored.
const FINAL_FLUSH: std::time::Duration = std::time::Duration::from_secs(2);

/// Deletes expired console sessions every ten minutes.
async fn forget_console_sessions(
    sessions: installgate_store::OperatorSessions,
    clock: Arc<dyn Clock>,
) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        ticks.tick().await;
        if let Err(error) = sessions.delete_expired(clock.now()).await {
            tracing::warn!(%error, "cannot delete expired console sessions");
        }
    }
}

/// Resolves at SIGINT (Ctrl-C) or SIGTERM.
pub async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// The state store, the sign-in throttle (the same backend), and the Redis connection sessions
/// share when the backend is Redis.
#[allow(missing_debug_implementations)]
pub struct StateBackends {
    pub state: Arc<dyn StateStore>,
    pub throttle: Arc<dyn Throttle>,
    pub redis: Option<RedisStateStore>,
}

/// The configured state store. Redis (one node or a cluster) is connected lazily, so the gateway
/// starts (and reports not-ready) while Redis is down, and recovers by itself.
pub fn open_state_store(settings: &StateSettings) -> Result<StateBackends, StateStoreError> {
    Ok(match &settings.backend {
        StateBackend::Memory { max_entries } => {
            let store = Arc::new(MemoryStateStore::new(*max_entries));
            StateBackends {
                state: store.clone(),
                throttle: store,
                redis: None,
            }
        }
        StateBackend::Redis(options) => {
            let store = RedisStateStore::connect_lazy(options)?;
            StateBackends {
                state: Arc::new(store.clone()),
                throttle: Arc::new(store.clone()),
                redis: Some(store),
            }
        }
    })
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
