//! Built-in accounts over real HTTP: sign-up, sign-in, sign-out, resume, session renewal,
//! CSRF, throttling, and a session store that is down.

use std::time::{Duration, Instant};

use installgate_tests::{
    Browser, PrivateRedis, TEST_SESSION_KEY, TestApp, hidden_input, location, spawn_app,
};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

async fn redis_app(redis_url: &str) -> TestApp {
    spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", redis_url),
        (
            "INSTALLGATE__STATE__KEY_PREFIX",
            &installgate_tests::unique_prefix(),
        ),
        ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY),
    ])
    .await
}

/// Visits `/account/` signed out and follows the redirect to sign-in: the parked request's
/// resume token and the form's CSRF token.
async fn start_at_account(browser: &Browser, path: &str) -> (String, String) {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let sign_in = location(&response);
    assert!(sign_in.starts_with("/account/sign-in?resume="), "{sign_in}");
    let page = browser.get(&sign_in).await.text().await.unwrap();
    (
        hidden_input(&page, "resume").unwrap(),
        hidden_input(&page, "csrf_token").unwrap(),
    )
}

async fn sign_up(browser: &Browser, email: &str) -> reqwest::Response {
    let (resume, csrf) = start_at_account(browser, "/account/").await;
    browser
        .post(
            "/account/sign-up",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await
}

async fn sign_in(browser: &Browser, email: &str, password: &str) -> reqwest::Response {
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post(
            "/account/sign-in",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
}

async fn is_signed_in(browser: &Browser) -> bool {
    browser.get("/account/").await.status() == StatusCode::OK
}

async fn sign_out(browser: &Browser) -> reqwest::Response {
    let page = browser.get("/account/").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    browser
        .post("/account/sign-out", &[("csrf_token", &csrf)])
        .await
}

#[tokio::test]
async fn sign_up_sign_out_and_sign_in_each_resume_the_parked_request_with_cookie_sessions() {
    sign_up_sign_out_and_sign_in(&spawn_app(&[]).await).await;
}

#[tokio::test]
async fn sign_up_sign_out_and_sign_in_each_resume_the_parked_request_with_redis_sessions() {
    sign_up_sign_out_and_sign_in(&redis_app(&installgate_tests::redis_url()).await).await;
}

async fn sign_up_sign_out_and_sign_in(app: &TestApp) {
    let browser = Browser::new(app);

    // Sign-up resumes the request that was parked: here the account page with a marker query.
    let (resume, csrf) = start_at_account(&browser, "/account/?from=install").await;
    let response = browser
        .post(
            "/account/sign-up",
            &[
                ("email", "Ada@Example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/?from=install");
    let page = browser.get("/account/").await.text().await.unwrap();
    assert!(page.contains("ada@example.com"), "{page}");

    assert_eq!(sign_out(&browser).await.status(), StatusCode::OK);
    assert!(!is_signed_in(&browser).await);

    // Sign-in resumes too, and a resume token works once.
    let (resume, csrf) = start_at_account(&browser, "/account/?from=again").await;
    let response = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/?from=again");
    assert!(is_signed_in(&browser).await);
    sign_out(&browser).await;
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let replay = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await;
    assert_eq!(location(&replay), "/account/");
}

#[tokio::test]
async fn sign_up_refuses_a_taken_email_a_short_password_and_a_bad_address() {
    let app = spawn_app(&[]).await;
    let first = Browser::new(&app);
    assert_eq!(
        sign_up(&first, "taken@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    let second = Browser::new(&app);
    let page = second.get("/account/sign-up").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    for (email, password, says) in [
        ("taken@example.com", PASSWORD, "exists already"),
        ("new@example.com", "short", "at least 10 characters"),
        (
            "not-an-address",
            PASSWORD,
            "Enter an email address such as name@example.com.",
        ),
    ] {
        let response = second
            .post(
                "/account/sign-up",
                &[
                    ("email", email),
                    ("password", password),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{says}: {body}");
    }
    assert!(!is_signed_in(&second).await);
}

async fn session_renewal_and_revocation(app: &TestApp) {
    let browser = Browser::new(app);
    sign_up(&browser, "renew@example.com").await;
    sign_out(&browser).await;

    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let before = browser
        .session_cookie()
        .expect("the sign-in page sets a session");
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let response = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "renew@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = browser.session_cookie().unwrap();
    assert_ne!(before, after, "the session id changes at sign-in");
    assert!(is_signed_in(&browser).await);

    // The cookie from before sign-in does not authenticate.
    let old = Browser::new(app);
    old.set_session_cookie(Some(before));
    assert!(!is_signed_in(&old).await);

    // Nor does a copy of the signed-in cookie once its session signed out.
    let signed_in_copy = browser.session_cookie().unwrap();
    sign_out(&browser).await;
    let copy = Browser::new(app);
    copy.set_session_cookie(Some(signed_in_copy));
    assert!(!is_signed_in(&copy).await);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_old_cookies_stop_working_with_cookie_sessions() {
    let app = spawn_app(&[]).await;
    session_renewal_and_revocation(&app).await;
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_old_cookies_stop_working_with_redis_sessions() {
    let app = redis_app(&installgate_tests::redis_url()).await;
    session_renewal_and_revocation(&app).await;
}

/// The one session record under `prefix`, and a connection to set or read its expiry.
async fn session_record(prefix: &str) -> (String, redis::aio::MultiplexedConnection) {
    let client = redis::Client::open(installgate_tests::redis_url()).unwrap();
    let connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys = installgate_tests::redis_keys(&format!("{prefix}session:*")).await;
    assert_eq!(keys.len(), 1, "one browser, one session record: {keys:?}");
    (keys[0].clone(), connection)
}

async fn expire_in(connection: &mut redis::aio::MultiplexedConnection, key: &str, ms: u64) {
    let set: i64 = redis::cmd("PEXPIRE")
        .arg(key)
        .arg(ms)
        .query_async(connection)
        .await
        .unwrap();
    assert_eq!(set, 1);
}

#[tokio::test]
async fn a_redis_session_lives_on_while_used_and_ends_when_left_idle() {
    let prefix = installgate_tests::unique_prefix();
    let app = spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        (
            "INSTALLGATE__STATE__REDIS_URL",
            &installgate_tests::redis_url(),
        ),
        ("INSTALLGATE__STATE__KEY_PREFIX", &prefix),
        ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY),
        ("INSTALLGATE__SESSION__IDLE_TIMEOUT_MINUTES", "1"),
        // The test shortens the record's life by hand, to seconds; the replica's copy of a
        // session it read would outlive that (it never outlives a record left alone, which
        // lasts the idle timeout after the read, a minute at least).
        ("INSTALLGATE__SESSION__CACHE_SECONDS", "0"),
    ])
    .await;
    let browser = Browser::new(&app);
    sign_up(&browser, "idle@example.com").await;
    let lines = browser.set_cookie_lines.lock().unwrap().clone();
    let signed_in = lines.last().expect("sign-up sets the session cookie");
    let lower = signed_in.to_ascii_lowercase();
    assert!(
        !lower.contains("max-age") && !lower.contains("expires"),
        "{signed_in}"
    );
    assert!(
        lower.contains("partitioned") && lower.contains("samesite=none"),
        "{signed_in}"
    );

    // The home page makes the session's CSRF token: the session changes, and so its record.
    assert!(is_signed_in(&browser).await);
    let (key, mut redis) = session_record(&prefix).await;

    // Most of the idle timeout has gone by; a request that only reads the session resets it,
    // in Redis alone: the browser-session cookie is not sent again.
    expire_in(&mut redis, &key, 2_000).await;
    let response = browser.get("/account/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .is_none(),
        "an unchanged session sends no cookie"
    );
    let left: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        left > 50_000,
        "the read extends the session to the idle timeout: {left} ms"
    );

    // Left alone past the timeout, the session is gone and the cookie signs nobody in.
    expire_in(&mut redis, &key, 1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!is_signed_in(&browser).await);
}

#[tokio::test]
async fn the_session_cookie_has_the_attributes_frames_need_and_is_cleared_alike() {
    let app = spawn_app(&[]).await;
    let browser = Browser::new(&app);
    sign_up(&browser, "cookie@example.com").await;
    sign_out(&browser).await;
    let lines = browser.set_cookie_lines.lock().unwrap().clone();
    assert!(lines.len() >= 2);
    for line in &lines {
        let lower = line.to_ascii_lowercase();
        for attribute in [
            "; secure",
            "; httponly",
            "; samesite=none",
            "; partitioned",
            "; path=/",
        ] {
            assert!(lower.contains(attribute), "{attribute} missing in {line}");
        }
        assert!(!lower.contains("domain="), "{line}");
    }
    assert!(
        lines
            .last()
            .unwrap()
            .to_ascii_lowercase()
            .contains("max-age=0"),
        "sign-out clears it"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_or_from_a_foreign_origin_are_refused() {
    let app = spawn_app(&[]).await;
    let browser = Browser::new(&app);
    sign_up(&browser, "csrf@example.com").await;
    sign_out(&browser).await;
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let fields = [("email", "csrf@example.com"), ("password", PASSWORD)];

    let missing = browser.post("/account/sign-in", &fields).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let wrong = browser
        .post(
            "/account/sign-in",
            &[fields[0], fields[1], ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let with_token = [fields[0], fields[1], ("csrf_token", csrf.as_str())];
    let foreign = browser
        .post_from(
            "/account/sign-in",
            &with_token,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(
        foreign
            .text()
            .await
            .unwrap()
            .contains("not sent from this site")
    );
    let no_origin = browser
        .post_from("/account/sign-in", &with_token, None)
        .await;
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    assert!(!is_signed_in(&browser).await);

    // Sign-up and sign-out check the same way.
    let signup = browser
        .post_from(
            "/account/sign-up",
            &with_token,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(signup.status(), StatusCode::FORBIDDEN);
    let signout = browser.post("/account/sign-out", &[]).await;
    assert_eq!(signout.status(), StatusCode::FORBIDDEN);

    // With both, it works.
    assert_eq!(
        browser.post("/account/sign-in", &with_token).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = spawn_app(&[]).await;
    let browser = Browser::new(&app);
    sign_up(&browser, "same@example.com").await;
    sign_out(&browser).await;
    let wrong = sign_in(&browser, "same@example.com", "wrong password!").await;
    let unknown = sign_in(&browser, "nobody@example.com", "wrong password!").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong
        .text()
        .await
        .unwrap()
        .replace("same@example.com", "EMAIL");
    let unknown = unknown
        .text()
        .await
        .unwrap()
        .replace("nobody@example.com", "EMAIL");
    let strip_csrf = |page: &str| page.replace(&hidden_input(page, "csrf_token").unwrap(), "TOKEN");
    assert_eq!(strip_csrf(&wrong), strip_csrf(&unknown));
}

#[tokio::test]
async fn throttling_holds_under_100_quick_wrong_attempts_in_memory() {
    let app = spawn_app(&[("INSTALLGATE__ACCOUNTS__FAILURE_WINDOW_SECONDS", "3")]).await;
    throttling_holds_and_lifts(&app).await;
}

#[tokio::test]
async fn throttling_holds_under_100_quick_wrong_attempts_on_redis() {
    let app = spawn_app(&[
        ("INSTALLGATE__ACCOUNTS__FAILURE_WINDOW_SECONDS", "3"),
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        (
            "INSTALLGATE__STATE__REDIS_URL",
            &installgate_tests::redis_url(),
        ),
        (
            "INSTALLGATE__STATE__KEY_PREFIX",
            &installgate_tests::unique_prefix(),
        ),
        ("INSTALLGATE__SESSION__KEY", TEST_SESSION_KEY),
    ])
    .await;
    throttling_holds_and_lifts(&app).await;
}

async fn throttling_holds_and_lifts(app: &TestApp) {
    let browser = Browser::new(app);
    sign_up(&browser, "victim@example.com").await;
    sign_out(&browser).await;
    let page = browser.get("/account/sign-in").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let started = Instant::now();
    let attempts: Vec<_> = (0..100)
        .map(|n| {
            let browser = &browser;
            let csrf = csrf.clone();
            async move {
                let password = format!("wrong password {n}");
                browser
                    .post(
                        "/account/sign-in",
                        &[
                            ("email", "victim@example.com"),
                            ("password", &password),
                            ("csrf_token", &csrf),
                        ],
                    )
                    .await
            }
        })
        .collect();
    let responses = futures_util::future::join_all(attempts).await;
    let throttled: Vec<_> = responses
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let refused = responses
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(throttled.len() + refused, 100, "only 401 and 429 answers");
    assert!(throttled.len() >= 80, "{} throttled", throttled.len());
    assert!(
        throttled
            .iter()
            .all(|r| r.headers().contains_key("retry-after"))
    );

    // The right password is refused too while the window lasts...
    if started.elapsed() < Duration::from_secs(2) {
        let right = browser
            .post(
                "/account/sign-in",
                &[
                    ("email", "victim@example.com"),
                    ("password", PASSWORD),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // ...and works once it has passed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let right = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "victim@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_client_address_is_throttled_across_accounts() {
    let app = spawn_app(&[("INSTALLGATE__ACCOUNTS__MAX_FAILURES_PER_ADDRESS", "10")]).await;
    let browser = Browser::new(&app);
    let mut statuses = Vec::new();
    for n in 0..15 {
        let response = sign_in(&browser, &format!("user{n}@example.com"), "wrong password!").await;
        statuses.push(response.status());
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[10..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_session_store_that_is_down_gives_the_503_page() {
    let mut redis = PrivateRedis::start().await;
    let app = redis_app(&redis.url()).await;
    let browser = Browser::new(&app);
    sign_up(&browser, "down@example.com").await;
    assert!(is_signed_in(&browser).await);
    redis.stop();
    let response = browser.get("/account/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.text().await.unwrap();
    assert!(body.contains("Temporarily unavailable"), "{body}");
}

#[tokio::test]
async fn accounts_created_by_the_operator_command_can_sign_in() {
    let app = spawn_app(&[]).await;
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    let id = installgate_server::commands::create_account(
        &app.settings,
        database,
        "Operator@Example.com",
        Ok(PASSWORD.to_owned()),
    )
    .await
    .unwrap();
    assert!(!id.as_str().is_empty());
    let browser = Browser::new(&app);
    assert_eq!(
        sign_in(&browser, "operator@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    let short = installgate_server::commands::create_account(
        &app.settings,
        database,
        "x@example.com",
        Ok("short".into()),
    )
    .await;
    assert!(short.unwrap_err().contains("at least 10"));
}

#[tokio::test]
async fn the_sign_in_page_names_the_app_and_marketplace_being_installed() {
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
    ])
    .await;
    let browser = Browser::new(&app);
    let page = browser
        .get("/account/sign-in?app=crm&provider=hubspot")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("to continue installing crm from HubSpot"),
        "{page}"
    );
    assert!(page.contains("name=\"viewport\""));
    assert!(page.contains("<label for=\"email\">"));
    // Unknown or mismatched apps are not named.
    let other = browser
        .get("/account/sign-in?app=crm&provider=pipedrive")
        .await
        .text()
        .await
        .unwrap();
    assert!(other.contains("to manage your marketplace connections"));
    // A duplicated parameter is refused.
    let duplicated = browser.get("/account/sign-in?resume=a&resume=b").await;
    assert_eq!(duplicated.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_account_pages_of_an_install_may_be_framed_by_its_marketplace_only() {
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
    ])
    .await;
    let browser = Browser::new(&app);
    let policy = installgate_tests::frame_ancestors;
    let hubspot = "frame-ancestors 'self' https://app.hubspot.com";
    // The sign-in and sign-up pages of HubSpot's install: framed where the install is.
    for path in [
        "/account/sign-in?app=crm&provider=hubspot",
        "/account/sign-up?app=crm&provider=hubspot",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            policy(&page).starts_with(hubspot),
            "{path}: {}",
            policy(&page)
        );
        assert!(page.headers().get("x-frame-options").is_none());
        // Its form posts keep the install in their address, so that the answer keeps the policy.
        let html = page.text().await.unwrap();
        assert!(
            html.contains("action=\"/account/") && html.contains("?app=crm&amp;provider=hubspot\""),
            "{html}"
        );
    }
    // A wrong password: the page comes again, still frameable, still naming the install.
    let page = browser
        .get("/account/sign-in?app=crm&provider=hubspot")
        .await;
    let csrf = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();
    let fields = [
        ("email", "nobody@example.com"),
        ("password", "not the password"),
        ("csrf_token", csrf.as_str()),
    ];
    let again = browser
        .post("/account/sign-in?app=crm&provider=hubspot", &fields)
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(policy(&again).starts_with(hubspot), "{}", policy(&again));
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("to continue installing crm from HubSpot")
    );
    // Anything else is framed by nobody: no install, an unknown app, a provider that is not the
    // app's, a duplicated parameter.
    for path in [
        "/account/sign-in",
        "/account/sign-in?app=other&provider=hubspot",
        "/account/sign-in?app=crm&provider=pipedrive",
        "/account/sign-in?app=crm&app=crm&provider=hubspot",
        "/account/",
    ] {
        let page = browser.get(path).await;
        assert_eq!(policy(&page), "frame-ancestors 'none'", "{path}");
    }
}

#[tokio::test]
async fn pages_with_forms_let_browsers_send_their_origin_and_other_pages_send_no_referrer() {
    let app = spawn_app(&[]).await;
    let browser = Browser::new(&app);
    // Under `no-referrer`, browsers post forms with `Origin: null`, which the CSRF check refuses.
    for path in ["/account/sign-in", "/account/sign-up"] {
        let page = browser.get(path).await;
        assert_eq!(page.headers()["referrer-policy"], "same-origin", "{path}");
        let html = page.text().await.unwrap();
        assert!(!html.contains("name=\"referrer\""), "{path}: {html}");
    }
    for path in [
        "/healthz",
        "/no-such-page",
        "/install/hubspot/none?step=authorize",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.headers()["referrer-policy"], "no-referrer", "{path}");
    }
    // And `Origin: null` is refused.
    let page = browser.get("/account/sign-in").await;
    let csrf = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();
    let fields = [
        ("email", "a@example.com"),
        ("password", "whatever it is"),
        ("csrf_token", csrf.as_str()),
    ];
    let refused = browser
        .post_from("/account/sign-in", &fields, Some("null"))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_apps_branding_shows_on_the_pages_of_its_installs_and_nowhere_else() {
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ("INSTALLGATE__APPS__CRM__DISPLAY_NAME", "Acme <Deals>"),
        (
            "INSTALLGATE__APPS__CRM__LOGO_URL",
            "https://cdn.acme.example/logo.svg",
        ),
        ("INSTALLGATE__APPS__CRM__ACCENT_COLOR", "#FFD400"),
        (
            "INSTALLGATE__APPS__CRM__SUPPORT_URL",
            "https://acme.example/help",
        ),
        (
            "INSTALLGATE__APPS__CRM__PRIVACY_URL",
            "https://acme.example/privacy",
        ),
        ("INSTALLGATE__APPS__PLAIN__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__PLAIN__CLIENT_ID", "id2"),
        ("INSTALLGATE__APPS__PLAIN__CLIENT_SECRET", "secret2"),
    ])
    .await;
    let browser = Browser::new(&app);
    let branded = browser
        .get("/account/sign-up?app=crm&provider=pipedrive")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        branded.contains("continue installing Acme &lt;Deals&gt; from Pipedrive"),
        "{branded}"
    );
    assert!(branded.contains(
        "<img src=\"https://cdn.acme.example/logo.svg\" alt=\"Acme &lt;Deals&gt; logo\""
    ));
    // A light accent gets dark text on its buttons.
    assert!(
        branded.contains("button{background:#ffd400;color:#000"),
        "{branded}"
    );
    assert!(branded.contains("href=\"https://acme.example/help\">Help</a>"));
    assert!(branded.contains("href=\"https://acme.example/privacy\">Privacy</a>"));
    assert!(!branded.contains(">Terms<"), "no terms link was configured");
    assert!(branded.contains("<title>Sign up · Acme &lt;Deals&gt;</title>"));

    // The page loads nothing from elsewhere but the logo, and its policy says exactly that.
    let response = browser
        .get("/account/sign-up?app=crm&provider=pipedrive")
        .await;
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
         img-src https://cdn.acme.example; frame-ancestors 'self'"
    );
    // Another app, and pages outside an install, keep the plain look.
    for path in [
        "/account/sign-in?app=plain&provider=pipedrive",
        "/account/sign-in",
    ] {
        let plain = browser.get(path).await.text().await.unwrap();
        assert!(
            !plain.contains("<header") && !plain.contains("<footer"),
            "{path}: {plain}"
        );
        assert!(!plain.contains("acme"), "{path}");
    }
}
