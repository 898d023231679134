//! Connections brought in from outside the gateway: tokens a vendor already holds from before it
//! ran installs through the gateway (Shopify's offline tokens, say), stored as if installed.

use crate::{
    AccountId, AppCredentials, ConnectionStatus, FlowError, Grant, Inserted, InstallFlow,
    NewInstall, Provider, Tenant, TokenSet,
};

/// One connection to bring in.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The install's tenant, as the provider validated it.
    pub tenant: Option<Tenant>,
    pub tokens: TokenSet,
    pub scopes: Vec<String>,
    /// The vendor account it belongs to, when known.
    pub account: Option<AccountId>,
}

/// What an import of one connection came to.
#[derive(Debug)]
pub enum ImportOutcome {
    Stored(Box<crate::Connection>),
    /// A connection for that marketplace account exists already; it was left as it is.
    Exists,
}

impl InstallFlow {
    /// Stores `imported` as an active connection of `app`, identified by the provider (for
    /// Shopify, the shop itself), encrypted like every other, without an event: the vendor knew
    /// of it before. A connection that exists already is never overwritten.
    pub async fn import(
        &self,
        provider: &dyn Provider,
        app: &AppCredentials,
        imported: Imported,
    ) -> Result<ImportOutcome, FlowError> {
        let app = app.for_tenant(imported.tenant.clone());
        let grant = Grant {
            tokens: imported.tokens.clone(),
            expires_in: None,
            scopes: imported.scopes.clone(),
            marketplace_key: None,
            tenant: imported.tenant.clone(),
            metadata: crate::Metadata::new(),
        };
        let identity = provider.identify(&app, &grant).await?;
        let tenant = Tenant::agree(imported.tenant, identity.tenant)?;
        let mut metadata = identity.metadata;
        if let Some(tenant) = tenant {
            metadata.insert(
                crate::TENANT_METADATA_KEY.into(),
                tenant.as_str().to_owned(),
            );
        }
        let install = NewInstall {
            app: app.app.clone(),
            provider: provider.id().clone(),
            marketplace_key: identity.marketplace_key,
            account: imported.account,
            status: ConnectionStatus::Active,
            scopes: imported.scopes,
            metadata,
            workspace: None,
            tokens: imported.tokens,
        };
        Ok(match self.vault().insert_install(install, None).await? {
            Inserted::New(connection) => ImportOutcome::Stored(Box::new(connection)),
            Inserted::Exists(_) => ImportOutcome::Exists,
        })
    }
}
