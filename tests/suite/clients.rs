//! Client addresses and rate limits: a forwarding header counts only from a trusted proxy, so a
//! client cannot dodge its limit by sending `X-Forwarded-For`.

use installgate_tests::spawn_app;
use reqwest::StatusCode;

const LIMIT: [(&str, &str); 2] = [
    ("INSTALLGATE__CLIENTS__RATE_LIMIT_PER_MINUTE", "60"),
    ("INSTALLGATE__CLIENTS__RATE_LIMIT_BURST", "5"),
];

async fn sign_in_page(app: &installgate_tests::TestApp, forwarded_for: &str) -> reqwest::Response {
    app.client
        .get(app.url("/account/sign-in"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_limited_by_its_real_address() {
    let app = spawn_app(&LIMIT).await;
    let mut statuses = Vec::new();
    for n in 0..8 {
        // A new made-up address each time: it must not buy a new allowance.
        statuses.push(
            sign_in_page(&app, &format!("198.51.100.{n}"))
                .await
                .status(),
        );
    }
    assert_eq!(&statuses[..5], &[StatusCode::OK; 5]);
    assert_eq!(&statuses[5..], &[StatusCode::TOO_MANY_REQUESTS; 3]);
    let refused = sign_in_page(&app, "203.0.113.1").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&wait),
        "one request a second comes back: {wait}"
    );
    assert!(
        refused.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(refused.text().await.unwrap().contains("Too many attempts"));
    // The install routes share the allowance; health, the API and the marketplaces'
    // authenticated notices do not.
    let install = app.get("/install/hubspot/none?step=authorize").await;
    assert_eq!(install.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/connections").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let notice = app
        .client
        .delete(app.url("/install/pipedrive/none"))
        .send()
        .await
        .unwrap();
    assert_ne!(notice.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let mut vars = LIMIT.to_vec();
    vars.push(("INSTALLGATE__CLIENTS__TRUSTED_PROXIES", "127.0.0.0/8"));
    let app = spawn_app(&vars).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in_page(&app, "198.51.100.7").await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        sign_in_page(&app, "198.51.100.7").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is not held up.
    assert_eq!(
        sign_in_page(&app, "198.51.100.8").await.status(),
        StatusCode::OK
    );
    // What a client writes itself left of the proxy's entry is not believed.
    assert_eq!(
        sign_in_page(&app, "203.0.113.50, 198.51.100.7")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn trusted_proxies_must_be_addresses_or_ranges() {
    let problems = installgate_server::settings::load(&installgate_tests::test_sources(&[(
        "INSTALLGATE__CLIENTS__TRUSTED_PROXIES",
        "10.0.0.0/8, proxy.internal",
    )]))
    .unwrap_err();
    assert!(
        problems.to_string().contains("clients.trusted_proxies"),
        "{problems}"
    );
}

#[tokio::test]
async fn ipv6_clients_in_one_slash_64_share_one_allowance() {
    // The suite can bind only ::1, so a trusted proxy on loopback names the IPv6 clients.
    let mut vars = LIMIT.to_vec();
    vars.push(("INSTALLGATE__CLIENTS__TRUSTED_PROXIES", "127.0.0.0/8"));
    let app = spawn_app(&vars).await;
    let mut statuses = Vec::new();
    for n in 1..=8 {
        // A new address in one /64 each time: it must not buy a new allowance.
        statuses.push(
            sign_in_page(&app, &format!("2001:db8:1:2::{n:x}"))
                .await
                .status(),
        );
    }
    assert_eq!(&statuses[..5], &[StatusCode::OK; 5]);
    assert_eq!(&statuses[5..], &[StatusCode::TOO_MANY_REQUESTS; 3]);
    // The next /64 is another client.
    assert_eq!(
        sign_in_page(&app, "2001:db8:1:3::1").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn with_a_prefix_of_128_each_ipv6_address_has_its_own_allowance() {
    let mut vars = LIMIT.to_vec();
    vars.push(("INSTALLGATE__CLIENTS__TRUSTED_PROXIES", "127.0.0.0/8"));
    vars.push(("INSTALLGATE__CLIENTS__IPV6_PREFIX_LENGTH", "128"));
    let app = spawn_app(&vars).await;
    for n in 1..=8 {
        assert_eq!(
            sign_in_page(&app, &format!("2001:db8:1:2::{n:x}"))
                .await
                .status(),
            StatusCode::OK
        );
    }
}
