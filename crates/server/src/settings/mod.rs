//! Typed, validated configuration. See `config/default.toml` for every key and its default.
//!
//! [`load`] layers the sources, collects every problem with its key path, and returns either a
//! complete [`Settings`] or all the [`Problems`] at once. Secrets are `secrecy` types from the
//! moment they are read.

mod load;
mod raw;
mod validate;

pub(crate) use validate::is_loopback_host;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use installgate_core::{AllowedHosts, AppId, ProviderId};

use crate::client_address::TrustedProxies;
use installgate_store::{DatabaseOptions, RedisOptions};
use secrecy::{SecretBox, SecretString};
use url::Url;

pub use load::{DEFAULTS, Sources};

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub log: LogSettings,
    pub state: StateSettings,
    pub database: DatabaseOptions,
    pub vault: VaultSettings,
    pub webhook: WebhookSettings,
    pub session: SessionSettings,
    pub accounts: AccountSettings,
    pub providers: ProviderSettings,
    pub install: InstallSettings,
    pub tokens: TokenSettings,
    pub api_keys: Vec<ApiKey>,
    pub clients: ClientSettings,
    pub admin: AdminSettings,
    pub apps: BTreeMap<AppId, AppSettings>,
    /// Where the configuration was read from, so that it can be checked again while the
    /// gateway runs (the console's apps page); `None` when it was built otherwise.
    pub loaded_from: Option<Sources>,
}

/// The operator console.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// The console's own listener; `None` turns the console off.
    pub bind: Option<SocketAddr>,
    /// The URL operators reach the console at; `None`: `http://` and the bound address.
    pub public_url: Option<Url>,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// How often each replica adds its funnel counts to the database.
    pub activity_flush: Duration,
    pub oidc: Option<OidcSettings>,
}

/// Console sign-in through the company's OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Email domains admitted (lower case); empty: any, when groups decide.
    pub allowed_domains: Vec<String>,
    /// The ID token's claim that lists the user's groups.
    pub groups_claim: String,
    /// Groups admitted as viewers and as operators; both empty: groups are not checked.
    pub viewer_groups: Vec<String>,
    pub operator_groups: Vec<String>,
    /// Only an email the provider says is verified (`email_verified: true`); off, an email
    /// without the claim is taken too (never one marked unverified).
    pub require_verified_email: bool,
}

/// Who requests come from, and how many they may make.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub trusted_proxies: TrustedProxies,
    /// `None`: no limit.
    pub rate_limit: Option<RateLimit>,
    /// How many leading bits of an IPv6 address name one client in limits and throttles.
    pub ipv6_prefix_length: u8,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: TrustedProxies::default(),
            rate_limit: None,
            ipv6_prefix_length: 64,
        }
    }
}

/// A vendor API key: its name, the SHA-256 of the key, and the apps it may see (all if `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub sha256: [u8; 32],
    pub apps: Option<Vec<AppId>>,
}

/// How long unclaimed installs are held.
#[derive(Debug, Clone, Copy)]
pub struct InstallSettings {
    pub pending_ttl: Duration,
    pub sweep_interval: Duration,
}

/// Refreshing, caching and revoking tokens.
#[derive(Debug, Clone, Copy)]
pub struct TokenSettings {
    pub refresh_margin: Duration,
    pub lock_ttl: Duration,
    /// A forced refresh within this long after the tokens were stored takes those tokens.
    pub force_refresh_window: Duration,
    pub cache_capacity: u64,
    /// Whether this replica runs the background refresher.
    pub background_refresh: bool,
    pub background_interval: Duration,
    pub background_lead: Duration,
    pub background_rate_per_second: u32,
    /// How long after a failed revoke at the provider it is tried again.
    pub revoke_retry: Duration,
}

/// Bounds of every call to a marketplace's API.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSettings {
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Absolute, without a trailing slash, query or fragment.
    pub public_url: Url,
    pub bind: SocketAddr,
    /// 0 means one per CPU core.
    pub workers: usize,
    pub shutdown_timeout: Duration,
    pub client_request_timeout: Duration,
    pub max_query_bytes: usize,
    /// Where `/metrics` is served on its own; `None`: on `bind` with every other route.
    pub metrics_bind: Option<SocketAddr>,
    /// After SIGTERM, how long the replica goes on serving while reporting not-ready.
    pub drain_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone)]
pub enum StateBackend {
    Memory {
        max_entries: u64,
    },
    /// One Redis node or a Redis Cluster (`RedisOptions::target`).
    Redis(RedisOptions),
}

#[derive(Debug, Clone)]
pub struct StateSettings {
    pub backend: StateBackend,
    /// Lifetime of an install state.
    pub ttl: Duration,
}

/// A 256-bit token-encryption key.
pub type VaultKey = SecretBox<[u8; 32]>;

#[derive(Debug, Clone, Default)]
pub struct VaultSettings {
    /// The key new ciphertexts are written under; `None` only when no key is configured.
    pub active_key: Option<String>,
    pub keys: BTreeMap<String, Arc<VaultKey>>,
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// 64 bytes that sign and encrypt the cookie; `None` makes a key per process.
    pub key: Option<Arc<SecretBox<Vec<u8>>>>,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// How long a replica may answer from its own copy of a Redis session; zero: never.
    pub cache_for: Duration,
}

#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub mode: AccountMode,
    pub argon2: Argon2Cost,
    /// Password hashes at once per replica (0: one per worker), callers waiting for a turn,
    /// and how long each waits.
    pub max_concurrent_hashes: usize,
    pub hash_queue_length: usize,
    pub hash_queue_wait: Duration,
    pub max_failures_per_account: u64,
    pub max_failures_per_address: u64,
    pub failure_window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone)]
pub enum AccountMode {
    BuiltIn,
    External(Box<ExternalLogin>),
}

/// The vendor's own login, and how to check what it sends back.
#[derive(Debug, Clone)]
pub struct ExternalLogin {
    pub login_url: Url,
    pub signup_url: Url,
    pub issuer: String,
    pub audience: String,
    pub keys: AssertionKeys,
    pub jwks_timeout: Duration,
    pub jwks_cache: Duration,
    pub jwks_min_refetch: Duration,
    /// A claim of the vendor's assertion that says, as `true`, that the user may install: no
    /// entitlement question is asked then.
    pub entitlement_claim: Option<String>,
    /// A claim of the vendor's assertion that names the workspace installs land in: a string
    /// (its id) or `{"id", "name"}`. No workspace page is shown then.
    pub workspace_claim: Option<String>,
}

#[derive(Debug, Clone)]
pub enum AssertionKeys {
    Hs256(Arc<SecretBox<Vec<u8>>>),
    /// Keys from the vendor's JWKS, used for this one algorithm (RS256 or ES256).
    Jwks {
        url: Url,
        algorithm: jsonwebtoken::Algorithm,
    },
}

/// Where and how events are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `None` leaves events in the outbox.
    pub target: Option<WebhookTarget>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub poll_interval: Duration,
    pub lease: Duration,
    pub batch_size: u32,
}

#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: Url,
    /// The signing key: the bytes of the `whsec_…` secret.
    pub secret: Arc<SecretBox<Vec<u8>>>,
}

/// Exponential backoff with jitter, until an event is old enough to give up on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Each delay is shortened by a random fraction in `[0, jitter)`.
    pub jitter: f64,
    pub give_up_after: Duration,
}

#[derive(Debug, Clone)]
pub struct AppSettings {
    pub id: AppId,
    pub provider: ProviderId,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub optional_scopes: Vec<String>,
    /// Scopes sent back with the state after a seamless install's first step (the provider
    /// says how).
    pub conditional_scopes: Vec<String>,
    pub partner_sign_in: bool,
    /// Local sandboxes only: return URLs may be `http://localhost:PORT` or `http://127.0.0.1:PORT`.
    pub allow_loopback_return_urls: bool,
    pub setup_url: Option<Url>,
    /// Overrides the provider's default list of return hosts.
    pub return_hosts: Option<AllowedHosts>,
    /// Overrides the provider's default origins that may frame the install route.
    pub frame_ancestors: Option<Vec<String>>,
    pub authorize_url: Option<Url>,
    pub token_url: Option<Url>,
    pub api_base_url: Option<Url>,
    /// What the app's marketplace reads beside the common settings (`apps.<id>.options`), as
    /// its provider documents them.
    pub options: std::collections::BTreeMap<String, String>,
    /// How the app's pages present the vendor.
    pub branding: Branding,
    /// Who may install the app.
    pub install_policy: InstallPolicy,
    /// The app's own wording of the pages: language (`de`), then message key, then text.
    pub messages: std::collections::HashMap<String, std::collections::HashMap<String, String>>,
}

/// Who may install an app (`apps.<id>.install_policy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallPolicy {
    pub sign_up: SignUpPolicy,
    /// The vendor's answer to "may this account install?", asked after sign-in.
    pub entitlement: Option<Entitlement>,
}

/// Where and how the gateway asks the vendor whether an account may install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    /// `https`, or `http` to a loopback host.
    pub url: Url,
    /// What an unanswered or unreadable question counts as.
    pub on_error: OnError,
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The user is asked to try again shortly; nothing is installed.
    Deny,
    /// The install goes on as if allowed.
    Allow,
}

/// Whether a new user may create an account in the middle of an install.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SignUpPolicy {
    #[default]
    Allowed,
    /// Only users with an account install; others are sent to get one at the vendor.
    Off { get_account_url: Url },
}

/// The vendor's name, logo, colour and links on the pages of an app's installs. Every field is
/// optional; without them the pages keep their plain look and name the app by its id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// 1 to 80 characters, no control characters.
    pub display_name: Option<String>,
    /// `https` only: the one place a page may load from another origin.
    pub logo_url: Option<Url>,
    /// `#rgb` or `#rrggbb`, lower-cased.
    pub accent_color: Option<String>,
    pub support_url: Option<Url>,
    pub privacy_url: Option<Url>,
    pub terms_url: Option<Url>,
}

/// One thing wrong with a configuration, at a key path such as `apps.demo.client_secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "the configuration has {count} problem{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

impl Problems {
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// Whether some problem sits at exactly `path`.
    pub fn mentions(&self, path: &str) -> bool {
        self.0.iter().any(|problem| problem.path == path)
    }
}

/// Loads and validates a configuration, reporting every problem at once.
pub fn load(sources: &Sources) -> Result<Settings, Problems> {
    let (raw, mut problems) = load::load_raw(sources)?;
    match validate::validate(raw) {
        Ok(settings) if problems.is_empty() => Ok(Settings {
            loaded_from: Some(sources.clone()),
            ..settings
        }),
        Ok(_) => Err(Problems(problems)),
        Err(more) => {
            problems.extend(more);
            Err(Problems(problems))
        }
    }
}

/// How many requests a minute one address may make, and how many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: std::num::NonZeroU32,
    pub burst: std::num::NonZeroU32,
}
