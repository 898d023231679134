//! What a marketplace's own notices do to a connection.

use crate::{
    ConnectionId, ConnectionStatus, EventKind, FlowError, InstallFlow, Installing, MarketplaceKey,
};

impl InstallFlow {
    /// The marketplace says the app was uninstalled for `key`: the connection becomes
    /// uninstalled (its tokens deleted) with `installation.uninstalled`, once. The connection
    /// that changed, if one did (a repeat, or an unknown account, changes nothing).
    pub async fn uninstalled(
        &self,
        install: Installing<'_>,
        key: &MarketplaceKey,
    ) -> Result<Option<ConnectionId>, FlowError> {
        let app = &install.credentials.app;
        let found = self
            .vault()
            .find_by_key(app, install.provider.id(), key)
            .await?;
        let Some(connection) = found else {
            tracing::info!(app = %app, "uninstall notice for an unknown installation");
            return Ok(None);
        };
        if connection.status == ConnectionStatus::Uninstalled {
            tracing::info!(app = %app, connection = %connection.id, "repeated uninstall notice");
            return Ok(None);
        }
        self.vault()
            .set_status(
                connection.id,
                ConnectionStatus::Uninstalled,
                Some(EventKind::InstallationUninstalled),
            )
            .await?;
        tracing::info!(app = %app, connection = %connection.id, "uninstalled");
        Ok(Some(connection.id))
    }
}
