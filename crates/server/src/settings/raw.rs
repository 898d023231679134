//! The configuration as it is written, before validation. Only syntax is checked here; every
//! rule about values lives in `validate.rs`, so that one run can report every problem.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct RawSettings {
    pub server: RawServer,
    pub log: RawLog,
    pub state: RawState,
    pub database: RawDatabase,
    #[serde(default)]
    pub vault: RawVault,
    pub webhook: RawWebhook,
    pub session: RawSession,
    pub providers: RawProviders,
    pub install: RawInstall,
    pub tokens: RawTokens,
    #[serde(default)]
    pub api: RawApi,
    pub accounts: RawAccounts,
    pub clients: RawClients,
    pub admin: RawAdmin,
    #[serde(default)]
    pub apps: BTreeMap<String, RawApp>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawAdmin {
    pub bind: String,
    pub public_url: String,
    pub idle_timeout_minutes: u64,
    pub absolute_timeout_hours: u64,
    pub activity_flush_ms: u64,
    #[serde(default)]
    pub oidc: Option<RawOidc>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawOidc {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    #[serde(default)]
    pub allowed_domains: Option<ListOrCommas>,
    #[serde(default)]
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub viewer_groups: Option<ListOrCommas>,
    #[serde(default)]
    pub operator_groups: Option<ListOrCommas>,
    #[serde(default)]
    pub require_verified_email: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawClients {
    pub trusted_proxies: ListOrCommas,
    pub rate_limit_per_minute: u32,
    pub rate_limit_burst: u32,
    pub ipv6_prefix_length: u32,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawServer {
    pub public_url: String,
    pub bind: String,
    pub workers: usize,
    pub shutdown_timeout_seconds: u64,
    pub client_request_timeout_ms: u64,
    pub max_query_bytes: usize,
    pub metrics_bind: String,
    pub drain_delay_ms: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawLog {
    pub format: String,
    pub filter: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawState {
    pub backend: String,
    pub redis_url: Option<SecretString>,
    #[serde(default)]
    pub redis_cluster_urls: Option<SecretListOrCommas>,
    pub key_prefix: String,
    pub ttl_seconds: u64,
    pub command_timeout_ms: u64,
    pub memory_max_entries: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawDatabase {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    pub sqlite_synchronous: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawVault {
    pub active_key: Option<String>,
    #[serde(default)]
    pub keys: BTreeMap<String, SecretString>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawApp {
    pub provider: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Lists, or comma-separated in one string (as environment variables give them).
    pub scopes: Option<ListOrCommas>,
    pub optional_scopes: Option<ListOrCommas>,
    pub conditional_scopes: Option<ListOrCommas>,
    #[serde(default)]
    pub partner_sign_in: bool,
    #[serde(default)]
    pub allow_loopback_return_urls: bool,
    pub setup_url: Option<String>,
    pub return_hosts: Option<Vec<String>>,
    pub frame_ancestors: Option<ListOrCommas>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub api_base_url: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub accent_color: Option<String>,
    pub support_url: Option<String>,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    #[serde(default)]
    pub install_policy: RawInstallPolicy,
    /// The app's own wording: language, then message key, then text.
    #[serde(default)]
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawInstallPolicy {
    pub sign_up: Option<String>,
    pub get_account_url: Option<String>,
    pub entitlement_url: Option<String>,
    pub on_error: Option<String>,
    pub entitlement_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawWebhook {
    pub url: Option<String>,
    pub secret: Option<SecretString>,
    pub timeout_ms: u64,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub jitter: f64,
    pub give_up_after_seconds: u64,
    pub poll_interval_ms: u64,
    pub lease_seconds: u64,
    pub batch_size: u32,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawSession {
    pub key: Option<SecretString>,
    pub idle_timeout_minutes: u64,
    pub absolute_timeout_hours: u64,
    pub cache_seconds: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawAccounts {
    pub mode: String,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub max_concurrent_hashes: usize,
    pub hash_queue_length: usize,
    pub hash_queue_wait_ms: u64,
    pub max_failures_per_account: u64,
    pub max_failures_per_address: u64,
    pub failure_window_seconds: u64,
    pub external: RawExternal,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawExternal {
    pub login_url: Option<String>,
    pub signup_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub hs256_secret: Option<SecretString>,
    pub jwks_url: Option<String>,
    pub jwks_algorithm: String,
    pub jwks_timeout_ms: u64,
    pub jwks_cache_seconds: u64,
    pub jwks_min_refetch_seconds: u64,
    pub entitlement_claim: Option<String>,
    pub workspace_claim: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawProviders {
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawInstall {
    pub pending_ttl_seconds: u64,
    pub sweep_interval_seconds: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawTokens {
    pub refresh_margin_seconds: u64,
    pub lock_ttl_ms: u64,
    pub force_refresh_window_ms: u64,
    pub cache_capacity: u64,
    pub background_refresh: bool,
    pub background_interval_seconds: u64,
    pub background_lead_seconds: u64,
    pub background_rate_per_second: u32,
    pub revoke_retry_seconds: u64,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawApi {
    #[serde(default)]
    pub keys: BTreeMap<String, RawApiKey>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawApiKey {
    pub sha256: Option<String>,
    pub apps: Option<ListOrCommas>,
}

/// A list of names, or one string of comma-separated names (as environment variables give it).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ListOrCommas {
    List(Vec<String>),
    Commas(String),
}

impl ListOrCommas {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::List(list) => list,
            Self::Commas(text) => text
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// A list of secrets, or one string of comma-separated secrets (as environment variables give
/// it): URLs that may carry a password.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum SecretListOrCommas {
    List(Vec<SecretString>),
    Commas(SecretString),
}

impl SecretListOrCommas {
    pub fn into_vec(self) -> Vec<SecretString> {
        use secrecy::ExposeSecret as _;
        match self {
            Self::List(list) => list,
            Self::Commas(text) => text
                .expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(SecretString::from)
                .collect(),
        }
    }
}
