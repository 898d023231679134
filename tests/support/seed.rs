use std::collections::BTreeMap;
use std::time::Duration;

use installgate_core::{
    AccessToken, AccountId, AppId, Clock as _, ConnectionId, ConnectionStatus,
    ConnectionVault as _, MarketplaceKey, NewInstall, ProviderId, RefreshToken, SystemClock,
    TokenSet,
};
use installgate_sandbox::PipedriveSimulator;
use installgate_store::SqlVault;

/// An active connection of app `crm` for Pipedrive company 1, user 10 (attached to `acct-1`),
/// holding tokens `sim` issued to `client_id`, the access token expiring in `expires_in`: an
/// install as if it had just happened. Returns its id and access token.
pub async fn install_pipedrive(
    vault: &SqlVault,
    sim: &PipedriveSimulator,
    client_id: &str,
    expires_in: Duration,
) -> (ConnectionId, String) {
    let (access, refresh) = sim.grant(client_id, 1, 10);
    let connection = vault
        .upsert_install(
            NewInstall {
                app: AppId::parse("crm").unwrap(),
                provider: ProviderId::parse("pipedrive").unwrap(),
                marketplace_key: MarketplaceKey::parse("1:10").unwrap(),
                account: Some(AccountId::parse("acct-1").unwrap()),
                status: ConnectionStatus::Active,
                scopes: vec!["deals:full".into()],
                metadata: BTreeMap::from([("api_domain".to_owned(), sim.url().to_owned())]),
                workspace: None,
                tokens: TokenSet {
                    access_token: AccessToken::new(access.clone()),
                    refresh_token: Some(RefreshToken::new(refresh)),
                    expires_at: Some(SystemClock.now().plus(expires_in)),
                },
            },
            None,
        )
        .await
        .unwrap();
    (connection.id, access)
}
