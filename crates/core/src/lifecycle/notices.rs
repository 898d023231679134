//! What a marketplace's own notices do to a connection.

use std::time::Duration;

use crate::{
    ConnectionId, ConnectionStatus, Event, EventKind, FlowError, InstallFlow, Installing,
    MarketplaceKey, Metadata, PrivacyRequest, StateKind, StateToken,
};

/// How long a notice's delivery id is remembered: marketplaces retry a delivery for hours
/// (Shopify: 8 times over 4 hours), never for days.
pub const DELIVERY_MEMORY: Duration = Duration::from_secs(48 * 3600);

/// A delivery id taken by [`InstallFlow::first_delivery`]: forget it when the notice could not
/// be applied, so that the marketplace's next try is applied.
#[derive(Debug)]
pub struct Delivery(StateToken);

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

    /// Whether this is the first delivery of notice `delivery_id` for this app: remembered for
    /// [`DELIVERY_MEMORY`], across replicas (in the state store). `None` for a repeat.
    pub async fn first_delivery(
        &self,
        install: Installing<'_>,
        delivery_id: &str,
    ) -> Result<Option<Delivery>, FlowError> {
        let token = StateToken::derived(&[
            install.provider.id().as_str().as_bytes(),
            install.credentials.app.as_str().as_bytes(),
            delivery_id.as_bytes(),
        ]);
        let first = self
            .state_store()
            .put_new(StateKind::Delivery, &token, b"1", DELIVERY_MEMORY)
            .await?;
        Ok(first.then_some(Delivery(token)))
    }

    /// Forgets a delivery whose notice was not applied.
    pub async fn forget_delivery(&self, delivery: Delivery) {
        if let Err(error) = self
            .state_store()
            .take(StateKind::Delivery, &delivery.0)
            .await
        {
            tracing::warn!(%error, "a notice's delivery id could not be forgotten");
        }
    }

    /// The marketplace passed on a privacy-law request about `key`: it goes to the vendor as its
    /// event, with the ids that say what it is about, about the connection when there is one
    /// (a shop's data must be erased some time after it uninstalled).
    pub async fn privacy_request(
        &self,
        install: Installing<'_>,
        key: &MarketplaceKey,
        request: PrivacyRequest,
        details: Metadata,
    ) -> Result<(), FlowError> {
        let app = &install.credentials.app;
        let found = self
            .vault()
            .find_by_key(app, install.provider.id(), key)
            .await?;
        let mut event = match &found {
            Some(connection) => Event::about(request.event(), connection, self.now()),
            None => {
                let mut event = Event::without_connection(
                    request.event(),
                    app.clone(),
                    install.provider.id().clone(),
                    self.now(),
                );
                event.data.marketplace_key = Some(key.clone());
                event
            }
        };
        event.data.metadata = details;
        self.vault().publish(event).await?;
        tracing::info!(app = %app, request = request.event().as_str(), "privacy request passed on");
        Ok(())
    }
}
