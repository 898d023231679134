//! Access tokens through the vendor API, against the simulators: refresh when expiring or
//! forced, the cache, revoked grants, marketplace outages, lost races, disconnects, the
//! background refresher, and cache invalidation between replicas.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use installgate_core::{
    AccessToken, AppId, Clock as _, ConnectionId, ConnectionStatus, ConnectionVault as _,
    FreshnessWanted, MarketplaceKey, NewInstall, ProviderId, RefreshPolicy, RefreshToken,
    Refresher, SystemClock, TokenSet, TokenSwap,
};
use installgate_sandbox::{
    Failure, HubSpotSimulator, PipedriveSimulator, PipedriveUser, SimulatedApp,
};
use installgate_server::providers::{PreparedApps, Providers};
use installgate_store::MemoryRefreshLock;
use installgate_tests::{
    FreshPostgres, RedisCluster, TEST_SESSION_KEY, TEST_VAULT_KEY, TestApp, free_port,
    install_pipedrive, redis_url, spawn_app, unique_prefix,
};
use reqwest::StatusCode;
use serde_json::Value;

const CLIENT_ID: &str = "pd-client";
const CLIENT_SECRET: &str = "pd-secret";

fn simulated_app(name: &str, redirect_uri: String) -> SimulatedApp {
    SimulatedApp {
        name: name.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri,
        scopes: vec!["deals:full".into()],
        partner_sign_in: false,
    }
}

async fn pipedrive() -> PipedriveSimulator {
    let user = PipedriveUser {
        company_id: 1,
        user_id: 10,
        company_name: "Acme".into(),
        name: "Ann".into(),
    };
    PipedriveSimulator::start(
        vec![simulated_app("CRM", "http://127.0.0.1:1/unused".into())],
        vec![user],
        0,
    )
    .await
    .unwrap()
}

/// The API key every setup configures.
struct Gateway {
    app: TestApp,
    key: String,
}

/// A gateway with one Pipedrive app `crm` wired to `sim`, plus `extra` settings.
async fn gateway(sim: &PipedriveSimulator, extra: &[(&str, &str)]) -> Gateway {
    let (key, hash) = installgate_server::api::new_key().unwrap();
    let token_url = sim.token_url();
    let mut vars: Vec<(&str, &str)> = vec![
        ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", CLIENT_SECRET),
        ("INSTALLGATE__APPS__CRM__TOKEN_URL", &token_url),
        ("INSTALLGATE__APPS__CRM__API_BASE_URL", sim.url()),
        ("INSTALLGATE__API__KEYS__VENDOR__SHA256", &hash),
        ("INSTALLGATE__PROVIDERS__TIMEOUT_MS", "500"),
        ("INSTALLGATE__TOKENS__LOCK_TTL_MS", "1500"),
    ];
    vars.extend_from_slice(extra);
    Gateway {
        app: spawn_app(&vars).await,
        key,
    }
}

/// A Pipedrive install of `crm` (see `install_pipedrive`).
async fn install(
    app: &TestApp,
    sim: &PipedriveSimulator,
    expires_in: Duration,
) -> (ConnectionId, String) {
    install_pipedrive(&app.vault().await, sim, CLIENT_ID, expires_in).await
}

impl Gateway {
    async fn token(&self, id: ConnectionId, body: Option<&str>) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/connections/{id}/access-token")),
            )
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let retry_after = response.headers().get("retry-after").cloned();
        let mut body: Value = response.json().await.unwrap();
        if let Some(retry_after) = retry_after {
            body["retry_after"] = Value::String(retry_after.to_str().unwrap().to_owned());
        }
        (status, body)
    }

    async fn disconnect(&self, id: ConnectionId) -> (StatusCode, Value) {
        let response = self
            .app
            .client
            .delete(self.app.url(&format!("/api/v1/connections/{id}")))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn stored(&self, id: ConnectionId) -> installgate_core::Connection {
        self.app.vault().await.get(id).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_once_then_served_from_the_cache() {
    let sim = pipedrive().await;
    sim.rotate_refresh_tokens(true);
    let gateway = gateway(&sim, &[]).await;
    let (id, old) = install(&gateway.app, &sim, Duration::from_secs(60)).await;
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(
        fresh, old,
        "a token expiring within the margin is refreshed first"
    );
    assert!(sim.access_token_works(&fresh));
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["api_domain"], sim.url());
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sim.refresh_calls(), 1);
    // The rotated refresh token was stored before anyone could use the old one again.
    let stored = gateway.stored(id).await;
    assert_eq!(
        stored.tokens.unwrap().access_token,
        AccessToken::new(fresh.clone())
    );
    for _ in 0..5 {
        let (status, again) = gateway.token(id, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["access_token"], fresh.as_str());
    }
    assert_eq!(sim.refresh_calls(), 1, "valid tokens come from the cache");
    assert_eq!(sim.refused_refreshes(), 0);
}

#[tokio::test]
async fn a_valid_token_is_handed_out_as_is_and_force_refresh_renews_it() {
    let sim = pipedrive().await;
    let gateway = gateway(&sim, &[]).await;
    let (id, old) = install(&gateway.app, &sim, Duration::from_secs(3600)).await;
    let (status, body) = gateway.token(id, Some("")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["access_token"], old.as_str());
    assert_eq!(sim.refresh_calls(), 0);
    let (status, body) = gateway.token(id, Some(r#"{"force_refresh": true}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["access_token"], old.as_str());
    assert_eq!(sim.refresh_calls(), 1);
    let (_, body) = gateway.token(id, Some(r#"{"force_refresh": false}"#)).await;
    assert_ne!(body["access_token"], old.as_str());
    assert_eq!(sim.refresh_calls(), 1);
}

/// Pipedrive may refuse in its documented message shape (`{"success": false, "error":
/// "Invalid grant: …"}`) or in RFC 6749's (`{"error": "invalid_grant", …}`): both are run.
#[tokio::test]
async fn a_refused_unchanged_refresh_token_revokes_the_connection_once() {
    refused_unchanged_refresh_token_revokes_once(false).await;
}

#[tokio::test]
async fn a_refused_unchanged_refresh_token_revokes_the_connection_once_in_rfc6749_shape() {
    refused_unchanged_refresh_token_revokes_once(true).await;
}

async fn refused_unchanged_refresh_token_revokes_once(rfc6749: bool) {
    let sim = pipedrive().await;
    sim.refuse_in_rfc6749_shape(rfc6749);
    let gateway = gateway(&sim, &[]).await;
    let (id, _) = install(&gateway.app, &sim, Duration::from_secs(10)).await;
    // The grant ends at Pipedrive (revoked there), so the stored refresh token is refused.
    let refresh = gateway
        .stored(id)
        .await
        .tokens
        .unwrap()
        .refresh_token
        .unwrap();
    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", sim.url()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", refresh.expose())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "connection_inactive");
    assert_eq!(body["error"]["message"], "the connection is revoked");
    let stored = gateway.stored(id).await;
    assert_eq!(stored.status, ConnectionStatus::Revoked);
    assert!(stored.tokens.is_none());
    let (status, _) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        sim.refused_refreshes(),
        1,
        "a revoked connection is not refreshed again"
    );
    assert_eq!(gateway.app.event_count("connection.revoked").await, 1);
}

/// A refresh answer is checked like a code-exchange answer (a refresh may leave the refresh
/// token out): a broken one is refused with 502 and the stored tokens stay as they were.
#[tokio::test]
async fn a_refresh_answer_without_a_usable_token_or_lifetime_is_refused_and_nothing_changes() {
    let sim = pipedrive().await;
    let gateway = gateway(&sim, &[]).await;
    let (id, old) = install(&gateway.app, &sim, Duration::from_secs(10)).await;
    for changes in [
        serde_json::json!({ "access_token": "" }),
        serde_json::json!({ "expires_in": 0 }),
        serde_json::json!({ "expires_in": 40_000_000 }),
        serde_json::json!({ "expires_in": null }),
    ] {
        sim.tamper_next_answer(changes.clone());
        let (status, body) = gateway.token(id, None).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{changes}: {body}");
        assert_eq!(body["error"]["code"], "provider_error", "{changes}");
        let stored = gateway.stored(id).await;
        assert_eq!(stored.status, ConnectionStatus::Active, "{changes}");
        assert_eq!(
            stored.tokens.unwrap().access_token,
            AccessToken::new(old.clone()),
            "{changes}"
        );
    }
    // Without a refresh token, a refresh answer is whole: the old refresh token stays.
    let before = gateway.stored(id).await.tokens.unwrap().refresh_token;
    sim.tamper_next_answer(serde_json::json!({ "refresh_token": null }));
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["access_token"], old.as_str());
    assert_eq!(
        gateway.stored(id).await.tokens.unwrap().refresh_token,
        before
    );
}

#[tokio::test]
async fn a_marketplace_timeout_leaves_the_connection_active_with_a_503() {
    let sim = pipedrive().await;
    let gateway = gateway(&sim, &[]).await;
    let (id, old) = install(&gateway.app, &sim, Duration::from_secs(10)).await;
    sim.fail_next(Failure::Slow(Duration::from_secs(2)));
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["retry_after"], "5");
    let stored = gateway.stored(id).await;
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert_eq!(
        stored.tokens.unwrap().access_token,
        AccessToken::new(old.clone())
    );
    sim.fail_next(Failure::ServerError);
    let (status, _) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Once the marketplace is back, the same connection refreshes.
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["access_token"], old.as_str());
    assert_eq!(gateway.app.event_count("connection.revoked").await, 0);
}

/// Pipedrive may refuse in its documented message shape (`{"success": false, "error":
/// "Invalid grant: …"}`) or in RFC 6749's (`{"error": "invalid_grant", …}`): both are run.
#[tokio::test]
async fn a_refused_refresh_token_that_changed_meanwhile_is_a_lost_race_not_a_revocation() {
    refused_changed_refresh_token_is_a_lost_race(false).await;
}

#[tokio::test]
async fn a_refused_refresh_token_that_changed_meanwhile_is_a_lost_race_not_a_revocation_in_rfc6749_shape()
 {
    refused_changed_refresh_token_is_a_lost_race(true).await;
}

async fn refused_changed_refresh_token_is_a_lost_race(rfc6749: bool) {
    let sim = pipedrive().await;
    sim.refuse_in_rfc6749_shape(rfc6749);
    let gateway = gateway(&sim, &[]).await;
    let vault = gateway.app.vault().await;
    // Stored: a refresh token the marketplace no longer knows, expiring soon.
    let (id, _) = install(&gateway.app, &sim, Duration::from_secs(10)).await;
    let stale = gateway.stored(id).await;
    let stale_tokens = TokenSet {
        refresh_token: Some(RefreshToken::new("pd-refresh-forgotten")),
        ..stale.tokens.clone().unwrap()
    };
    let TokenSwap::Swapped(stale) = vault
        .swap_tokens(id, stale.revision, stale_tokens, None)
        .await
        .unwrap()
    else {
        panic!("the swap must apply");
    };
    let settings = &gateway.app.settings;
    let providers = Providers::all(
        &settings.providers,
        &installgate_server::metrics::Metrics::new().unwrap(),
    )
    .unwrap();
    let apps = PreparedApps::new(settings, &providers);
    let refresher = Refresher::new(
        Arc::new(vault.clone()),
        Arc::new(MemoryRefreshLock::default()),
        Arc::new(apps),
        Arc::new(SystemClock),
        RefreshPolicy::default(),
    );
    // The refresh is slow; meanwhile someone else stores new, valid tokens.
    sim.fail_next(Failure::Slow(Duration::from_millis(300)));
    let refreshing = tokio::spawn(async move {
        refresher
            .fresh(id, FreshnessWanted::default())
            .await
            .map(|fresh| fresh.connection)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (access, refresh) = sim.grant(CLIENT_ID, 1, 10);
    let winner = TokenSet {
        access_token: AccessToken::new(access.clone()),
        refresh_token: Some(RefreshToken::new(refresh)),
        expires_at: Some(SystemClock.now().plus(Duration::from_secs(3600))),
    };
    assert!(matches!(
        vault
            .swap_tokens(id, stale.revision, winner, None)
            .await
            .unwrap(),
        TokenSwap::Swapped(_)
    ));
    let outcome = refreshing
        .await
        .unwrap()
        .expect("the stored tokens are used");
    assert_eq!(outcome.status, ConnectionStatus::Active);
    assert_eq!(
        outcome.tokens.unwrap().access_token,
        AccessToken::new(access)
    );
    assert_eq!(sim.refused_refreshes(), 1);
    assert_eq!(gateway.app.event_count("connection.revoked").await, 0);
}

#[tokio::test]
async fn disconnect_revokes_at_pipedrive_and_uninstalls_once() {
    let sim = pipedrive().await;
    let gateway = gateway(&sim, &[]).await;
    let (id, access) = install(&gateway.app, &sim, Duration::from_secs(3600)).await;
    let (status, _) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::OK, "cached before the disconnect");
    let (status, body) = gateway.disconnect(id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["provider_revoke"], "done");
    assert_eq!(body["connection"]["status"], "uninstalled");
    assert_eq!(sim.revoke_calls(), 1);
    assert!(
        !sim.access_token_works(&access),
        "the grant ended at Pipedrive"
    );
    let stored = gateway.stored(id).await;
    assert_eq!(stored.status, ConnectionStatus::Uninstalled);
    assert!(stored.tokens.is_none());
    let (status, body) = gateway.token(id, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the cache did not outlive it");
    assert_eq!(body["error"]["message"], "the connection is uninstalled");
    let (status, body) = gateway.disconnect(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["provider_revoke"], "not_needed");
    assert_eq!(sim.revoke_calls(), 1);
    assert_eq!(gateway.app.event_count("installation.uninstalled").await, 1);
}

#[tokio::test]
async fn disconnect_while_pipedrive_is_down_uninstalls_now_and_revokes_later() {
    let sim = pipedrive().await;
    let gateway = gateway(&sim, &[("INSTALLGATE__TOKENS__REVOKE_RETRY_SECONDS", "1")]).await;
    let (id, access) = install(&gateway.app, &sim, Duration::from_secs(3600)).await;
    sim.fail_next(Failure::ServerError);
    let (status, body) = gateway.disconnect(id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["provider_revoke"], "pending");
    assert_eq!(body["connection"]["status"], "uninstalled");
    let (status, _) = gateway.token(id, None).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "kept tokens are never handed out"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while sim.access_token_works(&access) {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoke was not retried"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sim.revoke_calls(), 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while gateway.stored(id).await.tokens.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the kept tokens stayed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gateway.app.event_count("installation.uninstalled").await, 1);
}

#[tokio::test]
async fn hubspot_disconnect_uses_the_app_uninstall_endpoint() {
    let port = free_port();
    let sim = HubSpotSimulator::start(
        vec![simulated_app(
            "CRM",
            format!("http://127.0.0.1:{port}/install/hubspot/crm"),
        )],
        0,
    )
    .await
    .unwrap();
    let (key, hash) = installgate_server::api::new_key().unwrap();
    let token_url = sim.token_url();
    let api_base = sim.url().to_owned();
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", CLIENT_SECRET),
        ("INSTALLGATE__APPS__CRM__TOKEN_URL", &token_url),
        ("INSTALLGATE__APPS__CRM__API_BASE_URL", &api_base),
        ("INSTALLGATE__API__KEYS__VENDOR__SHA256", &hash),
    ])
    .await;
    let (access, refresh) = sim.grant(CLIENT_ID, 4242);
    let connection = app
        .vault()
        .await
        .upsert_install(
            NewInstall {
                app: AppId::parse("crm").unwrap(),
                provider: ProviderId::parse("hubspot").unwrap(),
                marketplace_key: MarketplaceKey::parse("4242").unwrap(),
                account: None,
                status: ConnectionStatus::Active,
                scopes: vec![],
                metadata: BTreeMap::new(),
                workspace: None,
                tokens: TokenSet {
                    access_token: AccessToken::new(access.clone()),
                    refresh_token: Some(RefreshToken::new(refresh)),
                    // Expiring: the uninstall call needs a valid access token, so it refreshes first.
                    expires_at: Some(SystemClock.now().plus(Duration::from_secs(30))),
                },
            },
            None,
        )
        .await
        .unwrap();
    let gateway = Gateway { app, key };
    let (status, body) = gateway.disconnect(connection.id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["provider_revoke"], "done");
    assert_eq!(sim.refresh_calls(), 1);
    assert_eq!(sim.uninstall_calls(), 1);
    let stored = gateway.stored(connection.id).await;
    assert_eq!(stored.status, ConnectionStatus::Uninstalled);
    assert!(stored.tokens.is_none());
}

#[tokio::test]
async fn the_background_refresher_renews_tokens_before_they_expire() {
    let sim = pipedrive().await;
    let gateway = gateway(
        &sim,
        &[
            ("INSTALLGATE__TOKENS__BACKGROUND_REFRESH", "true"),
            ("INSTALLGATE__TOKENS__BACKGROUND_INTERVAL_SECONDS", "1"),
            ("INSTALLGATE__TOKENS__BACKGROUND_LEAD_SECONDS", "900"),
        ],
    )
    .await;
    // Valid for 10 minutes: outside the request margin, inside the background lead.
    let (id, old) = install(&gateway.app, &sim, Duration::from_secs(600)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.refresh_calls() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no background refresh"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let tokens = gateway.stored(id).await.tokens.unwrap();
        if tokens.access_token != AccessToken::new(old.clone()) {
            assert!(tokens.expires_at.unwrap() > SystemClock.now().plus(Duration::from_secs(1800)));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the renewal was not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Renewed tokens are outside the lead: no further refreshes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sim.refresh_calls(), 1);
}

#[tokio::test]
async fn a_refresh_on_one_replica_drops_the_token_cached_on_another() {
    refresh_on_one_replica(("INSTALLGATE__STATE__REDIS_URL", &redis_url())).await;
}

/// The same on a Redis Cluster: the refresh lock, the stored state and the announcement all go
/// through the cluster.
#[tokio::test]
async fn a_refresh_on_one_replica_drops_the_token_cached_on_another_on_a_redis_cluster() {
    let cluster = RedisCluster::start().await;
    refresh_on_one_replica((
        "INSTALLGATE__STATE__REDIS_CLUSTER_URLS",
        &cluster.urls_joined(),
    ))
    .await;
}

/// Two replicas on one Redis (reached through `redis`, a setting and its value) and one
/// PostgreSQL: a forced refresh on replica two reaches replica one's cache.
async fn refresh_on_one_replica(redis: (&str, &str)) {
    let sim = pipedrive().await;
    let postgres = FreshPostgres::create().await;
    let prefix = unique_prefix();
    let shared: Vec<(&str, &str)> = vec![
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        redis,
        ("INSTALLGATE__STATE__KEY_PREFIX", &prefix),
        ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY),
        ("INSTALLGATE__DATABASE__URL", postgres.url()),
        ("INSTALLGATE__VAULT__ACTIVE_KEY", "k1"),
        ("INSTALLGATE__VAULT__KEYS__K1", TEST_VAULT_KEY),
    ];
    let one = gateway(&sim, &shared).await;
    // Replica two accepts replica one's key (later settings win).
    let hash: String = installgate_server::api::hash_key(&one.key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut second_vars = shared.clone();
    second_vars.push(("INSTALLGATE__API__KEYS__VENDOR__SHA256", &hash));
    let two = Gateway {
        app: gateway(&sim, &second_vars).await.app,
        key: one.key.clone(),
    };
    let (id, old) = install(&one.app, &sim, Duration::from_secs(3600)).await;
    let (_, body) = one.token(id, None).await;
    assert_eq!(
        body["access_token"],
        old.as_str(),
        "now cached on replica one"
    );
    let (_, body) = two.token(id, Some(r#"{"force_refresh": true}"#)).await;
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, old);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = one.token(id, None).await;
        if body["access_token"] == fresh.as_str() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replica one kept serving the old token"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.refresh_calls(), 1);
}
