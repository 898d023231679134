//! Installs that arrive from a marketplace without a state: held as a pending connection,
//! claimed by an account (a compare-and-set), or cancelled by their user.

use crate::{
    AccountId, AuthorizationCode, Connection, ConnectionId, ConnectionStatus, Event, EventKind,
    FlowError, InstallFlow, InstallFor, Installing, VaultError, Workspace,
};

/// What became of a Marketplace install that arrived without a state.
#[derive(Debug)]
pub enum Held {
    /// A reinstall of a connection claimed already: it stays claimed and active.
    AlreadyClaimed(Box<Connection>),
    /// Held as a pending connection until an account claims it.
    Pending(Box<Connection>),
}

/// What a claim of a held install came to.
#[derive(Debug)]
pub enum Claim {
    Attached(Box<Connection>),
    /// Another account owns it; it stays with that account (`connection.claim_refused` records
    /// the attempt).
    OwnedByAnother,
    /// It is gone (expired and revoked, or never stored).
    Gone,
}

impl InstallFlow {
    /// A code without a state (an install started in the marketplace): exchanged at once, its
    /// tokens held in a pending connection, unless the connection is claimed already.
    pub async fn hold(
        &self,
        install: Installing<'_>,
        code: &AuthorizationCode,
    ) -> Result<Held, FlowError> {
        let target = InstallFor {
            account: None,
            status: ConnectionStatus::Pending,
            workspace: None,
        };
        let connection = self
            .install(install.provider, install.credentials, code, target)
            .await?;
        let app = &install.credentials.app;
        if connection.status == ConnectionStatus::Active {
            tracing::info!(app = %app, connection = %connection.id, "reinstall of a claimed install");
            return Ok(Held::AlreadyClaimed(Box::new(connection)));
        }
        tracing::info!(app = %app, connection = %connection.id, "install held until claimed");
        Ok(Held::Pending(Box::new(connection)))
    }

    /// Attaches a held install to `account` (in `workspace`, when one was chosen), as a
    /// compare-and-set: a connection another account owns is never moved, and the refused
    /// attempt is recorded.
    pub async fn claim(
        &self,
        id: ConnectionId,
        account: &AccountId,
        workspace: Option<&Workspace>,
    ) -> Result<Claim, FlowError> {
        let attached = self
            .vault()
            .attach(
                id,
                account,
                workspace,
                Some(EventKind::InstallationCompleted),
            )
            .await;
        match attached {
            Ok(connection) => {
                tracing::info!(app = %connection.app, connection = %connection.id, account = %account, "install claimed");
                Ok(Claim::Attached(Box::new(connection)))
            }
            Err(VaultError::OwnedByAnother(owned)) => {
                tracing::warn!(app = %owned.app, connection = %owned.id, account = %account, "claim refused: the connection belongs to another account");
                let mut event = Event::about(EventKind::ClaimRefused, &owned, self.now());
                event
                    .data
                    .metadata
                    .insert("refused_account".to_owned(), account.as_str().to_owned());
                self.vault().publish(event).await?;
                Ok(Claim::OwnedByAnother)
            }
            Err(VaultError::NotFound) => Ok(Claim::Gone),
            Err(other) => Err(other.into()),
        }
    }

    /// The user cancelled a held install: it ends only while still pending and unowned (a
    /// connection claimed meanwhile, in another browser that held it too, keeps its grant),
    /// and only then is the grant revoked at the marketplace. Whether it ended.
    pub async fn cancel_held(
        &self,
        install: Installing<'_>,
        id: ConnectionId,
    ) -> Result<bool, FlowError> {
        // The tokens are read first: the cancel deletes them.
        let held = self.vault().get(id).await?;
        let cancelled = self
            .vault()
            .cancel_pending(id, Some(EventKind::InstallationCancelled))
            .await?;
        if cancelled.is_none() {
            return Ok(false);
        }
        if let Some(tokens) = held.as_ref().and_then(|held| held.tokens.as_ref())
            && let Err(error) = install
                .provider
                .revoke(
                    &install
                        .credentials
                        .for_tenant(held.as_ref().and_then(Connection::tenant)),
                    tokens,
                )
                .await
        {
            tracing::warn!(app = %install.credentials.app, %error, "revoking a cancelled install failed");
        }
        Ok(true)
    }
}
