//! The pages in the user's language: `Accept-Language` or `?lang=`, every page kind, errors
//! included, and an app's own wording over the built-in one.

use installgate_tests::{Browser, hidden_input, spawn_app};

const CRM: [(&str, &str); 5] = [
    ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
    ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
    ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
    ("INSTALLGATE__APPS__CRM__DISPLAY_NAME", "Acme CRM"),
    (
        "INSTALLGATE__APPS__CRM__MESSAGES__DE__SIGN-IN-TITLE",
        "Bei Acme anmelden",
    ),
];

async fn page(browser: &Browser, path: &str) -> String {
    browser.get(path).await.text().await.unwrap()
}

#[tokio::test]
async fn the_sign_in_page_speaks_the_browsers_language_or_the_one_asked_for() {
    let app = spawn_app(&CRM).await;
    let browser = Browser::new(&app);
    let path = "/account/sign-in?app=crm&provider=pipedrive";

    browser.speaks("de-DE,de;q=0.9,en;q=0.8");
    let german = page(&browser, path).await;
    assert!(german.contains("<html lang=\"de\">"), "{german}");
    assert!(german.contains(
        "Melden Sie sich an, um die Installation von Acme CRM aus Pipedrive fortzusetzen."
    ));
    assert!(german.contains(">E-Mail</label>") && german.contains(">Passwort</label>"));

    browser.speaks("fr-CA,fr;q=0.9");
    assert!(page(&browser, path).await.contains("<h1>Connexion</h1>"));
    browser.speaks("pt-BR");
    assert!(page(&browser, path).await.contains("<h1>Entrar</h1>"));
    browser.speaks("es-419");
    assert!(
        page(&browser, path)
            .await
            .contains("<h1>Iniciar sesión</h1>")
    );
    browser.speaks("zh-CN, ko");
    assert!(
        page(&browser, path).await.contains("<h1>Sign in</h1>"),
        "English when none matches"
    );

    // `?lang=` wins over the header, and the page's links and form carry it on.
    browser.speaks("de");
    let japanese = page(&browser, &format!("{path}&lang=ja")).await;
    assert!(japanese.contains("<html lang=\"ja\">"));
    assert!(japanese.contains("<h1>サインイン</h1>"), "{japanese}");
    assert!(
        japanese.contains("action=\"/account/sign-in?app=crm&amp;provider=pipedrive&amp;lang=ja\""),
        "{japanese}"
    );
    assert!(japanese.contains("/account/sign-up?app=crm&amp;provider=pipedrive&amp;lang=ja"));
}

#[tokio::test]
async fn form_errors_and_error_pages_are_in_the_users_language_too() {
    let app = spawn_app(&CRM).await;
    let browser = Browser::new(&app);
    browser.speaks("de");
    let form = page(&browser, "/account/sign-in").await;
    let csrf = hidden_input(&form, "csrf_token").unwrap();
    let refused = browser
        .post(
            "/account/sign-in",
            &[
                ("csrf_token", csrf.as_str()),
                ("email", "nobody@example.com"),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 401);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Die E-Mail-Adresse oder das Passwort ist nicht richtig."),
        "{text}"
    );

    let sign_up = page(&browser, "/account/sign-up").await;
    let csrf = hidden_input(&sign_up, "csrf_token").unwrap();
    let short = browser
        .post(
            "/account/sign-up",
            &[
                ("csrf_token", csrf.as_str()),
                ("email", "neu@example.com"),
                ("password", "kurz"),
            ],
        )
        .await;
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("Wählen Sie ein Passwort mit mindestens 10 Zeichen.")
    );

    browser.speaks("es");
    let missing = browser.get("/install/pipedrive/no_such_app").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let text = missing.text().await.unwrap();
    assert!(text.contains("<html lang=\"es\">"), "{text}");
    assert!(text.contains("<h1>Página no encontrada</h1>"), "{text}");
    assert!(text.contains("No hay nada en esta dirección."));

    // The API answers in JSON whatever the browser speaks.
    let api = browser.get("/api/v1/connections").await;
    assert_eq!(api.status(), 401);
    assert!(api.text().await.unwrap().starts_with("{\"error\""));
}

#[tokio::test]
async fn an_apps_own_wording_replaces_the_built_in_message_for_its_installs_only() {
    let mut settings = CRM.to_vec();
    settings.extend([
        ("INSTALLGATE__APPS__PLAIN__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__PLAIN__CLIENT_ID", "id2"),
        ("INSTALLGATE__APPS__PLAIN__CLIENT_SECRET", "secret2"),
    ]);
    let app = spawn_app(&settings).await;
    let browser = Browser::new(&app);
    browser.speaks("de");
    let own = page(&browser, "/account/sign-in?app=crm&provider=pipedrive").await;
    assert!(own.contains("<h1>Bei Acme anmelden</h1>"), "{own}");
    assert!(own.contains(">Passwort</label>"), "the rest stays built in");
    let plain = page(&browser, "/account/sign-in?app=plain&provider=pipedrive").await;
    assert!(plain.contains("<h1>Anmelden</h1>"), "{plain}");
    browser.speaks("en");
    let english = page(&browser, "/account/sign-in?app=crm&provider=pipedrive").await;
    assert!(english.contains("<h1>Sign in</h1>"), "{english}");
}
