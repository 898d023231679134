//! Console sign-in through the company's OpenID Connect provider, against the test provider
//! (`support/oidc.rs`): login CSRF with a callback from another browser, a callback replayed,
//! and who the provider may vouch for.

use installgate_tests::{
    ConsoleClient, OidcPerson, OidcProvider, create_operator, location, spawn_app,
};
use reqwest::StatusCode;

use crate::console::audit;

/// Follows the console's "Sign in with your company account" to the test provider, confirms
/// there, and comes back: the callback URL the provider sends the browser to (not yet opened).
async fn oidc_callback_for(console: &ConsoleClient) -> String {
    let start = console.get("/admin/oidc/start").await;
    assert_eq!(start.status(), StatusCode::FOUND);
    let authorize = url::Url::parse(&location(&start)).unwrap();
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = provider.get(authorize.clone()).send().await.unwrap();
    if page.status() == StatusCode::FOUND {
        // The person declined: straight back.
        return location(&page);
    }
    let page = page.text().await.unwrap();
    let code = installgate_tests::between(&page, "name=code value=", ">").unwrap();
    let state = installgate_tests::between(&page, "name=state value=\"", "\"").unwrap();
    let approved = provider
        .post(authorize.join("/approve").unwrap())
        .form(&[("code", code), ("state", state)])
        .send()
        .await
        .unwrap();
    location(&approved)
}

async fn oidc_app(oidc: &OidcProvider) -> installgate_tests::TestApp {
    let vars = oidc.settings("example.com");
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app(&pairs).await
}

#[tokio::test]
async fn a_company_sign_in_finished_in_another_browser_signs_nobody_in() {
    let oidc = OidcProvider::start().await;
    let app = oidc_app(&oidc).await;
    oidc.sign_in_next(Some(OidcPerson {
        email: "attacker@example.com".into(),
        email_verified: Some(true),
        groups: vec!["ops".into()],
    }));
    // The attacker starts a sign-in in their browser and hands the callback to the victim's.
    let attacker = ConsoleClient::new(&app);
    let callback = oidc_callback_for(&attacker).await;
    let path = callback.trim_start_matches(&attacker.base);
    let victim = ConsoleClient::new(&app);
    victim.get("/admin/sign-in").await;
    let refused = victim.get(path).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        victim.get("/admin/overview").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(oidc.issued(), 0, "no code was exchanged");
    // In the browser that started it, the callback signs in, once.
    let signed = attacker.get(path).await;
    assert_eq!(location(&signed), "/admin/overview");
    assert_eq!(
        attacker.get("/admin/overview").await.status(),
        StatusCode::OK
    );
    // The same callback again, in the browser that started it: the sign-in was answered.
    let again = attacker.get(path).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(oidc.issued(), 1, "the code was exchanged once");
    let log = audit(&app).await;
    assert!(
        log.iter().any(
            |(_, what, outcome)| what == "sign_in.oidc" && outcome.contains("not started here")
        ),
        "{log:?}"
    );
}

#[tokio::test]
async fn the_identity_provider_must_vouch_for_an_allowed_verified_email() {
    let oidc = OidcProvider::start().await;
    let app = oidc_app(&oidc).await;
    create_operator(&app, "password-op@example.com", "viewer").await;
    for (email, verified, groups, allowed) in [
        ("unverified@example.com", Some(false), vec!["ops"], false),
        ("unsaid@example.com", None, vec!["ops"], false),
        ("outsider@other.example", Some(true), vec!["ops"], false),
        // The provider does not stand in for a password operator's password and code.
        ("password-op@example.com", Some(true), vec!["ops"], false),
        ("member@example.com", Some(true), vec![], true),
    ] {
        oidc.sign_in_next(Some(OidcPerson {
            email: email.into(),
            email_verified: verified,
            groups: groups.into_iter().map(str::to_owned).collect(),
        }));
        let console = ConsoleClient::new(&app);
        let callback = oidc_callback_for(&console).await;
        let answer = console
            .get(callback.trim_start_matches(&console.base))
            .await;
        if allowed {
            assert_eq!(location(&answer), "/admin/overview", "{email}");
            // Not in an operator group: a viewer.
            let page = console.text("/admin/overview").await;
            assert!(page.contains("member@example.com (viewer)"), "{page}");
        } else {
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{email}");
            assert_eq!(
                console.get("/admin/overview").await.status(),
                StatusCode::SEE_OTHER
            );
        }
    }
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    let keys = installgate_server::vault_keys::keyring(&app.settings).unwrap();
    let operators = installgate_store::Operators::new(
        database,
        std::sync::Arc::new(keys),
        std::sync::Arc::new(installgate_core::SystemClock),
    );
    let kept = operators
        .by_email(&installgate_core::Email::parse("password-op@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.operator.role, installgate_store::OperatorRole::Viewer);
    assert!(kept.password_hash.is_some());
    // The person declines at the provider.
    oidc.sign_in_next(None);
    let console = ConsoleClient::new(&app);
    let callback = oidc_callback_for(&console).await;
    let declined = console
        .get(callback.trim_start_matches(&console.base))
        .await;
    assert_eq!(declined.status(), StatusCode::FORBIDDEN);
}
