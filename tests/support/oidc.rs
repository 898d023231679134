//! A small OpenID Connect provider for the console's sign-in tests: discovery, an authorization
//! endpoint that shows a page of its own where whichever person the test chose confirms (as
//! after a real provider's login page), a token endpoint that checks the client's credentials, the redirect URI and
//! the PKCE verifier, and answers an RS256 ID token carrying the nonce, and the key set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use sha2::{Digest as _, Sha256};

pub const OIDC_CLIENT_ID: &str = "installgate-console";
pub const OIDC_CLIENT_SECRET: &str = "console-client-secret";
const KEY: &str = include_str!("../fixtures/jwt/rsa-a.pem");
const JWK: &str = include_str!("../fixtures/jwt/rsa-a.jwk.json");

/// Who the provider signs in next.
#[derive(Debug, Clone)]
pub struct OidcPerson {
    pub email: String,
    /// `None` leaves the claim out, as some providers do.
    pub email_verified: Option<bool>,
    pub groups: Vec<String>,
}

struct Grant {
    person: OidcPerson,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct State {
    issuer: String,
    next: Mutex<Option<OidcPerson>>,
    grants: Mutex<HashMap<String, Grant>>,
    /// Token requests answered with an ID token.
    issued: Mutex<u32>,
}

pub struct OidcProvider {
    pub issuer: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

async fn discovery(state: web::Data<State>) -> HttpResponse {
    let issuer = &state.issuer;
    HttpResponse::Ok().json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn authorize(
    state: web::Data<State>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    if field("client_id") != OIDC_CLIENT_ID
        || field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || !field("scope").split(' ').any(|scope| scope == "openid")
    {
        return HttpResponse::BadRequest().body("bad authorization request");
    }
    let Some(person) = state.next.lock().unwrap().clone() else {
        return HttpResponse::Found()
            .insert_header((
                "location",
                format!(
                    "{}?error=access_denied&state={}",
                    field("redirect_uri"),
                    field("state")
                ),
            ))
            .finish();
    };
    let code = uuid::Uuid::new_v4().simple().to_string();
    state.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            person,
            nonce: field("nonce"),
            challenge: field("code_challenge"),
            redirect_uri: field("redirect_uri"),
        },
    );
    // The provider's own page, where the person confirms: the way back to the console is then
    // a navigation this site starts, as after a real provider's login page.
    HttpResponse::Ok().content_type("text/html").body(format!(
        "<!doctype html><title>Company sign-in</title><h1>Company sign-in</h1>\
         <form method=post action=/approve><input type=hidden name=code value={code}>\
         <input type=hidden name=state value=\"{}\"><button id=approve>Continue</button></form>",
        field("state").replace('"', "")
    ))
}

async fn approve(
    state: web::Data<State>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(redirect_uri) = state
        .grants
        .lock()
        .unwrap()
        .get(&code)
        .map(|grant| grant.redirect_uri.clone())
    else {
        return HttpResponse::BadRequest().body("unknown grant");
    };
    let mut target = url::Url::parse(&redirect_uri).unwrap();
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", form.get("state").map_or("", String::as_str));
    HttpResponse::SeeOther()
        .insert_header(("location", target.to_string()))
        .finish()
}

async fn token(
    state: web::Data<State>,
    request: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{OIDC_CLIENT_ID}:{OIDC_CLIENT_SECRET}"))
    );
    let authorized = request
        .headers()
        .get("authorization")
        .is_some_and(|value| value.to_str().ok() == Some(expected.as_str()));
    if !authorized {
        return HttpResponse::Unauthorized().json(serde_json::json!({"error": "invalid_client"}));
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let Some(grant) = state.grants.lock().unwrap().remove(&field("code")) else {
        return HttpResponse::BadRequest().json(serde_json::json!({"error": "invalid_grant"}));
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
    if challenge != grant.challenge || field("redirect_uri") != grant.redirect_uri {
        return HttpResponse::BadRequest().json(serde_json::json!({"error": "invalid_grant"}));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = serde_json::json!({
        "iss": state.issuer,
        "aud": OIDC_CLIENT_ID,
        "sub": format!("user-{}", grant.person.email),
        "email": grant.person.email,
        "groups": grant.person.groups,
        "nonce": grant.nonce,
        "iat": now,
        "exp": now + 300,
    });
    if let Some(verified) = grant.person.email_verified {
        claims["email_verified"] = serde_json::json!(verified);
    }
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rsa-a".into());
    let id_token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap(),
    )
    .unwrap();
    *state.issued.lock().unwrap() += 1;
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": "opaque",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}

async fn jwks() -> HttpResponse {
    let key: serde_json::Value = serde_json::from_str(JWK).unwrap();
    HttpResponse::Ok().json(serde_json::json!({ "keys": [key] }))
}

impl OidcProvider {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // `localhost`, not `127.0.0.1`: another site than the console's, as a company's
        // identity provider is.
        let issuer = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(State {
            issuer: issuer.clone(),
            ..State::default()
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/authorize", web::get().to(authorize))
                .route("/approve", web::post().to(approve))
                .route("/token", web::post().to(token))
                .route("/jwks", web::get().to(jwks))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            issuer,
            state,
            handle,
        }
    }

    /// The person the next authorization signs in (`None`: the person declines).
    pub fn sign_in_next(&self, person: Option<OidcPerson>) {
        *self.state.next.lock().unwrap() = person;
    }

    /// ID tokens issued so far.
    pub fn issued(&self) -> u32 {
        *self.state.issued.lock().unwrap()
    }

    /// The gateway settings that let this provider's people from `domain` into the console,
    /// members of `ops` as operators.
    pub fn settings(&self, domain: &str) -> Vec<(String, String)> {
        vec![
            (
                "INSTALLGATE__ADMIN__OIDC__ISSUER".into(),
                self.issuer.clone(),
            ),
            (
                "INSTALLGATE__ADMIN__OIDC__CLIENT_ID".into(),
                OIDC_CLIENT_ID.into(),
            ),
            (
                "INSTALLGATE__ADMIN__OIDC__CLIENT_SECRET".into(),
                OIDC_CLIENT_SECRET.into(),
            ),
            (
                "INSTALLGATE__ADMIN__OIDC__ALLOWED_DOMAINS".into(),
                domain.into(),
            ),
            (
                "INSTALLGATE__ADMIN__OIDC__OPERATOR_GROUPS".into(),
                "ops".into(),
            ),
        ]
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}
