//! Pipedrive installs end to end against the Pipedrive simulator: the three scenarios from a
//! Marketplace install, confirmation, cancel, gateway-started installs, uninstall, and the
//! `api_domain` check.

use std::time::Duration;

use installgate_core::ConnectionStatus;
use installgate_sandbox::{PipedriveSimulator, PipedriveUser, SimulatedApp};
use installgate_tests::{Browser, TestApp, free_port, hidden_input, location, spawn_app};
use reqwest::StatusCode;

pub(crate) const CLIENT_ID: &str = "pd-client-id";
const CLIENT_SECRET: &str = "pd-client-secret";
pub(crate) const PASSWORD: &str = "correct horse battery";
pub(crate) const SETUP_URL: &str = "https://vendor.example/pipedrive/setup";

pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) sim: PipedriveSimulator,
}

fn user(company_id: u64, user_id: u64, company_name: &str) -> PipedriveUser {
    PipedriveUser {
        company_id,
        user_id,
        company_name: company_name.into(),
        name: format!("User {user_id}"),
    }
}

pub(crate) async fn setup() -> Setup {
    setup_with(&[]).await
}

pub(crate) async fn setup_with(extra: &[(&str, &str)]) -> Setup {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let sim = PipedriveSimulator::start(
        vec![SimulatedApp {
            name: "Demo CRM".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: format!("{public_url}/install/pipedrive/crm"),
            scopes: vec!["deals:full".into(), "users:read".into()],
            partner_sign_in: false,
        }],
        vec![
            user(1, 10, "Acme Ltd"),
            user(2, 10, "Beta Corp"),
            user(1, 11, "Acme Ltd"),
        ],
        0,
    )
    .await
    .unwrap();
    let bind = format!("127.0.0.1:{port}");
    let token_url = sim.token_url();
    let authorize_url = sim.authorize_url();
    let api_base = sim.url().to_owned();
    let mut vars: Vec<(&str, &str)> = vec![
        ("INSTALLGATE__SERVER__BIND", &bind),
        ("INSTALLGATE__SERVER__PUBLIC_URL", &public_url),
        ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", CLIENT_ID),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", CLIENT_SECRET),
        ("INSTALLGATE__APPS__CRM__TOKEN_URL", &token_url),
        ("INSTALLGATE__APPS__CRM__AUTHORIZE_URL", &authorize_url),
        ("INSTALLGATE__APPS__CRM__API_BASE_URL", &api_base),
        ("INSTALLGATE__APPS__CRM__SETUP_URL", SETUP_URL),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app(&vars).await;
    Setup { app, sim }
}

pub(crate) fn callback(code: &str) -> String {
    format!("/install/pipedrive/crm?code={code}")
}

async fn vault(app: &TestApp) -> installgate_store::SqlVault {
    app.vault().await
}

pub(crate) async fn connection(app: &TestApp, key: &str) -> Option<installgate_core::Connection> {
    app.connection("crm", "pipedrive", key).await
}

pub(crate) async fn events(app: &TestApp, kind: &str) -> usize {
    app.event_count(kind).await
}

/// Follows a sign-in redirect to the sign-up page and creates an account; returns the redirect.
async fn sign_up_from(browser: &Browser, sign_in: &str, email: &str) -> reqwest::Response {
    let purpose = "to continue installing crm from Pipedrive";
    browser
        .sign_up_from(sign_in, purpose, email, PASSWORD)
        .await
}

pub(crate) async fn sign_in_from(
    browser: &Browser,
    sign_in: &str,
    email: &str,
) -> reqwest::Response {
    let page = browser.get(sign_in).await.text().await.unwrap();
    let resume = hidden_input(&page, "resume").unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let install = hidden_input(&page, "install").unwrap_or_default();
    browser
        .post(
            "/account/sign-in",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
                ("install", &install),
            ],
        )
        .await
}

pub(crate) async fn create_account(app: &TestApp, email: &str) {
    let browser = Browser::new(app);
    let page = browser.get("/account/sign-up").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post(
            "/account/sign-up",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
}

pub(crate) fn assert_at_setup(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = location(response);
    assert!(
        target.starts_with(&format!("{SETUP_URL}?connection_id=")),
        "{target}"
    );
    target
}

#[tokio::test]
async fn a_new_user_signs_up_during_a_marketplace_install() {
    let setup = setup().await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    assert_eq!(arrived.status(), StatusCode::SEE_OTHER);
    // The code was exchanged at once; the tokens wait in a pending connection.
    assert_eq!(setup.sim.token_calls(), 1);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Pending
    );
    assert_eq!(events(&setup.app, "installation.completed").await, 0);

    // The sign-up form, posted inside the install's flow, attaches it.
    let signed_up = sign_up_from(&browser, &location(&arrived), "new@example.com").await;
    assert_at_setup(&signed_up);
    let stored = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    assert!(stored.account.is_some());
    assert_eq!(stored.metadata["company_name"], "Acme Ltd");
    assert_eq!(events(&setup.app, "installation.completed").await, 1);
}

#[tokio::test]
async fn an_existing_user_who_is_not_signed_in_signs_in_during_the_install() {
    let setup = setup().await;
    create_account(&setup.app, "known@example.com").await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 11).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    let signed_in = sign_in_from(&browser, &location(&arrived), "known@example.com").await;
    assert_at_setup(&signed_in);
    assert_eq!(
        connection(&setup.app, "1:11").await.unwrap().status,
        ConnectionStatus::Active
    );
    assert_eq!(events(&setup.app, "installation.completed").await, 1);
}

pub(crate) async fn signed_in_browser(app: &TestApp, email: &str) -> Browser {
    let browser = Browser::new(app);
    let page = browser.get("/account/sign-up").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post(
            "/account/sign-up",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    browser
}

/// Answers "Connect" on the confirmation page `page` (its HTML), as its form would.
async fn confirm_on(browser: &Browser, page: &str) -> reqwest::Response {
    let csrf = hidden_input(page, "csrf_token").unwrap();
    browser
        .post(
            "/install/pipedrive/crm/confirm",
            &[("csrf_token", &csrf), ("decision", "confirm")],
        )
        .await
}

/// A signed-in `browser` comes back from Pipedrive as user `user` of company `company` and
/// confirms the install.
pub(crate) async fn confirm_install(setup: &Setup, browser: &Browser, company: u64, user: u64) {
    let code = setup.sim.issue_code(CLIENT_ID, company, user).unwrap();
    let page = browser.get(&callback(&code)).await.text().await.unwrap();
    let confirmed = confirm_on(browser, &page).await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_signed_in_user_confirms_and_a_cross_site_confirmation_is_refused() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "signed@example.com").await;
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let page = browser.get(&callback(&code)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Acme Ltd")
            && page.contains("signed@example.com")
            && page.contains("user 10"),
        "{page}"
    );
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let confirm = "/install/pipedrive/crm/confirm";

    let cross_site = browser
        .post_from(
            confirm,
            &[("csrf_token", &csrf), ("decision", "confirm")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let no_token = browser.post(confirm, &[("decision", "confirm")]).await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Pending
    );

    let confirmed = browser
        .post(confirm, &[("csrf_token", &csrf), ("decision", "confirm")])
        .await;
    assert_at_setup(&confirmed);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Active
    );
    assert_eq!(events(&setup.app, "installation.completed").await, 1);
}

#[tokio::test]
async fn a_signed_in_user_who_cancels_revokes_the_grant() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "cancel@example.com").await;
    let code = setup.sim.issue_code(CLIENT_ID, 2, 10).unwrap();
    let page = browser.get(&callback(&code)).await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let cancelled = browser
        .post(
            "/install/pipedrive/crm/confirm",
            &[("csrf_token", &csrf), ("decision", "cancel")],
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(setup.sim.revoke_calls(), 1);
    let stored = connection(&setup.app, "2:10").await.unwrap();
    assert_eq!(stored.status, ConnectionStatus::Uninstalled);
    assert!(stored.tokens.is_none());
    assert_eq!(events(&setup.app, "installation.cancelled").await, 1);
}

#[tokio::test]
async fn cancel_at_pipedrive_shows_the_cancelled_page_and_stores_nothing() {
    let setup = setup().await;
    let browser = Browser::new(&setup.app);
    let response = browser
        .get("/install/pipedrive/crm?error=user_denied")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Installation cancelled") && page.contains("close this tab"),
        "{page}"
    );
    assert!(page.contains("Pipedrive Marketplace"));
    // Nothing ties this cancel to an install that was started: no event (see the integrity
    // suite for the cancels that do write one).
    assert_eq!(events(&setup.app, "installation.cancelled").await, 0);
    assert_eq!(setup.sim.token_calls(), 0);
    let (rows,): (i64,) = match vault(&setup.app).await.database() {
        installgate_store::Database::Sqlite(pool, _) => {
            sqlx::query_as("SELECT COUNT(*) FROM connections")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        installgate_store::Database::Postgres(_) => unreachable!(),
    };
    assert_eq!(rows, 0, "nothing stored");
    let other = browser
        .get("/install/pipedrive/crm?error=server_error")
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    assert!(other.text().await.unwrap().contains("was not completed"));
}

#[tokio::test]
async fn malformed_callbacks_get_the_400_page() {
    let setup = setup().await;
    let browser = Browser::new(&setup.app);
    for query in [
        "",
        "code=",
        "code=a&code=b",
        "code=a&error=user_denied",
        "state=abc",
    ] {
        let response = browser
            .get(&format!("/install/pipedrive/crm?{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    assert_eq!(setup.sim.token_calls(), 0);
}

#[tokio::test]
async fn a_gateway_started_install_requires_its_state() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "connect@example.com").await;
    let start = || async {
        let response = browser.get("/connect/pipedrive/crm").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let consent = url::Url::parse(&location(&response)).unwrap();
        consent
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    // Missing: the browser started at /connect, so a callback without a state is refused.
    start().await;
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let missing = browser.get(&callback(&code)).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    // Forged.
    start().await;
    let forged = installgate_core::StateToken::generate().unwrap();
    let response = browser
        .get(&format!("{}&state={}", callback(&code), forged.expose()))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(setup.sim.token_calls(), 0, "refused before any token call");
    // The real one works once; its replay is refused.
    let state = start().await;
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let good = browser
        .get(&format!("{}&state={state}", callback(&code)))
        .await;
    assert_at_setup(&good);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let replay = browser
        .get(&format!("{}&state={state}", callback(&code)))
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(setup.sim.token_calls(), 1);
}

#[tokio::test]
async fn uninstall_with_good_and_bad_credentials() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "gone@example.com").await;
    confirm_install(&setup, &browser, 1, 10).await;

    let refused = setup
        .sim
        .send_uninstall(CLIENT_ID, 1, 10, false)
        .await
        .unwrap();
    assert_eq!(refused, 401);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Active
    );

    assert_eq!(
        setup
            .sim
            .send_uninstall(CLIENT_ID, 1, 10, true)
            .await
            .unwrap(),
        200
    );
    let gone = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(gone.status, ConnectionStatus::Uninstalled);
    assert!(gone.tokens.is_none());
    let (tokens_left,): (i64,) = match &vault(&setup.app).await.database() {
        installgate_store::Database::Sqlite(pool, _) => sqlx::query_as(
            "SELECT COUNT(*) FROM connections WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
        installgate_store::Database::Postgres(_) => unreachable!(),
    };
    assert_eq!(tokens_left, 0);
    assert_eq!(events(&setup.app, "installation.uninstalled").await, 1);
    // A repeat is a no-op.
    assert_eq!(
        setup
            .sim
            .send_uninstall(CLIENT_ID, 1, 10, true)
            .await
            .unwrap(),
        200
    );
    assert_eq!(events(&setup.app, "installation.uninstalled").await, 1);

    // A reinstall reactivates the same record.
    confirm_install(&setup, &browser, 1, 10).await;
    let back = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(back.id, gone.id);
    assert_eq!(back.status, ConnectionStatus::Active);
}

/// The generic notice route asks the provider: Pipedrive's uninstall notice is a `DELETE` to the
/// install URL, so the same notice posted to `/notify` is not one (404), and changes nothing.
#[tokio::test]
async fn the_notice_route_takes_only_what_the_marketplace_sends() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "kept@example.com").await;
    confirm_install(&setup, &browser, 1, 10).await;
    let client = reqwest::Client::new();
    let notice = serde_json::json!({
        "client_id": CLIENT_ID, "company_id": 1, "user_id": 10, "timestamp": 1,
    });
    for (method, path, status) in [
        (reqwest::Method::POST, "/notify/pipedrive/crm", 404),
        (reqwest::Method::POST, "/notify/pipedrive/unknown", 404),
        (reqwest::Method::POST, "/notify/nowhere/crm", 404),
        (reqwest::Method::PUT, "/install/pipedrive/crm", 405),
    ] {
        let answer = client
            .request(method.clone(), setup.app.url(path))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .json(&notice)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status, "{method} {path}");
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        assert!(
            body.get("error").is_some() || status == 405,
            "{method} {path}: {body}"
        );
    }
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Active
    );
    assert_eq!(events(&setup.app, "installation.uninstalled").await, 0);
}

#[tokio::test]
async fn a_user_in_two_companies_gets_two_connections() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "two@example.com").await;
    for company in [1, 2] {
        let code = setup.sim.issue_code(CLIENT_ID, company, 10).unwrap();
        let page = browser.get(&callback(&code)).await.text().await.unwrap();
        let done = confirm_on(&browser, &page).await;
        assert_at_setup(&done);
    }
    let first = connection(&setup.app, "1:10").await.unwrap();
    let second = connection(&setup.app, "2:10").await.unwrap();
    assert_ne!(first.id, second.id);
}

#[tokio::test]
async fn an_api_domain_outside_pipedrive_is_refused_and_never_called() {
    let setup = setup().await;
    // A listener that counts connections stands in for the foreign host.
    let foreign = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    foreign.set_nonblocking(true).unwrap();
    let foreign_url = format!("http://{}", foreign.local_addr().unwrap());
    setup.sim.set_api_domain(&foreign_url);
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let response = browser.get(&callback(&code)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(
        foreign.accept().is_err(),
        "a request reached the foreign api_domain"
    );
    assert_eq!(setup.sim.users_me_calls(), 0);
    assert!(connection(&setup.app, "1:10").await.is_none());
}

/// A code-exchange answer without an access token, with
/// an `expires_in` that is not a positive number below one year, or without the refresh token
/// Pipedrive always issues, is refused: the error page, nothing stored, no event.
#[tokio::test]
async fn a_token_answer_missing_a_part_is_refused_and_nothing_is_stored() {
    let setup = setup().await;
    let cases = [
        serde_json::json!({ "access_token": null }),
        serde_json::json!({ "access_token": "" }),
        serde_json::json!({ "expires_in": null }),
        serde_json::json!({ "expires_in": 0 }),
        serde_json::json!({ "expires_in": -60 }),
        serde_json::json!({ "expires_in": "soon" }),
        serde_json::json!({ "expires_in": 31_536_000 }),
        serde_json::json!({ "expires_in": 3600.5 }),
        serde_json::json!({ "refresh_token": null }),
        serde_json::json!({ "refresh_token": "" }),
    ];
    for changes in cases {
        setup.sim.tamper_next_answer(changes.clone());
        let browser = Browser::new(&setup.app);
        let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
        let response = browser.get(&callback(&code)).await;
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{changes}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Pipedrive did not complete the install"),
            "{changes}: {page}"
        );
        assert!(
            connection(&setup.app, "1:10").await.is_none(),
            "{changes}: stored"
        );
    }
    assert_eq!(setup.sim.users_me_calls(), 0, "no refused answer was used");
    assert_eq!(events(&setup.app, "installation.completed").await, 0);
    // The same install with a whole answer goes through.
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    assert_eq!(arrived.status(), StatusCode::SEE_OTHER);
    assert!(connection(&setup.app, "1:10").await.is_some());
}

#[tokio::test]
async fn a_slow_sign_up_does_not_lose_the_install_because_the_code_was_exchanged_first() {
    let setup = setup().await;
    // The simulator enforces the five-minute code lifetime: a code exchanged late is refused.
    let late = setup.sim.issue_code(CLIENT_ID, 2, 10).unwrap();
    setup.sim.advance(Duration::from_secs(360));
    let browser = Browser::new(&setup.app);
    assert_eq!(
        browser.get(&callback(&late)).await.status(),
        StatusCode::BAD_GATEWAY
    );

    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    // Six simulated minutes pass before the new user finishes signing up.
    setup.sim.advance(Duration::from_secs(360));
    let signed_up = sign_up_from(&browser, &location(&arrived), "slow@example.com").await;
    assert_at_setup(&signed_up);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Active
    );
}

#[tokio::test]
async fn another_browser_cannot_claim_a_pending_install() {
    let setup = setup().await;
    let victim = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    victim.get(&callback(&code)).await;
    let attacker = signed_in_browser(&setup.app, "attacker@example.com").await;
    let claim = attacker.get("/install/pipedrive/crm/claim").await;
    assert_eq!(claim.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Pending
    );
}

#[tokio::test]
async fn an_unclaimed_pending_install_expires_and_its_grant_is_revoked() {
    let setup = setup_with(&[
        ("INSTALLGATE__INSTALL__PENDING_TTL_SECONDS", "1"),
        ("INSTALLGATE__INSTALL__SWEEP_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 11).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    assert_eq!(
        connection(&setup.app, "1:11").await.unwrap().status,
        ConnectionStatus::Pending
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let status = connection(&setup.app, "1:11").await.unwrap().status;
        if status == ConnectionStatus::Revoked {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pending install never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        connection(&setup.app, "1:11")
            .await
            .unwrap()
            .tokens
            .is_none()
    );
    assert_eq!(setup.sim.revoke_calls(), 1);
    assert_eq!(events(&setup.app, "installation.abandoned").await, 1);
    assert_eq!(events(&setup.app, "connection.revoked").await, 0);
    // Signing up afterwards finds nothing to claim.
    let signed_up = sign_up_from(&browser, &location(&arrived), "late@example.com").await;
    let claim = browser.get(&location(&signed_up)).await;
    assert_eq!(claim.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_simulated_token_endpoint_enforces_pipedrives_rules() {
    let setup = setup().await;
    let client = reqwest::Client::new();
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let redirect = setup.app.url("/install/pipedrive/crm");
    let json = client
        .post(setup.sim.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .json(&serde_json::json!({ "grant_type": "authorization_code", "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    assert!(
        json.text()
            .await
            .unwrap()
            .contains("content must be application/x-www-form-urlencoded")
    );
    let no_auth = client
        .post(setup.sim.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        no_auth
            .text()
            .await
            .unwrap()
            .contains("Invalid client: cannot retrieve client credentials")
    );
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
    ];
    let ok = client
        .post(setup.sim.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["api_domain"], setup.sim.url());
    let reused = client
        .post(setup.sim.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("Invalid grant: authorization_code is invalid")
    );
}

#[tokio::test]
async fn reinstalling_a_claimed_install_goes_straight_to_setup_with_new_tokens() {
    let setup = setup().await;
    let browser = signed_in_browser(&setup.app, "again@example.com").await;
    confirm_install(&setup, &browser, 1, 10).await;
    let first = connection(&setup.app, "1:10").await.unwrap();

    // The same Pipedrive user clicks "Install now" again, from another browser.
    let elsewhere = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let again = elsewhere.get(&callback(&code)).await;
    assert_at_setup(&again);
    let second = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.status, ConnectionStatus::Active);
    assert_eq!(second.account, first.account);
    assert_ne!(
        second.tokens, first.tokens,
        "the new grant's tokens are kept"
    );
    assert_eq!(events(&setup.app, "installation.completed").await, 2);
}

/// Waits (up to 15 s) until the held install of `key` has expired and been revoked.
async fn until_the_held_install_expires(setup: &Setup, key: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while connection(&setup.app, key).await.unwrap().status != ConnectionStatus::Revoked {
        assert!(
            std::time::Instant::now() < deadline,
            "the held install never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn with_sign_up_off_a_new_user_is_sent_to_get_an_account_and_the_held_grant_is_abandoned() {
    let setup = setup_with(&[
        ("INSTALLGATE__APPS__CRM__INSTALL_POLICY__SIGN_UP", "off"),
        (
            "INSTALLGATE__APPS__CRM__INSTALL_POLICY__GET_ACCOUNT_URL",
            "https://vendor.example/pricing",
        ),
        ("INSTALLGATE__INSTALL__PENDING_TTL_SECONDS", "1"),
        ("INSTALLGATE__INSTALL__SWEEP_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    let sign_in = location(&arrived);
    // The sign-up page of the install says an account is needed, and where to get one.
    let sign_up_path = sign_in.replacen("/account/sign-in", "/account/sign-up", 1);
    let page = browser.get(&sign_up_path).await.text().await.unwrap();
    assert!(page.contains("An account is needed"), "{page}");
    assert!(page.contains("href=\"https://vendor.example/pricing\""));
    assert!(page.contains("/account/sign-in?"), "it offers sign-in");
    assert!(!page.contains("name=\"password\""), "no sign-up form");
    // A sign-up posted anyway (with the page's own fields) creates nothing.
    let sign_in_page = browser.get(&sign_in).await.text().await.unwrap();
    let csrf = hidden_input(&sign_in_page, "csrf_token").unwrap();
    let resume = hidden_input(&sign_in_page, "resume").unwrap();
    let install = hidden_input(&sign_in_page, "install").unwrap();
    for path in [sign_up_path.as_str(), "/account/sign-up"] {
        let posted = browser
            .post(
                path,
                &[
                    ("email", "new@example.com"),
                    ("password", PASSWORD),
                    ("csrf_token", &csrf),
                    ("resume", &resume),
                    ("install", &install),
                ],
            )
            .await;
        assert_eq!(posted.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let again = sign_in_from(&browser, &sign_in, "new@example.com").await;
    assert_ne!(again.status(), StatusCode::SEE_OTHER, "no account was made");
    // Nobody claims it: the grant is revoked and the install is abandoned, once.
    until_the_held_install_expires(&setup, "1:10").await;
    assert_eq!(setup.sim.revoke_calls(), 1);
    assert_eq!(events(&setup.app, "installation.abandoned").await, 1);
    assert_eq!(events(&setup.app, "installation.completed").await, 0);
    // An existing account may still install.
    create_account(&setup.app, "old@example.com").await;
    let code = setup.sim.issue_code(CLIENT_ID, 2, 10).unwrap();
    let other = Browser::new(&setup.app);
    let arrived = other.get(&callback(&code)).await;
    let signed_in = sign_in_from(&other, &location(&arrived), "old@example.com").await;
    assert_at_setup(&signed_in);
    assert_eq!(events(&setup.app, "installation.completed").await, 1);
}

#[tokio::test]
async fn a_held_install_waits_for_the_plan_and_is_claimed_when_the_user_comes_back() {
    let vendor = installgate_tests::VendorStub::start("CRM").await;
    let setup = setup_with(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    // A new user signs up on the install's page: not entitled yet, so the install stays held
    // and the user goes to the plan page.
    let refused = sign_up_from(&browser, &location(&arrived), "ivy@example.com").await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let plans = location(&refused);
    assert!(plans.starts_with(&vendor.plans_url), "{plans}");
    let questions = vendor.questions();
    assert_eq!(questions.last().unwrap().0["marketplace_key"], "1:10");
    assert_eq!(
        connection(&setup.app, "1:10").await.unwrap().status,
        ConnectionStatus::Pending
    );
    assert_eq!(events(&setup.app, "installation.completed").await, 0);
    // Subscribed, back through the link: the confirmation, then the claim.
    vendor.allow(true);
    let resume = installgate_tests::query_param(&plans, "resume");
    let back = browser.get(&resume).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let page = browser.get(&location(&back)).await.text().await.unwrap();
    let confirmed = confirm_on(&browser, &page).await;
    assert_at_setup(&confirmed);
    let connection = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(connection.account.is_some());
    assert_eq!(events(&setup.app, "installation.completed").await, 1);
    assert_eq!(browser.get(&resume).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_refused_user_who_never_comes_back_leaves_a_revoked_grant_and_one_abandoned_install() {
    let vendor = installgate_tests::VendorStub::start("CRM").await;
    let setup = setup_with(&vendor.settings(&[
        ("INSTALLGATE__INSTALL__PENDING_TTL_SECONDS", "1"),
        ("INSTALLGATE__INSTALL__SWEEP_INTERVAL_SECONDS", "1"),
    ]))
    .await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let arrived = browser.get(&callback(&code)).await;
    let refused = sign_up_from(&browser, &location(&arrived), "una@example.com").await;
    let plans = location(&refused);
    assert!(plans.starts_with(&vendor.plans_url), "{plans}");
    // The user never comes back from the plan page.
    until_the_held_install_expires(&setup, "1:10").await;
    assert_eq!(setup.sim.revoke_calls(), 1);
    assert_eq!(events(&setup.app, "installation.abandoned").await, 1);
    assert_eq!(events(&setup.app, "installation.completed").await, 0);
    // Coming back after all, too late: the link leads to an install that is gone.
    vendor.allow(true);
    let resume = installgate_tests::query_param(&plans, "resume");
    let back = browser.get(&resume).await;
    let page = browser.get(&location(&back)).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert_eq!(events(&setup.app, "installation.completed").await, 0);
}
