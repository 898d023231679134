//! The operator console over HTTP: its own listener, sign-in with password and TOTP (codes
//! taken once, recovery codes once), roles, CSRF and Origin, the audit log, actions through the
//! same functions as the API, and the overview's figures against the events.

use installgate_core::ConnectionStatus;
use installgate_store::AuditLog;
use installgate_tests::{
    ConsoleClient, OPERATOR_PASSWORD, create_operator, hidden_input, location, spawn_app,
    totp_code, until,
};
use reqwest::StatusCode;

use crate::pipedrive::{CLIENT_ID, callback, confirm_install, setup_with, signed_in_browser};

pub(crate) async fn audit(app: &installgate_tests::TestApp) -> Vec<(String, String, String)> {
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    AuditLog::new(database)
        .list(100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.actor, entry.action, entry.outcome))
        .collect()
}

#[tokio::test]
async fn the_console_is_served_on_its_own_listener_only() {
    let app = spawn_app(&[]).await;
    for path in [
        "/admin",
        "/admin/sign-in",
        "/admin/overview",
        "/admin/static/console.js",
    ] {
        let on_install_listener = app.get(path).await;
        assert_eq!(
            on_install_listener.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let console = ConsoleClient::new(&app);
    assert_ne!(console.base, app.address);
    let page = console.get("/admin/sign-in").await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert_eq!(
        console.get("/install/pipedrive/crm").await.status(),
        StatusCode::NOT_FOUND
    );
    // Without a signed-in operator every page sends to the sign-in page.
    for path in [
        "/admin/overview",
        "/admin/connections",
        "/admin/deliveries",
        "/admin/apps",
        "/admin/audit",
    ] {
        let page = console.get(path).await;
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&page), "/admin/sign-in", "{path}");
    }

    let off = spawn_app(&[("INSTALLGATE__ADMIN__BIND", "")]).await;
    assert!(off.admin_port.is_none());
}

#[tokio::test]
async fn an_operator_enrols_totp_then_each_code_and_recovery_code_signs_in_once() {
    let app = spawn_app(&[]).await;
    create_operator(&app, "ops@example.com", "operator").await;
    let console = ConsoleClient::new(&app);
    let (key, recovery) = console.enrol("ops@example.com").await;
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        console.get("/admin/overview").await.status(),
        StatusCode::OK
    );

    // Another browser: the password alone is not enough, a wrong code is refused.
    let other = ConsoleClient::new(&app);
    let wrong = other.sign_in("ops@example.com", "000000").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        other.get("/admin/overview").await.status(),
        StatusCode::SEE_OTHER
    );
    // The code of the next step signs in; the same code again does not (it was used).
    let code = totp_code(&key, 1);
    let signed = other.sign_in("ops@example.com", &code).await;
    assert_eq!(location(&signed), "/admin/overview");
    let replayed = ConsoleClient::new(&app)
        .sign_in("ops@example.com", &code)
        .await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    // A recovery code signs in once, typed in capitals with spaces.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    let recovered = ConsoleClient::new(&app)
        .sign_in("ops@example.com", &typed)
        .await;
    assert_eq!(location(&recovered), "/admin/overview");
    let again = ConsoleClient::new(&app)
        .sign_in("ops@example.com", &recovery[0])
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // A wrong password and an unknown email are refused alike, and audited.
    let bad = ConsoleClient::new(&app)
        .password("ops@example.com", "not the password")
        .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let unknown = ConsoleClient::new(&app)
        .password("nobody@example.com", OPERATOR_PASSWORD)
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let log = audit(&app).await;
    let refused = |actor: &str, action: &str| {
        log.iter().any(|(who, what, outcome)| {
            who == actor && what == action && outcome.starts_with("refused")
        })
    };
    assert!(refused("ops@example.com", "sign_in.code"), "{log:?}");
    assert!(refused("ops@example.com", "sign_in"), "{log:?}");
    assert!(refused("nobody@example.com", "sign_in"), "{log:?}");
    assert!(
        log.iter()
            .any(|(who, what, outcome)| who == "ops@example.com"
                && what == "sign_in.recovery_code"
                && outcome == "ok")
    );

    // Signing out ends the session on the server: the old cookie finds nothing.
    let csrf = console.csrf("/admin/overview").await;
    let out = console.post("/admin/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(location(&out), "/admin/sign-in");
    assert_eq!(
        console.get("/admin/overview").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_second_step_cannot_be_skipped_or_done_in_another_browser() {
    let app = spawn_app(&[]).await;
    create_operator(&app, "half@example.com", "operator").await;
    let console = ConsoleClient::new(&app);
    let (key, _) = console.enrol("half@example.com").await;
    let attacker = ConsoleClient::new(&app);
    let halfway = attacker
        .password("half@example.com", OPERATOR_PASSWORD)
        .await;
    assert_eq!(location(&halfway), "/admin/sign-in/code");
    // Past the password only: no page.
    assert_eq!(
        attacker.get("/admin/overview").await.status(),
        StatusCode::SEE_OTHER
    );
    // A code sent from a browser that never gave the password goes nowhere.
    let stranger = ConsoleClient::new(&app);
    let csrf = stranger.csrf("/admin/sign-in").await;
    let skipped = stranger
        .post(
            "/admin/sign-in/code",
            &[("csrf", &csrf), ("code", &totp_code(&key, 1))],
        )
        .await;
    assert_eq!(location(&skipped), "/admin/sign-in");
    assert_eq!(
        stranger.get("/admin/overview").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn forms_need_the_consoles_origin_and_token() {
    let app = spawn_app(&[]).await;
    create_operator(&app, "forms@example.com", "operator").await;
    let console = ConsoleClient::new(&app);
    let csrf = console.csrf("/admin/sign-in").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "forms@example.com"),
        ("password", OPERATOR_PASSWORD),
    ];
    for origin in [
        None,
        Some("https://evil.example"),
        Some(app.address.as_str()),
    ] {
        let refused = console.post_from("/admin/sign-in", &form, origin).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let no_token = console
        .post(
            "/admin/sign-in",
            &[
                ("email", "forms@example.com"),
                ("password", OPERATOR_PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let malformed = console.post("/admin/sign-in", &[("csrf", &csrf)]).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(
        malformed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn a_viewer_sees_every_page_without_actions_and_is_refused_when_posting_one() {
    let setup = setup_with(&[]).await;
    let user = signed_in_browser(&setup.app, "customer@example.com").await;
    confirm_install(&setup, &user, 1, 10).await;
    let connection = crate::pipedrive::connection(&setup.app, "1:10")
        .await
        .unwrap();

    let (viewer, _) = ConsoleClient::signed_in(&setup.app, "viewer@example.com", "viewer").await;
    for path in [
        "/admin/overview",
        "/admin/connections",
        "/admin/deliveries",
        "/admin/apps",
        "/admin/audit",
    ] {
        assert_eq!(viewer.get(path).await.status(), StatusCode::OK, "{path}");
    }
    // What to paste into Pipedrive's Developer Hub: its one callback URL, the install URL.
    let apps = viewer.text("/admin/apps").await;
    assert!(
        apps.contains("Callback URL (Developer Hub; installs and uninstalls)")
            && apps.contains(&format!("{}/install/pipedrive/crm", setup.app.address)),
        "{apps}"
    );
    let page = viewer
        .text(&format!("/admin/connections/{}", connection.id))
        .await;
    assert!(page.contains("1:10") && page.contains("active"), "{page}");
    assert!(
        !page.contains("Disconnect") && !page.contains("Refresh tokens now"),
        "{page}"
    );
    let csrf = hidden_input(&page, "csrf").unwrap();
    let id = connection.id.to_string();
    for action in [
        format!("/admin/connections/{id}/disconnect"),
        format!("/admin/connections/{id}/refresh"),
        format!("/admin/connections/{id}/retry-revoke"),
        "/admin/deliveries/evt_any/retry".to_owned(),
        "/admin/deliveries/retry-app".to_owned(),
    ] {
        let refused = viewer
            .post(&action, &[("csrf", &csrf), ("app", "crm")])
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(
        viewer
            .get("/admin/deliveries/retry-app?app=crm")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .get(&format!("/admin/connections/{}/disconnect", connection.id))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        crate::pipedrive::connection(&setup.app, "1:10")
            .await
            .unwrap()
            .status,
        ConnectionStatus::Active
    );
    assert_eq!(setup.sim.revoke_calls(), 0);
    let log = audit(&setup.app).await;
    assert!(
        log.iter()
            .any(|(who, what, outcome)| who == "viewer@example.com"
                && what == "connection.disconnect"
                && outcome.starts_with("refused")),
        "{log:?}"
    );

    // An operator disconnects: the grant is revoked at the marketplace, as by the API.
    let (operator, _) = ConsoleClient::signed_in(&setup.app, "op@example.com", "operator").await;
    let page = operator
        .text(&format!("/admin/connections/{}", connection.id))
        .await;
    assert!(page.contains("Disconnect"), "{page}");
    let csrf = operator
        .csrf(&format!("/admin/connections/{}/disconnect", connection.id))
        .await;
    let done = operator
        .post(
            &format!("/admin/connections/{}/disconnect", connection.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        location(&done),
        format!("/admin/connections/{}?done=disconnected", connection.id)
    );
    assert_eq!(setup.sim.revoke_calls(), 1);
    assert_eq!(
        crate::pipedrive::connection(&setup.app, "1:10")
            .await
            .unwrap()
            .status,
        ConnectionStatus::Uninstalled
    );
    let page = operator
        .text(&format!("/admin/connections/{}", connection.id))
        .await;
    assert!(page.contains("installation.uninstalled"), "{page}");
    let log = audit(&setup.app).await;
    assert!(
        log.iter()
            .any(|(who, what, outcome)| who == "op@example.com"
                && what == "connection.disconnect"
                && outcome == "ok")
    );
}

#[tokio::test]
async fn the_overview_adds_up_to_what_the_events_and_the_funnel_counted() {
    let setup = setup_with(&[("INSTALLGATE__ADMIN__ACTIVITY_FLUSH_MS", "50")]).await;
    let app = &setup.app;
    // Two completed installs, one uninstalled again.
    let user = signed_in_browser(app, "mix@example.com").await;
    confirm_install(&setup, &user, 1, 10).await;
    confirm_install(&setup, &user, 2, 10).await;
    assert_eq!(
        setup
            .sim
            .send_uninstall(CLIENT_ID, 1, 10, true)
            .await
            .unwrap(),
        200
    );
    // One cancelled by the signed-in user on the confirmation page.
    let code = setup.sim.issue_code(CLIENT_ID, 1, 11).unwrap();
    let page = user.get(&callback(&code)).await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    user.post(
        "/install/pipedrive/crm/confirm",
        &[("csrf_token", &csrf), ("decision", "cancel")],
    )
    .await;
    // One cancelled at Pipedrive, and two that fail: a malformed callback and a code
    // Pipedrive does not know.
    user.get("/install/pipedrive/crm?error=user_denied").await;
    user.get("/install/pipedrive/crm?code=").await;
    user.get(&callback("not-a-code-pipedrive-issued")).await;

    let completed = app.event_count("installation.completed").await as i64;
    let cancelled = app.event_count("installation.cancelled").await as i64;
    let uninstalled = app.event_count("installation.uninstalled").await as i64;
    assert_eq!((completed, cancelled, uninstalled), (2, 1, 1));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let failed: i64 = metrics
        .lines()
        .filter(|line| {
            line.starts_with("installgate_install_steps_total")
                && line.contains("outcome=\"failed\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<i64>().ok())
        .sum();
    assert_eq!(failed, 2, "{metrics}");

    let (operator, _) = ConsoleClient::signed_in(app, "count@example.com", "viewer").await;
    let figure = |page: &str, name: &str| -> i64 {
        installgate_tests::between(page, &format!("data-figure=\"{name}\">"), "<")
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut page = String::new();
    until("the failures to be counted", async || {
        page = operator.text("/admin/overview?window=hour").await;
        installgate_tests::between(&page, "data-figure=\"failed\">", "<") == Some("2")
    })
    .await;
    assert_eq!(figure(&page, "completed"), completed);
    assert_eq!(figure(&page, "cancelled"), cancelled);
    assert_eq!(figure(&page, "uninstalled"), uninstalled);
    assert_eq!(figure(&page, "failed"), failed);
    // Started: the five callbacks Pipedrive sent with a code or a refusal (the malformed one is
    // no install).
    assert_eq!(figure(&page, "started"), 5, "{page}");
    assert!(
        page.contains("Connections now: ") && page.contains("active: 1"),
        "{page}"
    );
}

#[tokio::test]
async fn an_operator_retries_every_failed_delivery_of_an_app_after_confirming() {
    use installgate_core::Clock as _;
    let setup = setup_with(&[]).await;
    let user = signed_in_browser(&setup.app, "hooks@example.com").await;
    confirm_install(&setup, &user, 1, 10).await;
    confirm_install(&setup, &user, 2, 10).await;
    // No webhook is configured: give both events up by hand, as the delivery worker would.
    let database = installgate_store::Database::connect(&setup.app.settings.database)
        .await
        .unwrap();
    let outbox = installgate_store::Outbox::new(database);
    let now = installgate_core::SystemClock.now();
    let claimed = outbox
        .claim("test", now, std::time::Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    for event in &claimed {
        outbox
            .give_up(event.seq, "test", now, "the receiver answered 500")
            .await
            .unwrap();
    }
    let (operator, _) =
        ConsoleClient::signed_in(&setup.app, "hooks-op@example.com", "operator").await;
    let page = operator.text("/admin/deliveries?app=crm").await;
    assert!(
        page.contains("answered 500") && page.contains("Retry every failed event of crm"),
        "{page}"
    );
    // An unknown app is refused; the confirmation names the app.
    assert_eq!(
        operator
            .get("/admin/deliveries/retry-app?app=nope")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let confirm = operator.text("/admin/deliveries/retry-app?app=crm").await;
    let csrf = hidden_input(&confirm, "csrf").unwrap();
    let done = operator
        .post(
            "/admin/deliveries/retry-app",
            &[("csrf", &csrf), ("app", "crm")],
        )
        .await;
    let back = location(&done);
    assert_eq!(back, "/admin/deliveries?app=crm&done=retried-all&count=2");
    assert!(outbox.list(true, 10).await.unwrap().is_empty());
    // When they were written stays as it was (the overview counts events by it).
    for event in &claimed {
        let record = outbox.find(&event.id).await.unwrap().unwrap();
        assert_eq!(record.created_at, event.created_at);
        assert_eq!((record.attempts, record.last_error), (0, None));
    }
    let page = operator.text(&back).await;
    assert!(
        page.contains("2 failed events of crm are queued for delivery again"),
        "{page}"
    );
    assert!(page.contains("No delivery is failing"), "{page}");
}

#[tokio::test]
async fn whoever_else_gave_the_password_never_learns_the_enrolled_key() {
    let app = spawn_app(&[]).await;
    create_operator(&app, "new-op@example.com", "operator").await;
    // Someone who learned the initial password opens the enrolment page first, and leaves.
    let snoop = ConsoleClient::new(&app);
    let halfway = snoop
        .password("new-op@example.com", OPERATOR_PASSWORD)
        .await;
    assert_eq!(location(&halfway), "/admin/enrol");
    let page = snoop.text("/admin/enrol").await;
    let snooped = installgate_tests::between(&page, "<code id=\"totp-key\">", "</code>")
        .unwrap()
        .to_owned();
    // The operator enrols in their own browser: with another key.
    let operator = ConsoleClient::new(&app);
    let (key, _) = operator.enrol("new-op@example.com").await;
    assert_ne!(key, snooped);
    // The snooped key signs nobody in, and the snoop's enrolment page is gone.
    let refused = ConsoleClient::new(&app)
        .sign_in("new-op@example.com", &totp_code(&snooped, 1))
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = snoop.get("/admin/enrol").await;
    assert_eq!(location(&page), "/admin/sign-in");
    let csrf = snoop.csrf("/admin/sign-in").await;
    let late = snoop
        .post(
            "/admin/enrol",
            &[("csrf", &csrf), ("code", &totp_code(&snooped, 0))],
        )
        .await;
    assert_eq!(location(&late), "/admin/sign-in");
    let signed = ConsoleClient::new(&app)
        .sign_in("new-op@example.com", &totp_code(&key, 1))
        .await;
    assert_eq!(location(&signed), "/admin/overview");
}

#[tokio::test]
async fn an_operator_refreshes_now_and_retries_a_revoke_the_marketplace_missed() {
    use installgate_sandbox::Failure;
    let setup = setup_with(&[
        ("INSTALLGATE__TOKENS__REVOKE_RETRY_SECONDS", "3600"),
        // Every forced refresh reaches Pipedrive, however fresh the tokens.
        ("INSTALLGATE__TOKENS__FORCE_REFRESH_WINDOW_MS", "0"),
        ("INSTALLGATE__ADMIN__ACTIVITY_FLUSH_MS", "50"),
    ])
    .await;
    let user = signed_in_browser(&setup.app, "retry@example.com").await;
    confirm_install(&setup, &user, 1, 10).await;
    let connection = crate::pipedrive::connection(&setup.app, "1:10")
        .await
        .unwrap();
    let page = format!("/admin/connections/{}", connection.id);
    let (operator, _) = ConsoleClient::signed_in(&setup.app, "fix@example.com", "operator").await;

    // Forms without the token, or from elsewhere, do nothing.
    let csrf = operator.csrf(&page).await;
    let refresh = format!("{page}/refresh");
    let no_token = operator.post(&refresh, &[("csrf", "")]).await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let elsewhere = operator
        .post_from(&refresh, &[("csrf", &csrf)], Some("https://evil.example"))
        .await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert_eq!(setup.sim.refresh_calls(), 0);
    // Refresh now while Pipedrive fails: the page says so (no 500), the overview counts it.
    setup.sim.fail_next(Failure::ServerError);
    let failed = operator.post(&refresh, &[("csrf", &csrf)]).await;
    assert!(
        [StatusCode::BAD_GATEWAY, StatusCode::SERVICE_UNAVAILABLE].contains(&failed.status()),
        "{}",
        failed.status()
    );
    assert!(
        failed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    until("the failed refresh to be counted", async || {
        let overview = operator.text("/admin/overview?window=hour").await;
        installgate_tests::between(&overview, "data-figure=\"refresh-failed\">", "<") == Some("1")
    })
    .await;
    // Refresh now: one call to Pipedrive's token endpoint.
    let before = setup.sim.refresh_calls();
    let refreshed = operator.post(&refresh, &[("csrf", &csrf)]).await;
    assert_eq!(location(&refreshed), format!("{page}?done=refreshed"));
    assert_eq!(setup.sim.refresh_calls(), before + 1);

    // Pipedrive is down as the connection is disconnected: the revoke waits.
    setup.sim.fail_next(Failure::ServerError);
    let csrf = operator.csrf(&format!("{page}/disconnect")).await;
    let done = operator
        .post(&format!("{page}/disconnect"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&done), format!("{page}?done=disconnected-pending"));
    assert_eq!(setup.sim.revoke_calls(), 1);
    let waiting = operator.text(&page).await;
    assert!(waiting.contains("Retry the revoke now"), "{waiting}");
    let csrf = hidden_input(&waiting, "csrf").unwrap();
    let retried = operator
        .post(&format!("{page}/retry-revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&retried), format!("{page}?done=revoked"));
    assert_eq!(setup.sim.revoke_calls(), 2);
    let settled = operator.text(&page).await;
    assert!(!settled.contains("Retry the revoke now"), "{settled}");
    // Nothing is left to retry.
    let nothing = operator
        .post(&format!("{page}/retry-revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(nothing.status(), StatusCode::CONFLICT);
    let log = audit(&setup.app).await;
    for action in [
        "connection.refresh",
        "connection.disconnect",
        "connection.retry_revoke",
    ] {
        assert!(
            log.iter()
                .any(|(who, what, outcome)| who == "fix@example.com"
                    && what == action
                    && outcome == "ok"),
            "{action}: {log:?}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_an_html_error_page_and_changes_nothing() {
    let app = spawn_app(&[]).await;
    let (operator, _) = ConsoleClient::signed_in(&app, "input@example.com", "operator").await;
    for (path, status) in [
        ("/admin/connections/not-a-uuid", StatusCode::BAD_REQUEST),
        ("/admin/overview?window=year", StatusCode::BAD_REQUEST),
        (
            "/admin/overview?window=day&extra=1",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/admin/connections?status=sleeping",
            StatusCode::BAD_REQUEST,
        ),
        ("/admin/connections?cursor=nope", StatusCode::BAD_REQUEST),
        (
            "/admin/connections?app=Not%20An%20App",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/admin/connections/0190e3c5-0000-7000-8000-000000000000",
            StatusCode::NOT_FOUND,
        ),
        (
            "/admin/deliveries/retry-app?app=nope",
            StatusCode::NOT_FOUND,
        ),
        ("/admin/no-such-page", StatusCode::NOT_FOUND),
    ] {
        let answer = operator.get(path).await;
        assert_eq!(answer.status(), status, "{path}");
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
    }
    let csrf = operator.csrf("/admin/overview").await;
    let unknown = operator
        .post("/admin/deliveries/evt_unknown/retry", &[("csrf", &csrf)])
        .await;
    assert_eq!(unknown.status(), StatusCode::CONFLICT);
    let huge = "x".repeat(20_000);
    let too_large = operator
        .post(
            "/admin/deliveries/retry-app",
            &[("csrf", &csrf), ("app", &huge)],
        )
        .await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let missing = operator.post("/admin/deliveries/retry-app", &[]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let log = audit(&app).await;
    assert!(
        log.iter()
            .any(|(_, what, outcome)| what == "event.retry" && outcome.starts_with("failed")),
        "{log:?}"
    );
}
