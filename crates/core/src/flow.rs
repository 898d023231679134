//! The install flow engine: the steps every marketplace shares. Providers speak their
//! protocols; this engine mints and takes states, and turns a code into a stored connection.
//!
//! Order of work: the caller validates every parameter and the return URL;
//! then the state is taken atomically and its binding checked; only then is the provider asked
//! to exchange the code; then the connection is stored with its event.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, AppCredentials, AppId, AuthorizationCode, Clock, Connection, ConnectionStatus,
    ConnectionVault, EventKind, Inserted, NewInstall, Provider, ProviderError, ProviderId,
    StateKind, StateStore, StateStoreError, StateToken, Tenant, VaultError,
};

/// What a state is bound to. A state taken for another app, provider or return origin is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateBinding {
    pub app: AppId,
    pub provider: ProviderId,
    /// The signed-in vendor account the install is for.
    pub account: Option<AccountId>,
    /// The origin of the return URL of a seamless install; `None` for installs the gateway
    /// started itself.
    pub return_origin: Option<String>,
    /// The secret of the browser that asked for the state (kept in its session), for installs
    /// the gateway starts: only that browser can finish them. Stored as its digest. `None` for
    /// HubSpot's seamless install, whose state travels inside HubSpot's own flow.
    pub browser: Option<StateToken>,
    /// The tenant the install is for, when the marketplace named one before the state was
    /// minted (a shop): the callback must name the same.
    pub tenant: Option<Tenant>,
    /// The workspace chosen for the install before the state was minted.
    pub workspace: Option<crate::Workspace>,
}

#[derive(Serialize, Deserialize)]
struct StateRecord {
    app: String,
    provider: String,
    account: Option<String>,
    return_origin: Option<String>,
    /// base64url of the SHA-256 of the browser binding, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workspace: Option<crate::Workspace>,
}

impl StateRecord {
    /// Whether the state was minted for this app of this marketplace.
    fn is_for(&self, app: &AppId, provider: &ProviderId) -> bool {
        self.app == app.as_str() && self.provider == provider.as_str()
    }
}

/// How a browser binding is kept in a record: base64url of its SHA-256, never the binding.
pub fn browser_digest(binding: &StateToken) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(binding.digest())
}

/// Why a state was refused. Deliberately coarse: callers log it and never tell the user more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateRefusal {
    #[error("the state is missing")]
    Missing,
    #[error("the state is malformed")]
    Malformed,
    #[error("the state is unknown, used or expired")]
    UnknownUsedOrExpired,
    #[error("the state was minted for another app, marketplace, tenant or return origin")]
    Foreign,
    #[error("the state was minted in another browser")]
    OtherBrowser,
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    StateStore(#[from] StateStoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the operating system's random generator is unavailable")]
    Random,
}

/// Who an install belongs to once stored.
#[derive(Debug, Clone)]
pub struct InstallFor {
    pub account: Option<AccountId>,
    pub status: ConnectionStatus,
    /// The workspace it lands in; kept by a connection that has one already.
    pub workspace: Option<crate::Workspace>,
}

#[derive(Clone)]
pub struct InstallFlow {
    state_store: Arc<dyn StateStore>,
    vault: Arc<dyn ConnectionVault>,
    clock: Arc<dyn Clock>,
    state_ttl: Duration,
}

impl std::fmt::Debug for InstallFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallFlow")
            .field("state_ttl", &self.state_ttl)
            .finish_non_exhaustive()
    }
}

impl InstallFlow {
    pub fn new(
        state_store: Arc<dyn StateStore>,
        vault: Arc<dyn ConnectionVault>,
        clock: Arc<dyn Clock>,
        state_ttl: Duration,
    ) -> Self {
        Self {
            state_store,
            vault,
            clock,
            state_ttl,
        }
    }

    pub fn vault(&self) -> &Arc<dyn ConnectionVault> {
        &self.vault
    }

    pub(crate) fn state_store(&self) -> &Arc<dyn StateStore> {
        &self.state_store
    }

    /// Mints a single-use state bound to `binding`. Nothing is returned unless it was stored.
    pub async fn mint_state(&self, binding: &StateBinding) -> Result<StateToken, FlowError> {
        let token = StateToken::generate().map_err(|_| FlowError::Random)?;
        let record = StateRecord {
            app: binding.app.to_string(),
            provider: binding.provider.to_string(),
            account: binding.account.as_ref().map(|id| id.as_str().to_owned()),
            return_origin: binding.return_origin.clone(),
            browser: binding.browser.as_ref().map(browser_digest),
            tenant: binding
                .tenant
                .as_ref()
                .map(|tenant| tenant.as_str().to_owned()),
            workspace: binding.workspace.clone(),
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        self.state_store
            .put(StateKind::Install, &token, &bytes, self.state_ttl)
            .await?;
        Ok(token)
    }

    /// Takes the state `raw` (it can never be used again) and checks it was minted for this app,
    /// provider, return origin and tenant (`None` matches only a state minted without one), and,
    /// when it was bound to a browser, that `browser` is that browser's binding. The outer error
    /// means the store could not tell.
    pub async fn take_state(
        &self,
        raw: Option<&str>,
        app: &AppId,
        provider: &ProviderId,
        return_origin: Option<&str>,
        browser: Option<&StateToken>,
        tenant: Option<&Tenant>,
    ) -> Result<Result<StateBinding, StateRefusal>, FlowError> {
        let Some(raw) = raw else {
            return Ok(Err(StateRefusal::Missing));
        };
        let record = match self.take_record(raw).await? {
            Ok(record) => record,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !record.is_for(app, provider)
            || record.return_origin.as_deref() != return_origin
            || record.tenant.as_deref() != tenant.map(Tenant::as_str)
        {
            return Ok(Err(StateRefusal::Foreign));
        }
        if let Some(expected) = &record.browser {
            use subtle::ConstantTimeEq as _;
            let presented = browser.map(browser_digest).unwrap_or_default();
            if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                return Ok(Err(StateRefusal::OtherBrowser));
            }
        }
        let account = match record.account.as_deref().map(AccountId::parse) {
            Some(Ok(account)) => Some(account),
            Some(Err(_)) => return Ok(Err(StateRefusal::Malformed)),
            None => None,
        };
        Ok(Ok(StateBinding {
            app: app.clone(),
            provider: provider.clone(),
            account,
            return_origin: record.return_origin,
            browser: browser.cloned(),
            tenant: tenant.cloned(),
            workspace: record.workspace,
        }))
    }

    /// Takes the state `raw` of a cancelled install (it can never be used again) and says whether
    /// it was a live state of this app and provider, so that a cancel is recorded once for an
    /// install that was really started and never for a made-up request.
    pub async fn forget_state(
        &self,
        raw: &str,
        app: &AppId,
        provider: &ProviderId,
    ) -> Result<bool, FlowError> {
        Ok(self
            .take_record(raw)
            .await?
            .is_ok_and(|record| record.is_for(app, provider)))
    }

    /// Takes the record of state `raw` from the store: it can never be used again.
    async fn take_record(&self, raw: &str) -> Result<Result<StateRecord, StateRefusal>, FlowError> {
        let Ok(token) = StateToken::parse(raw) else {
            return Ok(Err(StateRefusal::Malformed));
        };
        let Some(bytes) = self.state_store.take(StateKind::Install, &token).await? else {
            return Ok(Err(StateRefusal::UnknownUsedOrExpired));
        };
        Ok(serde_json::from_slice::<StateRecord>(&bytes).map_err(|_| StateRefusal::Malformed))
    }

    /// Exchanges `code` (once), identifies the marketplace account and stores the connection
    /// with its event: `connection.claimed` when an unclaimed connection gains an account,
    /// `installation.completed` for an active install otherwise, none while pending. The
    /// connection keeps its tenant: `app.tenant` (from the install's state), or the one the
    /// token answer names; an answer naming another tenant than the state's is refused.
    pub async fn install(
        &self,
        provider: &dyn Provider,
        app: &AppCredentials,
        code: &AuthorizationCode,
        target: InstallFor,
    ) -> Result<Connection, FlowError> {
        let mut grant = provider.exchange_code(app, code).await?;
        grant.check(provider.token_answers(), crate::TokenCall::Exchange)?;
        grant.tokens.expires_at = grant
            .expires_in
            .map(|lifetime| self.clock.now().plus(lifetime));
        let tenant = Tenant::agree(app.tenant.clone(), grant.tenant.take())?;
        let app = &app.for_tenant(tenant.clone());
        let identity = provider.identify(app, &grant).await?;
        let tenant = Tenant::agree(tenant, identity.tenant)?;
        let mut metadata = grant.metadata;
        metadata.extend(identity.metadata);
        match tenant {
            Some(tenant) => {
                metadata.insert(
                    crate::TENANT_METADATA_KEY.into(),
                    tenant.as_str().to_owned(),
                );
            }
            None => {
                metadata.remove(crate::TENANT_METADATA_KEY);
            }
        }
        let install = NewInstall {
            app: app.app.clone(),
            provider: provider.id().clone(),
            marketplace_key: identity.marketplace_key,
            account: target.account,
            status: target.status,
            scopes: grant.scopes,
            metadata,
            workspace: target.workspace,
            tokens: grant.tokens,
        };
        // Most installs are first installs: written at once, without a lookup first.
        let first =
            (target.status == ConnectionStatus::Active).then_some(EventKind::InstallationCompleted);
        let mut install = match self.vault.insert_install(install, first).await? {
            Inserted::New(connection) => return Ok(connection),
            Inserted::Exists(install) => install,
        };
        let existing = match self
            .vault
            .find_by_key(&app.app, provider.id(), &install.marketplace_key)
            .await
        {
            Ok(existing) => existing,
            // Tokens under a key no longer configured are simply replaced.
            Err(VaultError::Undecryptable { .. }) => None,
            Err(other) => return Err(other.into()),
        };
        // A reinstall by the marketplace user of a connection that is active and claimed stays
        // claimed: only that user can produce a code for this marketplace account.
        let already_claimed = existing
            .as_ref()
            .is_some_and(|c| c.status == ConnectionStatus::Active && c.account.is_some());
        let status = if target.status == ConnectionStatus::Pending && already_claimed {
            ConnectionStatus::Active
        } else {
            target.status
        };
        let claims = existing
            .as_ref()
            .is_some_and(|connection| connection.account.is_none())
            && install.account.is_some();
        let event = match status {
            ConnectionStatus::Active if claims => Some(EventKind::ConnectionClaimed),
            ConnectionStatus::Active => Some(EventKind::InstallationCompleted),
            _ => None,
        };
        install.status = status;
        Ok(self.vault.upsert_install(install, event).await?)
    }

    pub fn now(&self) -> crate::Timestamp {
        self.clock.now()
    }
}
