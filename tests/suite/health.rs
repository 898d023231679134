//! The server skeleton over real HTTP: health, readiness, error pages and common headers.

use std::time::{Duration, Instant};

use installgate_tests::{
    CapturedLogs, ConsoleClient, FreshPostgres, PrivateRedis, spawn_app, unique_prefix,
};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app(&[]).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_answers_200_on_the_embedded_defaults() {
    let app = spawn_app(&[]).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["state_store"]["backend"], "memory");
    assert_eq!(body["checks"]["database"]["backend"], "sqlite");
}

#[tokio::test]
async fn readyz_answers_200_on_redis_and_postgres() {
    let database = FreshPostgres::create().await;
    let redis_url = installgate_tests::redis_url();
    let prefix = unique_prefix();
    let app = spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis_url),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
        ("INSTALLGATE__STATE__KEY_PREFIX", &prefix),
        ("INSTALLGATE__DATABASE__URL", database.url()),
        ("INSTALLGATE__VAULT__ACTIVE_KEY", "k1"),
        (
            "INSTALLGATE__VAULT__KEYS__K1",
            installgate_tests::TEST_VAULT_KEY,
        ),
    ])
    .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["checks"]["state_store"]["backend"], "redis");
    assert_eq!(body["checks"]["database"]["backend"], "postgres");
}

#[tokio::test]
async fn readyz_names_a_stopped_redis_within_2_seconds_and_recovers() {
    let mut redis = PrivateRedis::start().await;
    let redis_url = redis.url();
    let app = spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis_url),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ])
    .await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    redis.stop();
    let started = Instant::now();
    let response = app.get("/readyz").await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(elapsed < Duration::from_secs(2), "readyz took {elapsed:?}");
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["state_store"]["status"], "unavailable");
    assert_eq!(body["checks"]["database"]["status"], "ok");

    // The process keeps serving while Redis is down.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    redis.restart().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = app.get("/readyz").await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readyz did not recover: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readyz_answers_503_within_2_seconds_when_redis_is_paused() {
    let redis = PrivateRedis::start().await;
    let redis_url = redis.url();
    let app = spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis_url),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ])
    .await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    redis.pause(Duration::from_secs(5)).await;
    let started = Instant::now();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

fn assert_common_headers(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("x-frame-options").is_none());
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn unknown_pages_get_an_html_404_with_the_common_headers() {
    let app = spawn_app(&[]).await;
    let response = app.get("/no/such/page?code=abc").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_common_headers(&response);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("<h1>Page not found</h1>"));
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let app = spawn_app(&[]).await;
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_common_headers(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn a_wrong_method_gets_405_in_the_route_format() {
    let app = spawn_app(&[]).await;
    let response = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_common_headers(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn an_overlong_query_string_gets_414() {
    let app = spawn_app(&[]).await;
    let query = "a".repeat(5000);
    let response = app.get(&format!("/install/hubspot/demo?x={query}")).await;
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
    assert_common_headers(&response);
    let json = app.get(&format!("/healthz?x={query}")).await;
    assert_eq!(json.status(), StatusCode::URI_TOO_LONG);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uri_too_long");
}

#[tokio::test]
async fn every_response_gets_its_own_request_id() {
    let app = spawn_app(&[]).await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    assert_ne!(
        first.headers()["x-request-id"],
        second.headers()["x-request-id"]
    );
}

/// The one line `request_id=…` and "request completed" in `logs`.
fn completion_line(logs: &CapturedLogs, request_id: &str) -> String {
    let lines: Vec<String> = logs
        .lines_with(&format!("request_id={request_id}"))
        .into_iter()
        .filter(|line| line.contains("request completed"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", logs.text());
    lines[0].clone()
}

#[tokio::test]
async fn each_request_logs_one_line_with_its_id_route_and_status_but_not_its_path() {
    let logs = CapturedLogs::install();
    let app = spawn_app(&[]).await;
    let id = "0b6f3f0e-3f55-4b8f-9c57-8d1f0e2a7c11";
    let api = app
        .get(&format!("/api/v1/connections/{id}?code=query-secret-1"))
        .await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let unmatched = app.get("/nowhere/path-secret-2").await;
    assert_eq!(unmatched.status(), StatusCode::NOT_FOUND);
    let console = ConsoleClient::new(&app).get("/admin/sign-in").await;
    assert_eq!(console.status(), StatusCode::OK);

    let request_id = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let line = completion_line(&logs, &request_id(&api));
    assert!(line.contains("method=GET"), "{line}");
    assert!(
        line.contains(r#"route="/api/v1/connections/{id}""#),
        "{line}"
    );
    assert!(line.contains("status=401"), "{line}");
    assert!(line.contains("elapsed_us="), "{line}");
    let line = completion_line(&logs, &request_id(&unmatched));
    assert!(line.contains(r#"route="(unmatched)" status=404"#), "{line}");
    // The console's listener logs its requests the same way (it sends no request id).
    let console_lines = logs.lines_with(r#"route="/admin/sign-in" status=200"#);
    assert_eq!(console_lines.len(), 1, "{}", logs.text());
    assert!(
        console_lines[0].contains("request{request_id="),
        "{}",
        console_lines[0]
    );

    let text = logs.text();
    for secret in [id, "query-secret-1", "path-secret-2"] {
        assert!(!text.contains(secret), "{secret} reached the log: {text}");
    }
}

#[tokio::test]
async fn stopping_lets_a_request_in_flight_finish() {
    let redis = PrivateRedis::start().await;
    let redis_url = redis.url();
    let app = spawn_app(&[
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis_url),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
    ])
    .await;
    // A paused Redis holds /readyz open for its check budget: a request in flight.
    redis.pause(Duration::from_secs(3)).await;
    let in_flight = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/readyz");
        async move { client.get(url).send().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.stop().await;
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(app.client.get(app.url("/healthz")).send().await.is_err());
}

#[tokio::test]
async fn metrics_are_served_with_every_route_or_alone_on_their_own_address() {
    let app = spawn_app(&[]).await;
    let together = app.get("/metrics").await;
    assert_eq!(together.status(), StatusCode::OK);
    assert!(
        together
            .text()
            .await
            .unwrap()
            .contains("installgate_outbox_backlog 0")
    );

    let alone = spawn_app(&[("INSTALLGATE__SERVER__METRICS_BIND", "127.0.0.1:0")]).await;
    let port = alone.metrics_port.expect("a metrics listener");
    assert_eq!(alone.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    // The request to the main listener was counted, by its pattern (none matched).
    assert!(
        text.contains(
            "installgate_http_requests_total{method=\"GET\",route=\"(unmatched)\",status=\"404\"} 1"
        ),
        "{text}"
    );
    // Only /metrics is served there.
    let other = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    alone.stop().await;
}
