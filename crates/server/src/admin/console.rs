//! What the console's handlers share beyond the gateway's [`Services`]: the operators, the
//! audit log, the overview's reads, the console's own origin, and the OpenID Connect client.

use actix_web::HttpRequest;
use installgate_store::{
    ActivityCounts, AuditLog, Database, Keyring, NewAuditEntry, OperatorSessions, Operators,
    Overview,
};
use url::Url;

use super::oidc::OidcClient;
use crate::services::Services;
use crate::settings::AdminSettings;

pub struct Console {
    pub operators: Operators,
    pub audit: AuditLog,
    pub activity: ActivityCounts,
    pub overview: Overview,
    pub sessions: OperatorSessions,
    /// Where operators reach the console; forms must come from its origin.
    pub public_url: Url,
    pub oidc: Option<OidcClient>,
    pub settings: AdminSettings,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("public_url", &self.public_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Console {
    pub fn new(
        services: &Services,
        keyring: std::sync::Arc<Keyring>,
        public_url: Url,
        oidc: Option<OidcClient>,
    ) -> Self {
        let database: &Database = &services.database;
        Self {
            operators: Operators::new(database.clone(), keyring, services.clock.clone()),
            audit: AuditLog::new(database.clone()),
            activity: ActivityCounts::new(database.clone()),
            overview: Overview::new(database.clone()),
            sessions: OperatorSessions::new(database.clone()),
            public_url,
            oidc,
            settings: services.settings.admin.clone(),
        }
    }

    /// The console's origin, as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// An absolute URL of the console.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin(), path)
    }

    /// Adds an entry to the audit log. A failure to write it is logged, not shown: the action
    /// itself went through (or was refused) already.
    pub async fn audit(
        &self,
        services: &Services,
        request: &HttpRequest,
        actor: &str,
        action: &str,
        target: &str,
        outcome: &str,
    ) {
        let client = crate::client_address::client_address(
            request,
            &services.settings.clients.trusted_proxies,
        )
        .map(|address| address.to_string())
        .unwrap_or_default();
        let entry = NewAuditEntry {
            actor,
            action,
            target,
            outcome,
            client: &client,
        };
        if let Err(error) = self.audit.record(entry, services.clock.now()).await {
            tracing::error!(%error, action, "cannot write the audit log");
        }
    }
}
