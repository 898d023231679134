//! Pipedrive's OAuth server and the one API call an install makes, as Pipedrive's documentation
//! lists them. Error bodies: the field names of Pipedrive's OAuth errors are unconfirmed (not
//! documented); the simulator sends `{"success": false, "error": <the documented message>}`, or,
//! when told to, RFC 6749's `{"error": <code>, "error_description": <the message>}`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::state::{CODE_LIFETIME, SimState};
use crate::Failure;
use crate::refresh_tokens::Refusal;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/oauth/authorize", web::get().to(authorize))
        .route("/oauth/authorize/decision", web::get().to(decision))
        .route("/oauth/token", web::post().to(token))
        .route("/oauth/revoke", web::post().to(revoke))
        .route("/api/v1/users/me", web::get().to(users_me));
}

fn refused(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "success": false, "error": message }))
}

/// RFC 6749 section 5.2's error code for one of Pipedrive's documented messages.
fn rfc6749_code(message: &str) -> &'static str {
    match message.split(':').next().unwrap_or_default() {
        "Invalid grant" => "invalid_grant",
        "Invalid client" => "invalid_client",
        "Unsupported grant type" => "unsupported_grant_type",
        _ => "invalid_request",
    }
}

/// A token-endpoint refusal, in the shape the simulator was told to use.
fn token_refused(state: &SimState, message: &str) -> HttpResponse {
    if state
        .rfc6749_refusals
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        HttpResponse::BadRequest().json(json!({
            "error": rfc6749_code(message), "error_description": message,
        }))
    } else {
        refused(message)
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
}

/// The consent dialog: the scopes, and "Allow and Install" or "Cancel".
async fn authorize(state: web::Data<SimState>, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let Some(app) = state.app(&query.client_id) else {
        return HttpResponse::BadRequest().body("App cannot be installed for requested company");
    };
    if app.redirect_uri != query.redirect_uri {
        return refused("Invalid request: redirect_uri is invalid");
    }
    let page = html! {
        h1 { "Install " (app.name) "?" }
        p { "It will have access to: " (app.scopes.join(", ")) }
        form method="get" action="/oauth/authorize/decision" {
            input type="hidden" name="client_id" value=(query.client_id);
            input type="hidden" name="state" value=(query.state.as_deref().unwrap_or(""));
            label { "You are " select name="user" {
                @for user in &state.users {
                    option value=(format!("{}:{}", user.company_id, user.user_id)) {
                        (user.name) " at " (user.company_name)
                    }
                }
            } }
            p {
                button id="allow" name="decision" value="allow" { "Allow and Install" }
                " "
                button id="cancel" name="decision" value="cancel" { "Cancel" }
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

#[derive(Deserialize)]
struct DecisionQuery {
    client_id: String,
    state: Option<String>,
    user: Option<String>,
    decision: String,
}

async fn decision(state: web::Data<SimState>, query: web::Query<DecisionQuery>) -> HttpResponse {
    let Some(app) = state.app(&query.client_id) else {
        return HttpResponse::BadRequest().body("unknown client_id");
    };
    let Ok(mut callback) = url::Url::parse(&app.redirect_uri) else {
        return HttpResponse::BadRequest().body("the app's callback is not a URL");
    };
    if query.decision == "allow" {
        let (company, user) = query
            .user
            .as_deref()
            .and_then(|pair| pair.split_once(':'))
            .and_then(|(c, u)| Some((c.parse().ok()?, u.parse().ok()?)))
            .unwrap_or_else(|| {
                state
                    .users
                    .first()
                    .map_or((0, 0), |u| (u.company_id, u.user_id))
            });
        let Some(code) = state.issue_code(&app.client_id, company, user) else {
            return HttpResponse::BadRequest().body("unknown user");
        };
        callback.query_pairs_mut().append_pair("code", &code);
    } else {
        callback
            .query_pairs_mut()
            .append_pair("error", "user_denied");
    }
    if let Some(value) = query.state.as_deref().filter(|value| !value.is_empty()) {
        callback.query_pairs_mut().append_pair("state", value);
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, callback.as_str()))
        .finish()
}

/// The client of a request's Basic credentials, if they are an app's.
fn basic_client<'a>(
    state: &'a SimState,
    request: &HttpRequest,
) -> Result<&'a crate::SimulatedApp, &'static str> {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .ok_or("Invalid client: cannot retrieve client credentials")?;
    let decoded = STANDARD
        .decode(header)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or("Invalid client: cannot retrieve client credentials")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("Invalid client: cannot retrieve client credentials")?;
    state
        .app(id)
        .filter(|app| app.client_secret == secret)
        .ok_or("Invalid client: client is invalid")
}

fn is_form(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

async fn token(state: web::Data<SimState>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    state
        .counters
        .token
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let invalid_grant = || token_refused(&state, "Invalid grant: authorization_code is invalid");
    if let Some(answer) = crate::injected::answer(state.next_failure(), invalid_grant).await {
        return answer;
    }
    if !is_form(&request) {
        return token_refused(
            &state,
            "Invalid request: content must be application/x-www-form-urlencoded",
        );
    }
    let app = match basic_client(&state, &request) {
        Ok(app) => app,
        Err(message) => return token_refused(&state, message),
    };
    let Ok(form) = serde_urlencoded_form(&body) else {
        return token_refused(
            &state,
            "Invalid request: content must be application/x-www-form-urlencoded",
        );
    };
    let scope = app.scopes.join(",");
    let answer = |access: String, refresh: String| {
        let mut answer = json!({
            "access_token": access, "token_type": "bearer", "refresh_token": refresh,
            "scope": scope, "expires_in": 3600, "api_domain": state.api_domain(),
        });
        state.tamper(&mut answer);
        HttpResponse::Ok().json(answer)
    };
    match form.grant_type.as_deref() {
        None => token_refused(&state, "Missing parameter: grant_type"),
        Some("authorization_code") => {
            let Some(code) = form.code.as_deref().and_then(|code| state.take_code(code)) else {
                return token_refused(&state, "Invalid grant: authorization_code is invalid");
            };
            if code.grant.client_id != app.client_id {
                return token_refused(&state, "Invalid grant: authorization_code is invalid");
            }
            if state.now().duration_since(code.issued_at) > CODE_LIFETIME {
                return token_refused(&state, "Invalid grant: authorization_code has expired");
            }
            if form.redirect_uri.as_deref() != Some(app.redirect_uri.as_str()) {
                return token_refused(&state, "Invalid request: redirect_uri is invalid");
            }
            let (access, refresh) = state.issue_tokens(&code.grant, None);
            answer(access, refresh)
        }
        Some("refresh_token") => {
            let refresh = form.refresh_token.unwrap_or_default();
            // Pipedrive documents that the same refresh token comes back; rotation is a test
            // switch for what its "already exchanged" error wording allows.
            match state
                .refresh
                .redeem(&refresh, |grant| grant.client_id == app.client_id)
            {
                Ok((grant, next)) => {
                    let (access, refresh) = state.issue_tokens(&grant, Some(next));
                    answer(access, refresh)
                }
                Err(refusal) => {
                    if let Refusal::Reused(grant) = refusal {
                        state.drop_access_tokens(&grant);
                    }
                    token_refused(&state, "Invalid grant: refresh_token is invalid")
                }
            }
        }
        Some(_) => token_refused(&state, "Unsupported grant type: grant_type is invalid"),
    }
}

fn serde_urlencoded_form(body: &[u8]) -> Result<TokenForm, ()> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Ok(TokenForm {
        grant_type: get("grant_type"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        refresh_token: get("refresh_token"),
    })
}

/// RFC 7009: 200 whether or not the token was valid.
async fn revoke(
    state: web::Data<SimState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    state
        .counters
        .revoke
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    match state.next_failure() {
        Some(Failure::ServerError | Failure::Stall(_)) => {
            return HttpResponse::InternalServerError().body("Internal Server Error");
        }
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    if let Err(message) = basic_client(&state, &request) {
        return refused(message);
    }
    if let Some((_, token)) = url::form_urlencoded::parse(&body).find(|(name, _)| name == "token") {
        state.revoke(&token);
    }
    HttpResponse::Ok().finish()
}

async fn users_me(state: web::Data<SimState>, request: HttpRequest) -> HttpResponse {
    state
        .counters
        .users_me
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(grant) = token.and_then(|token| state.access_grant(token)) else {
        return HttpResponse::Unauthorized()
            .json(json!({ "success": false, "error": "Invalid token: access_token is invalid" }));
    };
    let Some(user) = state.user(grant.company_id, grant.user_id) else {
        return HttpResponse::Unauthorized().json(json!({ "success": false }));
    };
    HttpResponse::Ok().json(json!({
        "success": true,
        "data": {
            "id": user.user_id, "company_id": user.company_id, "company_name": user.company_name,
            "company_domain": user.company_name.to_lowercase().replace(' ', "-"),
            "name": user.name, "email": format!("user{}@example.com", user.user_id),
            "locale": "en_US", "is_admin": 1, "active_flag": true,
        }
    }))
}
