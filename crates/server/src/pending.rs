//! Revoking pending installs that nobody claimed within `install.pending_ttl_seconds`.

use std::sync::Arc;

use installgate_core::{AppDirectory, Clock, ConnectionVault};

use crate::settings::Settings;

/// Revokes every pending connection older than the configured time, at the marketplace and
/// here. Returns how many it revoked.
pub async fn sweep(
    settings: &Settings,
    vault: &dyn ConnectionVault,
    apps: &dyn AppDirectory,
    clock: &dyn Clock,
) -> Result<usize, installgate_core::VaultError> {
    let before = clock.now().minus(settings.install.pending_ttl);
    let mut revoked = 0;
    for connection in vault.stale_pending(before, 100).await? {
        let Some(expired) = vault.expire_pending(connection.id).await? else {
            continue; // Claimed meanwhile.
        };
        revoked += 1;
        if let (Some((credentials, provider)), Some(tokens)) =
            (apps.lookup(&expired.app), &connection.tokens)
            && let Err(error) = provider
                .revoke(&credentials.for_connection(&connection), tokens)
                .await
        {
            tracing::warn!(connection = %expired.id, %error, "revoking an expired pending install failed");
        }
        tracing::info!(connection = %expired.id, app = %expired.app, "unclaimed install expired");
    }
    Ok(revoked)
}

/// Sweeps every `install.sweep_interval_seconds` until the task is aborted.
pub async fn run(
    settings: Arc<Settings>,
    vault: Arc<dyn ConnectionVault>,
    apps: Arc<dyn AppDirectory>,
    clock: Arc<dyn Clock>,
) {
    loop {
        tokio::time::sleep(settings.install.sweep_interval).await;
        if let Err(error) = sweep(&settings, vault.as_ref(), apps.as_ref(), clock.as_ref()).await {
            tracing::warn!(%error, "checking pending installs failed");
        }
    }
}
