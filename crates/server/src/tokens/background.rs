//! Background work on tokens: renewing those about to expire (optional per replica), and
//! retrying revokes at providers that were down when a connection was disconnected.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use installgate_core::{
    AppDirectory, Clock, Connection, ConnectionFilter, ConnectionId, ConnectionStatus,
    ConnectionVault, ProviderId, Timestamp,
};
use tokio::time::Instant;

use super::Tokens;
use crate::settings::TokenSettings;

/// Connections looked at per pass.
const BATCH: i64 = 200;
/// Never-expiring connections offered to their provider's upgrade per pass.
const UPGRADES_PER_PASS: u32 = 100;
/// A revoke that keeps failing is given up after this long; the grant then ends when the
/// marketplace expires it.
const GIVE_UP_REVOKE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Renews the tokens of active connections that expire within the lead time, and moves those
/// whose access token never expires to expiring ones where the marketplace offers that, at most
/// `background_rate_per_second` calls per provider.
pub async fn refresh_expiring(
    tokens: Tokens,
    vault: Arc<dyn ConnectionVault>,
    clock: Arc<dyn Clock>,
    settings: TokenSettings,
) {
    let gap = Duration::from_secs(1) / settings.background_rate_per_second;
    let mut next_slot: HashMap<ProviderId, Instant> = HashMap::new();
    let mut ticks = tokio::time::interval(settings.background_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut upgrades_after = None;
    loop {
        ticks.tick().await;
        let before = clock.now().plus(settings.background_lead);
        let due = match vault.expiring(before, BATCH).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "background refresh: cannot list expiring connections");
                continue;
            }
        };
        for connection in due {
            let slot = next_slot
                .entry(connection.provider.clone())
                .or_insert_with(Instant::now);
            tokio::time::sleep_until(*slot).await;
            *slot = Instant::now().max(*slot) + gap;
            match tokens
                .renew_expiring(connection.id, settings.background_lead)
                .await
            {
                Ok(true) => {
                    tracing::info!(connection = %connection.id, "background refresh: renewed")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, connection = %connection.id, "background refresh failed")
                }
            }
        }
        // Then a page of the connections still on tokens that never expire, so that moving
        // thousands of them never holds up the refreshes above.
        upgrades_after =
            upgrade_non_expiring(&tokens, vault.as_ref(), &mut next_slot, gap, upgrades_after)
                .await;
    }
}

/// One page of the active connections whose access token never expires, after `after`: each is
/// offered to its provider's upgrade (most marketplaces offer none, and the call makes no
/// request then). Where the next page starts; `None` to start again from the first.
async fn upgrade_non_expiring(
    tokens: &Tokens,
    vault: &dyn ConnectionVault,
    next_slot: &mut HashMap<ProviderId, Instant>,
    gap: Duration,
    after: Option<ConnectionId>,
) -> Option<ConnectionId> {
    let filter = ConnectionFilter {
        status: Some(ConnectionStatus::Active),
        never_expiring: true,
        ..ConnectionFilter::default()
    };
    let page = match vault.list(&filter, after, UPGRADES_PER_PASS).await {
        Ok(page) => page,
        Err(error) => {
            tracing::warn!(%error, "token upgrades: cannot list non-expiring connections");
            return after;
        }
    };
    let next = page.last().map(|last| last.id);
    for connection in page {
        let slot = next_slot
            .entry(connection.provider.clone())
            .or_insert_with(Instant::now);
        tokio::time::sleep_until(*slot).await;
        match tokens.upgrade(connection.id).await {
            Ok(true) => {
                *slot = Instant::now().max(*slot) + gap;
                tracing::info!(connection = %connection.id, "token upgraded to an expiring one");
            }
            Ok(false) => {}
            Err(error) => {
                *slot = Instant::now().max(*slot) + gap;
                tracing::warn!(%error, connection = %connection.id, "token upgrade failed");
            }
        }
    }
    next
}

/// Retries the revokes at providers that failed when connections were disconnected.
pub async fn retry_revocations(
    vault: Arc<dyn ConnectionVault>,
    apps: Arc<dyn AppDirectory>,
    clock: Arc<dyn Clock>,
    settings: TokenSettings,
) {
    let mut ticks = tokio::time::interval(settings.revoke_retry.min(Duration::from_secs(10)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = clock.now();
        let due = match vault.revocations_due(now, BATCH).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "cannot list pending revokes");
                continue;
            }
        };
        for connection in due {
            retry_revocation(vault.as_ref(), apps.as_ref(), &connection, now, &settings).await;
        }
    }
}

/// One more try at revoking an uninstalled connection's grant at its marketplace (the retries
/// above, and an operator's "retry the revoke" in the console): `true` when the marketplace
/// took it. The attempt is recorded: done, given up, or when to try again.
pub async fn retry_revocation(
    vault: &dyn ConnectionVault,
    apps: &dyn AppDirectory,
    connection: &Connection,
    now: Timestamp,
    settings: &TokenSettings,
) -> bool {
    let (revoked, retry_at) = match installgate_core::revoke_at_provider(apps, connection).await {
        Ok(()) => {
            tracing::info!(connection = %connection.id, "revoked at the provider on retry");
            (true, None)
        }
        Err(error)
            if error.is_transient() && now.since(connection.updated_at) < GIVE_UP_REVOKE_AFTER =>
        {
            tracing::warn!(%error, connection = %connection.id, "revoke at the provider failed again");
            (false, Some(now.plus(settings.revoke_retry)))
        }
        Err(error) => {
            tracing::warn!(%error, connection = %connection.id, "revoke at the provider given up");
            (false, None)
        }
    };
    if let Err(error) = vault.settle_revocation(connection.id, retry_at).await {
        tracing::warn!(%error, connection = %connection.id, "cannot record a revoke attempt");
    }
    revoked
}
