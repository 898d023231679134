//! Held installs as their claims and cancels race: a cancel never ends a grant someone claimed,
//! an uninstalled connection is claimed afresh, and a browser's held install ties one cancel
//! event only.

use installgate_core::ConnectionStatus;
use installgate_tests::{Browser, hidden_input};
use reqwest::StatusCode;

use crate::pipedrive::{self, CLIENT_ID, callback, connection, events, signed_in_browser};

/// The confirmation page for `code`, and its CSRF token.
async fn offered(browser: &Browser, code: &str) -> String {
    let page = browser.get(&callback(code)).await;
    assert_eq!(page.status(), StatusCode::OK, "the confirmation page");
    hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap()
}

async fn decide(browser: &Browser, csrf: &str, decision: &str) -> reqwest::Response {
    browser
        .post(
            "/install/pipedrive/crm/confirm",
            &[("csrf_token", csrf), ("decision", decision)],
        )
        .await
}

/// Two browsers hold the same Pipedrive account's install (two codes for one user); one
/// confirms, then the other cancels. The cancel must not end the grant the first one claimed.
#[tokio::test]
async fn a_cancel_in_another_browser_never_ends_a_claimed_grant() {
    let setup = pipedrive::setup().await;
    let owner = signed_in_browser(&setup.app, "owner@example.com").await;
    let other = signed_in_browser(&setup.app, "other@example.com").await;
    let first = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let second = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let owner_csrf = offered(&owner, &first).await;
    let other_csrf = offered(&other, &second).await;

    assert_eq!(
        decide(&owner, &owner_csrf, "confirm").await.status(),
        StatusCode::SEE_OTHER
    );
    let cancelled = decide(&other, &other_csrf, "cancel").await;
    assert_eq!(cancelled.status(), StatusCode::OK);

    let kept = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(
        kept.status,
        ConnectionStatus::Active,
        "the owner's grant ended"
    );
    assert!(kept.tokens.is_some());
    assert_eq!(
        setup.sim.revoke_calls(),
        0,
        "nothing was revoked at Pipedrive"
    );
    assert_eq!(events(&setup.app, "installation.cancelled").await, 0);
}

/// A connection uninstalled at Pipedrive, installed again by someone else (the company's
/// account moved on): the new install is claimed afresh, not refused as another's.
#[tokio::test]
async fn an_uninstalled_connection_is_claimed_afresh() {
    let setup = pipedrive::setup().await;
    let before = signed_in_browser(&setup.app, "before@example.com").await;
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let csrf = offered(&before, &code).await;
    decide(&before, &csrf, "confirm").await;
    assert_eq!(
        setup
            .sim
            .send_uninstall(CLIENT_ID, 1, 10, true)
            .await
            .unwrap(),
        200
    );

    let after = signed_in_browser(&setup.app, "after@example.com").await;
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let csrf = offered(&after, &code).await;
    let confirmed = decide(&after, &csrf, "confirm").await;
    assert_eq!(
        confirmed.status(),
        StatusCode::SEE_OTHER,
        "not refused as another's"
    );
    let claimed = connection(&setup.app, "1:10").await.unwrap();
    assert_eq!(claimed.status, ConnectionStatus::Active);
    assert!(claimed.account.is_some());
    assert_eq!(events(&setup.app, "connection.claim_refused").await, 0);
}

/// A browser that holds a pending install sends `?error=user_denied` again and again: one
/// `installation.cancelled`, not one per request.
#[tokio::test]
async fn a_held_install_ties_one_cancel_event_only() {
    let setup = pipedrive::setup().await;
    let browser = Browser::new(&setup.app);
    let code = setup.sim.issue_code(CLIENT_ID, 1, 10).unwrap();
    let held = browser.get(&callback(&code)).await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER, "held, on to sign in");
    for _ in 0..5 {
        let page = browser
            .get("/install/pipedrive/crm?error=user_denied")
            .await;
        assert_eq!(page.status(), StatusCode::OK);
    }
    assert_eq!(events(&setup.app, "installation.cancelled").await, 1);
}
