//! What a marketplace's own notices do to a connection.

use std::time::Duration;

use crate::{
    ConnectionId, ConnectionStatus, Event, EventKind, FlowError, InstallFlow, Installing,
    MarketplaceKey, Metadata, PrivacyRequest, StateKind, StateToken,
};

/// How long an applied notice's delivery id is remembered: marketplaces retry a delivery for
/// hours (Shopify: 8 times over 4 hours), never for days.
pub const DELIVERY_MEMORY: Duration = Duration::from_secs(48 * 3600);

/// How long a delivery being applied holds its id: a replica that dies mid-way lets the
/// marketplace's next try through after this.
const APPLYING: Duration = Duration::from_secs(60);

/// A delivery taken by [`InstallFlow::first_delivery`]: [`InstallFlow::delivered`] once its
/// notice is applied, [`InstallFlow::forget_delivery`] when it could not be, so that the
/// marketplace's next try is applied.
#[derive(Debug)]
pub struct Delivery {
    applying: StateToken,
    applied: StateToken,
}

/// What a delivery id says about a notice.
#[derive(Debug)]
pub enum DeliverySeen {
    /// Never seen: apply it.
    First(Delivery),
    /// Applied already: answer as if applied now.
    Applied,
    /// Being applied by another request: the marketplace should try again shortly.
    Applying,
}

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

    /// Whether notice `delivery_id` of this app was seen: across replicas (in the state store),
    /// a delivery is applied by one request at a time, and once applied it is remembered for
    /// [`DELIVERY_MEMORY`].
    pub async fn first_delivery(
        &self,
        install: Installing<'_>,
        delivery_id: &str,
    ) -> Result<DeliverySeen, FlowError> {
        let key = |stage: &str| {
            StateToken::derived(&[
                stage.as_bytes(),
                install.provider.id().as_str().as_bytes(),
                install.credentials.app.as_str().as_bytes(),
                delivery_id.as_bytes(),
            ])
        };
        let (applying, applied) = (key("applying"), key("applied"));
        let store = self.state_store();
        if store.exists(StateKind::Delivery, &applied).await? {
            return Ok(DeliverySeen::Applied);
        }
        if !store
            .put_new(StateKind::Delivery, &applying, b"1", APPLYING)
            .await?
        {
            // Applied meanwhile, or still being applied.
            return Ok(if store.exists(StateKind::Delivery, &applied).await? {
                DeliverySeen::Applied
            } else {
                DeliverySeen::Applying
            });
        }
        Ok(DeliverySeen::First(Delivery { applying, applied }))
    }

    /// Remembers that a delivery's notice was applied.
    pub async fn delivered(&self, delivery: Delivery) {
        let store = self.state_store();
        let remembered = store
            .put(
                StateKind::Delivery,
                &delivery.applied,
                b"1",
                DELIVERY_MEMORY,
            )
            .await;
        if let Err(error) = remembered {
            // A repeat after `APPLYING` is applied again: uninstalls are idempotent, a privacy
            // request is passed on twice.
            tracing::warn!(%error, "an applied notice's delivery id could not be remembered");
        }
        if let Err(error) = store.take(StateKind::Delivery, &delivery.applying).await {
            tracing::warn!(%error, "a notice's delivery mark could not be removed; it expires by itself");
        }
    }

    /// Forgets a delivery whose notice was not applied, so that the next try is.
    pub async fn forget_delivery(&self, delivery: Delivery) {
        if let Err(error) = self
            .state_store()
            .take(StateKind::Delivery, &delivery.applying)
            .await
        {
            tracing::warn!(%error, "a notice's delivery mark could not be removed; the next try waits a minute");
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
