//! Value rules. Each rule adds a [`Problem`] with the key path and goes on, so that one run of
//! `check-config` shows everything that is wrong.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use installgate_core::{AllowedHosts, AppId, ProviderId};
use installgate_store::{DatabaseOptions, Engine, RedisOptions, RedisTarget};
use secrecy::{ExposeSecret as _, SecretBox, SecretString};
use tracing_subscriber::EnvFilter;
use url::Url;

use super::raw::{
    RawAccounts, RawApp, RawDatabase, RawServer, RawSession, RawSettings, RawState, RawTokens,
    RawVault, RawWebhook, SecretListOrCommas,
};
use super::{
    AccountMode, AccountSettings, AppSettings, Argon2Cost, AssertionKeys, Branding, Entitlement,
    ExternalLogin, InstallPolicy, InstallSettings, LogFormat, LogSettings, OnError, Problem,
    ProviderSettings, RetryPolicy, ServerSettings, SessionSettings, Settings, SignUpPolicy,
    StateBackend, StateSettings, TokenSettings, VaultSettings, WebhookSettings, WebhookTarget,
};

mod admin;
mod clients;
mod messages;

#[derive(Default)]
struct Report(Vec<Problem>);

impl Report {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }

    /// Checks that `value` lies in `range`, reporting it otherwise.
    fn in_range<T>(&mut self, path: &str, value: T, range: std::ops::RangeInclusive<T>) -> T
    where
        T: PartialOrd + std::fmt::Display + Copy,
    {
        if !range.contains(&value) {
            self.add(
                path,
                format!("must be between {} and {}", range.start(), range.end()),
            );
        }
        value
    }

    /// `Some(None)` when absent, `Some(Some(url))` when valid, `None` (reported) otherwise.
    fn optional_web_url(&mut self, path: &str, raw: Option<String>) -> Option<Option<Url>> {
        match raw {
            None => Some(None),
            Some(raw) => self.url(path, &raw, &["http", "https"]).map(Some),
        }
    }

    /// Like [`Self::optional_web_url`], for an address that carries secrets or keys (a token
    /// endpoint, an API, a key set, an authorization page): `https`, or `http` to a loopback
    /// host only (a simulator or a local test).
    fn optional_secure_url(&mut self, path: &str, raw: Option<String>) -> Option<Option<Url>> {
        match raw {
            None => Some(None),
            Some(raw) => self.secure_url(path, &raw).map(Some),
        }
    }

    fn secure_url(&mut self, path: &str, raw: &str) -> Option<Url> {
        let url = self.url(path, raw, &["http", "https"])?;
        if url.scheme() == "http" && !is_loopback_host(&url) {
            self.add(
                path,
                "must be an https URL (http is allowed only to a loopback host such as 127.0.0.1)",
            );
            return None;
        }
        Some(url)
    }

    fn url(&mut self, path: &str, raw: &str, schemes: &[&str]) -> Option<Url> {
        match Url::parse(raw) {
            Ok(url) if schemes.contains(&url.scheme()) && url.has_host() => Some(url),
            Ok(_) => {
                self.add(
                    path,
                    format!("must be an absolute {} URL", schemes.join(" or ")),
                );
                None
            }
            Err(error) => {
                self.add(path, format!("is not a valid URL ({error})"));
                None
            }
        }
    }
}

pub(super) fn validate(raw: RawSettings) -> Result<Settings, Vec<Problem>> {
    let mut report = Report::default();
    let server = server(&mut report, raw.server);
    let log = log(&mut report, raw.log);
    let state = state(&mut report, raw.state);
    let database = database(&mut report, raw.database);
    let vault = vault(&mut report, raw.vault);
    let webhook = webhook(&mut report, raw.webhook);
    let session = session(&mut report, raw.session);
    let install = InstallSettings {
        pending_ttl: Duration::from_secs(report.in_range(
            "install.pending_ttl_seconds",
            raw.install.pending_ttl_seconds,
            1..=604_800,
        )),
        sweep_interval: Duration::from_secs(report.in_range(
            "install.sweep_interval_seconds",
            raw.install.sweep_interval_seconds,
            1..=3600,
        )),
    };
    let providers = ProviderSettings {
        timeout: Duration::from_millis(report.in_range(
            "providers.timeout_ms",
            raw.providers.timeout_ms,
            100..=120_000,
        )),
        connect_timeout: Duration::from_millis(report.in_range(
            "providers.connect_timeout_ms",
            raw.providers.connect_timeout_ms,
            100..=60_000,
        )),
    };
    let tokens = tokens(&mut report, &raw.tokens, &providers);
    let accounts = accounts(&mut report, raw.accounts);
    let public_https = server
        .as_ref()
        .is_some_and(|server| server.public_url.scheme() == "https");
    let apps = apps(&mut report, raw.apps, public_https);
    let api_keys = api_keys(&mut report, raw.api, &apps);
    let clients = clients::clients(&mut report, raw.clients);
    let admin = admin::admin(&mut report, raw.admin, server.as_ref());
    if let Some(webhook) = &webhook
        && webhook.target.is_none()
    {
        for app in apps
            .values()
            .filter(|app| app.install_policy.entitlement.is_some())
        {
            report.add(
                format!("apps.{}.install_policy.entitlement_url", app.id),
                "needs webhook.url and webhook.secret: the question is signed like the events",
            );
        }
    }
    if let (Some(state), Some(session)) = (&state, &session)
        && matches!(state.backend, StateBackend::Redis(_))
        && session.key.is_none()
    {
        report.add(
            "session.key",
            "is required with the Redis backend, so that every replica reads the same cookies",
        );
    }
    if let (Some(database), Some(vault)) = (&database, &vault)
        && vault.keys.is_empty()
        && Engine::of_url(database.url.expose_secret()) == Some(Engine::Postgres)
    {
        report.add(
            "vault.keys",
            "at least one key is required with PostgreSQL (a development key is generated only for SQLite)",
        );
    }
    match (
        server, log, state, database, vault, webhook, session, accounts,
    ) {
        (
            Some(server),
            Some(log),
            Some(state),
            Some(database),
            Some(vault),
            Some(webhook),
            Some(session),
            Some(accounts),
        ) if report.0.is_empty() => Ok(Settings {
            server,
            log,
            state,
            database,
            vault,
            webhook,
            session,
            accounts,
            providers,
            install,
            tokens,
            api_keys,
            clients,
            admin,
            apps,
            loaded_from: None,
        }),
        _ => Err(report.0),
    }
}

fn tokens(report: &mut Report, raw: &RawTokens, providers: &ProviderSettings) -> TokenSettings {
    let lock_ttl = Duration::from_millis(report.in_range(
        "tokens.lock_ttl_ms",
        raw.lock_ttl_ms,
        500..=600_000,
    ));
    // A holder must never lose its lock while its call to the provider may still succeed.
    if lock_ttl <= providers.timeout {
        report.add(
            "tokens.lock_ttl_ms",
            "must be longer than providers.timeout_ms, or a slow refresh could lose its lock",
        );
    }
    TokenSettings {
        refresh_margin: Duration::from_secs(report.in_range(
            "tokens.refresh_margin_seconds",
            raw.refresh_margin_seconds,
            0..=86_400,
        )),
        lock_ttl,
        force_refresh_window: Duration::from_millis(report.in_range(
            "tokens.force_refresh_window_ms",
            raw.force_refresh_window_ms,
            0..=60_000,
        )),
        cache_capacity: report.in_range(
            "tokens.cache_capacity",
            raw.cache_capacity,
            0..=10_000_000,
        ),
        background_refresh: raw.background_refresh,
        background_interval: Duration::from_secs(report.in_range(
            "tokens.background_interval_seconds",
            raw.background_interval_seconds,
            1..=3600,
        )),
        background_lead: Duration::from_secs(report.in_range(
            "tokens.background_lead_seconds",
            raw.background_lead_seconds,
            1..=86_400,
        )),
        background_rate_per_second: report.in_range(
            "tokens.background_rate_per_second",
            raw.background_rate_per_second,
            1..=1000,
        ),
        revoke_retry: Duration::from_secs(report.in_range(
            "tokens.revoke_retry_seconds",
            raw.revoke_retry_seconds,
            1..=86_400,
        )),
    }
}

fn server(report: &mut Report, raw: RawServer) -> Option<ServerSettings> {
    let public_url = report
        .url("server.public_url", &raw.public_url, &["http", "https"])
        .and_then(|url| {
            if url.query().is_some() || url.fragment().is_some() || url.username() != "" {
                report.add(
                    "server.public_url",
                    "must not carry a query, fragment or user name",
                );
                return None;
            }
            let mut url = url;
            let trimmed = url.path().trim_end_matches('/').to_owned();
            url.set_path(&trimmed);
            Some(url)
        });
    let bind = raw
        .bind
        .parse()
        .map_err(|_| {
            report.add(
                "server.bind",
                "must be an IP address and port, like 127.0.0.1:8080",
            )
        })
        .ok();
    let workers = report.in_range("server.workers", raw.workers, 0..=256);
    let shutdown = report.in_range(
        "server.shutdown_timeout_seconds",
        raw.shutdown_timeout_seconds,
        0..=600,
    );
    let client = report.in_range(
        "server.client_request_timeout_ms",
        raw.client_request_timeout_ms,
        100..=60_000,
    );
    let max_query_bytes =
        report.in_range("server.max_query_bytes", raw.max_query_bytes, 256..=65_536);
    let metrics_bind = match raw.metrics_bind.trim() {
        "" => Some(None),
        address => address
            .parse()
            .map(Some)
            .map_err(|_| {
                report.add(
                    "server.metrics_bind",
                    "must be empty or an IP address and port, like 127.0.0.1:9090",
                )
            })
            .ok(),
    };
    let drain_delay = report.in_range("server.drain_delay_ms", raw.drain_delay_ms, 0..=120_000);
    Some(ServerSettings {
        public_url: public_url?,
        bind: bind?,
        workers,
        shutdown_timeout: Duration::from_secs(shutdown),
        client_request_timeout: Duration::from_millis(client),
        max_query_bytes,
        metrics_bind: metrics_bind?,
        drain_delay: Duration::from_millis(drain_delay),
    })
}

fn log(report: &mut Report, raw: super::raw::RawLog) -> Option<LogSettings> {
    let format = match raw.format.as_str() {
        "human" => Some(LogFormat::Human),
        "json" => Some(LogFormat::Json),
        _ => {
            report.add("log.format", "must be \"human\" or \"json\"");
            None
        }
    };
    if let Err(error) = EnvFilter::builder().parse(&raw.filter) {
        report.add("log.filter", format!("is not a valid filter ({error})"));
    }
    Some(LogSettings {
        format: format?,
        filter: raw.filter,
    })
}

/// One node (`state.redis_url`) or a cluster's seed nodes (`state.redis_cluster_urls`), never
/// both.
fn redis_target(
    report: &mut Report,
    url: Option<SecretString>,
    cluster_urls: Option<SecretListOrCommas>,
) -> Option<RedisTarget> {
    let seeds = cluster_urls
        .map(SecretListOrCommas::into_vec)
        .unwrap_or_default();
    match (url, seeds.is_empty()) {
        (Some(_), false) => {
            report.add(
                "state.redis_cluster_urls",
                "cannot be given with state.redis_url: give one node's URL or the cluster's seed nodes",
            );
            None
        }
        (None, true) => {
            report.add(
                "state.redis_url",
                "is required when state.backend is \"redis\" (or state.redis_cluster_urls, for a Redis Cluster)",
            );
            None
        }
        (Some(url), true) => report
            .url("state.redis_url", url.expose_secret(), &["redis", "rediss"])
            .map(|_| RedisTarget::Node(url)),
        (None, false) => cluster_seeds(report, &seeds).then_some(RedisTarget::Cluster(seeds)),
    }
}

/// Whether every seed is a `redis://` or `rediss://` URL without a database, and all share the
/// scheme and credentials (the cluster client uses one set for every node). Problems name a seed
/// by its position, never by its URL, which may carry a password.
fn cluster_seeds(report: &mut Report, seeds: &[SecretString]) -> bool {
    const PATH: &str = "state.redis_cluster_urls";
    let mut valid = true;
    let mut first: Option<Url> = None;
    let mut differ = false;
    for (index, seed) in seeds.iter().enumerate() {
        let number = index + 1;
        match Url::parse(seed.expose_secret()) {
            Ok(url) if ["redis", "rediss"].contains(&url.scheme()) && url.has_host() => {
                if !matches!(url.path(), "" | "/" | "/0") {
                    report.add(
                        PATH,
                        format!(
                            "seed {number} names a database: a Redis Cluster has database 0 only"
                        ),
                    );
                    valid = false;
                }
                match &first {
                    None => first = Some(url),
                    Some(first) => {
                        differ |= first.scheme() != url.scheme()
                            || first.username() != url.username()
                            || first.password() != url.password();
                    }
                }
            }
            Ok(_) => {
                report.add(
                    PATH,
                    format!("seed {number} must be an absolute redis or rediss URL"),
                );
                valid = false;
            }
            Err(error) => {
                report.add(PATH, format!("seed {number} is not a valid URL ({error})"));
                valid = false;
            }
        }
    }
    if differ {
        report.add(
            PATH,
            "every seed must have the same scheme, user name and password",
        );
        valid = false;
    }
    valid
}

fn state(report: &mut Report, raw: RawState) -> Option<StateSettings> {
    let ttl = report.in_range("state.ttl_seconds", raw.ttl_seconds, 1..=3600);
    let timeout = report.in_range(
        "state.command_timeout_ms",
        raw.command_timeout_ms,
        10..=30_000,
    );
    let max_entries = report.in_range(
        "state.memory_max_entries",
        raw.memory_max_entries,
        1..=100_000_000,
    );
    if raw.key_prefix.len() > 64
        || raw
            .key_prefix
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        report.add(
            "state.key_prefix",
            "must be at most 64 characters without spaces",
        );
    }
    let backend = match raw.backend.as_str() {
        "memory" => Some(StateBackend::Memory { max_entries }),
        "redis" => redis_target(report, raw.redis_url, raw.redis_cluster_urls).map(|target| {
            StateBackend::Redis(RedisOptions {
                target,
                key_prefix: raw.key_prefix.clone(),
                command_timeout: Duration::from_millis(timeout),
            })
        }),
        _ => {
            report.add("state.backend", "must be \"memory\" or \"redis\"");
            None
        }
    };
    Some(StateSettings {
        backend: backend?,
        ttl: Duration::from_secs(ttl),
    })
}

fn database(report: &mut Report, raw: RawDatabase) -> Option<DatabaseOptions> {
    let max_connections =
        report.in_range("database.max_connections", raw.max_connections, 1..=1000);
    let acquire = report.in_range(
        "database.acquire_timeout_ms",
        raw.acquire_timeout_ms,
        100..=60_000,
    );
    let url = raw.url.expose_secret();
    let url_ok = match Engine::of_url(url) {
        Some(Engine::Sqlite) => true,
        Some(Engine::Postgres) => report
            .url("database.url", url, &["postgres", "postgresql"])
            .is_some(),
        None => {
            report.add("database.url", "must start with sqlite:// or postgres://");
            false
        }
    };
    let sqlite_durable = match raw.sqlite_synchronous.as_str() {
        "full" => Some(true),
        "normal" => Some(false),
        _ => {
            report.add(
                "database.sqlite_synchronous",
                "must be \"full\" or \"normal\"",
            );
            None
        }
    };
    let sqlite_sync_each_commit = sqlite_durable?;
    url_ok.then(|| DatabaseOptions {
        url: raw.url,
        max_connections,
        acquire_timeout: Duration::from_millis(acquire),
        sqlite_sync_each_commit,
    })
}

fn vault(report: &mut Report, raw: RawVault) -> Option<VaultSettings> {
    let mut keys = BTreeMap::new();
    for (id, encoded) in raw.keys {
        let path = format!("vault.keys.{id}");
        if AppId::parse(&id).is_err() {
            report.add(
                &path,
                "a key id must be lowercase letters, digits, '-' and '_'",
            );
            continue;
        }
        match STANDARD.decode(encoded.expose_secret().trim()) {
            Ok(bytes) => match <[u8; 32]>::try_from(bytes.as_slice()) {
                Ok(key) => {
                    keys.insert(id, Arc::new(SecretBox::new(Box::new(key))));
                }
                Err(_) => report.add(
                    path,
                    format!(
                        "must be 32 bytes of base64, but decodes to {} bytes",
                        bytes.len()
                    ),
                ),
            },
            Err(_) => report.add(path, "must be 32 bytes of base64, but is not valid base64"),
        }
    }
    match &raw.active_key {
        Some(active) if !keys.contains_key(active) => {
            report.add(
                "vault.active_key",
                format!("names no key under vault.keys (\"{active}\")"),
            );
            None
        }
        None if !keys.is_empty() => {
            report.add("vault.active_key", "is required when vault.keys lists keys");
            None
        }
        _ => Some(VaultSettings {
            active_key: raw.active_key,
            keys,
        }),
    }
}

fn webhook(report: &mut Report, raw: RawWebhook) -> Option<WebhookSettings> {
    let timeout = report.in_range("webhook.timeout_ms", raw.timeout_ms, 100..=60_000);
    let initial = report.in_range(
        "webhook.initial_backoff_ms",
        raw.initial_backoff_ms,
        1..=3_600_000,
    );
    let max = report.in_range("webhook.max_backoff_ms", raw.max_backoff_ms, 1..=86_400_000);
    if max < initial {
        report.add(
            "webhook.max_backoff_ms",
            "must not be less than webhook.initial_backoff_ms",
        );
    }
    if !(0.0..1.0).contains(&raw.jitter) {
        report.add("webhook.jitter", "must be at least 0 and less than 1");
    }
    let give_up = report.in_range(
        "webhook.give_up_after_seconds",
        raw.give_up_after_seconds,
        1..=2_592_000,
    );
    let poll = report.in_range(
        "webhook.poll_interval_ms",
        raw.poll_interval_ms,
        10..=60_000,
    );
    let lease = report.in_range("webhook.lease_seconds", raw.lease_seconds, 1..=3600);
    let batch_size = report.in_range("webhook.batch_size", raw.batch_size, 1..=1000);
    let target = match (raw.url, raw.secret) {
        (None, None) => Some(None),
        (Some(_), None) => {
            report.add("webhook.secret", "is required when webhook.url is set");
            None
        }
        (None, Some(_)) => {
            report.add("webhook.url", "is required when webhook.secret is set");
            None
        }
        (Some(url), Some(secret)) => {
            let url = report.url("webhook.url", &url, &["http", "https"]);
            let key = secret
                .expose_secret()
                .strip_prefix("whsec_")
                .and_then(|encoded| STANDARD.decode(encoded).ok())
                .filter(|bytes| (24..=64).contains(&bytes.len()));
            if key.is_none() {
                report.add(
                    "webhook.secret",
                    "must be whsec_ followed by 24 to 64 bytes of base64",
                );
            }
            match (url, key) {
                (Some(url), Some(key)) => Some(Some(WebhookTarget {
                    url,
                    secret: Arc::new(SecretBox::new(Box::new(key))),
                })),
                _ => None,
            }
        }
    };
    Some(WebhookSettings {
        target: target?,
        timeout: Duration::from_millis(timeout),
        retry: RetryPolicy {
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
            jitter: raw.jitter,
            give_up_after: Duration::from_secs(give_up),
        },
        poll_interval: Duration::from_millis(poll),
        lease: Duration::from_secs(lease),
        batch_size,
    })
}

fn session(report: &mut Report, raw: RawSession) -> Option<SessionSettings> {
    let idle = report.in_range(
        "session.idle_timeout_minutes",
        raw.idle_timeout_minutes,
        1..=10_080,
    );
    let absolute = report.in_range(
        "session.absolute_timeout_hours",
        raw.absolute_timeout_hours,
        1..=720,
    );
    // Below the shortest idle timeout (a minute), so that a session in use is read from Redis,
    // which extends it, well before it would expire there.
    let cache = report.in_range("session.cache_seconds", raw.cache_seconds, 0..=30);
    let key = match raw.key {
        None => Some(None),
        Some(encoded) => match STANDARD.decode(encoded.expose_secret().trim()) {
            Ok(bytes) if bytes.len() >= 64 => Some(Some(Arc::new(SecretBox::new(Box::new(bytes))))),
            _ => {
                report.add("session.key", "must be at least 64 bytes of base64");
                None
            }
        },
    };
    Some(SessionSettings {
        key: key?,
        idle_timeout: Duration::from_secs(idle * 60),
        absolute_timeout: Duration::from_secs(absolute * 3600),
        cache_for: Duration::from_secs(cache),
    })
}

fn accounts(report: &mut Report, raw: RawAccounts) -> Option<AccountSettings> {
    let memory_kib = report.in_range(
        "accounts.argon2_memory_kib",
        raw.argon2_memory_kib,
        8..=1_048_576,
    );
    let iterations = report.in_range("accounts.argon2_iterations", raw.argon2_iterations, 1..=16);
    let parallelism = report.in_range(
        "accounts.argon2_parallelism",
        raw.argon2_parallelism,
        1..=16,
    );
    let max_concurrent_hashes = report.in_range(
        "accounts.max_concurrent_hashes",
        raw.max_concurrent_hashes,
        0..=256,
    );
    let hash_queue_length = report.in_range(
        "accounts.hash_queue_length",
        raw.hash_queue_length,
        0..=10_000,
    );
    let hash_queue_wait_ms = report.in_range(
        "accounts.hash_queue_wait_ms",
        raw.hash_queue_wait_ms,
        1..=30_000,
    );
    let per_account = report.in_range(
        "accounts.max_failures_per_account",
        raw.max_failures_per_account,
        1..=1000,
    );
    let per_address = report.in_range(
        "accounts.max_failures_per_address",
        raw.max_failures_per_address,
        1..=100_000,
    );
    let window = report.in_range(
        "accounts.failure_window_seconds",
        raw.failure_window_seconds,
        1..=86_400,
    );
    let mode = match raw.mode.as_str() {
        "builtin" => Some(AccountMode::BuiltIn),
        "external" => {
            external(report, raw.external).map(|login| AccountMode::External(Box::new(login)))
        }
        _ => {
            report.add("accounts.mode", "must be \"builtin\" or \"external\"");
            None
        }
    };
    Some(AccountSettings {
        mode: mode?,
        argon2: Argon2Cost {
            memory_kib,
            iterations,
            parallelism,
        },
        max_concurrent_hashes,
        hash_queue_length,
        hash_queue_wait: Duration::from_millis(hash_queue_wait_ms),
        max_failures_per_account: per_account,
        max_failures_per_address: per_address,
        failure_window: Duration::from_secs(window),
    })
}

fn external(report: &mut Report, raw: super::raw::RawExternal) -> Option<ExternalLogin> {
    let at = |key: &str| format!("accounts.external.{key}");
    let required_url = |report: &mut Report, key: &str, raw: Option<&String>| match raw {
        Some(raw) => report.url(&at(key), raw, &["http", "https"]),
        None => {
            report.add(at(key), "is required when accounts.mode is \"external\"");
            None
        }
    };
    let login_url = required_url(report, "login_url", raw.login_url.as_ref());
    let signup_url = match &raw.signup_url {
        Some(url) => report.url(&at("signup_url"), url, &["http", "https"]),
        None => login_url.clone(),
    };
    let mut required_text = |key: &str, value: Option<String>| {
        let value = value.filter(|text| !text.trim().is_empty());
        if value.is_none() {
            report.add(at(key), "is required when accounts.mode is \"external\"");
        }
        value
    };
    let issuer = required_text("issuer", raw.issuer);
    let audience = required_text("audience", raw.audience);
    let keys = match (raw.hs256_secret, raw.jwks_url) {
        (Some(secret), None) if secret.expose_secret().len() >= 32 => {
            Some(AssertionKeys::Hs256(Arc::new(SecretBox::new(Box::new(
                secret.expose_secret().as_bytes().to_vec(),
            )))))
        }
        (Some(_), None) => {
            report.add(at("hs256_secret"), "must be at least 32 characters");
            None
        }
        (None, Some(url)) => {
            let algorithm = match raw.jwks_algorithm.as_str() {
                "RS256" => Some(jsonwebtoken::Algorithm::RS256),
                "ES256" => Some(jsonwebtoken::Algorithm::ES256),
                _ => {
                    report.add(at("jwks_algorithm"), "must be \"RS256\" or \"ES256\"");
                    None
                }
            };
            let url = report.secure_url(&at("jwks_url"), &url);
            url.zip(algorithm)
                .map(|(url, algorithm)| AssertionKeys::Jwks { url, algorithm })
        }
        _ => {
            report.add(
                at("hs256_secret"),
                "set exactly one of hs256_secret and jwks_url",
            );
            None
        }
    };
    let timeout = report.in_range(&at("jwks_timeout_ms"), raw.jwks_timeout_ms, 100..=30_000);
    let cache = report.in_range(
        &at("jwks_cache_seconds"),
        raw.jwks_cache_seconds,
        1..=86_400,
    );
    let refetch = report.in_range(
        &at("jwks_min_refetch_seconds"),
        raw.jwks_min_refetch_seconds,
        0..=3600,
    );
    Some(ExternalLogin {
        login_url: login_url?,
        signup_url: signup_url?,
        issuer: issuer?,
        audience: audience?,
        keys: keys?,
        jwks_timeout: Duration::from_millis(timeout),
        jwks_cache: Duration::from_secs(cache),
        jwks_min_refetch: Duration::from_secs(refetch),
        entitlement_claim: raw
            .entitlement_claim
            .filter(|claim| !claim.trim().is_empty()),
        workspace_claim: raw.workspace_claim.filter(|claim| !claim.trim().is_empty()),
    })
}

fn api_keys(
    report: &mut Report,
    raw: super::raw::RawApi,
    apps: &BTreeMap<AppId, AppSettings>,
) -> Vec<super::ApiKey> {
    let mut keys = Vec::new();
    for (name, key) in raw.keys {
        let path = format!("api.keys.{name}");
        let digest = key.sha256.as_deref().and_then(|hex| {
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect();
            bytes.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        });
        let Some(sha256) = digest else {
            report.add(
                format!("{path}.sha256"),
                "must be the 64 hex digits of the key's SHA-256 (installgate api-key new prints it)",
            );
            continue;
        };
        let allowed = match key.apps.map(super::raw::ListOrCommas::into_vec) {
            None => None,
            Some(names) => {
                let parsed: Vec<AppId> = names
                    .iter()
                    .filter_map(|name| AppId::parse(name).ok().filter(|id| apps.contains_key(id)))
                    .collect();
                if parsed.len() != names.len() {
                    report.add(
                        format!("{path}.apps"),
                        "names an app that is not configured",
                    );
                }
                Some(parsed)
            }
        };
        keys.push(super::ApiKey {
            name,
            sha256,
            apps: allowed,
        });
    }
    keys
}

fn apps(
    report: &mut Report,
    raw: BTreeMap<String, RawApp>,
    public_https: bool,
) -> BTreeMap<AppId, AppSettings> {
    let mut apps = BTreeMap::new();
    for (id, app) in raw {
        let path = format!("apps.{id}");
        let Ok(app_id) = AppId::parse(&id) else {
            report.add(
                path,
                "an app id must be lowercase letters, digits, '-' and '_'",
            );
            continue;
        };
        if public_https && app.allow_loopback_return_urls {
            report.add(
                format!("{path}.allow_loopback_return_urls"),
                "is for local development only and cannot be on when server.public_url is https",
            );
        }
        if let Some(settings) = one_app(report, &path, app_id.clone(), app) {
            apps.insert(app_id, settings);
        }
    }
    apps
}

fn one_app(report: &mut Report, path: &str, id: AppId, raw: RawApp) -> Option<AppSettings> {
    let at = |key: &str| format!("{path}.{key}");
    let branding = branding(report, &at, &raw);
    let install_policy = install_policy(report, &at, &raw.install_policy);
    let messages = messages::messages(report, &at("messages"), &raw.messages);
    let provider = match raw.provider.as_deref() {
        None => {
            report.add(at("provider"), "is missing");
            None
        }
        Some(name) if crate::registry::ids().any(|known| known == name) => {
            ProviderId::parse(name).ok()
        }
        Some(_) => {
            report.add(
                at("provider"),
                format!(
                    "must be one of: {}",
                    crate::registry::ids().collect::<Vec<_>>().join(", ")
                ),
            );
            None
        }
    };
    let client_id = raw.client_id.filter(|id| !id.trim().is_empty());
    if client_id.is_none() {
        report.add(at("client_id"), "is missing");
    }
    let client_secret = raw
        .client_secret
        .filter(|secret| !secret.expose_secret().trim().is_empty());
    if client_secret.is_none() {
        report.add(at("client_secret"), "is missing");
    }
    let listed =
        |list: Option<super::raw::ListOrCommas>| list.map(|l| l.into_vec()).unwrap_or_default();
    let scopes = listed(raw.scopes);
    let optional_scopes = listed(raw.optional_scopes);
    let conditional_scopes = listed(raw.conditional_scopes);
    for (key, scopes) in [("scopes", &scopes), ("optional_scopes", &optional_scopes)] {
        if scopes
            .iter()
            .any(|scope| scope.is_empty() || !scope.bytes().all(|b| b.is_ascii_graphic()))
        {
            report.add(
                at(key),
                "every scope must be non-empty printable ASCII without spaces",
            );
        }
    }
    let setup_url = report.optional_web_url(&at("setup_url"), raw.setup_url);
    let authorize_url = report.optional_secure_url(&at("authorize_url"), raw.authorize_url);
    let token_url = report.optional_secure_url(&at("token_url"), raw.token_url);
    let api_base_url = report.optional_secure_url(&at("api_base_url"), raw.api_base_url);
    let return_hosts = match raw.return_hosts {
        None => Some(None),
        Some(hosts) => AllowedHosts::new(&hosts)
            .map(Some)
            .map_err(|error| report.add(at("return_hosts"), error.to_string()))
            .ok(),
    };
    let frame_ancestors = match raw.frame_ancestors {
        None => Some(None),
        Some(origins) => origins
            .into_vec()
            .iter()
            .map(|origin| web_origin(origin))
            .collect::<Option<Vec<String>>>()
            .map(Some)
            .or_else(|| {
                report.add(
                    at("frame_ancestors"),
                    "every entry must be an origin such as https://app.example.com or http://127.0.0.1:8082",
                );
                None
            }),
    };
    Some(AppSettings {
        id,
        provider: provider?,
        client_id: client_id?,
        client_secret: client_secret?,
        scopes,
        optional_scopes,
        conditional_scopes,
        partner_sign_in: raw.partner_sign_in,
        allow_loopback_return_urls: raw.allow_loopback_return_urls,
        setup_url: setup_url?,
        return_hosts: return_hosts?,
        frame_ancestors: frame_ancestors?,
        authorize_url: authorize_url?,
        token_url: token_url?,
        api_base_url: api_base_url?,
        options: raw.options,
        branding: branding?,
        install_policy: install_policy?,
        messages: messages?,
    })
}

fn install_policy(
    report: &mut Report,
    at: &dyn Fn(&str) -> String,
    raw: &super::raw::RawInstallPolicy,
) -> Option<InstallPolicy> {
    let get_account_url = report.optional_web_url(
        &at("install_policy.get_account_url"),
        raw.get_account_url.clone(),
    );
    let sign_up = match raw.sign_up.as_deref() {
        None | Some("allowed") => Some(SignUpPolicy::Allowed),
        Some("off") => match get_account_url.clone() {
            Some(Some(get_account_url)) => Some(SignUpPolicy::Off { get_account_url }),
            Some(None) => {
                report.add(
                    at("install_policy.get_account_url"),
                    "is required when install_policy.sign_up is \"off\"",
                );
                None
            }
            None => None,
        },
        Some(_) => {
            report.add(
                at("install_policy.sign_up"),
                "must be \"allowed\" or \"off\"",
            );
            None
        }
    };
    get_account_url?;
    let entitlement_url = report.optional_secure_url(
        &at("install_policy.entitlement_url"),
        raw.entitlement_url.clone(),
    );
    let on_error = match raw.on_error.as_deref() {
        None | Some("deny") => Some(OnError::Deny),
        Some("allow") => Some(OnError::Allow),
        Some(_) => {
            report.add(
                at("install_policy.on_error"),
                "must be \"deny\" or \"allow\"",
            );
            None
        }
    };
    let timeout_ms = raw.entitlement_timeout_ms.unwrap_or(3000);
    if !(100..=30_000).contains(&timeout_ms) {
        report.add(
            at("install_policy.entitlement_timeout_ms"),
            "must be between 100 and 30000",
        );
    }
    let entitlement = entitlement_url?.map(|url| Entitlement {
        url,
        on_error: on_error.unwrap_or(OnError::Deny),
        timeout: Duration::from_millis(timeout_ms),
    });
    on_error?;
    Some(InstallPolicy {
        sign_up: sign_up?,
        entitlement,
    })
}

/// `#rgb` or `#rrggbb`.
fn is_hex_color(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An app's branding; `None` when a field is wrong (each problem reported at its key).
fn branding(report: &mut Report, at: &dyn Fn(&str) -> String, raw: &RawApp) -> Option<Branding> {
    let display_name = match raw.display_name.as_deref().map(str::trim) {
        None => Some(None),
        Some(name)
            if !name.is_empty()
                && name.chars().count() <= 80
                && !name.chars().any(char::is_control) =>
        {
            Some(Some(name.to_owned()))
        }
        Some(_) => {
            report.add(
                at("display_name"),
                "must be 1 to 80 characters without control characters",
            );
            None
        }
    };
    let logo_url = match raw.logo_url.as_deref() {
        None => Some(None),
        Some(raw) => match Url::parse(raw) {
            Ok(url) if url.scheme() == "https" && url.has_host() => Some(Some(url)),
            _ => {
                report.add(at("logo_url"), "must be an absolute https URL");
                None
            }
        },
    };
    let accent_color = match raw.accent_color.as_deref().map(str::trim) {
        None => Some(None),
        Some(color) if is_hex_color(color) => Some(Some(color.to_ascii_lowercase())),
        Some(_) => {
            report.add(
                at("accent_color"),
                "must be a hex colour such as #0a7d5a or #07c",
            );
            None
        }
    };
    let mut link = |key: &str, raw: &Option<String>| report.optional_web_url(&at(key), raw.clone());
    let support_url = link("support_url", &raw.support_url);
    let privacy_url = link("privacy_url", &raw.privacy_url);
    let terms_url = link("terms_url", &raw.terms_url);
    Some(Branding {
        display_name: display_name?,
        logo_url: logo_url?,
        accent_color: accent_color?,
        support_url: support_url?,
        privacy_url: privacy_url?,
        terms_url: terms_url?,
    })
}

/// Whether `url`'s host is `localhost`, or an IPv4 or IPv6 loopback address.
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]` of an http(s) origin written without path, query or credentials.
fn web_origin(input: &str) -> Option<String> {
    let url = Url::parse(input).ok()?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    bare.then(|| url.origin().ascii_serialization())
}
