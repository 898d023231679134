//! HubSpot installs end to end: the gateway against the HubSpot simulator over real HTTP.

use std::time::Duration;

use installgate_core::{AppId, ConnectionStatus};
use installgate_sandbox::{Failure, HubSpotSimulator, SimulatedApp};
use installgate_tests::{Browser, TestApp, free_port, hidden_input, location, spawn_app};
use reqwest::StatusCode;

pub(crate) const CLIENT_ID: &str = "hs-client-id";
const CLIENT_SECRET: &str = "hs-client-secret";
/// A HubSpot return URL with HubSpot's own parameters, which must survive.
pub(crate) const RETURN_URL: &str =
    "https://app.hubspot.com/marketplace/4242/install-return?portalId=4242&flow=seamless";
const PASSWORD: &str = "correct horse battery";

pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) sim: HubSpotSimulator,
}

/// A gateway with app `crm` (partner sign-in) and `open` (without), both on the simulator.
pub(crate) async fn setup(extra: &[(&str, &str)]) -> Setup {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let sim = HubSpotSimulator::start(
        ["crm", "open"]
            .iter()
            .map(|app| SimulatedApp {
                name: format!("Demo {app}"),
                client_id: format!("{CLIENT_ID}-{app}"),
                client_secret: CLIENT_SECRET.into(),
                redirect_uri: format!("{public_url}/install/hubspot/{app}"),
                scopes: vec!["oauth".into(), "crm.objects.contacts.read".into()],
                partner_sign_in: *app == "crm",
            })
            .collect(),
        0,
    )
    .await
    .unwrap();
    let token_url = sim.token_url();
    let authorize_url = sim.authorize_url();
    let bind = format!("127.0.0.1:{port}");
    let crm_client = format!("{CLIENT_ID}-crm");
    let open_client = format!("{CLIENT_ID}-open");
    let mut vars = vec![
        ("INSTALLGATE__SERVER__BIND", bind.as_str()),
        ("INSTALLGATE__SERVER__PUBLIC_URL", public_url.as_str()),
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", crm_client.as_str()),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", CLIENT_SECRET),
        ("INSTALLGATE__APPS__CRM__PARTNER_SIGN_IN", "true"),
        ("INSTALLGATE__APPS__CRM__ALLOW_LOOPBACK_RETURN_URLS", "true"),
        ("INSTALLGATE__APPS__CRM__TOKEN_URL", token_url.as_str()),
        (
            "INSTALLGATE__APPS__CRM__AUTHORIZE_URL",
            authorize_url.as_str(),
        ),
        (
            "INSTALLGATE__APPS__CRM__SETUP_URL",
            "https://vendor.example/setup",
        ),
        ("INSTALLGATE__APPS__OPEN__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__OPEN__CLIENT_ID", open_client.as_str()),
        ("INSTALLGATE__APPS__OPEN__CLIENT_SECRET", CLIENT_SECRET),
        ("INSTALLGATE__APPS__OPEN__TOKEN_URL", token_url.as_str()),
        (
            "INSTALLGATE__APPS__OPEN__ALLOW_LOOPBACK_RETURN_URLS",
            "true",
        ),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app(&vars).await;
    Setup { app, sim }
}

pub(crate) fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub(crate) fn authorize_path(app: &str, return_url: &str) -> String {
    format!(
        "/install/hubspot/{app}?step=authorize&returnUrl={}",
        encode(return_url)
    )
}

pub(crate) fn finalize_path(
    app: &str,
    code: &str,
    state: Option<&str>,
    return_url: &str,
) -> String {
    let mut path = format!(
        "/install/hubspot/{app}?step=finalize&code={}&returnUrl={}",
        encode(code),
        encode(return_url)
    );
    if let Some(state) = state {
        path.push_str(&format!("&state={}", encode(state)));
    }
    path
}

/// The `state` HubSpot receives in the redirect to its return URL.
pub(crate) fn state_of(redirect: &str) -> String {
    let url = url::Url::parse(redirect).unwrap();
    url.query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned()
}

/// A client with no cookies at all: HubSpot's frame, where third-party cookies are blocked.
pub(crate) async fn cookieless_get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn sign_up_through(
    browser: &Browser,
    sign_in_location: &str,
    email: &str,
) -> reqwest::Response {
    let purpose = "to continue installing crm from HubSpot";
    browser
        .sign_up_from(sign_in_location, purpose, email, PASSWORD)
        .await
}

pub(crate) async fn completed_events(app: &TestApp) -> usize {
    app.event_count("installation.completed").await
}

async fn connection_for(
    app: &TestApp,
    app_id: &str,
    hub_id: &str,
) -> Option<installgate_core::Connection> {
    app.connection(app_id, "hubspot", hub_id).await
}

/// Settings that put state and sessions on the shared Redis, under a prefix of the test's own.
fn on_redis(prefix: &str) -> Vec<(&'static str, String)> {
    on_redis_at(
        "INSTALLGATE__STATE__REDIS_URL",
        installgate_tests::redis_url(),
        prefix,
    )
}

/// Settings that put state and sessions on Redis, reached through `key` (one node's URL, or a
/// cluster's seed nodes).
fn on_redis_at(key: &'static str, value: String, prefix: &str) -> Vec<(&'static str, String)> {
    vec![
        ("INSTALLGATE__STATE__BACKEND", "redis".into()),
        (key, value),
        ("INSTALLGATE__STATE__KEY_PREFIX", prefix.to_owned()),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY.to_owned(),
        ),
    ]
}

async fn setup_with(redis: &[(&'static str, String)], extra: &[(&str, &str)]) -> Setup {
    let mut vars: Vec<(&str, &str)> = redis.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(extra);
    setup(&vars).await
}

pub(crate) async fn setup_on_redis(extra: &[(&str, &str)]) -> Setup {
    let prefix = installgate_tests::unique_prefix();
    setup_with(&on_redis(&prefix), extra).await
}

/// State and sessions on `cluster`, under `prefix`; the seeds come as one comma-separated
/// variable, as an operator would give them.
async fn setup_on_redis_cluster(
    cluster: &installgate_tests::RedisCluster,
    prefix: &str,
    extra: &[(&str, &str)],
) -> Setup {
    let redis = on_redis_at(
        "INSTALLGATE__STATE__REDIS_CLUSTER_URLS",
        cluster.urls_joined(),
        prefix,
    );
    setup_with(&redis, extra).await
}

#[tokio::test]
async fn a_first_time_install_with_partner_sign_in_where_the_user_signs_up() {
    first_time_install(setup(&[]).await).await;
}

#[tokio::test]
async fn a_first_time_install_with_partner_sign_in_on_redis() {
    first_time_install(setup_on_redis(&[]).await).await;
}

#[tokio::test]
async fn a_first_time_install_with_partner_sign_in_on_a_redis_cluster() {
    let cluster = installgate_tests::RedisCluster::start().await;
    let prefix = installgate_tests::unique_prefix();
    first_time_install(setup_on_redis_cluster(&cluster, &prefix, &[]).await).await;
    // The signed-in session lives on the cluster.
    let keys = cluster.keys_per_node(&format!("{prefix}session:")).await;
    assert!(keys.iter().sum::<usize>() > 0, "{keys:?}");
}

async fn first_time_install(setup: Setup) {
    let browser = Browser::new(&setup.app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let signed_up = sign_up_through(&browser, &location(&start), "new@example.com").await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let resumed = browser.get(&location(&signed_up)).await;
    assert_eq!(resumed.status(), StatusCode::FOUND);
    let back = location(&resumed);
    assert!(back.starts_with(&format!("{RETURN_URL}&state=")), "{back}");

    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 4242)
        .unwrap();
    let finalize = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state_of(&back)), RETURN_URL),
    )
    .await;
    assert_eq!(finalize.status(), StatusCode::FOUND);
    assert_eq!(location(&finalize), RETURN_URL);
    let connection = connection_for(&setup.app, "crm", "4242").await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(connection.account.is_some());
    assert_eq!(completed_events(&setup.app).await, 1);
    assert_eq!(setup.sim.token_calls(), 1);
}

#[tokio::test]
async fn an_install_by_a_user_who_signs_in_and_one_already_signed_in() {
    let setup = setup(&[]).await;
    // An account that exists already.
    let browser = Browser::new(&setup.app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    sign_up_through(&browser, &location(&start), "known@example.com").await;
    let page = browser.get("/account/").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post("/account/sign-out", &[("csrf_token", &csrf)])
        .await;

    // Signing in resumes the install.
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    let sign_in = browser.get(&location(&start)).await.text().await.unwrap();
    let resume = hidden_input(&sign_in, "resume").unwrap();
    let csrf = hidden_input(&sign_in, "csrf_token").unwrap();
    let signed_in = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "known@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await;
    let resumed = browser.get(&location(&signed_in)).await;
    let back = location(&resumed);
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 5151)
        .unwrap();
    let done = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state_of(&back)), RETURN_URL),
    )
    .await;
    assert_eq!(location(&done), RETURN_URL);
    assert!(connection_for(&setup.app, "crm", "5151").await.is_some());

    // Already signed in: straight back to HubSpot with a state.
    let again = browser.get(&authorize_path("crm", RETURN_URL)).await;
    assert_eq!(again.status(), StatusCode::FOUND);
    let back = location(&again);
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 6161)
        .unwrap();
    let done = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state_of(&back)), RETURN_URL),
    )
    .await;
    assert_eq!(location(&done), RETURN_URL);
    let connection = connection_for(&setup.app, "crm", "6161").await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert_eq!(completed_events(&setup.app).await, 2);
}

#[tokio::test]
async fn an_install_without_partner_sign_in_stores_an_unclaimed_connection() {
    let setup = setup(&[]).await;
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 7070)
        .unwrap();
    let done = cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
    assert_eq!(done.status(), StatusCode::FOUND);
    assert_eq!(location(&done), RETURN_URL);
    let connection = connection_for(&setup.app, "open", "7070").await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(connection.account.is_none());
    assert_eq!(completed_events(&setup.app).await, 1);
}

#[tokio::test]
async fn the_portal_is_identified_by_introspection_when_the_token_response_omits_it() {
    let setup = setup(&[]).await;
    setup.sim.omit_hub_id(true);
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 8080)
        .unwrap();
    let done = cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
    assert_eq!(location(&done), RETURN_URL);
    let connection = connection_for(&setup.app, "open", "8080").await.unwrap();
    assert_eq!(
        connection.metadata.get("hublet").map(String::as_str),
        Some("na1")
    );
}

async fn signed_in_state(setup: &Setup, browser: &Browser) -> String {
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    if start.status() == StatusCode::SEE_OTHER {
        let signed_up = sign_up_through(browser, &location(&start), "state@example.com").await;
        let resumed = browser.get(&location(&signed_up)).await;
        return state_of(&location(&resumed));
    }
    let _ = setup;
    state_of(&location(&start))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_finalizes_with_one_state_make_one_token_call() {
    thousand_finalizes(setup(&[("INSTALLGATE__SERVER__WORKERS", "4")]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_finalizes_with_one_state_on_redis() {
    thousand_finalizes(setup_on_redis(&[("INSTALLGATE__SERVER__WORKERS", "4")]).await).await;
}

async fn thousand_finalizes(setup: Setup) {
    let browser = Browser::new(&setup.app);
    let state = signed_in_state(&setup, &browser).await;
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 9090)
        .unwrap();
    let path = finalize_path("crm", &code, Some(&state), RETURN_URL);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = setup.app.url(&path);
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(200));
    let requests: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let semaphore = semaphore.clone();
            tokio::spawn(async move {
                let _permit = semaphore.acquire().await.unwrap();
                client.get(url).send().await
            })
        })
        .collect();
    for request in requests {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), RETURN_URL);
    }
    assert_eq!(setup.sim.token_calls(), 1);
    assert!(connection_for(&setup.app, "crm", "9090").await.is_some());
    assert_eq!(completed_events(&setup.app).await, 1);
}

#[tokio::test]
async fn replayed_forged_expired_and_other_app_states_make_no_token_call() {
    let setup = setup(&[("INSTALLGATE__STATE__TTL_SECONDS", "1")]).await;
    let browser = Browser::new(&setup.app);
    let state = signed_in_state(&setup, &browser).await;
    let code = |hub: u64| {
        setup
            .sim
            .issue_code(&format!("{CLIENT_ID}-crm"), hub)
            .unwrap()
    };

    // Used once, then replayed.
    let first = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code(1), Some(&state), RETURN_URL),
    )
    .await;
    assert_eq!(location(&first), RETURN_URL);
    assert_eq!(setup.sim.token_calls(), 1);
    let forged = installgate_core::StateToken::generate().unwrap();
    let cases = vec![
        ("replayed", state.clone()),
        ("forged", forged.expose().to_owned()),
        ("malformed", "not-a-state".to_owned()),
    ];
    for (what, state) in cases {
        let response = cookieless_get(
            &setup.app,
            &finalize_path("crm", &code(2), Some(&state), RETURN_URL),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND, "{what}");
        assert_eq!(location(&response), RETURN_URL, "{what}");
    }
    // A state for `crm` presented to `open`, and one whose return origin differs.
    let other_app = signed_in_state(&setup, &browser).await;
    let response = cookieless_get(
        &setup.app,
        &finalize_path("open", &code(3), Some(&other_app), RETURN_URL),
    )
    .await;
    assert_eq!(location(&response), RETURN_URL);
    let other_origin = signed_in_state(&setup, &browser).await;
    let eu = "https://app-eu1.hubspot.com/done";
    let response = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code(4), Some(&other_origin), eu),
    )
    .await;
    assert_eq!(location(&response), eu);
    // Expired: minted, then left past its one-second TTL.
    let expired = signed_in_state(&setup, &browser).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code(5), Some(&expired), RETURN_URL),
    )
    .await;
    assert_eq!(location(&response), RETURN_URL);
    // A partner-sign-in app refuses a finalize with no state at all.
    let response = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code(6), None, RETURN_URL),
    )
    .await;
    assert_eq!(location(&response), RETURN_URL);

    assert_eq!(
        setup.sim.token_calls(),
        1,
        "no refused state reached the token endpoint"
    );
}

#[tokio::test]
async fn token_endpoint_failures_send_the_user_back_with_nothing_stored_and_no_retry() {
    let setup = setup(&[("INSTALLGATE__PROVIDERS__TIMEOUT_MS", "500")]).await;
    let cases = [
        (Failure::ServerError, 101),
        (Failure::Slow(Duration::from_secs(2)), 102),
        (Failure::Garbage, 103),
        (Failure::InvalidGrant, 104),
    ];
    for (number, (failure, hub)) in cases.into_iter().enumerate() {
        setup.sim.fail_next(failure);
        let code = setup
            .sim
            .issue_code(&format!("{CLIENT_ID}-open"), hub)
            .unwrap();
        let response =
            cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{failure:?}");
        assert_eq!(location(&response), RETURN_URL, "{failure:?}");
        assert!(
            connection_for(&setup.app, "open", &hub.to_string())
                .await
                .is_none(),
            "{failure:?}"
        );
        assert_eq!(
            setup.sim.token_calls(),
            number + 1,
            "{failure:?}: the exchange is not retried"
        );
    }
    assert_eq!(completed_events(&setup.app).await, 0);
}

/// Return URLs that must be refused: open redirects, parser tricks, wrong schemes and hosts.
const HOSTILE_RETURN_URLS: &[&str] = &[
    "",
    "//evil.example/x",
    "///evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "https:/\\evil.example",
    "https:\\\\evil.example",
    "https://evil.example/",
    "https://app.hubspot.com.evil.example/",
    "https://app.hubspot.com.",
    "https://evilapp.hubspot.com/",
    "https://app-hubspot.com/",
    "https://hubspot.com/",
    "https://app.hubspot.co/",
    "https://app.hubspot.com@evil.example/",
    "https://user@app.hubspot.com/",
    "https://user:pass@app.hubspot.com/",
    "https://app.hubspot.com:443/",
    "https://app.hubspot.com:8443/",
    "https://app.hubspot.com\\@evil.example/",
    "https://app.hubspot.com\t.evil.example/",
    "https://app.hub\tspot.com/",
    "https://app.hubspot.com\n/",
    "https://app.hubspot.com\r\nLocation: https://evil.example/",
    "https://app\u{3002}hubspot\u{3002}com/",
    "https://app.hubspot.com\u{3002}evil.example/",
    "https://app\u{ff0e}hubspot\u{ff0e}com/",
    "https://app%2ehubspot.com/",
    "https://app.hubspot.com%2f@evil.example/",
    "https://ａpp.hubspot.com/",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)//https://app.hubspot.com/",
    "data:text/html,<script>alert(1)</script>",
    "http://app.hubspot.com/",
    "ftp://app.hubspot.com/",
    "app.hubspot.com/install",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://2130706433/",
    "https:app.hubspot.com",
    "https:/app.hubspot.com",
    "https://",
    " https://app.hubspot.com/",
    "https://app.hubspot.com/\u{0}",
];

#[tokio::test]
async fn hostile_return_urls_get_the_400_page_and_consume_no_state() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let state = signed_in_state(&setup, &browser).await;
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 111)
        .unwrap();
    assert!(HOSTILE_RETURN_URLS.len() >= 40);
    for hostile in HOSTILE_RETURN_URLS {
        for path in [
            authorize_path("crm", hostile),
            finalize_path("crm", &code, Some(&state), hostile),
        ] {
            let response = browser.get(&path).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{hostile:?}");
            assert!(response.headers().get("location").is_none(), "{hostile:?}");
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("This request cannot be handled")
            );
        }
    }
    // A duplicated returnUrl is refused too, whichever copy is good.
    let duplicated = format!(
        "{}&returnUrl={}",
        authorize_path("crm", RETURN_URL),
        encode("https://evil.example/")
    );
    assert_eq!(
        browser.get(&duplicated).await.status(),
        StatusCode::BAD_REQUEST
    );
    // Nothing was consumed: the state and the code still complete the install.
    assert_eq!(setup.sim.token_calls(), 0);
    let done = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state), RETURN_URL),
    )
    .await;
    assert_eq!(location(&done), RETURN_URL);
    assert!(connection_for(&setup.app, "crm", "111").await.is_some());
}

#[tokio::test]
async fn allowed_return_urls_come_back_reserialised_with_their_own_parameters() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    signed_in_state(&setup, &browser).await;
    for (given, expected_prefix) in [
        (
            "https://APP.HubSpot.com/x?a=1&b=%20two",
            "https://app.hubspot.com/x?a=1&b=%20two&state=",
        ),
        (
            "https://app-eu1.hubspot.com/install?portalId=1#frag",
            "https://app-eu1.hubspot.com/install?portalId=1&state=",
        ),
    ] {
        let response = browser.get(&authorize_path("crm", given)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{given}");
        let back = location(&response);
        assert!(back.starts_with(expected_prefix), "{given} -> {back}");
    }
}

fn csp(response: &reqwest::Response) -> String {
    installgate_tests::frame_ancestors(response)
}

/// A customer on another HubSpot data centre
/// (`app-na2.hubspot.com`) installs end to end, and the pages of that install, and only those,
/// may be framed by that host.
#[tokio::test]
async fn a_customer_on_another_data_centre_installs_and_its_host_may_frame_the_install() {
    let setup = setup(&[]).await;
    let na2 = "https://app-na2.hubspot.com/marketplace/4243/install-return?portalId=4243";
    let framed_by_na2 =
        "frame-ancestors 'self' https://app.hubspot.com https://app-na2.hubspot.com";
    let browser = Browser::new(&setup.app);
    let start = browser.get(&authorize_path("crm", na2)).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    assert_eq!(csp(&start), framed_by_na2);
    let sign_in_page = location(&start);
    assert!(
        sign_in_page.contains("frame_host=app-na2.hubspot.com"),
        "{sign_in_page}"
    );
    let page = browser.get(&sign_in_page).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(csp(&page), framed_by_na2);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("frame_host=app-na2.hubspot.com"),
        "the forms carry it: {html}"
    );

    let signed_up = sign_up_through(&browser, &sign_in_page, "na2@example.com").await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let resumed = browser.get(&location(&signed_up)).await;
    assert_eq!(resumed.status(), StatusCode::FOUND);
    assert_eq!(csp(&resumed), framed_by_na2);
    let back = location(&resumed);
    assert!(back.starts_with(&format!("{na2}&state=")), "{back}");
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 4243)
        .unwrap();
    let finalize = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state_of(&back)), na2),
    )
    .await;
    assert_eq!(finalize.status(), StatusCode::FOUND);
    assert_eq!(location(&finalize), na2);
    assert_eq!(csp(&finalize), framed_by_na2);
    let connection = connection_for(&setup.app, "crm", "4243").await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Active);

    // Hosts that only look like a data centre: refused, and never named in the policy.
    for hostile in [
        "https://app-na2.hubspot.com.evil.example/x",
        "https://evil.app-na2.hubspot.com/x",
        "https://app-evil.hubspot.com/x",
        "https://app-2na.hubspot.com/x",
    ] {
        let refused = browser.get(&authorize_path("crm", hostile)).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{hostile}");
        assert_eq!(
            csp(&refused),
            "frame-ancestors 'self' https://app.hubspot.com",
            "{hostile}"
        );
    }
    for shown in [
        "evil.example",
        "app-na2.hubspot.com.evil.example",
        "app.hubspot.com",
    ] {
        let page = browser
            .get(&format!(
                "/account/sign-in?app=crm&provider=hubspot&frame_host={shown}"
            ))
            .await;
        assert_eq!(
            csp(&page),
            "frame-ancestors 'self' https://app.hubspot.com",
            "{shown}"
        );
    }
    // Pages of no install are framed by nobody, whatever they are asked.
    let page = browser
        .get("/account/sign-in?frame_host=app-na2.hubspot.com")
        .await;
    assert_eq!(csp(&page), "frame-ancestors 'none'");
}

fn assert_hubspot_framing(response: &reqwest::Response) {
    let csp = installgate_tests::frame_ancestors(response);
    assert_eq!(
        csp,
        "frame-ancestors 'self' https://app.hubspot.com",
        "status {}",
        response.status()
    );
    assert!(response.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn every_status_of_the_install_route_carries_hubspots_framing_policy() {
    let mut redis = installgate_tests::PrivateRedis::start().await;
    let redis_url = redis.url();
    let setup = setup(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis_url),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ])
    .await;
    let denied = cookieless_get(
        &setup.app,
        "/install/hubspot/crm?error=invalid_scope&error_description=%3Cb%3Eno%3C%2Fb%3E",
    )
    .await;
    assert_eq!(denied.status(), StatusCode::OK);
    assert_hubspot_framing(&denied);
    let page = denied.text().await.unwrap();
    assert!(
        page.contains("&lt;b&gt;no&lt;/b&gt;") && !page.contains("<b>no</b>"),
        "escaped: {page}"
    );

    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 222)
        .unwrap();
    let found = cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
    assert_eq!(found.status(), StatusCode::FOUND);
    assert_hubspot_framing(&found);

    let bad = cookieless_get(&setup.app, &authorize_path("crm", "https://evil.example/")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_hubspot_framing(&bad);

    redis.stop();
    let forged = installgate_core::StateToken::generate().unwrap();
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 333)
        .unwrap();
    let unavailable = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(forged.expose()), RETURN_URL),
    )
    .await;
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_hubspot_framing(&unavailable);
    assert_eq!(
        setup.sim.token_calls(),
        1,
        "no exchange while the state cannot be checked"
    );

    // Other routes are framed by nobody.
    let other = cookieless_get(&setup.app, "/install/hubspot/unknown-app?step=authorize").await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        installgate_tests::frame_ancestors(&other),
        "frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn malformed_install_requests_get_the_400_page() {
    let setup = setup(&[]).await;
    for query in [
        "step=install&returnUrl=https%3A%2F%2Fapp.hubspot.com%2F",
        "step=authorize&step=finalize&returnUrl=https%3A%2F%2Fapp.hubspot.com%2F",
        "step=finalize&returnUrl=https%3A%2F%2Fapp.hubspot.com%2F",
        "step=finalize&code=x&code=y&returnUrl=https%3A%2F%2Fapp.hubspot.com%2F",
        "step=authorize",
        "code=abc&error=access_denied",
        "",
    ] {
        let response = cookieless_get(&setup.app, &format!("/install/hubspot/crm?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none(), "{query}");
    }
    assert_eq!(setup.sim.token_calls(), 0);
}

#[tokio::test]
async fn an_install_started_at_connect_runs_classic_oauth_to_the_setup_page() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    signed_in_state(&setup, &browser).await;
    let connect = browser.get("/connect/hubspot/crm").await;
    assert_eq!(connect.status(), StatusCode::FOUND);
    let consent = url::Url::parse(&location(&connect)).unwrap();
    assert!(consent.as_str().starts_with(&setup.sim.authorize_url()));
    let params: std::collections::HashMap<_, _> = consent.query_pairs().into_owned().collect();
    assert_eq!(
        params["redirect_uri"],
        setup.app.url("/install/hubspot/crm")
    );
    // The customer connects portal 444 at the (simulated) HubSpot consent screen.
    let decision = format!(
        "{}/oauth/authorize/decision?client_id={}&state={}&hub_id=444&decision=connect",
        setup.sim.url(),
        encode(&params["client_id"]),
        encode(&params["state"])
    );
    let to_gateway = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(decision)
        .send()
        .await
        .unwrap();
    let callback = location(&to_gateway);
    let done = browser.get(&callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(location(&done).starts_with("https://vendor.example/setup?connection_id="));
    let connection = connection_for(&setup.app, "crm", "444").await.unwrap();
    assert!(connection.account.is_some());
    // The callback cannot be replayed.
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(setup.sim.token_calls(), 1);
}

#[tokio::test]
async fn a_failed_exchange_is_logged_without_any_secret() {
    let logs = installgate_tests::CapturedLogs::install();
    let setup = setup(&[]).await;
    setup.sim.fail_next(Failure::ServerError);
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 555)
        .unwrap();
    cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
    setup.sim.fail_next(Failure::InvalidGrant);
    let code_two = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 556)
        .unwrap();
    cookieless_get(
        &setup.app,
        &finalize_path("open", &code_two, None, RETURN_URL),
    )
    .await;
    // And a successful install, whose tokens must not be logged either.
    let code_three = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 557)
        .unwrap();
    cookieless_get(
        &setup.app,
        &finalize_path("open", &code_three, None, RETURN_URL),
    )
    .await;
    let connection = connection_for(&setup.app, "open", "557").await.unwrap();
    let tokens = connection.tokens.unwrap();

    let text = logs.text();
    assert!(text.contains("install failed at the provider"), "{text}");
    assert!(text.contains("the provider answered 500"), "{text}");
    assert!(text.contains("invalid_grant"), "{text}");
    let secrets = [
        CLIENT_SECRET.to_owned(),
        code,
        code_two,
        code_three,
        tokens.access_token.expose().to_owned(),
        tokens.refresh_token.unwrap().expose().to_owned(),
    ];
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret reached the log: {text}"
        );
    }
    // The install route's query (which carries codes and states) is not logged either.
    assert!(!text.contains("returnUrl="), "{text}");
}

/// The `href` or `src` attribute following `marker` in `html`, unescaped.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {html}"));
    let rest = &html[start..];
    let key = format!("{attribute}=\"");
    let from = rest.find(&key).unwrap() + key.len();
    let to = rest[from..].find('"').unwrap() + from;
    rest[from..to].replace("&amp;", "&")
}

fn form_action_url(sim: &HubSpotSimulator, page: &str, fields: &[(&str, &str)]) -> String {
    let action = attribute_after(page, "<form", "action");
    let mut url = url::Url::parse(&format!("{}{action}", sim.url())).unwrap();
    for name in ["flow", "state"] {
        if let Some(value) = hidden_input(page, name) {
            url.query_pairs_mut().append_pair(name, &value);
        }
    }
    url.query_pairs_mut().extend_pairs(fields);
    url.to_string()
}

#[tokio::test]
async fn the_simulated_marketplace_runs_the_seamless_install_with_partner_sign_in() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let client_id = format!("{CLIENT_ID}-crm");
    let listing = browser.get(setup.sim.url()).await.text().await.unwrap();
    assert!(listing.contains("Demo crm") && listing.contains(&format!("/marketplace/{client_id}")));

    // Install, then "Sign in" opens the app's install URL with step=authorize.
    let install = browser
        .get(&format!("{}/marketplace/{client_id}", setup.sim.url()))
        .await
        .text()
        .await
        .unwrap();
    let sign_in = attribute_after(&install, "id=\"sign-in\"", "href");
    assert!(
        sign_in.starts_with(&setup.app.url("/install/hubspot/crm?")),
        "{sign_in}"
    );
    let to_sign_in = browser.get(&sign_in).await;
    assert_eq!(to_sign_in.status(), StatusCode::SEE_OTHER, "{sign_in}");
    let signed_up = sign_up_through(&browser, &location(&to_sign_in), "market@example.com").await;
    let back = browser.get(&location(&signed_up)).await;
    let consent_url = location(&back);
    assert!(consent_url.starts_with(&format!(
        "{}/marketplace/{client_id}/consent?flow=",
        setup.sim.url()
    )));

    // The review dialog: tick the box, pick the portal, Connect app.
    let consent = browser.get(&consent_url).await.text().await.unwrap();
    let connect = form_action_url(
        &setup.sim,
        &consent,
        &[("hub_id", "31337"), ("agree", "yes")],
    );
    let installing = browser.get(&connect).await.text().await.unwrap();
    let finalize = attribute_after(&installing, "id=\"install-frame\"", "src");
    assert!(finalize.contains("step=finalize"), "{finalize}");

    // HubSpot loads finalize in its frame, where the gateway's cookie may be missing.
    let result = cookieless_get(&setup.app, finalize.trim_start_matches(&setup.app.address)).await;
    assert_eq!(result.status(), StatusCode::FOUND);
    let landing = browser.get(&location(&result)).await.text().await.unwrap();
    assert!(
        landing.contains("Installed") && landing.contains("31337"),
        "{landing}"
    );
    assert!(
        connection_for(&setup.app, "crm", "31337")
            .await
            .unwrap()
            .account
            .is_some()
    );
}

#[tokio::test]
async fn the_simulated_marketplace_runs_the_install_without_partner_sign_in() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let client_id = format!("{CLIENT_ID}-open");
    let install = browser
        .get(&format!("{}/marketplace/{client_id}", setup.sim.url()))
        .await;
    let consent = browser.get(&location(&install)).await.text().await.unwrap();
    let connect = form_action_url(
        &setup.sim,
        &consent,
        &[("hub_id", "2718"), ("agree", "yes")],
    );
    let installing = browser.get(&connect).await.text().await.unwrap();
    let finalize = attribute_after(&installing, "id=\"install-frame\"", "src");
    assert!(
        !finalize.contains("state="),
        "no state without partner sign-in"
    );
    let result = cookieless_get(&setup.app, finalize.trim_start_matches(&setup.app.address)).await;
    let landing = browser.get(&location(&result)).await.text().await.unwrap();
    assert!(landing.contains("Installed"), "{landing}");
    assert!(
        connection_for(&setup.app, "open", "2718")
            .await
            .unwrap()
            .account
            .is_none()
    );
}

#[tokio::test]
async fn revoking_a_hubspot_install_calls_the_app_uninstall_endpoint() {
    use installgate_core::Provider as _;
    let setup = setup(&[]).await;
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-open"), 9191)
        .unwrap();
    cookieless_get(&setup.app, &finalize_path("open", &code, None, RETURN_URL)).await;
    let connection = connection_for(&setup.app, "open", "9191").await.unwrap();
    let tokens = connection.tokens.unwrap();

    let client = installgate_server::providers::http_client(&setup.app.settings.providers).unwrap();
    let hubspot = installgate_provider_hubspot::HubSpot::new(client).unwrap();
    let app = &setup.app.settings.apps[&AppId::parse("open").unwrap()];
    let mut credentials = installgate_server::providers::credentials(&setup.app.settings, app);
    credentials.api_base_url = Some(setup.sim.url().parse().unwrap());
    hubspot.revoke(&credentials, &tokens).await.unwrap();
    assert_eq!(setup.sim.uninstall_calls(), 1);

    let forged = installgate_core::TokenSet {
        access_token: installgate_core::AccessToken::new("not-a-token"),
        refresh_token: None,
        expires_at: None,
    };
    let refused = hubspot.revoke(&credentials, &forged).await.unwrap_err();
    assert_eq!(refused, installgate_core::ProviderError::Status(401));
}

#[tokio::test]
async fn a_refused_account_chooses_a_plan_and_goes_back_to_hubspot_with_a_state() {
    let vendor = installgate_tests::VendorStub::start("CRM").await;
    let setup = setup(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    let signed_up = sign_up_through(&browser, &location(&start), "hana@example.com").await;
    // Not entitled yet: the plan page, not HubSpot, and no state minted.
    let refused = browser.get(&location(&signed_up)).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let plans = location(&refused);
    assert!(plans.starts_with(&vendor.plans_url), "{plans}");
    let resume = installgate_tests::query_param(&plans, "resume");
    // Subscribed: back through the link, asked again, and on to HubSpot's return URL with a
    // state, as HubSpot requires.
    vendor.allow(true);
    let back = browser.get(&resume).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let to_hubspot = browser.get(&location(&back)).await;
    assert_eq!(to_hubspot.status(), StatusCode::FOUND);
    let back = location(&to_hubspot);
    assert!(back.starts_with(&format!("{RETURN_URL}&state=")), "{back}");
    assert_eq!(vendor.questions().len(), 2);
    let code = setup
        .sim
        .issue_code(&format!("{CLIENT_ID}-crm"), 4343)
        .unwrap();
    let finalize = cookieless_get(
        &setup.app,
        &finalize_path("crm", &code, Some(&state_of(&back)), RETURN_URL),
    )
    .await;
    assert_eq!(location(&finalize), RETURN_URL);
    assert_eq!(completed_events(&setup.app).await, 1);
}

/// An attacker signs in and mints a seamless-install state for `crm` on HubSpot's main origin,
/// then plants it in a victim's HubSpot flow: a finalize for another app, and one returning to
/// another HubSpot origin. Either would tie the victim's portal to the attacker's account; both
/// are refused before any token request.
#[tokio::test]
async fn an_attackers_state_planted_in_a_victims_flow_for_another_app_or_origin_ties_nothing() {
    let setup = setup(&[]).await;
    let attacker = Browser::new(&setup.app);
    let victim_portal = 777;
    let victim_code = |app: &str| {
        setup
            .sim
            .issue_code(&format!("{CLIENT_ID}-{app}"), victim_portal)
            .unwrap()
    };

    // Another app: the victim installs `open`; HubSpot's frame (no cookies) finalizes with the
    // attacker's state.
    let planted = signed_in_state(&setup, &attacker).await;
    let other_app = cookieless_get(
        &setup.app,
        &finalize_path("open", &victim_code("open"), Some(&planted), RETURN_URL),
    )
    .await;
    assert_eq!(location(&other_app), RETURN_URL);
    assert!(
        connection_for(&setup.app, "open", &victim_portal.to_string())
            .await
            .is_none(),
        "the victim's portal is tied to no account"
    );

    // Another origin: the victim's HubSpot is on another data centre.
    let planted = signed_in_state(&setup, &attacker).await;
    let eu = "https://app-eu1.hubspot.com/marketplace/777/install-return";
    let other_origin = cookieless_get(
        &setup.app,
        &finalize_path("crm", &victim_code("crm"), Some(&planted), eu),
    )
    .await;
    assert_eq!(location(&other_origin), eu);
    assert!(
        connection_for(&setup.app, "crm", &victim_portal.to_string())
            .await
            .is_none()
    );
    assert_eq!(setup.sim.token_calls(), 0);
    assert_eq!(completed_events(&setup.app).await, 0);
}
