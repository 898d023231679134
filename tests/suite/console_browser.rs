//! The operator console in a real Chromium: an operator signs in with a password and enrols
//! TOTP, finds the connection an install of this test made, reads its timeline, retries a
//! failed delivery that then reaches the receiver, and disconnects the connection (the
//! Pipedrive simulator records the revoke); a viewer sees the pages without action buttons and
//! gets 403 posting an action; sign-in through the test OpenID Connect provider works for an
//! allowed domain and is refused outside it. axe-core checks every console page visited: the
//! sign-in, enrolment and recovery-code pages, the overview, the connections list, a
//! connection's page, the disconnect confirmation, the deliveries, the apps, the audit log, the
//! refused action, the code page, the retry-every-failed-event confirmation and its outcome, and
//! the refused-sign-in page. The identity provider runs on `localhost`, another site than the
//! console's `127.0.0.1`, and the person confirms on its page, as at a company's provider. Screenshots of the overview, a connection's page
//! and the apps page go to `target/screenshots/`.

use installgate_tests::{
    Chrome, OPERATOR_PASSWORD, OidcPerson, OidcProvider, Receiver, create_operator, free_port,
    totp_code, until,
};

use crate::pipedrive::{confirm_install, setup_with, signed_in_browser};

async fn password_step(chrome: &Chrome, console: &str, email: &str) {
    chrome
        .client
        .goto(&format!("{console}/admin/sign-in"))
        .await
        .unwrap();
    chrome.wait_for("input#email").await;
    chrome.assert_accessible("console sign-in").await;
    chrome.fill("input#email", email).await;
    chrome.fill("input#password", OPERATOR_PASSWORD).await;
    chrome.click("button[type=submit]").await;
}

/// The first sign-in of `email`: password, TOTP enrolment, recovery codes; on to the overview.
async fn enrol(chrome: &Chrome, console: &str, email: &str) -> String {
    password_step(chrome, console, email).await;
    let key = chrome.text_of("code#totp-key").await;
    chrome.assert_accessible("enrolment").await;
    chrome.fill("input#code", &totp_code(&key, 0)).await;
    chrome.click("button[type=submit]").await;
    chrome.wait_for("#recovery-codes").await;
    chrome.assert_accessible("recovery codes").await;
    chrome.click("a[href='/admin/overview']").await;
    chrome.wait_for_text("h1", "Overview").await;
    key
}

async fn sign_out(chrome: &Chrome) {
    chrome.click("form[action='/admin/sign-out'] button").await;
    chrome.wait_for("input#email").await;
}

#[tokio::test]
async fn operators_find_retry_and_disconnect_in_the_console_and_viewers_only_look() {
    let hook_port = free_port();
    let hook_url = format!("http://127.0.0.1:{hook_port}/hooks");
    let oidc = OidcProvider::start().await;
    let mut vars: Vec<(String, String)> = vec![
        ("INSTALLGATE__WEBHOOK__URL".into(), hook_url),
        (
            "INSTALLGATE__WEBHOOK__SECRET".into(),
            "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=".into(),
        ),
        (
            "INSTALLGATE__WEBHOOK__INITIAL_BACKOFF_MS".into(),
            "100".into(),
        ),
        ("INSTALLGATE__WEBHOOK__POLL_INTERVAL_MS".into(), "50".into()),
        (
            "INSTALLGATE__WEBHOOK__GIVE_UP_AFTER_SECONDS".into(),
            "1".into(),
        ),
        ("INSTALLGATE__ADMIN__ACTIVITY_FLUSH_MS".into(), "50".into()),
    ];
    vars.extend(oidc.settings("example.com"));
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let setup = setup_with(&pairs).await;
    let user = signed_in_browser(&setup.app, "customer@example.com").await;
    confirm_install(&setup, &user, 1, 10).await;
    confirm_install(&setup, &user, 2, 10).await;
    let connection = crate::pipedrive::connection(&setup.app, "1:10")
        .await
        .unwrap();
    let other = crate::pipedrive::connection(&setup.app, "2:10")
        .await
        .unwrap();
    create_operator(&setup.app, "ops@example.com", "operator").await;
    create_operator(&setup.app, "looker@example.com", "viewer").await;
    let console = format!("http://127.0.0.1:{}", setup.app.admin_port.unwrap());

    let chrome = Chrome::start("console").await;
    let key = enrol(&chrome, &console, "ops@example.com").await;
    chrome.assert_accessible("overview").await;
    chrome.shot("overview").await;

    // The connection, found by its marketplace key.
    chrome.click("a[href='/admin/connections']").await;
    chrome.fill("input#marketplace_key", "1:10").await;
    chrome.click("form.filters button").await;
    let link = format!("a[href='/admin/connections/{}']", connection.id);
    chrome.wait_for(&link).await;
    chrome.assert_accessible("connections").await;
    chrome.click(&link).await;
    chrome.wait_for_text("#status", "active").await;
    let timeline = chrome.text_of("table").await;
    assert!(timeline.contains("installation.completed"), "{timeline}");
    chrome.assert_accessible("connection").await;
    chrome.shot("connection").await;

    // The install's event could not be delivered and was given up; once the receiver is up, a
    // retry from the deliveries page reaches it.
    until("the delivery to fail", async || {
        chrome
            .client
            .goto(&format!("{console}/admin/deliveries"))
            .await
            .unwrap();
        chrome.wait_for("h1").await;
        chrome
            .client
            .source()
            .await
            .unwrap()
            .contains("<td>failed</td>")
    })
    .await;
    chrome.assert_accessible("deliveries").await;
    let receiver = Receiver::start_on(hook_port, 0).await;
    chrome.click("td form button").await;
    chrome.wait_for("p.ok").await;
    until("the retried delivery to arrive", async || {
        receiver.accepted().len() == 1
    })
    .await;

    // Disconnect, after the confirmation: the marketplace is told.
    chrome
        .client
        .goto(&format!("{console}/admin/connections/{}", connection.id))
        .await
        .unwrap();
    chrome
        .click(&format!(
            "a[href='/admin/connections/{}/disconnect']",
            connection.id
        ))
        .await;
    chrome.wait_for_text("h1", "Disconnect?").await;
    chrome.assert_accessible("disconnect confirmation").await;
    chrome.click("main form button").await;
    chrome.wait_for_text("#status", "uninstalled").await;
    assert_eq!(setup.sim.revoke_calls(), 1);

    chrome.click("a[href='/admin/apps']").await;
    chrome.wait_for_text("h1", "Apps").await;
    chrome.assert_accessible("apps").await;
    chrome.shot("apps").await;
    chrome.click("a[href='/admin/audit']").await;
    chrome.wait_for_text("h1", "Audit log").await;
    let audit = chrome.text_of("table").await;
    assert!(
        audit.contains("connection.disconnect") && audit.contains("event.retry"),
        "{audit}"
    );
    chrome.assert_accessible("audit log").await;
    sign_out(&chrome).await;

    // A viewer: the same pages, no action buttons, and 403 for an action posted by hand.
    enrol(&chrome, &console, "looker@example.com").await;
    chrome
        .client
        .goto(&format!("{console}/admin/connections/{}", other.id))
        .await
        .unwrap();
    chrome.wait_for_text("#status", "active").await;
    let page = chrome.client.source().await.unwrap();
    assert!(
        !page.contains("Refresh tokens now")
            && !page.contains("Disconnect")
            && !page.contains("<h2>Actions"),
        "{page}"
    );
    // The page's policy lets it post forms to the console only; the form the viewer does not
    // have, made by hand, is refused.
    chrome
        .client
        .execute(
            &format!(
                "const form = document.createElement('form');\
                 form.method = 'post';\
                 form.action = '/admin/connections/{}/refresh';\
                 const csrf = document.createElement('input');\
                 csrf.type = 'hidden'; csrf.name = 'csrf';\
                 csrf.value = document.querySelector('input[name=csrf]').value;\
                 form.appendChild(csrf); document.body.appendChild(form); form.submit();",
                connection.id
            ),
            Vec::new(),
        )
        .await
        .unwrap();
    chrome.wait_for_text("h1", "Not allowed").await;
    let refused = chrome.client.source().await.unwrap();
    assert!(refused.contains("viewers may look, not act"), "{refused}");
    chrome.assert_accessible("refused action").await;
    chrome
        .client
        .goto(&format!("{console}/admin/overview"))
        .await
        .unwrap();
    sign_out(&chrome).await;

    // The operator again, now with a code from the authenticator.
    password_step(&chrome, &console, "ops@example.com").await;
    chrome.wait_for("input#code").await;
    chrome.assert_accessible("code").await;
    chrome.fill("input#code", &totp_code(&key, 1)).await;
    chrome.click("button[type=submit]").await;
    chrome.wait_for_text("h1", "Overview").await;
    chrome
        .client
        .goto(&format!("{console}/admin/deliveries/retry-app?app=crm"))
        .await
        .unwrap();
    chrome
        .wait_for_text("h1", "Retry every failed event?")
        .await;
    chrome.assert_accessible("retry every failed event").await;
    chrome.click("main form button").await;
    chrome.wait_for("p.ok").await;
    chrome.assert_accessible("deliveries after a retry").await;
    sign_out(&chrome).await;

    // The company's identity provider (another site, where the person confirms): a member of
    // `ops` in the allowed domain gets in as an operator; someone from another domain is
    // refused.
    oidc.sign_in_next(Some(OidcPerson {
        email: "lead@example.com".into(),
        email_verified: Some(true),
        groups: vec!["ops".into()],
    }));
    chrome.click("a[href='/admin/oidc/start']").await;
    chrome.click("#approve").await;
    chrome.wait_for_text("h1", "Overview").await;
    let who = chrome.text_of("form.who span").await;
    assert_eq!(who, "lead@example.com (operator)");
    sign_out(&chrome).await;
    oidc.sign_in_next(Some(OidcPerson {
        email: "intruder@elsewhere.example".into(),
        email_verified: Some(true),
        groups: vec!["ops".into()],
    }));
    chrome.click("a[href='/admin/oidc/start']").await;
    chrome.click("#approve").await;
    chrome.wait_for_text("h1", "Sign-in refused").await;
    let refused = chrome.text_of("p.error").await;
    assert!(
        refused.contains("intruder@elsewhere.example may not use this console"),
        "{refused}"
    );
    chrome.assert_accessible("refused sign-in").await;
    chrome
        .client
        .goto(&format!("{console}/admin/overview"))
        .await
        .unwrap();
    chrome.wait_for("input#email").await;
    assert_eq!(oidc.issued(), 2);
    chrome.end().await;
}
