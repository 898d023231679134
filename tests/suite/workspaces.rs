//! Where an install lands: the vendor's entitlement answer lists the account's workspaces; with
//! more than one the user picks on a gateway page, with one it is chosen silently. The
//! connection, the API and the events carry it, and a reinstall into another workspace moves
//! the connection only when the user confirms.

use installgate_tests::{Browser, TestApp, VendorStub, hidden_input, location};
use reqwest::StatusCode;
use serde_json::Value;

use crate::hubspot::{
    CLIENT_ID, RETURN_URL, authorize_path, finalize_path, setup_on_redis, sign_up_through, state_of,
};

const TEAMS: [(&str, &str); 2] = [("w-sales", "Sales team"), ("w-support", "Support team")];

/// Picks `workspace` on the workspace page `page`; the answer goes on with the install.
async fn pick(browser: &Browser, page: &str, workspace: &str) -> reqwest::Response {
    let csrf = hidden_input(page, "csrf_token").unwrap();
    pick_with(browser, &csrf, page, workspace).await
}

/// Like [`pick`], sending `csrf` as the form's token.
async fn pick_with(
    browser: &Browser,
    csrf: &str,
    page: &str,
    workspace: &str,
) -> reqwest::Response {
    let choice = hidden_input(page, "choice").unwrap();
    browser
        .post(
            "/account/workspace",
            &[
                ("csrf_token", csrf),
                ("choice", choice.as_str()),
                ("workspace", workspace),
            ],
        )
        .await
}

/// Answers the move question on `page` with `decision` (`move` or `keep`), sending `csrf` as
/// the form's token.
async fn answer_with(
    browser: &Browser,
    csrf: &str,
    page: &str,
    decision: &str,
) -> reqwest::Response {
    let token = hidden_input(page, "question").unwrap();
    browser
        .post(
            "/account/move",
            &[
                ("csrf_token", csrf),
                ("question", token.as_str()),
                ("decision", decision),
            ],
        )
        .await
}

/// Answers the move question on `page` in the browser it was shown in.
async fn answer(browser: &Browser, page: &str, decision: &str) -> reqwest::Response {
    let csrf = hidden_input(page, "csrf_token").unwrap();
    answer_with(browser, &csrf, page, decision).await
}

/// A signed-in HubSpot install of portal 4343 into `workspace`, up to the finalize's answer
/// (as HubSpot's frame loads it, in `frame`).
async fn install_into(
    sim: &installgate_sandbox::HubSpotSimulator,
    browser: &Browser,
    frame: &Browser,
    workspace: &str,
) -> reqwest::Response {
    let page = browser.get(&authorize_path("crm", RETURN_URL)).await;
    assert_eq!(page.status(), StatusCode::OK, "the workspace page");
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Sales team") && page.contains("Support team"),
        "{page}"
    );
    let picked = pick(browser, &page, workspace).await;
    assert_eq!(picked.status(), StatusCode::SEE_OTHER);
    let to_hubspot = browser.get(&location(&picked)).await;
    assert_eq!(to_hubspot.status(), StatusCode::FOUND);
    let state = state_of(&location(&to_hubspot));
    let code = sim.issue_code(&format!("{CLIENT_ID}-crm"), 4343).unwrap();
    frame
        .get(&finalize_path("crm", &code, Some(&state), RETURN_URL))
        .await
}

async fn api_connections(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/connections{query}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_user_in_two_workspaces_picks_one_and_a_reinstall_elsewhere_moves_only_when_confirmed() {
    let vendor = VendorStub::start("CRM").await;
    vendor.allow(true);
    vendor.workspaces(&TEAMS);
    let (api_key, api_hash) = installgate_server::api::new_key().unwrap();
    let setup =
        setup_on_redis(&vendor.settings(&[("INSTALLGATE__API__KEYS__OPS__SHA256", &api_hash)]))
            .await;
    let app = &setup.app;
    let browser = Browser::new(app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    sign_up_through(&browser, &location(&start), "wren@example.com").await;

    // Two workspaces: the user picks "Support team"; the install goes on to HubSpot.
    let frame = Browser::new(app);
    let finalized = install_into(&setup.sim, &browser, &frame, "w-support").await;
    assert_eq!(location(&finalized), RETURN_URL);
    let connection = app.connection("crm", "hubspot", "4343").await.unwrap();
    let workspace = connection.workspace.unwrap();
    assert_eq!(
        (workspace.id.as_str(), workspace.name.as_str()),
        ("w-support", "Support team")
    );
    let completed = app.events("installation.completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0]["workspace"],
        serde_json::json!({"id": "w-support", "name": "Support team"})
    );
    let listed = api_connections(app, &api_key, "?workspace=w-support").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["workspace"]["name"], "Support team");
    let other = api_connections(app, &api_key, "?workspace=w-sales").await;
    assert!(other["data"].as_array().unwrap().is_empty());

    // A reinstall into "Sales team": the connection stays put and the user is asked.
    let asked = install_into(&setup.sim, &browser, &frame, "w-sales").await;
    assert_eq!(asked.status(), StatusCode::OK, "the move question");
    let question = asked.text().await.unwrap();
    assert!(
        question.contains("Support team") && question.contains("Sales team"),
        "{question}"
    );
    let still = app.connection("crm", "hubspot", "4343").await.unwrap();
    assert_eq!(
        still.workspace.unwrap().id,
        "w-support",
        "nothing moves unasked"
    );
    // Another browser cannot answer it; the question is then used up.
    let elsewhere = Browser::new(app);
    let form = elsewhere
        .get("/account/sign-in")
        .await
        .text()
        .await
        .unwrap();
    let own_csrf = hidden_input(&form, "csrf_token").unwrap();
    let refused = answer_with(&elsewhere, &own_csrf, &question, "move").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let late = answer(&frame, &question, "move").await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.event_count("connection.moved").await, 0);

    // Asked again: keeping it leaves it where it is, and goes back to HubSpot.
    let asked = install_into(&setup.sim, &browser, &frame, "w-sales").await;
    let kept = answer(&frame, &asked.text().await.unwrap(), "keep").await;
    assert_eq!(kept.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&kept), RETURN_URL);
    let still = app.connection("crm", "hubspot", "4343").await.unwrap();
    assert_eq!(still.workspace.unwrap().id, "w-support");

    // Asked once more: moving it moves it, with one `connection.moved`.
    let asked = install_into(&setup.sim, &browser, &frame, "w-sales").await;
    let moved = answer(&frame, &asked.text().await.unwrap(), "move").await;
    assert_eq!(location(&moved), RETURN_URL);
    let connection = app.connection("crm", "hubspot", "4343").await.unwrap();
    assert_eq!(connection.workspace.unwrap().name, "Sales team");
    let moves = app.events("connection.moved").await;
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0]["workspace"]["id"], "w-sales");
    assert_eq!(
        app.event_count("installation.completed").await,
        4,
        "one per finalize"
    );
}

#[tokio::test]
async fn a_workspace_choice_must_be_listed_and_is_single_use_in_its_browser() {
    let vendor = VendorStub::start("CRM").await;
    vendor.allow(true);
    vendor.workspaces(&TEAMS);
    let setup = crate::hubspot::setup(&vendor.settings(&[])).await;
    let app = &setup.app;
    let browser = Browser::new(app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    sign_up_through(&browser, &location(&start), "yara@example.com").await;
    let page = browser
        .get(&authorize_path("crm", RETURN_URL))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<legend>"),
        "a labelled group of choices: {page}"
    );

    // A workspace the vendor did not list: the page again, nothing minted.
    let made_up = pick(&browser, &page, "w-elsewhere").await;
    let again = browser.get(&location(&made_up)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = again.text().await.unwrap();
    assert!(again.contains("name=\"choice\""), "{again}");

    // The same choice twice, or from another browser, does nothing.
    let first = pick(&browser, &again, "w-sales").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pick(&browser, &again, "w-sales").await.status(),
        StatusCode::BAD_REQUEST
    );
    let on = browser.get(&location(&first)).await;
    assert_eq!(
        on.status(),
        StatusCode::FOUND,
        "on to HubSpot with the choice"
    );
    let page = browser
        .get(&authorize_path("crm", RETURN_URL))
        .await
        .text()
        .await
        .unwrap();
    let other = Browser::new(app);
    other.set_session_cookie(None);
    let form = other.get("/account/sign-in").await.text().await.unwrap();
    let own_csrf = hidden_input(&form, "csrf_token").unwrap();
    let foreign = pick_with(&other, &own_csrf, &page, "w-sales").await;
    assert_eq!(
        foreign.status(),
        StatusCode::FORBIDDEN,
        "not signed in there"
    );
    // Without the form's token, or from another site: refused.
    let forged = pick_with(&browser, "forged", &page, "w-sales").await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // An attacker signed in with an account of their own, holding the victim's choice (a
    // leaked page): it is the victim's browser's, so it does nothing there, and is used up.
    let attacker = Browser::new(app);
    let start = attacker.get(&authorize_path("crm", RETURN_URL)).await;
    sign_up_through(&attacker, &location(&start), "mallory@example.com").await;
    let own_page = attacker
        .get(&authorize_path("crm", RETURN_URL))
        .await
        .text()
        .await
        .unwrap();
    let attacker_csrf = hidden_input(&own_page, "csrf_token").unwrap();
    let stolen = pick_with(&attacker, &attacker_csrf, &page, "w-sales").await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let victims = pick(&browser, &page, "w-sales").await;
    assert_eq!(victims.status(), StatusCode::BAD_REQUEST, "used up");
    assert_eq!(setup.sim.token_calls(), 0);
}

#[tokio::test]
async fn one_workspace_is_chosen_silently_for_a_held_install() {
    let vendor = VendorStub::start("CRM").await;
    vendor.allow(true);
    vendor.workspaces(&[("w-only", "The only team")]);
    let setup = crate::pipedrive::setup_with(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    let code = setup
        .sim
        .issue_code(crate::pipedrive::CLIENT_ID, 1, 10)
        .unwrap();
    let arrived = browser.get(&crate::pipedrive::callback(&code)).await;
    let purpose = "to continue installing crm from Pipedrive";
    let signed_up = browser
        .sign_up_from(
            &location(&arrived),
            purpose,
            "zoe@example.com",
            crate::pipedrive::PASSWORD,
        )
        .await;
    crate::pipedrive::assert_at_setup(&signed_up);
    let connection = crate::pipedrive::connection(&setup.app, "1:10")
        .await
        .unwrap();
    assert_eq!(connection.workspace.unwrap().id, "w-only");
    let completed = setup.app.events("installation.completed").await;
    assert_eq!(completed[0]["workspace"]["name"], "The only team");
}

#[tokio::test]
async fn an_answer_with_unusable_workspaces_counts_as_no_answer() {
    let vendor = VendorStub::start("CRM").await;
    vendor.allow(true);
    vendor.workspaces(&[("w-1", "One"), ("w-1", "Same id")]);
    let setup = crate::hubspot::setup(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    let start = browser.get(&authorize_path("crm", RETURN_URL)).await;
    let signed_up = sign_up_through(&browser, &location(&start), "abe@example.com").await;
    let answer = browser.get(&location(&signed_up)).await;
    assert_eq!(
        answer.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "on_error = deny"
    );
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("Please try again shortly")
    );
}
