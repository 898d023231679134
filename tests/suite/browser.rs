//! Installs clicked through in a real Chromium against `installgate sandbox`: HubSpot's seamless
//! install with partner sign-in (sign-in in a popup, or inside a frame of the simulated HubSpot
//! on another site, with third-party cookies blocked), without partner sign-in, Pipedrive's
//! three scenarios in new tabs, a cancel, Shopify's install from a shop's admin, a page on an
//! origin that is not allowed failing to frame the install route, and installs of users without
//! a plan who subscribe at the vendor and come back (on HubSpot, with a workspace choice and a
//! move; on Pipedrive). Screenshots of the main steps go to `target/screenshots/`.
//!
//! Every gateway page the tests visit is checked with axe-core for WCAG 2.1 A and AA violations
//! (`Chrome::assert_accessible`): the sign-in page (in a popup, inside a frame of another site,
//! after a marketplace's consent, from a shop's admin), the sign-up page, the confirmation of a
//! held install and the cancelled page; the sign-in page in German and Japanese, the workspace
//! page, the move question inside HubSpot's frame; and, in
//! `the_pages_off_the_main_paths_pass_the_accessibility_check_too`, the get-an-account page,
//! the account page, the try-again page, an error page in English and German, the signed-out
//! page, and the sign-in page 320 px wide. The pages the simulated marketplaces serve are not
//! checked: they stand in for pages the gateway does not make.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use installgate_server::sandbox::Sandbox;
use installgate_server::sandbox::config::url;
use installgate_tests::{
    Chrome, VendorStub, free_port, spawn_app, start_sandbox, start_sandbox_with,
};

const PASSWORD: &str = "correct horse battery";

async fn sign_up(chrome: &Chrome, email: &str) {
    chrome.wait_for("input#email").await;
    chrome
        .client
        .find(Locator::LinkText("Sign up"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Wait for the sign-up form itself: the sign-in form's fields look the same, and typing into
    // them while the next page loads loses the text.
    chrome
        .wait_for("input#password[autocomplete=new-password]")
        .await;
    chrome.assert_accessible("sign-up").await;
    chrome.fill("input#email", email).await;
    chrome.fill("input#password", PASSWORD).await;
    chrome.click("button[type=submit]").await;
}

async fn sign_in(chrome: &Chrome, email: &str) {
    chrome.fill("input#email", email).await;
    chrome.fill("input#password", PASSWORD).await;
    chrome.click("button[type=submit]").await;
}

/// HubSpot's landing page, loaded in the install frame, says the install finished.
async fn assert_installed(chrome: &Chrome) {
    chrome.enter("#install-frame").await;
    assert_eq!(chrome.text_of("#result").await, "Installed");
    chrome.client.enter_parent_frame().await.unwrap();
}

/// The sandbox page's connections as "app status" lines, in its order (newest first).
async fn connections(chrome: &Chrome, sandbox: &Sandbox) -> Vec<String> {
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome.wait_for("h1").await;
    let mut lines = Vec::new();
    for row in chrome
        .client
        .find_all(Locator::Css("tr.connection"))
        .await
        .unwrap()
    {
        let app = row.find(Locator::Css("td.app")).await.unwrap();
        let status = row.find(Locator::Css("td.status")).await.unwrap();
        lines.push(format!(
            "{} {}",
            app.text().await.unwrap(),
            status.text().await.unwrap()
        ));
    }
    lines
}

/// Reloads the sandbox page until its webhook has received `count` events of `kind`.
async fn wait_for_events(chrome: &Chrome, sandbox: &Sandbox, kind: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        chrome.client.goto(&sandbox.portal_url()).await.unwrap();
        chrome.wait_for("h1").await;
        let mut seen = 0;
        for cell in chrome
            .client
            .find_all(Locator::Css("td.event-type"))
            .await
            .unwrap()
        {
            if cell.text().await.unwrap() == kind {
                seen += 1;
            }
        }
        if seen >= count {
            assert_eq!(seen, count, "{kind} events");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{seen} {kind} events, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubspot_seamless_install_with_partner_sign_in_in_popup_and_iframe() {
    let sandbox = start_sandbox().await;
    let chrome = Chrome::start("hubspot").await;
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome.shot("0-sandbox").await;
    chrome.click("a.install[data-app=hubspot_signin]").await;
    chrome.wait_for("#sign-in").await;
    chrome.shot("1-marketplace").await;
    chrome.click("#sign-in").await;
    // The gateway's sign-in opens in a new window, as on HubSpot.
    chrome.switch_to_new_window(1).await;
    chrome.wait_for("input#email").await;
    chrome
        .assert_accessible("HubSpot: sign-in in a popup")
        .await;
    chrome.shot("2-sign-in").await;
    sign_up(&chrome, "ann@example.com").await;
    // Signed in, the gateway sends the window back to HubSpot with a state.
    chrome.wait_for("#connect").await;
    assert!(
        chrome
            .client
            .current_url()
            .await
            .unwrap()
            .query_pairs()
            .any(|(name, _)| name == "state")
    );
    chrome.click("input[name=agree]").await;
    chrome.shot("3-consent").await;
    chrome.click("#connect").await;
    // HubSpot loads step=finalize in an iframe; the gateway's answer must be allowed there.
    assert_installed(&chrome).await;
    chrome.shot("4-installed-in-iframe").await;
    assert_eq!(
        connections(&chrome, &sandbox).await,
        ["hubspot_signin active"]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 1).await;
    chrome.shot("5-sandbox-after").await;
    chrome.end().await;
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubspot_install_with_partner_sign_in_inside_a_frame_of_another_site() {
    // The simulated HubSpot's pages are on `localhost`, the gateway on `127.0.0.1`: another
    // site. Chromium blocks third-party cookies here, so the sign-in inside the frame works
    // only because the session cookie is `SameSite=None; Secure; Partitioned`.
    let sandbox = start_sandbox().await;
    let chrome = Chrome::start("hubspot-framed").await;
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome
        .click("a.install-framed[data-app=hubspot_signin]")
        .await;
    chrome.enter("#sign-in-frame").await;
    chrome.wait_for("input#email").await;
    chrome
        .assert_accessible("HubSpot: sign-in inside a frame")
        .await;
    chrome.client.enter_parent_frame().await.unwrap();
    chrome.shot("1-sign-in-in-frame").await;
    chrome.enter("#sign-in-frame").await;
    sign_up(&chrome, "fran@example.com").await;
    // Signed in, the gateway sends the frame back to HubSpot's dialog with a state.
    chrome.click("input[name=agree]").await;
    chrome.client.enter_parent_frame().await.unwrap();
    chrome.shot("2-consent-in-frame").await;
    chrome.enter("#sign-in-frame").await;
    chrome.click("#connect").await;
    chrome.to_top().await;
    assert_installed(&chrome).await;
    chrome.shot("3-installed").await;
    assert_eq!(
        connections(&chrome, &sandbox).await,
        ["hubspot_signin active"]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 1).await;
    chrome.end().await;
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubspot_install_without_partner_sign_in() {
    let sandbox = start_sandbox().await;
    let chrome = Chrome::start("hubspot-oauth-only").await;
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome.click("a.install[data-app=hubspot_oauth]").await;
    chrome.click("input[name=agree]").await;
    chrome.click("#connect").await;
    assert_installed(&chrome).await;
    chrome.shot("1-installed").await;
    assert_eq!(
        connections(&chrome, &sandbox).await,
        ["hubspot_oauth active"]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 1).await;
    chrome.end().await;
    sandbox.stop().await;
}

/// Opens the Install button of `app` on the sandbox page (a new tab, as Pipedrive does),
/// chooses `user` and allows or cancels.
async fn pipedrive_consent(chrome: &Chrome, sandbox: &Sandbox, app: &str, user: &str, allow: bool) {
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    let windows = chrome.client.windows().await.unwrap().len();
    chrome.click(&format!("a.install[data-app={app}]")).await;
    chrome.switch_to_new_window(windows).await;
    chrome
        .click(&format!("select[name=user] option[value='{user}']"))
        .await;
    chrome.click(if allow { "#allow" } else { "#cancel" }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pipedrive_installs_for_a_new_user_a_returning_user_and_a_signed_in_user_and_a_cancel() {
    let sandbox = start_sandbox().await;
    let chrome = Chrome::start("pipedrive").await;
    // A new user: consent, then sign up, then the app's setup page.
    pipedrive_consent(&chrome, &sandbox, "pipedrive_crm", "1001:11", true).await;
    chrome.wait_for("input#email").await;
    chrome
        .assert_accessible("Pipedrive: sign-in after consent")
        .await;
    chrome.shot("1-sign-in-after-consent").await;
    sign_up(&chrome, "nora@example.com").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    chrome.shot("2-setup-page").await;
    // A returning user who is not signed in (a fresh browser): consent, sign in, setup page.
    chrome.end().await;
    let chrome = Chrome::start("pipedrive-returning").await;
    pipedrive_consent(&chrome, &sandbox, "pipedrive_crm", "1001:12", true).await;
    chrome.wait_for("input#email").await;
    sign_in(&chrome, "nora@example.com").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    // Signed in already: a confirmation, then the setup page.
    pipedrive_consent(&chrome, &sandbox, "pipedrive_leads", "2002:21", true).await;
    chrome.wait_for("button[value=confirm]").await;
    chrome
        .assert_accessible("Pipedrive: confirm the connection")
        .await;
    chrome.shot("3-confirm-when-signed-in").await;
    chrome.click("button[value=confirm]").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    // Cancel at the consent dialog: the gateway says so and stores nothing.
    pipedrive_consent(&chrome, &sandbox, "pipedrive_leads", "1001:11", false).await;
    chrome.wait_for_text("h1", "Installation cancelled").await;
    chrome
        .assert_accessible("Pipedrive: installation cancelled")
        .await;
    chrome.shot("4-cancelled").await;
    let mut made = connections(&chrome, &sandbox).await;
    made.sort();
    // The cancel stored nothing: no pending or cancelled connection.
    assert_eq!(
        made,
        [
            "pipedrive_crm active",
            "pipedrive_crm active",
            "pipedrive_leads active"
        ]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 3).await;
    // A cancel of an install the marketplace started carries no state the gateway minted, so
    // it is counted in the metrics but writes no event (anyone could send one).
    wait_for_events(&chrome, &sandbox, "installation.cancelled", 0).await;
    chrome.shot("5-sandbox-after").await;
    chrome.end().await;
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shopify_install_from_the_shops_admin_with_sign_up_then_a_second_shop() {
    let sandbox = start_sandbox().await;
    let chrome = Chrome::start("shopify").await;
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome.click("a.install[data-app=shopify_store]").await;
    // The shop's admin: "Install app" sends Shopify's signed install request to the gateway.
    chrome.wait_for("a.install").await;
    chrome.shot("1-admin").await;
    chrome.click("a.install").await;
    chrome.wait_for("input#email").await;
    chrome.assert_accessible("Shopify: sign-in").await;
    chrome.shot("2-sign-in").await;
    sign_up(&chrome, "sam@example.com").await;
    // Signed up, the gateway sends the browser on to the shop's consent page.
    chrome.wait_for("#install").await;
    chrome.shot("3-consent").await;
    chrome.click("#install").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    chrome.shot("4-setup-page").await;
    // Signed in already, a second shop goes straight to its consent page.
    let globex = format!(
        "{}/shops/globex.myshopify.com/admin",
        url(sandbox.ports.shopify)
    );
    chrome.client.goto(&globex).await.unwrap();
    chrome.click("a.install").await;
    chrome.click("#install").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    let made = connections(&chrome, &sandbox).await;
    assert_eq!(made, ["shopify_store active", "shopify_store active"]);
    wait_for_events(&chrome, &sandbox, "installation.completed", 2).await;
    chrome.shot("5-sandbox-after").await;
    chrome.end().await;
    sandbox.stop().await;
}

/// Serves one page that frames `target`, on a port of its own (its own origin).
async fn framing_page(port: u16, target: String) -> actix_web::dev::ServerHandle {
    let server = actix_web::HttpServer::new(move || {
        let target = target.clone();
        actix_web::App::new().route(
            "/",
            actix_web::web::get().to(move || {
                let target = target.clone();
                async move {
                    actix_web::HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(format!(
                            "<!DOCTYPE html><h1>Framing page</h1><iframe id=\"frame\" src=\"{target}\" style=\"width:90%;height:20rem\"></iframe>"
                        ))
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    handle
}

/// Whether the gateway's page rendered inside `#frame` of the current page.
async fn frame_shows_gateway_page(chrome: &Chrome) -> bool {
    let frame = chrome.wait_for("#frame").await;
    // Give a blocked frame time to settle on the browser's error page.
    tokio::time::sleep(Duration::from_millis(500)).await;
    frame.enter_frame().await.unwrap();
    let source = chrome.client.source().await.unwrap_or_default();
    chrome.client.enter_parent_frame().await.unwrap();
    source.contains("This request cannot be handled")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_allowed_origins_can_frame_the_install_route() {
    let allowed_port = free_port();
    let foreign_port = free_port();
    let allowed = url(allowed_port);
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ("INSTALLGATE__APPS__CRM__FRAME_ANCESTORS", &allowed),
    ])
    .await;
    // A page of the install route: a finalize with a return URL the app does not allow (400).
    let target = app
        .url("/install/hubspot/crm?step=finalize&code=x&returnUrl=https%3A%2F%2Fevil.example%2F");
    let allowed_server = framing_page(allowed_port, target.clone()).await;
    let foreign_server = framing_page(foreign_port, target).await;
    let chrome = Chrome::start("framing").await;
    chrome.client.goto(&allowed).await.unwrap();
    assert!(
        frame_shows_gateway_page(&chrome).await,
        "an allowed origin frames the install route"
    );
    chrome.shot("1-allowed-origin").await;
    chrome.client.goto(&url(foreign_port)).await.unwrap();
    assert!(
        !frame_shows_gateway_page(&chrome).await,
        "a foreign origin must not frame the install route"
    );
    chrome.shot("2-foreign-origin-blocked").await;
    chrome.end().await;
    allowed_server.stop(true).await;
    foreign_server.stop(true).await;
}

/// The accessibility check can fail: a page made without a language or a frame title has
/// violations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_accessibility_check_finds_what_a_careless_page_lacks() {
    let port = free_port();
    let page = framing_page(port, "about:blank".into()).await;
    let chrome = Chrome::start("axe").await;
    chrome.client.goto(&url(port)).await.unwrap();
    chrome.wait_for("h1").await;
    let violations = chrome.accessibility_violations().await;
    assert!(
        violations
            .iter()
            .any(|line| line.starts_with("html-has-lang"))
            && violations
                .iter()
                .any(|line| line.starts_with("frame-title")),
        "{violations:#?}"
    );
    chrome.end().await;
    page.stop(false).await;
}

/// Opens the sandbox's HubSpot install of `hubspot_signin` and its Sign in button, which opens
/// the gateway's page in a new window; switches to it.
async fn open_hubspot_sign_in(chrome: &Chrome, sandbox: &Sandbox) {
    let windows = chrome.client.windows().await.unwrap().len();
    chrome.client.goto(&sandbox.portal_url()).await.unwrap();
    chrome.click("a.install[data-app=hubspot_signin]").await;
    chrome.click("#sign-in").await;
    chrome.switch_to_new_window(windows).await;
}

/// On the workspace page: picks the `n`th workspace, then connects on HubSpot's consent page.
async fn connect_in_workspace(chrome: &Chrome, n: usize) {
    chrome.click(&format!("#workspace-{n}")).await;
    chrome.click("button[type=submit]").await;
    chrome.wait_for("#connect").await;
    chrome.click("input[name=agree]").await;
    chrome.click("#connect").await;
}

/// The setting that makes the sandbox ask `vendor` whether an account may install `app`.
fn asks(app: &str, vendor: &VendorStub) -> (String, String) {
    (
        format!("INSTALLGATE__APPS__{app}__INSTALL_POLICY__ENTITLEMENT_URL"),
        vendor.entitlement_url.clone(),
    )
}

fn as_pairs(settings: &[(String, String)]) -> Vec<(&str, &str)> {
    settings
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubspot_install_without_a_plan_subscribes_at_the_vendor_and_ends_back_in_hubspot() {
    let vendor = VendorStub::start("hubspot_signin").await;
    vendor.workspaces(&[("w-sales", "Sales team"), ("w-support", "Support team")]);
    let settings = [asks("HUBSPOT_SIGNIN", &vendor)];
    let sandbox = start_sandbox_with(&as_pairs(&settings)).await;
    let chrome = Chrome::start("hubspot-subscribe").await;
    open_hubspot_sign_in(&chrome, &sandbox).await;
    chrome.wait_for("input#email").await;
    // The branded sign-in page in German and in Japanese, as `?lang=` (or the browser's
    // Accept-Language) asks.
    let english = chrome.client.current_url().await.unwrap();
    for (lang, heading) in [("de", "Anmelden"), ("ja", "サインイン")] {
        let mut localized = english.clone();
        localized.query_pairs_mut().append_pair("lang", lang);
        chrome.client.goto(localized.as_str()).await.unwrap();
        chrome.wait_for_text("h1", heading).await;
        chrome
            .assert_accessible(&format!("HubSpot: sign-in in {lang}"))
            .await;
        chrome.shot(&format!("sign-in-{lang}")).await;
    }
    chrome.client.goto(english.as_str()).await.unwrap();
    sign_up(&chrome, "pat@example.com").await;
    // No plan yet: the vendor's plan page, with the way back.
    chrome.wait_for("#subscribe").await;
    chrome.shot("1-plans").await;
    chrome.click("#subscribe").await;
    // Back through `resume`: the gateway asks again; the account has two workspaces, so the
    // user picks one, and the window goes back to HubSpot.
    chrome.wait_for("input[name=workspace]").await;
    chrome
        .assert_accessible("HubSpot: choose a workspace")
        .await;
    chrome.shot("2-workspace").await;
    connect_in_workspace(&chrome, 1).await;
    assert_installed(&chrome).await;
    chrome.shot("3-installed").await;
    assert_eq!(
        connections(&chrome, &sandbox).await,
        ["hubspot_signin active"]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 1).await;

    // Installed again into the other workspace: HubSpot's frame asks whether to move it, and
    // the answer ends at HubSpot's return URL.
    open_hubspot_sign_in(&chrome, &sandbox).await;
    chrome.wait_for("input[name=workspace]").await;
    connect_in_workspace(&chrome, 0).await;
    chrome.enter("#install-frame").await;
    chrome.wait_for("button[value=move]").await;
    chrome
        .assert_accessible("HubSpot: move the connection")
        .await;
    chrome.click("button[value=move]").await;
    assert_eq!(chrome.text_of("#result").await, "Installed");
    chrome.client.enter_parent_frame().await.unwrap();
    chrome.shot("4-moved").await;
    wait_for_events(&chrome, &sandbox, "connection.moved", 1).await;
    assert_eq!(
        vendor.questions().len(),
        5,
        "refused, allowed with two workspaces, the choice, and again for the reinstall"
    );
    chrome.end().await;
    sandbox.stop().await;
    vendor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pipedrive_install_without_a_plan_subscribes_at_the_vendor_and_completes() {
    let vendor = VendorStub::start("pipedrive_crm").await;
    let settings = [asks("PIPEDRIVE_CRM", &vendor)];
    let sandbox = start_sandbox_with(&as_pairs(&settings)).await;
    let chrome = Chrome::start("pipedrive-subscribe").await;
    pipedrive_consent(&chrome, &sandbox, "pipedrive_crm", "1001:11", true).await;
    sign_up(&chrome, "una@example.com").await;
    chrome.wait_for("#subscribe").await;
    chrome.click("#subscribe").await;
    // Back through `resume`: the held install is offered again and attached once confirmed.
    chrome.wait_for("button[value=confirm]").await;
    chrome
        .assert_accessible("Pipedrive: confirm after subscribing")
        .await;
    chrome.click("button[value=confirm]").await;
    assert!(chrome.text_of("#setup").await.contains("Welcome"));
    assert_eq!(
        connections(&chrome, &sandbox).await,
        ["pipedrive_crm active"]
    );
    wait_for_events(&chrome, &sandbox, "installation.completed", 1).await;
    chrome.end().await;
    sandbox.stop().await;
    vendor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pages_off_the_main_paths_pass_the_accessibility_check_too() {
    // Pages checked here: the get-an-account page, the account page, the try-again page, an
    // error page in English and in German, and the signed-out page.
    let settings = [
        (
            "INSTALLGATE__APPS__PIPEDRIVE_LEADS__INSTALL_POLICY__SIGN_UP",
            "off",
        ),
        (
            "INSTALLGATE__APPS__PIPEDRIVE_LEADS__INSTALL_POLICY__GET_ACCOUNT_URL",
            "https://vendor.example/get-started",
        ),
        (
            "INSTALLGATE__APPS__SHOPIFY_STORE__INSTALL_POLICY__ENTITLEMENT_URL",
            "http://127.0.0.1:9/down",
        ),
    ];
    let sandbox = start_sandbox_with(&settings).await;
    let gateway = url(sandbox.ports.gateway);
    let chrome = Chrome::start("other-pages").await;
    chrome
        .client
        .goto(&format!(
            "{gateway}/account/sign-up?app=pipedrive_leads&provider=pipedrive"
        ))
        .await
        .unwrap();
    chrome
        .wait_for("a[href='https://vendor.example/get-started']")
        .await;
    chrome.assert_accessible("get an account").await;
    // 320 px wide, as on a phone: nothing is cut off or needs scrolling sideways.
    chrome.client.set_window_size(320, 720).await.unwrap();
    chrome
        .client
        .goto(&format!(
            "{gateway}/account/sign-in?app=pipedrive_leads&provider=pipedrive"
        ))
        .await
        .unwrap();
    chrome.wait_for("input#email").await;
    let widths = chrome
        .client
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            Vec::new(),
        )
        .await
        .unwrap();
    let (viewport, content) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(viewport <= 400, "the window is narrow: {viewport}");
    assert!(
        content <= viewport,
        "{content} px of content in {viewport} px"
    );
    chrome.assert_accessible("sign-in at 320 px").await;
    chrome.shot("narrow-sign-in").await;
    chrome.client.set_window_size(1280, 900).await.unwrap();
    chrome
        .client
        .goto(&format!("{gateway}/account/sign-up"))
        .await
        .unwrap();
    chrome.fill("input#email", "ola@example.com").await;
    chrome.fill("input#password", PASSWORD).await;
    chrome.click("button[type=submit]").await;
    chrome.wait_for("form[action='/account/sign-out']").await;
    chrome.assert_accessible("account page").await;
    let shop = format!(
        "{}/shops/acme.myshopify.com/admin",
        url(sandbox.ports.shopify)
    );
    chrome.client.goto(&shop).await.unwrap();
    chrome.click("a.install").await;
    chrome.wait_for_text("h1", "Please try again shortly").await;
    chrome.assert_accessible("try again shortly").await;
    for (lang, heading) in [("en", "Page not found"), ("de", "Seite nicht gefunden")] {
        chrome
            .client
            .goto(&format!(
                "{gateway}/install/hubspot/no_such_app?lang={lang}"
            ))
            .await
            .unwrap();
        chrome.wait_for_text("h1", heading).await;
        chrome
            .assert_accessible(&format!("error page in {lang}"))
            .await;
    }
    chrome
        .client
        .goto(&format!("{gateway}/account/"))
        .await
        .unwrap();
    chrome
        .click("form[action='/account/sign-out'] button")
        .await;
    chrome.wait_for_text("h1", "Signed out").await;
    chrome.assert_accessible("signed out").await;
    chrome.end().await;
    sandbox.stop().await;
}
