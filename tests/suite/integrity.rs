//! Install integrity: attacks that try to tie a marketplace grant to the wrong vendor account,
//! each performed over HTTP by an attacker's and a victim's clients, each with cookies of its
//! own. Every test asserts that the grant is not tied to the wrong account and that no
//! `installation.completed` event names it. The state's provider binding, which no request can
//! reach, is tested on the flow itself.

use installgate_core::ConnectionStatus;
use installgate_tests::{Browser, TestApp, hidden_input, location, spawn_app};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;

use crate::{hubspot, pipedrive};

/// The account id behind a signed-in browser, read from its account page's connections.
async fn account_of(app: &TestApp, email: &str) -> installgate_core::AccountId {
    let vault = app.vault().await;
    let installgate_store::Database::Sqlite(pool, _) = vault.database() else {
        unreachable!("the suites' gateways run on SQLite")
    };
    let (id,): (String,) = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap();
    installgate_core::AccountId::parse(&id).unwrap()
}

/// `installation.completed` events whose data names `key`.
async fn completed_events_naming(app: &TestApp, key: &str) -> usize {
    app.events("installation.completed")
        .await
        .iter()
        .filter(|data| data["marketplace_key"] == key)
        .count()
}

/// Attack 1: a page of the attacker's drives a signed-in victim's browser to the callback with
/// the attacker's Pipedrive code (a popup), then to the claim URL (a navigation). Neither
/// request may attach the attacker's company to the victim's account.
#[tokio::test]
async fn a_callback_and_a_claim_driven_by_another_site_attach_nothing() {
    let setup = pipedrive::setup().await;
    let victim = pipedrive::signed_in_browser(&setup.app, "victim@example.com").await;
    // The attacker is Pipedrive user 10 of Beta Corp (company 2) and holds a fresh code.
    let attackers_code = setup.sim.issue_code(pipedrive::CLIENT_ID, 2, 10).unwrap();

    let popup = victim.get(&pipedrive::callback(&attackers_code)).await;
    assert_eq!(popup.status(), StatusCode::OK, "the confirmation page");
    let navigation = victim.get("/install/pipedrive/crm/claim").await;
    assert_ne!(
        navigation.status(),
        StatusCode::SEE_OTHER,
        "a GET attached the install: {}",
        location(&navigation)
    );

    let held = pipedrive::connection(&setup.app, "2:10").await.unwrap();
    assert_eq!(held.status, ConnectionStatus::Pending);
    assert_eq!(held.account, None, "the grant was tied to the victim");
    assert_eq!(completed_events_naming(&setup.app, "2:10").await, 0);
}

/// Attack 1, second half: in the store, a claim never moves a connection that another account
/// owns. Two browsers of one Pipedrive user hold the same install; the first to confirm keeps
/// it, the second sees a page that says so, and an event records the refused attempt.
#[tokio::test]
async fn a_claim_never_moves_a_connection_another_account_owns() {
    let setup = pipedrive::setup().await;
    let owner = pipedrive::signed_in_browser(&setup.app, "owner@example.com").await;
    let latecomer = pipedrive::signed_in_browser(&setup.app, "late@example.com").await;
    let mut forms = Vec::new();
    for browser in [&owner, &latecomer] {
        let code = setup.sim.issue_code(pipedrive::CLIENT_ID, 1, 10).unwrap();
        let page = browser.get(&pipedrive::callback(&code)).await;
        assert_eq!(page.status(), StatusCode::OK);
        forms.push(hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap());
    }
    let confirm = "/install/pipedrive/crm/confirm";
    let first = owner
        .post(
            confirm,
            &[("csrf_token", &forms[0]), ("decision", "confirm")],
        )
        .await;
    pipedrive::assert_at_setup(&first);
    let second = latecomer
        .post(
            confirm,
            &[("csrf_token", &forms[1]), ("decision", "confirm")],
        )
        .await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let page = second.text().await.unwrap();
    assert!(page.contains("connected to another account"), "{page}");

    let stored = pipedrive::connection(&setup.app, "1:10").await.unwrap();
    let owner_id = account_of(&setup.app, "owner@example.com").await;
    assert_eq!(stored.account, Some(owner_id.clone()));
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert_eq!(completed_events_naming(&setup.app, "1:10").await, 1);
    let refused = setup.app.events("connection.claim_refused").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let late_id = account_of(&setup.app, "late@example.com").await;
    assert_eq!(refused[0]["account"], owner_id.as_str());
    assert_eq!(refused[0]["metadata"]["refused_account"], late_id.as_str());
}

/// The consent URL `/connect` answered with, and its `state`.
async fn connect_consent(browser: &Browser) -> (String, String) {
    let response = browser.get("/connect/pipedrive/crm").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let consent = location(&response);
    let state = url::Url::parse(&consent)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    (consent, state)
}

/// Attack 2: the attacker starts an install at `/connect` and hands the consent URL to a victim,
/// whose browser (no gateway cookie, or signed in as the victim) comes back with the victim's
/// code and the attacker's state. The victim's Pipedrive account must not land in the
/// attacker's vendor account, and no code may be exchanged.
#[tokio::test]
async fn a_connect_state_finished_in_another_browser_is_refused() {
    let setup = pipedrive::setup().await;
    let attacker = pipedrive::signed_in_browser(&setup.app, "attacker@example.com").await;
    let victim_signed_in = pipedrive::signed_in_browser(&setup.app, "victim@example.com").await;
    for victim in [Browser::new(&setup.app), victim_signed_in] {
        let (_, state) = connect_consent(&attacker).await;
        // The victim (Acme Ltd, user 10) consents; Pipedrive sends the victim's browser back.
        let code = setup.sim.issue_code(pipedrive::CLIENT_ID, 1, 10).unwrap();
        let back = victim
            .get(&format!("{}&state={state}", pipedrive::callback(&code)))
            .await;
        assert_eq!(
            back.status(),
            StatusCode::BAD_REQUEST,
            "{}",
            location(&back)
        );
        let page = back.text().await.unwrap();
        assert!(page.contains("another browser"), "{page}");
    }
    assert_eq!(setup.sim.token_calls(), 0, "a code was exchanged");
    assert!(pipedrive::connection(&setup.app, "1:10").await.is_none());
    assert_eq!(completed_events_naming(&setup.app, "1:10").await, 0);
}

/// Attack 2, the other binding: a browser that started at `/connect` as one account and comes
/// back signed in as another is refused, before any token call.
#[tokio::test]
async fn a_connect_callback_signed_in_as_another_account_is_refused() {
    let setup = pipedrive::setup().await;
    pipedrive::create_account(&setup.app, "second@example.com").await;
    let browser = pipedrive::signed_in_browser(&setup.app, "first@example.com").await;
    let (_, state) = connect_consent(&browser).await;
    // The same browser signs in as another account before the callback arrives.
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let signed_in = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "second@example.com"),
                ("password", pipedrive::PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let code = setup.sim.issue_code(pipedrive::CLIENT_ID, 1, 10).unwrap();
    let back = browser
        .get(&format!("{}&state={state}", pipedrive::callback(&code)))
        .await;
    assert_eq!(back.status(), StatusCode::BAD_REQUEST);
    assert_eq!(setup.sim.token_calls(), 0);
    assert!(pipedrive::connection(&setup.app, "1:10").await.is_none());
}

/// Attack 3: a `returnUrl` that carries a `state` of the attacker's choosing.
/// Exactly one `state` leaves the gateway, the one it minted.
#[tokio::test]
async fn a_state_planted_in_the_return_url_is_replaced_not_appended() {
    let setup = hubspot::setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let planted = format!("{}&state=EVIL", hubspot::RETURN_URL);
    let start = browser.get(&hubspot::authorize_path("crm", &planted)).await;
    hubspot::sign_up_through(&browser, &location(&start), "planted@example.com").await;
    let resumed = browser.get(&hubspot::authorize_path("crm", &planted)).await;
    assert_eq!(resumed.status(), StatusCode::FOUND);
    let back = url::Url::parse(&location(&resumed)).unwrap();
    let states: Vec<String> = back
        .query_pairs()
        .filter(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert_eq!(states.len(), 1, "{back}");
    assert_ne!(states[0], "EVIL");
    // HubSpot's own parameters survive.
    assert!(
        back.query_pairs()
            .any(|(name, value)| name == "portalId" && value == "4242")
    );
}

const SSO_SECRET: &str = "a shared secret of more than thirty-two characters";

fn assertion_for(request: &str, subject: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "https://vendor.example", "aud": "installgate-test", "sub": subject,
        "exp": now + 120, "nonce": request,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SSO_SECRET.as_bytes()),
    )
    .unwrap()
}

/// Attack 4: login CSRF through the vendor's own login. The attacker starts a sign-in in their
/// own browser, signs in at the vendor as themselves, and sends the victim the return link.
/// The victim's browser must not be signed in as the attacker, so that the victim's next
/// HubSpot install cannot be stored under the attacker's account.
#[tokio::test]
async fn a_vendor_login_link_started_in_another_browser_signs_nobody_in() {
    let app = spawn_app(&[
        ("INSTALLGATE__ACCOUNTS__MODE", "external"),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__LOGIN_URL",
            "https://vendor.example/login",
        ),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__ISSUER",
            "https://vendor.example",
        ),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__AUDIENCE",
            "installgate-test",
        ),
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__HS256_SECRET", SSO_SECRET),
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "hs-client"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "hs-secret"),
        ("INSTALLGATE__APPS__CRM__PARTNER_SIGN_IN", "true"),
    ])
    .await;
    let attacker = Browser::new(&app);
    let handed_over = attacker.get("/account/sign-in").await;
    let request = url::Url::parse(&location(&handed_over))
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "request")
        .unwrap()
        .1
        .into_owned();
    let link = format!(
        "/account/sso?request={request}&assertion={}",
        assertion_for(&request, "attacker-7")
    );

    let victim = Browser::new(&app);
    let followed = victim.get(&link).await;
    assert_eq!(followed.status(), StatusCode::BAD_REQUEST);
    let page = followed.text().await.unwrap();
    assert!(page.contains("started in another browser"), "{page}");
    assert_ne!(
        victim.get("/account/").await.status(),
        StatusCode::OK,
        "the victim is signed in as the attacker"
    );
    // The victim's next HubSpot install asks the victim to sign in; no state is minted for the
    // attacker's account.
    let install = victim
        .get(&hubspot::authorize_path("crm", hubspot::RETURN_URL))
        .await;
    assert_eq!(install.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&install).starts_with("/account/sign-in?"),
        "{}",
        location(&install)
    );
}

/// The funnel counter of cancelled callbacks for Pipedrive's `crm` app, read from `/metrics`.
async fn cancelled_callbacks(app: &TestApp) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with("installgate_install_steps_total{"))
        .filter(|line| line.contains("step=\"callback\"") && line.contains("outcome=\"cancelled\""))
        .filter(|line| line.contains("app=\"crm\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Anyone can send `?error=user_denied`. Without a state or an install this browser
/// started, it is counted but writes no event; a cancel of a started install writes one, once.
#[tokio::test]
async fn made_up_cancels_write_no_events_and_a_real_cancel_writes_one() {
    let setup = pipedrive::setup().await;
    let app = &setup.app;
    for _ in 0..200 {
        let page = hubspot::cookieless_get(app, "/install/pipedrive/crm?error=user_denied").await;
        assert_eq!(page.status(), StatusCode::OK);
    }
    let made_up_state = hubspot::cookieless_get(
        app,
        "/install/pipedrive/crm?error=user_denied&state=bm90LWEtc3RhdGUtb2YtdGhlLWdhdGV3YXlz",
    )
    .await;
    assert_eq!(made_up_state.status(), StatusCode::OK);
    assert_eq!(app.event_count("installation.cancelled").await, 0);
    assert_eq!(cancelled_callbacks(app).await, 201);

    // A gateway-started install, cancelled at Pipedrive: Pipedrive sends the state back.
    let user = pipedrive::signed_in_browser(app, "user@example.com").await;
    let (_, state) = connect_consent(&user).await;
    let cancel = format!("/install/pipedrive/crm?error=user_denied&state={state}");
    assert_eq!(user.get(&cancel).await.status(), StatusCode::OK);
    assert_eq!(app.event_count("installation.cancelled").await, 1);
    // The same cancel again, from anywhere: the state is spent.
    assert_eq!(user.get(&cancel).await.status(), StatusCode::OK);
    assert_eq!(
        hubspot::cookieless_get(app, &cancel).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.event_count("installation.cancelled").await, 1);

    // Without the state, the browser that started the install still counts once.
    connect_consent(&user).await;
    let bare = "/install/pipedrive/crm?error=user_denied";
    assert_eq!(user.get(bare).await.status(), StatusCode::OK);
    assert_eq!(user.get(bare).await.status(), StatusCode::OK);
    assert_eq!(app.event_count("installation.cancelled").await, 2);
    assert_eq!(cancelled_callbacks(app).await, 206);
}

/// The provider half of the state's binding, below HTTP: an app id resolves only under its own
/// marketplace (`/install/{provider}/{app}` answers 404 otherwise), so no request can present a
/// state to another marketplace's flow for the same app; the flow refuses it all the same.
#[tokio::test]
async fn a_state_is_taken_only_for_the_app_and_marketplace_it_was_minted_for() {
    use installgate_core::{
        AppId, InstallFlow, ProviderId, StateBinding, StateRefusal, SystemClock,
    };
    let db = installgate_tests::TestDatabase::sqlite().await;
    let flow = InstallFlow::new(
        std::sync::Arc::new(installgate_store::MemoryStateStore::new(100)),
        std::sync::Arc::new(db.vault("k1", &[("k1", 1)])),
        std::sync::Arc::new(SystemClock),
        std::time::Duration::from_secs(60),
    );
    let crm = AppId::parse("crm").unwrap();
    let (minted_for, other) = (
        ProviderId::parse("hubspot").unwrap(),
        ProviderId::parse("pipedrive").unwrap(),
    );
    let binding = StateBinding {
        app: crm.clone(),
        provider: minted_for.clone(),
        account: None,
        return_origin: None,
        browser: None,
        tenant: None,
        workspace: None,
    };
    for (app, provider) in [
        (&crm, &other),
        (&AppId::parse("leads").unwrap(), &minted_for),
    ] {
        let state = flow.mint_state(&binding).await.unwrap();
        let taken = flow
            .take_state(Some(state.expose()), app, provider, None, None, None)
            .await
            .unwrap();
        assert_eq!(taken, Err(StateRefusal::Foreign), "{app} of {provider}");
    }
    let state = flow.mint_state(&binding).await.unwrap();
    let taken = flow
        .take_state(Some(state.expose()), &crm, &minted_for, None, None, None)
        .await
        .unwrap();
    assert_eq!(taken.unwrap(), binding);
}
