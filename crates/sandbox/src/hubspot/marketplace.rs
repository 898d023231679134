//! The marketplace side of a seamless install, as HubSpot's page describes it for customers:
//! an app card with Install; with partner sign-in, a "Sign in" button that opens the app's
//! install URL (`step=authorize&returnUrl=…`) in a new window; the review-and-connect dialog;
//! then `step=finalize&code[&state]&returnUrl=…` loaded in a frame; and a landing page that says
//! whether the install finished.
//!
//! HubSpot also asks that the install URL work "in an embedded browser context". The variant
//! `/marketplace/{client_id}?sign_in=frame` loads the sign-in step in a frame of the marketplace
//! page instead of a new window, so that the app's pages, forms and cookies must all work
//! framed by another site.

use actix_web::{HttpResponse, web};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::state::SimState;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(listing))
        .route("/marketplace/{client_id}", web::get().to(install))
        .route("/marketplace/{client_id}/consent", web::get().to(consent))
        .route("/marketplace/{client_id}/connect", web::get().to(connect))
        .route("/marketplace/{client_id}/done", web::get().to(done));
}

fn page(title: &str, body: Markup) -> HttpResponse {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · Simulated HubSpot" }
                style { "body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:44rem}iframe{width:100%;height:22rem;border:1px solid #ccc}" }
            }
            body {
                p { small { "Simulated HubSpot Marketplace (sandbox)" } }
                (body)
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html.into_string())
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).unwrap_or_else(|_| {
        url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable_url())
    });
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

#[allow(clippy::panic)]
fn unreachable_url() -> url::Url {
    panic!("a constant URL parses")
}

async fn listing(state: web::Data<SimState>) -> HttpResponse {
    page(
        "Marketplace",
        html! {
            h1 { "App Marketplace" }
            @for app in &state.apps {
                section {
                    h2 { (app.name) }
                    p { @if app.partner_sign_in { "Requires signing in to the app's account." } @else { "Connects with OAuth only." } }
                    a href=(format!("/marketplace/{}", app.client_id)) { "Install" }
                }
            }
        },
    )
}

#[derive(Deserialize)]
struct InstallQuery {
    /// `frame` loads the sign-in step in a frame instead of a new window.
    sign_in: Option<String>,
}

async fn install(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<InstallQuery>,
) -> HttpResponse {
    let Some(app) = state.app(&path) else {
        return HttpResponse::NotFound().body("unknown app");
    };
    let flow = state.start_flow(&app.client_id);
    let consent = with_query(
        &format!("{}/marketplace/{}/consent", state.base_url, app.client_id),
        &[("flow", &flow)],
    );
    if !app.partner_sign_in {
        return HttpResponse::Found()
            .insert_header(("location", consent))
            .finish();
    }
    let sign_in = with_query(
        &app.redirect_uri,
        &[("returnUrl", &consent), ("step", "authorize")],
    );
    let framed = query.sign_in.as_deref() == Some("frame");
    page(
        "Install",
        html! {
            h1 { "Install " (app.name) }
            @if framed {
                p { "Sign in to " (app.name) " to continue." }
                iframe id="sign-in-frame" title="Sign in" src=(sign_in) {}
            } @else {
                p { "Sign in to " (app.name) " to continue. A new window opens." }
                a id="sign-in" href=(sign_in) target="_blank" rel="opener" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
struct ConsentQuery {
    flow: String,
    state: Option<String>,
}

async fn consent(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<ConsentQuery>,
) -> HttpResponse {
    let Some(app) = state.app(&path) else {
        return HttpResponse::NotFound().body("unknown app");
    };
    page(
        "Connect app",
        html! {
            h1 { "Connect " (app.name) }
            p { "Required access: " (app.scopes.join(", ")) }
            // The dialog may open inside the sign-in frame: connecting takes the whole window.
            form method="get" target="_top" action=(format!("/marketplace/{}/connect", app.client_id)) {
                input type="hidden" name="flow" value=(query.flow);
                @if let Some(s) = &query.state { input type="hidden" name="state" value=(s); }
                label { "Portal (hub id) " input name="hub_id" value="4242"; }
                p { label { input type="checkbox" name="agree" value="yes"; " I agree to connect this app" } }
                button id="connect" type="submit" { "Connect app" }
            }
        },
    )
}

#[derive(Deserialize)]
struct ConnectQuery {
    flow: String,
    state: Option<String>,
    hub_id: Option<u64>,
    agree: Option<String>,
}

async fn connect(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<ConnectQuery>,
) -> HttpResponse {
    let Some(app) = state.app(&path) else {
        return HttpResponse::NotFound().body("unknown app");
    };
    if query.agree.is_none() {
        return page(
            "Connect app",
            html! { p { "Tick the box to agree, then connect the app." } },
        );
    }
    let hub_id = query.hub_id.unwrap_or(4242);
    let Some(code) = state.issue_code_in(&app.client_id, hub_id, Some(&query.flow)) else {
        return HttpResponse::NotFound().body("unknown app");
    };
    let done = with_query(
        &format!("{}/marketplace/{}/done", state.base_url, app.client_id),
        &[("flow", &query.flow)],
    );
    let mut pairs = vec![("step", "finalize"), ("code", code.as_str())];
    if let Some(s) = &query.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("returnUrl", done.as_str()));
    let finalize = with_query(&app.redirect_uri, &pairs);
    page(
        "Installing",
        html! {
            h1 { "Installing " (app.name) }
            iframe id="install-frame" title="App install" src=(finalize) {}
        },
    )
}

#[derive(Deserialize)]
struct DoneQuery {
    flow: String,
}

async fn done(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> HttpResponse {
    let flow = state
        .flow(&query.flow)
        .filter(|flow| flow.client_id == path.as_str());
    let installed = flow.as_ref().is_some_and(|flow| flow.installed);
    page(
        "Install result",
        html! {
            @if installed {
                h1 id="result" { "Installed" }
                p { "The app is connected to portal " (flow.and_then(|f| f.hub_id).unwrap_or_default()) "." }
            } @else {
                h1 id="result" { "Not installed" }
                p { "The app sent you back without completing the install." }
            }
        },
    )
}
