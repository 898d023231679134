//! `/oauth/authorize` (classic OAuth consent), `/oauth/v3/token` and
//! `/oauth/v3/token/introspect`, as HubSpot's OAuth documentation describes them.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::Failure;
use super::state::{CODE_LIFETIME, IssuedToken, SimState};
use crate::refresh_tokens::Refusal;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/oauth/authorize", web::get().to(authorize))
        .route("/oauth/authorize/decision", web::get().to(decision))
        .route("/oauth/v3/token", web::post().to(token))
        .route("/oauth/v3/token/introspect", web::post().to(introspect))
        .route(
            "/appinstalls/v3/external-install",
            web::delete().to(uninstall),
        );
}

/// HubSpot's app-uninstall endpoint: the account's access token uninstalls the app (204).
async fn uninstall(state: web::Data<SimState>, request: actix_web::HttpRequest) -> HttpResponse {
    state.count_uninstall();
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match token.and_then(|token| state.token(token)) {
        Some(grant) => {
            // Uninstalling ends the grant: its refresh and access tokens stop working.
            state.refresh.revoke_grant(&grant);
            state.drop_access_tokens(&grant);
            HttpResponse::NoContent().finish()
        }
        None => HttpResponse::Unauthorized().json(json!({
            "status": "error", "message": "Authentication credentials not found.", "category": "INVALID_AUTHENTICATION",
        })),
    }
}

/// An OAuth error body in HubSpot's shape: RFC 6749 fields plus `status` and `message`.
fn oauth_error(error: &str, status: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "error": error, "error_description": message, "status": status, "message": message,
    }))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
}

/// The consent screen: the customer picks a portal and connects the app, or cancels.
async fn authorize(state: web::Data<SimState>, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let Some(app) = state.app(&query.client_id) else {
        return HttpResponse::BadRequest().body("unknown client_id");
    };
    if app.redirect_uri != query.redirect_uri {
        return HttpResponse::BadRequest().body("redirect_uri does not match the app's");
    }
    let page = html! {
        h1 { "Connect " (app.name) " to your HubSpot account" }
        p { "Scopes: " (query.scope.as_deref().unwrap_or("")) }
        form method="get" action="/oauth/authorize/decision" {
            input type="hidden" name="client_id" value=(query.client_id);
            input type="hidden" name="state" value=(query.state.as_deref().unwrap_or(""));
            label { "Portal (hub id) " input name="hub_id" value="4242"; }
            button name="decision" value="connect" { "Connect app" }
            button name="decision" value="cancel" { "Cancel" }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

#[derive(Deserialize)]
struct DecisionQuery {
    client_id: String,
    state: String,
    hub_id: Option<u64>,
    decision: String,
}

async fn decision(state: web::Data<SimState>, query: web::Query<DecisionQuery>) -> HttpResponse {
    let Some(app) = state.app(&query.client_id) else {
        return HttpResponse::BadRequest().body("unknown client_id");
    };
    let Ok(mut target) = url::Url::parse(&app.redirect_uri) else {
        return HttpResponse::BadRequest().body("the app's redirect_uri is not a URL");
    };
    if query.decision == "connect" {
        let Some(code) = state.issue_code(&query.client_id, query.hub_id.unwrap_or(4242)) else {
            return HttpResponse::BadRequest().body("unknown client_id");
        };
        target.query_pairs_mut().append_pair("code", &code);
    } else {
        // HubSpot's error redirect: `error` and `error_description` (HubSpot's OAuth documentation).
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user declined to connect the app.");
    }
    if !query.state.is_empty() {
        target.query_pairs_mut().append_pair("state", &query.state);
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, target.as_str()))
        .finish()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

fn tokens_for(
    state: &SimState,
    client_id: &str,
    hub_id: u64,
    refresh: Option<String>,
) -> HttpResponse {
    let issued = IssuedToken {
        client_id: client_id.to_owned(),
        hub_id,
    };
    let access_token = state.issue_token("sim-access", issued.clone());
    // Whether HubSpot ever rotates refresh tokens is unconfirmed: the simulator returns the one
    // it was given unless rotation is switched on.
    let refresh_token = refresh.unwrap_or_else(|| state.refresh.issue(issued));
    let scopes = state
        .app(client_id)
        .map(|app| app.scopes.clone())
        .unwrap_or_default();
    let mut body = json!({
        "token_type": "bearer", "access_token": access_token, "refresh_token": refresh_token,
        "expires_in": 1800, "scopes": scopes,
    });
    if !state.omits_hub_id() {
        body["hub_id"] = json!(hub_id);
    }
    HttpResponse::Ok().json(body)
}

async fn token(state: web::Data<SimState>, form: web::Form<TokenForm>) -> HttpResponse {
    state.count_call();
    match state.next_failure() {
        Some(Failure::ServerError) => {
            return HttpResponse::InternalServerError().body("Internal Server Error");
        }
        Some(Failure::Garbage) => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("<html>surprise</html>");
        }
        Some(Failure::InvalidGrant) => {
            return oauth_error(
                "invalid_grant",
                "BAD_AUTH_CODE",
                "the code is invalid, expired or used",
            );
        }
        Some(Failure::Oversized) => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(crate::hubspot::oversized_body());
        }
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::Stall(delay)) => {
            tokio::time::sleep(delay).await;
            return HttpResponse::ServiceUnavailable().body("Service Unavailable");
        }
        None => {}
    }
    let client_id = form.client_id.as_deref().unwrap_or_default();
    let secret_ok = state
        .app(client_id)
        .is_some_and(|app| Some(app.client_secret.as_str()) == form.client_secret.as_deref());
    if !secret_ok {
        return oauth_error(
            "invalid_client",
            "BAD_CLIENT_SECRET",
            "missing or unknown client id or secret",
        );
    }
    match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let Some(code) = form.code.as_deref().and_then(|code| state.take_code(code)) else {
                return oauth_error(
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "the code is invalid, expired or used",
                );
            };
            if code.client_id != client_id || code.issued_at.elapsed() > CODE_LIFETIME {
                return oauth_error(
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "the code is invalid, expired or used",
                );
            }
            let expected_redirect = state.app(client_id).map(|app| app.redirect_uri.as_str());
            if form.redirect_uri.as_deref() != expected_redirect {
                return oauth_error(
                    "invalid_grant",
                    "BAD_REDIRECT_URI",
                    "redirect_uri does not match",
                );
            }
            if let Some(flow) = &code.flow {
                state.mark_installed(flow);
            }
            tokens_for(&state, client_id, code.hub_id, None)
        }
        Some("refresh_token") => {
            let refresh = form.refresh_token.clone().unwrap_or_default();
            match state
                .refresh
                .redeem(&refresh, |issued| issued.client_id == client_id)
            {
                Ok((issued, next)) => tokens_for(&state, client_id, issued.hub_id, Some(next)),
                Err(refusal) => {
                    if let Refusal::Reused(grant) = refusal {
                        state.drop_access_tokens(&grant);
                    }
                    oauth_error(
                        "invalid_grant",
                        "BAD_REFRESH_TOKEN",
                        "refresh token is invalid, expired or revoked",
                    )
                }
            }
        }
        _ => oauth_error(
            "unsupported_grant_type",
            "BAD_GRANT_TYPE",
            "unsupported grant_type",
        ),
    }
}

#[derive(Deserialize)]
struct IntrospectForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
    access_token: Option<String>,
}

/// Which field names the token is unconfirmed (the guide and the reference differ); both are read.
async fn introspect(state: web::Data<SimState>, form: web::Form<IntrospectForm>) -> HttpResponse {
    let client_id = form.client_id.as_deref().unwrap_or_default();
    let secret_ok = state
        .app(client_id)
        .is_some_and(|app| Some(app.client_secret.as_str()) == form.client_secret.as_deref());
    if !secret_ok {
        return oauth_error(
            "invalid_client",
            "BAD_CLIENT_SECRET",
            "missing or unknown client id or secret",
        );
    }
    let value = form
        .token
        .as_deref()
        .or(form.access_token.as_deref())
        .unwrap_or_default();
    match state.token(value) {
        Some(issued) => HttpResponse::Ok().json(json!({
            "active": true, "hub_id": issued.hub_id, "client_id": issued.client_id,
            "token_type": "Bearer", "token_use": "access_token",
            "signed_access_token": { "hublet": "na1" },
        })),
        None => HttpResponse::Ok().json(json!({ "active": false })),
    }
}
