//! The vendor API's connection listing and reading: keys, app limits, filters, pagination, and a
//! JSON error for every bad input.

use std::collections::BTreeMap;
use std::sync::Arc;

use installgate_core::{
    AccessToken, AccountId, AppId, ConnectionStatus, ConnectionVault as _, MarketplaceKey,
    NewInstall, ProviderId, RefreshToken, SystemClock, TokenSet,
};
use installgate_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

struct Api {
    app: TestApp,
    all_key: String,
    crm_key: String,
}

async fn api() -> Api {
    let (all_key, all_hash) = installgate_server::api::new_key().unwrap();
    let (crm_key, crm_hash) = installgate_server::api::new_key().unwrap();
    let app = spawn_app(&[
        ("INSTALLGATE__APPS__CRM__PROVIDER", "hubspot"),
        ("INSTALLGATE__APPS__CRM__CLIENT_ID", "a"),
        ("INSTALLGATE__APPS__CRM__CLIENT_SECRET", "s"),
        ("INSTALLGATE__APPS__DEALS__PROVIDER", "pipedrive"),
        ("INSTALLGATE__APPS__DEALS__CLIENT_ID", "b"),
        ("INSTALLGATE__APPS__DEALS__CLIENT_SECRET", "s"),
        ("INSTALLGATE__API__KEYS__ALL__SHA256", &all_hash),
        ("INSTALLGATE__API__KEYS__CRMONLY__SHA256", &crm_hash),
        ("INSTALLGATE__API__KEYS__CRMONLY__APPS", "crm"),
    ])
    .await;
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    let keys = installgate_server::vault_keys::keyring(&app.settings).unwrap();
    let vault = installgate_store::SqlVault::new(database, Arc::new(keys), Arc::new(SystemClock));
    for (app_id, provider, key, account, status) in [
        (
            "crm",
            "hubspot",
            "100",
            Some("acct-1"),
            ConnectionStatus::Active,
        ),
        ("crm", "hubspot", "200", None, ConnectionStatus::Active),
        (
            "deals",
            "pipedrive",
            "1:10",
            Some("acct-1"),
            ConnectionStatus::Pending,
        ),
    ] {
        vault
            .upsert_install(
                NewInstall {
                    app: AppId::parse(app_id).unwrap(),
                    provider: ProviderId::parse(provider).unwrap(),
                    marketplace_key: MarketplaceKey::parse(key).unwrap(),
                    account: account.map(|a| AccountId::parse(a).unwrap()),
                    status,
                    scopes: vec!["oauth".into()],
                    metadata: BTreeMap::new(),
                    workspace: None,
                    tokens: TokenSet {
                        access_token: AccessToken::new(format!("secret-access-{key}")),
                        refresh_token: Some(RefreshToken::new(format!("secret-refresh-{key}"))),
                        expires_at: None,
                    },
                },
                None,
            )
            .await
            .unwrap();
    }
    Api {
        app,
        all_key,
        crm_key,
    }
}

impl Api {
    async fn get(
        &self,
        path: &str,
        key: Option<&str>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.app.client.get(self.app.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("secret-access") && !text.contains("secret-refresh"),
            "tokens leaked: {text}"
        );
        (status, serde_json::from_str(&text).unwrap(), headers)
    }
}

fn keys_of(page: &Value) -> Vec<String> {
    let mut keys: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["marketplace_key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn requests_without_a_valid_key_are_refused() {
    let api = api().await;
    for key in [None, Some("igk_wrong"), Some("")] {
        let (status, body, headers) = api.get("/api/v1/connections", key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
        assert_eq!(headers["www-authenticate"], "Bearer");
    }
    let basic = api
        .app
        .client
        .get(api.app.url("/api/v1/connections"))
        .basic_auth("user", Some(&api.all_key))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn connections_are_listed_with_filters_and_never_with_tokens() {
    let api = api().await;
    let key = Some(api.all_key.as_str());
    let (status, page, _) = api.get("/api/v1/connections", key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys_of(&page), ["100", "1:10", "200"]);
    for (query, expected) in [
        ("app=crm", vec!["100", "200"]),
        ("provider=pipedrive", vec!["1:10"]),
        ("status=pending", vec!["1:10"]),
        ("account=acct-1", vec!["100", "1:10"]),
        ("marketplace_key=200", vec!["200"]),
        ("app=crm&account=acct-1", vec!["100"]),
    ] {
        let (_, page, _) = api.get(&format!("/api/v1/connections?{query}"), key).await;
        assert_eq!(keys_of(&page), expected, "{query}");
    }
    let one = &page["data"][0];
    for field in [
        "id",
        "app",
        "provider",
        "marketplace_key",
        "status",
        "scopes",
        "created_at",
    ] {
        assert!(!one[field].is_null(), "{field}");
    }
}

#[tokio::test]
async fn listings_are_paginated_by_cursor() {
    let api = api().await;
    let key = Some(api.all_key.as_str());
    let (_, first, _) = api.get("/api/v1/connections?limit=2", key).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second, _) = api
        .get(&format!("/api/v1/connections?limit=2&cursor={cursor}"), key)
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let mut all = keys_of(&first);
    all.extend(keys_of(&second));
    all.sort();
    assert_eq!(all, ["100", "1:10", "200"]);
}

#[tokio::test]
async fn a_key_limited_to_an_app_sees_only_that_app() {
    let api = api().await;
    let (_, page, _) = api.get("/api/v1/connections", Some(&api.crm_key)).await;
    assert_eq!(keys_of(&page), ["100", "200"]);
    let (_, page, _) = api
        .get("/api/v1/connections?app=deals", Some(&api.crm_key))
        .await;
    assert!(page["data"].as_array().unwrap().is_empty());
    let (_, all, _) = api
        .get("/api/v1/connections?app=deals", Some(&api.all_key))
        .await;
    let deals_id = all["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, body, _) = api
        .get(
            &format!("/api/v1/connections/{deals_id}"),
            Some(&api.crm_key),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body, _) = api
        .get(
            &format!("/api/v1/connections/{deals_id}"),
            Some(&api.all_key),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["marketplace_key"], "1:10");
    assert_eq!(body["status"], "pending");
}

#[tokio::test]
async fn bad_input_gets_its_documented_json_error() {
    let api = api().await;
    let key = Some(api.all_key.as_str());
    let unknown = installgate_core::ConnectionId::generate();
    for (path, status, code) in [
        (
            "/api/v1/connections/not-a-uuid",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            &format!("/api/v1/connections/{unknown}") as &str,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/connections?status=bogus",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?provider=Bad%20Name",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?limit=0",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?limit=201",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?limit=many",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?cursor=nope",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?colour=blue",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/connections?app=a&app=b",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/api/v1/nothing", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, body, _) = api.get(path, key).await;
        assert_eq!(got, status, "{path}");
        assert_eq!(body["error"]["code"], code, "{path}");
        assert!(body["error"]["message"].is_string(), "{path}");
    }
}

impl Api {
    /// The id of the connection of marketplace account `key`.
    async fn id_of(&self, key: &str) -> String {
        let (_, page, _) = self
            .get(
                &format!("/api/v1/connections?marketplace_key={key}"),
                Some(&self.all_key),
            )
            .await;
        page["data"][0]["id"].as_str().unwrap().to_owned()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("secret-refresh"),
            "a refresh token leaked: {text}"
        );
        (status, serde_json::from_str(&text).unwrap())
    }
}

/// Method, path, key, body, expected status and error code.
type Case<'a> = (
    reqwest::Method,
    String,
    Option<&'a str>,
    Option<Vec<u8>>,
    u16,
    &'static str,
);

#[tokio::test]
async fn token_and_disconnect_requests_refuse_bad_input_with_json_errors() {
    let api = api().await;
    let deals = api.id_of("1:10").await;
    let unknown = installgate_core::ConnectionId::generate();
    let token_of = |id: &str| format!("/api/v1/connections/{id}/access-token");
    let all = Some(api.all_key.as_str());
    let crm_only = Some(api.crm_key.as_str());
    let post = reqwest::Method::POST;
    let delete = reqwest::Method::DELETE;
    let cases: Vec<Case> = vec![
        (
            post.clone(),
            token_of(&deals),
            None,
            None,
            401,
            "unauthorized",
        ),
        (
            post.clone(),
            token_of(&deals),
            Some("igk_wrong"),
            None,
            401,
            "unauthorized",
        ),
        (
            post.clone(),
            token_of(&deals),
            crm_only,
            None,
            404,
            "not_found",
        ),
        (
            post.clone(),
            token_of("12345"),
            all,
            None,
            400,
            "bad_request",
        ),
        (
            post.clone(),
            token_of(&unknown.to_string()),
            all,
            None,
            404,
            "not_found",
        ),
        (
            post.clone(),
            token_of(&deals),
            all,
            Some(b"{not json".to_vec()),
            400,
            "bad_request",
        ),
        (
            post.clone(),
            token_of(&deals),
            all,
            Some(b"{\"force\": true}".to_vec()),
            400,
            "bad_request",
        ),
        (
            post.clone(),
            token_of(&deals),
            all,
            Some(b"{\"force_refresh\": \"yes\"}".to_vec()),
            400,
            "bad_request",
        ),
        (
            post.clone(),
            token_of(&deals),
            all,
            Some(vec![b' '; 16 * 1024]),
            413,
            "payload_too_large",
        ),
        (
            delete.clone(),
            format!("/api/v1/connections/{deals}"),
            None,
            None,
            401,
            "unauthorized",
        ),
        (
            delete.clone(),
            format!("/api/v1/connections/{deals}"),
            crm_only,
            None,
            404,
            "not_found",
        ),
        (
            delete.clone(),
            "/api/v1/connections/nope".into(),
            all,
            None,
            400,
            "bad_request",
        ),
        (
            delete.clone(),
            format!("/api/v1/connections/{unknown}"),
            all,
            None,
            404,
            "not_found",
        ),
        (
            reqwest::Method::PUT,
            format!("/api/v1/connections/{deals}"),
            all,
            None,
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, key, body, status, code) in cases {
        let (got, answer) = api.send(method.clone(), &path, key, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path} {key:?}");
        assert_eq!(answer["error"]["code"], code, "{method} {path}");
        assert!(answer["error"]["message"].is_string());
    }
    // Nothing was disconnected by the refused requests.
    let (_, still, _) = api.get(&format!("/api/v1/connections/{deals}"), all).await;
    assert_eq!(still["status"], "pending");
}

#[tokio::test]
async fn the_openapi_document_validates_and_lists_every_api_route() {
    let api = api().await;
    let response = api
        .app
        .client
        .get(api.app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&document).unwrap()).unwrap();
    let validator = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(file.path())
        .output()
        .expect("python3 must be installed");
    assert!(
        validator.status.success(),
        "openapi-spec-validator refused the document: {}{}",
        String::from_utf8_lossy(&validator.stdout),
        String::from_utf8_lossy(&validator.stderr)
    );
    let mut listed: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "DELETE /api/v1/connections/{id}",
            "GET /api/v1/connections",
            "GET /api/v1/connections/{id}",
            "POST /api/v1/connections/{id}/access-token",
        ]
    );
    // What the server answers has the fields the document promises, and no others.
    let schemas = &document["components"]["schemas"];
    let (_, page, _) = api.get("/api/v1/connections", Some(&api.all_key)).await;
    let (_, error, _) = api.get("/api/v1/connections/x", Some(&api.all_key)).await;
    for (name, value) in [
        ("ConnectionPage", &page),
        ("ConnectionView", &page["data"][0]),
        ("ErrorBody", &error),
        ("ErrorDetail", &error["error"]),
    ] {
        let schema = &schemas[name];
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        for field in value.as_object().unwrap().keys() {
            assert!(properties.contains(&field), "{name} lacks {field}");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(
                value.get(required.as_str().unwrap()).is_some(),
                "{name}: {required}"
            );
        }
    }
}
