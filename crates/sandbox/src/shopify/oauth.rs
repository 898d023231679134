//! A shop's OAuth endpoints and admin, under `/shops/{shop}/…` (each shop is its own host at
//! Shopify; here, a path): the admin with an "Install app" button per app, the consent page,
//! `admin/oauth/access_token` (code and refresh grants, `expiring=1`, rotation) and
//! `admin/api_permissions/current.json` (uninstalling the app).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::state::{Grant, SimState, signed_query, unix_now};
use crate::refresh_tokens::Refusal;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const OFFLINE_TOKEN_TYPE: &str = "urn:shopify:params:oauth:token-type:offline-access-token";

/// Offline access tokens from `expiring=1` live an hour; their refresh tokens 90 days.
const ACCESS_LIFETIME: u64 = 3600;
const REFRESH_LIFETIME: u64 = 90 * 24 * 3600;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/shops/{shop}/admin", web::get().to(admin))
        .route(
            "/shops/{shop}/admin/apps/{client_id}/install",
            web::get().to(install),
        )
        .route(
            "/shops/{shop}/admin/oauth/authorize",
            web::get().to(authorize),
        )
        .route(
            "/shops/{shop}/admin/oauth/authorize/decision",
            web::get().to(decision),
        )
        .route(
            "/shops/{shop}/admin/oauth/access_token",
            web::post().to(access_token),
        )
        .route(
            "/shops/{shop}/admin/api_permissions/current.json",
            web::delete().to(uninstall),
        );
}

fn page(title: &str, body: Markup) -> HttpResponse {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · Simulated Shopify" }
                style { "body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:44rem}" }
            }
            body {
                p { small { "Simulated Shopify admin (sandbox)" } }
                (body)
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html.into_string())
}

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "errors": format!("Not Found: {what}") }))
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({ "error": error, "error_description": description }))
}

/// The shop's admin: an "Install app" button per app.
async fn admin(state: web::Data<SimState>, path: web::Path<String>) -> HttpResponse {
    let shop = path.into_inner();
    if !state.knows_shop(&shop) {
        return not_found("shop");
    }
    page(
        &shop,
        html! {
            h1 { (shop) }
            h2 { "Apps" }
            ul {
                @for app in &state.apps {
                    li {
                        (app.name) " "
                        a class="install" href=(format!("/shops/{shop}/admin/apps/{}/install", app.client_id)) {
                            "Install app"
                        }
                    }
                }
            }
        },
    )
}

/// The app's URL as Shopify opens it for an install: `shop`, `timestamp`, `host`, signed.
pub fn install_request(state: &SimState, client_id: &str, shop: &str) -> Option<String> {
    let app = state.app(client_id)?;
    let host = base64_host(shop);
    let query = signed_query(
        &app.client_secret,
        &[
            ("host", host),
            ("shop", shop.to_owned()),
            ("timestamp", unix_now().to_string()),
        ],
    );
    Some(format!("{}?{query}", app.redirect_uri))
}

/// `host`: base64 of the shop's admin host, as Shopify sends it.
fn base64_host(shop: &str) -> String {
    use base64::Engine as _;
    let name = shop.trim_end_matches(".myshopify.com");
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(format!("admin.shopify.com/store/{name}"))
}

async fn install(state: web::Data<SimState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (shop, client_id) = path.into_inner();
    if !state.knows_shop(&shop) {
        return not_found("shop");
    }
    match install_request(&state, &client_id, &shop) {
        Some(url) => HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .finish(),
        None => not_found("app"),
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    scope: Option<String>,
    redirect_uri: String,
    state: Option<String>,
}

/// The consent page: the scopes, and "Install".
async fn authorize(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<AuthorizeQuery>,
) -> HttpResponse {
    let shop = path.into_inner();
    if !state.knows_shop(&shop) {
        return not_found("shop");
    }
    let Some(app) = state.app(&query.client_id) else {
        return oauth_error(400, "invalid_request", "The client_id is not valid");
    };
    if app.redirect_uri != query.redirect_uri {
        return oauth_error(
            400,
            "invalid_request",
            "The redirect_uri is not whitelisted",
        );
    }
    let scope = query.scope.clone().unwrap_or_default();
    page(
        "Install app",
        html! {
            h1 { "Install " (app.name) " on " (shop) "?" }
            p { "It will be able to: " (scope) }
            form method="get" action=(format!("/shops/{shop}/admin/oauth/authorize/decision")) {
                input type="hidden" name="client_id" value=(query.client_id);
                input type="hidden" name="state" value=(query.state.as_deref().unwrap_or(""));
                button id="install" type="submit" { "Install" }
            }
        },
    )
}

#[derive(Deserialize)]
struct DecisionQuery {
    client_id: String,
    state: Option<String>,
}

/// "Install": a code, and back to the app's redirect URL with the signed callback.
async fn decision(
    state: web::Data<SimState>,
    path: web::Path<String>,
    query: web::Query<DecisionQuery>,
) -> HttpResponse {
    let shop = path.into_inner();
    let Some(app) = state.app(&query.client_id) else {
        return oauth_error(400, "invalid_request", "The client_id is not valid");
    };
    let Some(code) = state.issue_code(&app.client_id, &shop) else {
        return not_found("shop");
    };
    let query = signed_query(
        &app.client_secret,
        &[
            ("code", code),
            ("host", base64_host(&shop)),
            ("shop", shop.clone()),
            ("state", query.state.clone().unwrap_or_default()),
            ("timestamp", unix_now().to_string()),
        ],
    );
    HttpResponse::Found()
        .insert_header((header::LOCATION, format!("{}?{query}", app.redirect_uri)))
        .finish()
}

#[derive(Deserialize, Default)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    grant_type: Option<String>,
    refresh_token: Option<String>,
    expiring: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
    requested_token_type: Option<String>,
}

fn token_request(request: &HttpRequest, body: &[u8]) -> Option<TokenRequest> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if json {
        serde_json::from_slice(body).ok()
    } else {
        serde_urlencoded_form(body)
    }
}

fn serde_urlencoded_form(body: &[u8]) -> Option<TokenRequest> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    Some(TokenRequest {
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        code: get("code"),
        grant_type: get("grant_type"),
        refresh_token: get("refresh_token"),
        expiring: get("expiring"),
        subject_token: get("subject_token"),
        subject_token_type: get("subject_token_type"),
        requested_token_type: get("requested_token_type"),
    })
}

/// `POST admin/oauth/access_token`.
async fn access_token(
    state: web::Data<SimState>,
    path: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let shop = path.into_inner();
    state
        .counters
        .token
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let invalid_grant = || {
        oauth_error(
            400,
            "invalid_grant",
            "The authorization code or refresh token is not valid",
        )
    };
    if let Some(answer) = crate::injected::answer(state.next_failure(), invalid_grant).await {
        return answer;
    }
    if !state.knows_shop(&shop) {
        return not_found("shop");
    }
    let Some(form) = token_request(&request, &body) else {
        return oauth_error(400, "invalid_request", "The request could not be read");
    };
    let app = form.client_id.as_deref().and_then(|id| state.app(id));
    let Some(app) =
        app.filter(|app| form.client_secret.as_deref() == Some(app.client_secret.as_str()))
    else {
        return oauth_error(401, "invalid_client", "Client authentication failed");
    };
    let scope = app.scopes.join(",");
    let expiring_answer = |grant: &Grant, refresh: String| {
        HttpResponse::Ok().json(json!({
            "access_token": state.issue_access(grant),
            "scope": scope,
            "expires_in": ACCESS_LIFETIME,
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_LIFETIME,
        }))
    };
    match form.grant_type.as_deref() {
        None | Some("authorization_code") => {
            let grant = form.code.as_deref().and_then(|code| state.take_code(code));
            let Some(grant) =
                grant.filter(|grant| grant.client_id == app.client_id && grant.shop == shop)
            else {
                return invalid_grant();
            };
            let expiring = form.expiring.as_deref() == Some("1")
                && state
                    .offers_expiring
                    .load(std::sync::atomic::Ordering::SeqCst);
            if expiring {
                let refresh = state.refresh.issue(grant.clone());
                expiring_answer(&grant, refresh)
            } else {
                HttpResponse::Ok().json(json!({
                    "access_token": state.issue_non_expiring(&grant),
                    "scope": scope,
                }))
            }
        }
        Some("refresh_token") => {
            let token = form.refresh_token.unwrap_or_default();
            match state.refresh.redeem(&token, |grant| {
                grant.client_id == app.client_id && grant.shop == shop
            }) {
                Ok((grant, next)) => expiring_answer(&grant, next),
                Err(refusal) => {
                    if let Refusal::Reused(grant) = refusal {
                        state.uninstall(&grant);
                    }
                    invalid_grant()
                }
            }
        }
        Some(TOKEN_EXCHANGE) => {
            // The migration of a non-expiring offline token: once, and the old token stops
            // working.
            let offline = Some(OFFLINE_TOKEN_TYPE);
            if form.subject_token_type.as_deref() != offline
                || form.requested_token_type.as_deref() != offline
                || form.expiring.as_deref() != Some("1")
            {
                return oauth_error(400, "invalid_request", "The token types are not supported");
            }
            let subject = form.subject_token.unwrap_or_default();
            let grant = state.take_non_expiring(&subject);
            let Some(grant) =
                grant.filter(|grant| grant.client_id == app.client_id && grant.shop == shop)
            else {
                return invalid_grant();
            };
            let refresh = state.refresh.issue(grant.clone());
            expiring_answer(&grant, refresh)
        }
        Some(_) => oauth_error(
            400,
            "unsupported_grant_type",
            "The grant type is not supported",
        ),
    }
}

/// `DELETE admin/api_permissions/current.json` with `X-Shopify-Access-Token`: the app is
/// uninstalled from the shop.
async fn uninstall(
    state: web::Data<SimState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> HttpResponse {
    let shop = path.into_inner();
    state
        .counters
        .revoke
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let token = request
        .headers()
        .get("x-shopify-access-token")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    match state.access_grant(token).filter(|grant| grant.shop == shop) {
        Some(grant) => {
            state.uninstall(&grant);
            HttpResponse::Ok().json(json!({}))
        }
        None => HttpResponse::Unauthorized().json(json!({
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        })),
    }
}
