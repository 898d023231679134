//! The vendor's own login: the gateway hands the user over with a one-time request id and
//! accepts a signed JWT back, checked for signature, algorithm, issuer, audience, expiry and
//! nonce; keys come from a shared secret or from the vendor's JWKS.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_tests::{Browser, TestApp, location, spawn_app};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "a shared secret of more than thirty-two characters";
const ISSUER: &str = "https://vendor.example";
const AUDIENCE: &str = "installgate-test";
const RSA_A: &str = include_str!("../fixtures/jwt/rsa-a.pem");
const RSA_B: &str = include_str!("../fixtures/jwt/rsa-b.pem");
const EC_A: &str = include_str!("../fixtures/jwt/ec-a.pem");

fn jwk(name: &str) -> Value {
    let text = match name {
        "rsa-a" => include_str!("../fixtures/jwt/rsa-a.jwk.json"),
        "rsa-b" => include_str!("../fixtures/jwt/rsa-b.jwk.json"),
        _ => include_str!("../fixtures/jwt/ec-a.jwk.json"),
    };
    serde_json::from_str(text).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(nonce: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "vendor-user-7", "exp": now() + 120,
        "nonce": nonce, "email": "Grace@Vendor.example", "name": "Grace",
    })
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[key] = value;
    claims
}

fn without(claims: &Value, key: &str) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn signed(claims: &Value, algorithm: Algorithm, kid: &str, pem: &str) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    let key = match algorithm {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    encode(&header, claims, &key).unwrap()
}

fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{body}.")
}

async fn external_app(keys: (&str, &str), extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("INSTALLGATE__ACCOUNTS__MODE", "external"),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__LOGIN_URL",
            "https://vendor.example/login?lang=en",
        ),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__SIGNUP_URL",
            "https://vendor.example/signup",
        ),
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__ISSUER", ISSUER),
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__AUDIENCE", AUDIENCE),
        (
            "INSTALLGATE__ACCOUNTS__EXTERNAL__JWKS_MIN_REFETCH_SECONDS",
            "0",
        ),
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__JWKS_TIMEOUT_MS", "500"),
        keys,
    ];
    vars.extend_from_slice(extra);
    spawn_app(&vars).await
}

async fn hs256_app() -> TestApp {
    external_app(
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__HS256_SECRET", SECRET),
        &[],
    )
    .await
}

/// The vendor's JWKS endpoint, whose key set a test can change.
struct Jwks {
    url: String,
    keys: Arc<Mutex<Value>>,
}

impl Jwks {
    async fn serve(names: &[&str]) -> Self {
        let keys = Arc::new(Mutex::new(json!({ "keys": [] })));
        let shared = web::Data::from(keys.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(shared.clone()).route(
                "/jwks",
                web::get().to(|keys: web::Data<Mutex<Value>>| async move {
                    HttpResponse::Ok().json(keys.lock().unwrap().clone())
                }),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        let jwks = Self {
            url: format!("http://127.0.0.1:{port}/jwks"),
            keys,
        };
        jwks.publish(names);
        jwks
    }

    fn publish(&self, names: &[&str]) {
        let set: Vec<Value> = names.iter().map(|name| jwk(name)).collect();
        self.publish_keys(set);
    }

    fn publish_keys(&self, set: Vec<Value>) {
        *self.keys.lock().unwrap() = json!({ "keys": set });
    }
}

async fn jwks_app(jwks_url: &str) -> TestApp {
    external_app(("INSTALLGATE__ACCOUNTS__EXTERNAL__JWKS_URL", jwks_url), &[]).await
}

async fn jwks_app_for(jwks_url: &str, algorithm: &str) -> TestApp {
    external_app(
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__JWKS_URL", jwks_url),
        &[("INSTALLGATE__ACCOUNTS__EXTERNAL__JWKS_ALGORITHM", algorithm)],
    )
    .await
}

/// Follows the gateway to the vendor's login; returns the one-time request id.
async fn hand_over(browser: &Browser, path: &str) -> String {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let target = url::Url::parse(&location(&response)).unwrap();
    assert_eq!(target.host_str(), Some("vendor.example"));
    let params: std::collections::HashMap<String, String> =
        target.query_pairs().into_owned().collect();
    assert_eq!(
        params["return_to"],
        format!("{}/account/sso", browser.origin())
    );
    params["request"].clone()
}

async fn begin(browser: &Browser) -> String {
    hand_over(browser, "/account/sign-in").await
}

async fn come_back(browser: &Browser, request: &str, assertion: &str) -> reqwest::Response {
    let query = format!(
        "/account/sso?request={}&assertion={}",
        urlencode(request),
        urlencode(assertion)
    );
    browser.get(&query).await
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn is_signed_in(browser: &Browser) -> bool {
    browser.get("/account/").await.status() == StatusCode::OK
}

#[tokio::test]
async fn an_hs256_assertion_signs_the_user_in_and_resumes_the_parked_request() {
    let app = hs256_app().await;
    let browser = Browser::new(&app);
    let account_page = browser.get("/account/?from=install").await;
    let sign_in = location(&account_page);
    let request = hand_over(&browser, &sign_in).await;
    let response = come_back(&browser, &request, &hs256(&claims(&request), SECRET)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/?from=install");
    let page = browser.get("/account/").await.text().await.unwrap();
    assert!(page.contains("grace@vendor.example"), "{page}");

    // The request id was used up: the same assertion cannot sign anyone in again.
    let thief = Browser::new(&app);
    let replay = come_back(&thief, &request, &hs256(&claims(&request), SECRET)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("expired or was used already")
    );
    assert!(!is_signed_in(&thief).await);
}

#[tokio::test]
async fn sign_up_hands_over_to_the_vendors_sign_up_page() {
    let app = hs256_app().await;
    let browser = Browser::new(&app);
    let response = browser.get("/account/sign-up").await;
    let target = location(&response);
    assert!(
        target.starts_with("https://vendor.example/signup?return_to="),
        "{target}"
    );
    // Built-in forms do not exist in external mode.
    let post = browser
        .post(
            "/account/sign-in",
            &[("email", "a@b.co"), ("password", "x")],
        )
        .await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
}

/// Each bad assertion gets a clear 400 page and signs nobody in.
async fn refused(app: &TestApp, make: impl Fn(&str) -> String, says: &str) {
    let browser = Browser::new(app);
    let request = begin(&browser).await;
    let response = come_back(&browser, &request, &make(&request)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{says}");
    let body = response.text().await.unwrap();
    assert!(body.contains(says), "expected {says:?} in {body}");
    assert!(!is_signed_in(&browser).await, "{says}");
}

#[tokio::test]
async fn bad_assertions_are_refused_with_hs256() {
    let app = hs256_app().await;
    refused(
        &app,
        |r| hs256(&claims(r), "another secret, also more than 32 chars"),
        "signature does not verify",
    )
    .await;
    refused(&app, |r| unsigned(&claims(r)), "not a valid token").await;
    refused(
        &app,
        |r| signed(&claims(r), Algorithm::RS256, "rsa-a", RSA_A),
        "algorithm",
    )
    .await;
    refused(
        &app,
        |r| hs256(&with(&claims(r), "exp", json!(now() - 600)), SECRET),
        "expired",
    )
    .await;
    refused(
        &app,
        |r| hs256(&with(&claims(r), "exp", json!(now() + 3600)), SECRET),
        "valid for too long",
    )
    .await;
    refused(
        &app,
        |r| hs256(&with(&claims(r), "aud", json!("someone-else")), SECRET),
        "not issued for this gateway",
    )
    .await;
    refused(
        &app,
        |r| {
            hs256(
                &with(&claims(r), "iss", json!("https://evil.example")),
                SECRET,
            )
        },
        "not issued for this gateway",
    )
    .await;
    refused(
        &app,
        |r| hs256(&without(&claims(r), "nonce"), SECRET),
        "does not belong to this sign-in request",
    )
    .await;
    refused(
        &app,
        |_| hs256(&claims("another-request-id"), SECRET),
        "does not belong to this sign-in request",
    )
    .await;
    refused(
        &app,
        |r| hs256(&without(&claims(r), "sub"), SECRET),
        "lacks a required claim",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_or_unknown_request_id_is_refused() {
    let app = hs256_app().await;
    let browser = Browser::new(&app);
    let forged = installgate_core::StateToken::generate().unwrap();
    let unknown = come_back(
        &browser,
        forged.expose(),
        &hs256(&claims(forged.expose()), SECRET),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let malformed = come_back(
        &browser,
        "not-a-request",
        &hs256(&claims("not-a-request"), SECRET),
    )
    .await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let missing = browser.get("/account/sso?request=x").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert!(!is_signed_in(&browser).await);
}

async fn accepted(app: &TestApp, make: impl Fn(&str) -> String, what: &str) {
    let browser = Browser::new(app);
    let request = begin(&browser).await;
    let response = come_back(&browser, &request, &make(&request)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{what}");
    assert!(is_signed_in(&browser).await, "{what}");
}

#[tokio::test]
async fn the_configured_algorithm_verifies_with_keys_from_the_jwks_and_the_other_is_refused() {
    let jwks = Jwks::serve(&["rsa-a", "ec-a"]).await;
    let rs256 = jwks_app(&jwks.url).await;
    accepted(
        &rs256,
        |r| signed(&claims(r), Algorithm::RS256, "rsa-a", RSA_A),
        "RS256",
    )
    .await;
    refused(
        &rs256,
        |r| signed(&claims(r), Algorithm::ES256, "ec-a", EC_A),
        "algorithm this gateway does not accept",
    )
    .await;
    let es256 = jwks_app_for(&jwks.url, "ES256").await;
    accepted(
        &es256,
        |r| signed(&claims(r), Algorithm::ES256, "ec-a", EC_A),
        "ES256",
    )
    .await;
    refused(
        &es256,
        |r| signed(&claims(r), Algorithm::RS256, "rsa-a", RSA_A),
        "algorithm this gateway does not accept",
    )
    .await;
}

/// A key of the set is used only when its `use` is
/// `sig` (or absent) and its `alg` is the configured one (or absent).
#[tokio::test]
async fn jwks_keys_for_encryption_or_another_algorithm_are_not_used() {
    let jwks = Jwks::serve(&[]).await;
    let app = jwks_app(&jwks.url).await;
    // Each case publishes rsa-a's key under a key id of its own, so that the gateway, which
    // caches the set, fetches it again for the new id.
    let rsa_a = |kid: &str, changes: &[(&str, Option<&str>)]| {
        let mut key = jwk("rsa-a");
        key["kid"] = json!(kid);
        for (field, value) in changes {
            match value {
                Some(value) => key[*field] = json!(value),
                None => {
                    key.as_object_mut().unwrap().remove(*field);
                }
            }
        }
        key
    };
    let by = |kid: &'static str| move |r: &str| signed(&claims(r), Algorithm::RS256, kid, RSA_A);
    let unusable = "not a signing key for the configured algorithm";

    jwks.publish_keys(vec![rsa_a("enc", &[("use", Some("enc"))])]);
    refused(&app, by("enc"), unusable).await;
    jwks.publish_keys(vec![rsa_a("rs512", &[("alg", Some("RS512"))])]);
    refused(&app, by("rs512"), unusable).await;
    jwks.publish_keys(vec![rsa_a("ps256", &[("alg", Some("PS256"))])]);
    refused(&app, by("ps256"), unusable).await;

    // Neither `use` nor `alg` said: the key may sign with the configured algorithm.
    jwks.publish_keys(vec![rsa_a("bare", &[("use", None), ("alg", None)])]);
    accepted(&app, by("bare"), "a key without use and alg").await;
    jwks.publish_keys(vec![rsa_a("sig", &[])]);
    accepted(&app, by("sig"), "a signing key for RS256").await;
    // One id for a signing key and an encryption key, in either order: the signing key is used.
    for (first, second) in [("sig", "enc"), ("enc", "sig")] {
        let kid = if first == "sig" { "pair-a" } else { "pair-b" };
        jwks.publish_keys(vec![
            rsa_a(kid, &[("use", Some(first))]),
            rsa_a(kid, &[("use", Some(second))]),
        ]);
        let by_pair = move |r: &str| signed(&claims(r), Algorithm::RS256, kid, RSA_A);
        accepted(&app, by_pair, "the usable key of a shared id").await;
    }
}

#[tokio::test]
async fn an_assertion_not_valid_yet_is_refused() {
    let app = hs256_app().await;
    refused(
        &app,
        |r| hs256(&with(&claims(r), "nbf", json!(now() + 600)), SECRET),
        "not valid yet",
    )
    .await;
    accepted(
        &app,
        |r| hs256(&with(&claims(r), "nbf", json!(now() - 10)), SECRET),
        "nbf in the past",
    )
    .await;
}

#[tokio::test]
async fn bad_assertions_are_refused_with_a_jwks() {
    let jwks = Jwks::serve(&["rsa-a"]).await;
    let app = jwks_app(&jwks.url).await;
    // HS256 where RS256 is configured, with a random secret and with the public key's own text.
    refused(&app, |r| hs256(&claims(r), SECRET), "algorithm").await;
    let public_jwk = jwk("rsa-a").to_string();
    refused(&app, move |r| hs256(&claims(r), &public_jwk), "algorithm").await;
    refused(&app, |r| unsigned(&claims(r)), "not a valid token").await;
    // Signed by a key the JWKS does not have, under a key id it does not know.
    refused(
        &app,
        |r| signed(&claims(r), Algorithm::RS256, "rsa-b", RSA_B),
        "no sign-in key has the id",
    )
    .await;
    // Signed by another key under a known key id.
    refused(
        &app,
        |r| signed(&claims(r), Algorithm::RS256, "rsa-a", RSA_B),
        "signature does not verify",
    )
    .await;
    refused(
        &app,
        |r| {
            signed(
                &with(&claims(r), "exp", json!(now() - 600)),
                Algorithm::RS256,
                "rsa-a",
                RSA_A,
            )
        },
        "expired",
    )
    .await;
    refused(
        &app,
        |r| {
            signed(
                &with(&claims(r), "aud", json!("x")),
                Algorithm::RS256,
                "rsa-a",
                RSA_A,
            )
        },
        "not issued for this gateway",
    )
    .await;
}

#[tokio::test]
async fn a_jwks_that_rotates_its_keys_is_followed() {
    let jwks = Jwks::serve(&["rsa-a"]).await;
    let app = jwks_app(&jwks.url).await;
    let first = Browser::new(&app);
    let request = begin(&first).await;
    let response = come_back(
        &first,
        &request,
        &signed(&claims(&request), Algorithm::RS256, "rsa-a", RSA_A),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The vendor rotates to a new key; the gateway's cached set does not have it yet.
    jwks.publish(&["rsa-b"]);
    let second = Browser::new(&app);
    let request = begin(&second).await;
    let response = come_back(
        &second,
        &request,
        &signed(&claims(&request), Algorithm::RS256, "rsa-b", RSA_B),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(is_signed_in(&second).await);
}

async fn assert_keys_unavailable_in_time(jwks_url: &str) {
    let app = jwks_app(jwks_url).await;
    let browser = Browser::new(&app);
    let request = begin(&browser).await;
    let started = Instant::now();
    let response = come_back(
        &browser,
        &request,
        &signed(&claims(&request), Algorithm::RS256, "rsa-a", RSA_A),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    // The configured JWKS timeout is 500 ms; the rest is slack for a busy machine.
    assert!(elapsed < Duration::from_millis(2500), "took {elapsed:?}");
    assert!(!is_signed_in(&browser).await);
}

#[tokio::test]
async fn a_jwks_url_that_is_down_gives_a_clear_error_within_the_timeout() {
    let port = installgate_tests::free_port();
    assert_keys_unavailable_in_time(&format!("http://127.0.0.1:{port}/jwks")).await;
}

#[tokio::test]
async fn a_jwks_url_that_never_answers_gives_a_clear_error_within_the_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", silent.local_addr().unwrap());
    assert_keys_unavailable_in_time(&url).await;
}

#[tokio::test]
async fn the_vendors_assertion_may_say_the_user_is_entitled_and_nothing_is_asked() {
    let vendor = installgate_tests::VendorStub::start("CRM").await;
    let app = external_app(
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__HS256_SECRET", SECRET),
        &vendor.settings(&[
            (
                "INSTALLGATE__ACCOUNTS__EXTERNAL__ENTITLEMENT_CLAIM",
                "installgate_entitled",
            ),
            ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
            ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ]),
    )
    .await;
    // Entitled by the assertion: on to the marketplace without a question.
    let browser = Browser::new(&app);
    let start = browser.get("/connect/pipedrive/crm").await;
    let request = hand_over(&browser, &location(&start)).await;
    let entitled = with(&claims(&request), "installgate_entitled", Value::Bool(true));
    let back = come_back(&browser, &request, &hs256(&entitled, SECRET)).await;
    let onward = browser.get(&location(&back)).await;
    assert_eq!(onward.status(), StatusCode::FOUND);
    assert!(location(&onward).starts_with("https://oauth.pipedrive.com/oauth/authorize?"));
    assert!(vendor.questions().is_empty(), "nothing was asked");

    // Without the claim (or with `false`), the vendor is asked, and here it refuses.
    let other = Browser::new(&app);
    let start = other.get("/connect/pipedrive/crm").await;
    let request = hand_over(&other, &location(&start)).await;
    let not_said = with(
        &claims(&request),
        "installgate_entitled",
        Value::Bool(false),
    );
    let back = come_back(&other, &request, &hs256(&not_said, SECRET)).await;
    let refused = other.get(&location(&back)).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert!(location(&refused).starts_with(&vendor.plans_url));
    assert_eq!(vendor.questions().len(), 1);
}

#[tokio::test]
async fn the_vendors_assertion_may_name_the_workspace_and_no_choice_is_offered() {
    let vendor = installgate_tests::VendorStub::start("CRM").await;
    vendor.allow(true);
    vendor.workspaces(&[("w-1", "One"), ("w-2", "Two")]);
    let app = external_app(
        ("INSTALLGATE__ACCOUNTS__EXTERNAL__HS256_SECRET", SECRET),
        &vendor.settings(&[
            (
                "INSTALLGATE__ACCOUNTS__EXTERNAL__WORKSPACE_CLAIM",
                "installgate_workspace",
            ),
            ("INSTALLGATE__APPS__CRM__PROVIDER", "pipedrive"),
            ("INSTALLGATE__APPS__CRM__CLIENT_ID", "id"),
            ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "secret"),
        ]),
    )
    .await;
    // Named by the assertion (one the vendor lists): on to the marketplace, no workspace page.
    let browser = Browser::new(&app);
    let start = browser.get("/connect/pipedrive/crm").await;
    let request = hand_over(&browser, &location(&start)).await;
    let named = with(
        &claims(&request),
        "installgate_workspace",
        json!({"id": "w-2", "name": "Two"}),
    );
    let back = come_back(&browser, &request, &hs256(&named, SECRET)).await;
    let onward = browser.get(&location(&back)).await;
    assert_eq!(onward.status(), StatusCode::FOUND);
    assert!(location(&onward).starts_with("https://oauth.pipedrive.com/oauth/authorize?"));

    // Named as one the vendor does not list, or not named: the user picks.
    for claim in [Some(Value::String("w-9".into())), None] {
        let other = Browser::new(&app);
        let start = other.get("/connect/pipedrive/crm").await;
        let request = hand_over(&other, &location(&start)).await;
        let assertion = match &claim {
            Some(value) => with(&claims(&request), "installgate_workspace", value.clone()),
            None => claims(&request),
        };
        let back = come_back(&other, &request, &hs256(&assertion, SECRET)).await;
        let page = other.get(&location(&back)).await;
        assert_eq!(page.status(), StatusCode::OK, "{claim:?}");
        assert!(page.text().await.unwrap().contains("name=\"workspace\""));
    }
}
