//! What handlers share: the validated settings and the backends, built once per process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use installgate_core::{Accounts, Clock, ConnectionVault, InstallFlow, StateStore};
use installgate_store::{Database, Outbox};

use crate::accounts::{AssertionVerifier, SignIn};
use crate::metrics::Metrics;
use crate::providers::PreparedApps;
use crate::rate_limit::ClientRateLimit;
use crate::settings::Settings;
use crate::tokens::Tokens;

pub struct Services {
    pub settings: Arc<Settings>,
    pub state_store: Arc<dyn StateStore>,
    pub database: Database,
    pub vault: Arc<dyn ConnectionVault>,
    pub outbox: Outbox,
    pub accounts: Arc<dyn Accounts>,
    pub sign_in: SignIn,
    /// Present in external account mode.
    pub assertions: Option<Arc<AssertionVerifier>>,
    pub flow: InstallFlow,
    pub tokens: Tokens,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub lifecycle: Lifecycle,
    pub rate_limit: ClientRateLimit,
    /// Each app's credentials and framing policy, worked out at start-up.
    pub prepared: PreparedApps,
    /// Whether sessions live in Redis (deleted at sign-out) rather than in the cookie.
    pub sessions_in_redis: bool,
    /// The vendor's answers to "may this account install?".
    pub entitlements: crate::entitlement::Entitlements,
    /// What the pages say, in every language and each app's wording.
    pub catalog: crate::i18n::Catalog,
}

impl Services {
    /// What a page of `app` (or of no app) says in `language`.
    pub fn texts(&self, language: crate::i18n::Language, app: Option<&str>) -> crate::i18n::Texts {
        self.catalog.texts(language, app)
    }
}

/// Whether the replica is shutting down: from SIGTERM on, `/readyz` says so while requests in
/// flight finish.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle(Arc<AtomicBool>);

impl Lifecycle {
    pub fn start_draining(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("state_store", &self.state_store.backend())
            .field("database", &self.database.engine())
            .finish_non_exhaustive()
    }
}
