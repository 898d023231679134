//! Shopify installs end to end against the Shopify simulator, on Redis and SQLite: installs from
//! the shop's admin with sign-up and sign-in, two shops on one account, every forged or replayed
//! request stopped before any token request, expiring tokens refreshed once under load, and the
//! webhooks (uninstall, privacy topics) verified, de-duplicated and passed on.

use installgate_core::ConnectionStatus;
use installgate_sandbox::{ShopifySimulator, SimulatedApp, Webhook, WebhookSignature};
use installgate_tests::{
    Browser, Receiver, TestApp, eventually, free_port, hidden_input, location, spawn_app,
};
use reqwest::StatusCode;

const CLIENT_ID: &str = "shopify-client-id";
const CLIENT_SECRET: &str = "shopify-client-secret";
const PASSWORD: &str = "correct horse battery";
const SETUP_URL: &str = "https://vendor.example/shopify/setup";
const ACME: &str = "acme.myshopify.com";
const GLOBEX: &str = "globex.myshopify.com";
const PURPOSE: &str = "to continue installing store from Shopify";

struct Setup {
    app: TestApp,
    sim: ShopifySimulator,
    /// A client for the simulated admin (no cookies needed there).
    admin: reqwest::Client,
    api_key: String,
}

async fn setup(extra: &[(&str, &str)]) -> Setup {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let sim = ShopifySimulator::start(
        vec![SimulatedApp {
            name: "Demo Store Sync".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: format!("{public_url}/install/shopify/store"),
            scopes: vec!["read_orders".into(), "write_products".into()],
            partner_sign_in: false,
        }],
        vec![ACME.into(), GLOBEX.into()],
        0,
    )
    .await
    .unwrap();
    let (api_key, hash) = installgate_server::api::new_key().unwrap();
    let bind = format!("127.0.0.1:{port}");
    let (authorize, token, api) = (sim.authorize_url(), sim.token_url(), sim.api_base_url());
    let prefix = installgate_tests::unique_prefix();
    let redis = installgate_tests::redis_url();
    let mut vars: Vec<(&str, &str)> = vec![
        ("INSTALLGATE__SERVER__BIND", &bind),
        ("INSTALLGATE__SERVER__PUBLIC_URL", &public_url),
        ("INSTALLGATE__STATE__BACKEND", "redis"),
        ("INSTALLGATE__STATE__REDIS_URL", &redis),
        ("INSTALLGATE__STATE__KEY_PREFIX", &prefix),
        (
            "INSTALLGATE__SESSION__KEY",
            installgate_tests::TEST_SESSION_KEY,
        ),
        ("INSTALLGATE__APPS__STORE__PROVIDER", "shopify"),
        ("INSTALLGATE__APPS__STORE__CLIENT_ID", CLIENT_ID),
        ("INSTALLGATE__APPS__STORE__CLIENT_SECRET", CLIENT_SECRET),
        (
            "INSTALLGATE__APPS__STORE__SCOPES",
            "read_orders,write_products",
        ),
        ("INSTALLGATE__APPS__STORE__AUTHORIZE_URL", &authorize),
        ("INSTALLGATE__APPS__STORE__TOKEN_URL", &token),
        ("INSTALLGATE__APPS__STORE__API_BASE_URL", &api),
        ("INSTALLGATE__APPS__STORE__SETUP_URL", SETUP_URL),
        ("INSTALLGATE__API__KEYS__VENDOR__SHA256", &hash),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app(&vars).await;
    let admin = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        app,
        sim,
        admin,
        api_key,
    }
}

impl Setup {
    /// The signed install request for `shop`, as a gateway path and query.
    fn install_request(&self, shop: &str) -> String {
        let url = self.sim.install_request(CLIENT_ID, shop).unwrap();
        url.replacen(&self.app.address, "", 1)
    }

    /// At the simulated consent page (`authorize`, from the gateway's redirect): "Install". The
    /// signed callback, as a gateway path.
    async fn consent(&self, authorize: &str) -> String {
        let page = self.admin.get(authorize).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the consent page");
        let url = url::Url::parse(authorize).unwrap();
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        let decision = format!(
            "{}/decision?client_id={}&state={}",
            url.as_str().split('?').next().unwrap(),
            query["client_id"],
            query["state"]
        );
        let answer = self.admin.get(decision).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::FOUND);
        location(&answer).replacen(&self.app.address, "", 1)
    }

    async fn connection(&self, shop: &str) -> Option<installgate_core::Connection> {
        self.app.connection("store", "shopify", shop).await
    }

    /// From the install request to the consent page with a new account: the sign-in redirect,
    /// sign-up, and the resumed install's redirect to `shop`'s authorize page.
    async fn install_signing_up(&self, browser: &Browser, shop: &str, email: &str) -> String {
        let response = browser.get(&self.install_request(shop)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign in first");
        let resumed = browser
            .sign_up_from(&location(&response), PURPOSE, email, PASSWORD)
            .await;
        let to_connect = browser.get(&location(&resumed)).await;
        let status = to_connect.status();
        let at = location(&to_connect);
        assert_eq!(
            status,
            StatusCode::FOUND,
            "{at}: {}",
            to_connect.text().await.unwrap()
        );
        at
    }
}

fn authorize_is_for(authorize: &str, shop: &str) {
    assert!(
        authorize.contains(&format!("/shops/{shop}/admin/oauth/authorize?")),
        "{authorize}"
    );
    assert!(
        authorize.contains("scope=read_orders%2Cwrite_products"),
        "{authorize}"
    );
}

#[tokio::test]
async fn a_first_install_signs_up_and_lands_at_setup_with_an_expiring_token() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let authorize = setup
        .install_signing_up(&browser, ACME, "ann@acme.example")
        .await;
    authorize_is_for(&authorize, ACME);
    let callback = setup.consent(&authorize).await;
    let done = browser.get(&callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&done).starts_with(SETUP_URL),
        "{}",
        location(&done)
    );

    let connection = setup
        .connection(ACME)
        .await
        .expect("a connection for the shop");
    assert_eq!(connection.status, ConnectionStatus::Active);
    assert!(connection.account.is_some());
    assert_eq!(connection.tenant().unwrap().as_str(), ACME);
    assert_eq!(connection.scopes, ["read_orders", "write_products"]);
    let tokens = connection.tokens.unwrap();
    assert!(tokens.refresh_token.is_some(), "an expiring offline token");
    assert!(tokens.expires_at.is_some());
    assert_eq!(setup.app.event_count("installation.completed").await, 1);
}

#[tokio::test]
async fn an_existing_account_signs_in_and_two_shops_make_two_connections() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let authorize = setup
        .install_signing_up(&browser, ACME, "bob@acme.example")
        .await;
    let callback = setup.consent(&authorize).await;
    browser.get(&callback).await;

    // Signed in already: the second shop goes straight to its consent page.
    let second = browser.get(&setup.install_request(GLOBEX)).await;
    assert_eq!(second.status(), StatusCode::FOUND);
    authorize_is_for(&location(&second), GLOBEX);
    let callback = setup.consent(&location(&second)).await;
    let done = browser.get(&callback).await;
    assert!(location(&done).starts_with(SETUP_URL));

    let acme = setup.connection(ACME).await.unwrap();
    let globex = setup.connection(GLOBEX).await.unwrap();
    assert_ne!(acme.id, globex.id);
    assert_eq!(acme.account, globex.account);

    // Another browser signs in to the same account from the install request.
    let other = Browser::new(&setup.app);
    let response = other.get(&setup.install_request(ACME)).await;
    let page = other.get(&location(&response)).await.text().await.unwrap();
    let resume = installgate_tests::hidden_input(&page, "resume").unwrap();
    let csrf = installgate_tests::hidden_input(&page, "csrf_token").unwrap();
    let signed_in = other
        .post(
            "/account/sign-in",
            &[
                ("email", "bob@acme.example"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("resume", &resume),
            ],
        )
        .await;
    let to_consent = other.get(&location(&signed_in)).await;
    authorize_is_for(&location(&to_consent), ACME);
    assert_eq!(setup.app.event_count("installation.completed").await, 2);
}

/// `request` with `hmac` replaced by one that is not the request's.
fn tampered(request: &str) -> String {
    let (path, query) = request.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .map(|(name, value)| {
            if name == "hmac" {
                (name, "0".repeat(64))
            } else {
                (name, value)
            }
        })
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

/// A request signed with the app's secret over `params`, as a gateway path.
fn signed(params: &[(&str, String)]) -> String {
    format!(
        "/install/shopify/store?{}",
        installgate_sandbox::shopify::signed_query(CLIENT_SECRET, params)
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn forged_foreign_stale_and_misbound_requests_stop_before_any_token_request() {
    let setup = setup(&[]).await;
    let browser = Browser::new(&setup.app);
    let refused = |response: &reqwest::Response, what: &str| {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
    };

    let install = setup.install_request(ACME);
    refused(&browser.get(&tampered(&install)).await, "a tampered hmac");
    for shop in [
        "evil.com",
        "acme.myshopify.com.evil.com",
        "acme.myshopify.com@evil.com",
    ] {
        let request = signed(&[("shop", shop.into()), ("timestamp", now().to_string())]);
        refused(&browser.get(&request).await, shop);
    }
    let stale = signed(&[
        ("shop", ACME.into()),
        ("timestamp", (now() - 3600).to_string()),
    ]);
    refused(&browser.get(&stale).await, "a stale timestamp");
    // `/connect` takes only a shop host as its tenant.
    let connect = browser.get("/connect/shopify/store?tenant=evil.com").await;
    refused(&connect, "a foreign shop at /connect");

    // A state minted for acme, in a callback signed for globex (as another shop's admin could
    // send it), is refused; so is acme's callback in another browser.
    let authorize = setup
        .install_signing_up(&browser, ACME, "eve@acme.example")
        .await;
    let state = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let code = setup.sim.issue_code(CLIENT_ID, GLOBEX).unwrap();
    let other_shop = signed(&[
        ("code", code),
        ("shop", GLOBEX.into()),
        ("state", state.clone()),
        ("timestamp", now().to_string()),
    ]);
    refused(&browser.get(&other_shop).await, "a state from another shop");

    let authorize = browser.get(&setup.install_request(ACME)).await;
    let callback = setup.consent(&location(&authorize)).await;
    let elsewhere = Browser::new(&setup.app);
    refused(
        &elsewhere.get(&callback).await,
        "a state from another browser",
    );
    refused(
        &browser.get(&tampered(&callback)).await,
        "a tampered callback",
    );

    assert_eq!(setup.sim.token_calls(), 0, "no token request was made");
    assert!(setup.connection(ACME).await.is_none());
    assert!(setup.connection(GLOBEX).await.is_none());
}

impl Setup {
    /// Installs `shop` for a new account; the connection's id.
    async fn installed(&self, shop: &str, email: &str) -> installgate_core::ConnectionId {
        let browser = Browser::new(&self.app);
        let authorize = self.install_signing_up(&browser, shop, email).await;
        let callback = self.consent(&authorize).await;
        browser.get(&callback).await;
        self.connection(shop).await.unwrap().id
    }

    async fn access_token(
        &self,
        id: installgate_core::ConnectionId,
    ) -> (StatusCode, serde_json::Value) {
        let response = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/v1/connections/{id}/access-token")),
            )
            .bearer_auth(&self.api_key)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn concurrent_requests_for_an_expiring_token_make_one_refresh_with_rotation() {
    let setup = setup(&[]).await;
    let id = setup.installed(ACME, "rita@acme.example").await;
    // The hour-long access token is a minute from its end: due for refresh.
    let installed = setup.connection(ACME).await.unwrap();
    let due = installgate_core::TokenSet {
        expires_at: Some(installgate_core::Timestamp::from_millis(
            now() * 1000 + 60_000,
        )),
        ..installed.tokens.clone().unwrap()
    };
    let vault = setup.app.vault().await;
    let swapped =
        installgate_core::ConnectionVault::swap_tokens(&vault, id, installed.revision, due, None)
            .await
            .unwrap();
    assert!(matches!(swapped, installgate_core::TokenSwap::Swapped(_)));
    let before = setup.connection(ACME).await.unwrap().tokens.unwrap();
    let calls = setup.sim.token_calls();

    // 200 callers at once share one refresh.
    let answers = futures_util::future::join_all((0..200).map(|_| setup.access_token(id))).await;
    assert!(
        answers.iter().all(|(status, _)| *status == StatusCode::OK),
        "{:?}",
        answers.first()
    );
    assert_eq!(
        setup.sim.token_calls() - calls,
        1,
        "exactly one refresh call"
    );
    let after = setup.connection(ACME).await.unwrap().tokens.unwrap();
    assert_ne!(after.access_token, before.access_token);
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the refresh token rotated"
    );
    let token = answers[0].1["access_token"].as_str().unwrap();
    assert_eq!(token, after.access_token.expose());
    assert!(setup.sim.access_token_works(token));
}

impl Setup {
    async fn deliver(
        &self,
        topic: &str,
        body: serde_json::Value,
        id: &str,
        signature: WebhookSignature,
    ) -> Vec<u16> {
        let url = self.app.url("/notify/shopify/store");
        let webhook = Webhook {
            url: &url,
            client_id: CLIENT_ID,
            shop: ACME,
            topic,
            body,
            webhook_id: id,
            signature,
        };
        self.sim.deliver(&webhook, 1).await
    }
}

#[tokio::test]
async fn app_uninstalled_applies_once_and_a_bad_signature_changes_nothing() {
    let setup = setup(&[]).await;
    setup.installed(ACME, "uma@acme.example").await;
    let body = serde_json::json!({ "id": 1, "domain": "acme.example", "myshopify_domain": ACME });

    for signature in [WebhookSignature::Bad, WebhookSignature::Missing] {
        let statuses = setup
            .deliver("app/uninstalled", body.clone(), "wh-1", signature)
            .await;
        assert_eq!(statuses, [401], "{signature:?}");
    }
    assert_eq!(
        setup.connection(ACME).await.unwrap().status,
        ConnectionStatus::Active
    );

    for _ in 0..3 {
        let statuses = setup
            .deliver(
                "app/uninstalled",
                body.clone(),
                "wh-1",
                WebhookSignature::Good,
            )
            .await;
        assert_eq!(statuses, [200]);
    }
    let connection = setup.connection(ACME).await.unwrap();
    assert_eq!(connection.status, ConnectionStatus::Uninstalled);
    assert!(connection.tokens.is_none(), "its tokens are dropped");
    assert_eq!(setup.app.event_count("installation.uninstalled").await, 1);
}

#[tokio::test]
async fn each_privacy_topic_reaches_the_vendor_as_its_signed_event_once() {
    let receiver = Receiver::start(0).await;
    let secret = installgate_tests::webhook_secret(7);
    let setup = setup(&[
        ("INSTALLGATE__WEBHOOK__URL", &receiver.url),
        ("INSTALLGATE__WEBHOOK__SECRET", &secret),
        ("INSTALLGATE__WEBHOOK__POLL_INTERVAL_MS", "100"),
    ])
    .await;
    setup.installed(ACME, "pia@acme.example").await;
    let topics = [
        (
            "customers/data_request",
            serde_json::json!({
                "shop_id": 954889, "shop_domain": ACME,
                "orders_requested": [299938, 280263],
                "customer": { "id": 191167, "email": "john@example.com", "phone": "555-625-1199" },
                "data_request": { "id": 9999 }
            }),
            "privacy.customer_data_request",
        ),
        (
            "customers/redact",
            serde_json::json!({
                "shop_id": 954889, "shop_domain": ACME,
                "customer": { "id": 191167, "email": "john@example.com" },
                "orders_to_redact": [299938]
            }),
            "privacy.customer_redact",
        ),
        (
            "shop/redact",
            serde_json::json!({ "shop_id": 954889, "shop_domain": ACME }),
            "privacy.shop_redact",
        ),
    ];
    for (topic, body, _) in &topics {
        for _ in 0..2 {
            let statuses = setup
                .deliver(
                    topic,
                    body.clone(),
                    &format!("wh-{topic}"),
                    WebhookSignature::Good,
                )
                .await;
            assert_eq!(statuses, [200], "{topic}");
        }
    }
    eventually(20, "the privacy events", || {
        receiver
            .accepted()
            .iter()
            .filter(|got| got.body.contains("\"privacy."))
            .count()
            == 3
    })
    .await;
    let accepted = receiver.accepted();
    for (_, _, event) in &topics {
        let got = accepted
            .iter()
            .find(|got| got.body.contains(&format!("\"type\":\"{event}\"")))
            .unwrap_or_else(|| panic!("{event} was not delivered"));
        assert!(
            got.signature.starts_with("v1,"),
            "signed: {}",
            got.signature
        );
        let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(body["data"]["metadata"]["shop_id"], "954889");
        assert_eq!(body["data"]["marketplace_key"], ACME);
        assert!(
            !got.body.contains("john@example.com"),
            "ids only, no personal data"
        );
    }
    let request = accepted
        .iter()
        .find(|got| got.body.contains("privacy.customer_data_request"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["data"]["metadata"]["customer_id"], "191167");
    assert_eq!(
        body["data"]["metadata"]["orders_requested"],
        "299938,280263"
    );
    assert_eq!(body["data"]["metadata"]["data_request_id"], "9999");
}

#[tokio::test]
async fn an_app_may_keep_non_expiring_tokens_and_they_are_listed() {
    let setup = setup(&[(
        "INSTALLGATE__APPS__STORE__OPTIONS__EXPIRING_OFFLINE_TOKENS",
        "false",
    )])
    .await;
    let id = setup.installed(ACME, "nina@acme.example").await;
    let tokens = setup.connection(ACME).await.unwrap().tokens.unwrap();
    assert!(tokens.expires_at.is_none() && tokens.refresh_token.is_none());
    let listed = non_expiring(&setup).await;
    assert_eq!(listed, [id]);
}

/// The ids of the active connections whose token never expires.
async fn non_expiring(setup: &Setup) -> Vec<installgate_core::ConnectionId> {
    let filter = installgate_core::ConnectionFilter {
        status: Some(ConnectionStatus::Active),
        never_expiring: true,
        ..installgate_core::ConnectionFilter::default()
    };
    let vault = setup.app.vault().await;
    installgate_core::ConnectionVault::list(&vault, &filter, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|connection| connection.id)
        .collect()
}

#[tokio::test]
async fn imported_non_expiring_tokens_are_upgraded_by_the_background_refresher() {
    let setup = setup(&[
        ("INSTALLGATE__TOKENS__BACKGROUND_REFRESH", "true"),
        ("INSTALLGATE__TOKENS__BACKGROUND_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let old = setup.sim.non_expiring_grant(CLIENT_ID, ACME);
    let globex = setup.sim.non_expiring_grant(CLIENT_ID, GLOBEX);
    let file = format!(
        "{{\"app\":\"store\",\"shop\":\"{ACME}\",\"access_token\":\"{old}\"}}\n\n\
         {{\"app\":\"store\",\"tenant\":\"{GLOBEX}\",\"access_token\":\"{globex}\",\"scopes\":[\"read_orders\"]}}\n"
    );

    // A file with one bad line stores nothing, and no token shows in the problems.
    let bad =
        format!("{file}{{\"app\":\"store\",\"shop\":\"evil.com\",\"access_token\":\"{old}\"}}\n");
    let settings = &setup.app.settings;
    let metrics = installgate_server::metrics::Metrics::new().unwrap();
    let providers =
        installgate_server::providers::Providers::all(&settings.providers, &metrics).unwrap();
    let prepared = installgate_server::providers::PreparedApps::new(settings, &providers);
    let problems = installgate_server::import::check(&bad, settings, &prepared).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("line 4: "), "{problems:?}");
    assert!(!problems.concat().contains(&old));
    let wrong_type = r#"{"app":"store","shop":"acme.myshopify.com","access_token":42}"#;
    let problems = installgate_server::import::check(wrong_type, settings, &prepared).unwrap_err();
    assert!(!problems.concat().contains("42"), "{problems:?}");

    let lines = installgate_server::import::check(&file, settings, &prepared).unwrap();
    let flow = installgate_core::InstallFlow::new(
        std::sync::Arc::new(installgate_store::MemoryStateStore::new(1)),
        std::sync::Arc::new(setup.app.vault().await),
        std::sync::Arc::new(installgate_core::SystemClock),
        std::time::Duration::from_secs(600),
    );
    let report = installgate_server::import::store(&flow, &prepared, lines)
        .await
        .unwrap();
    assert_eq!((report.stored, report.existing.len()), (2, 0));
    let imported = setup.connection(ACME).await.unwrap();
    assert_eq!(imported.tenant().unwrap().as_str(), ACME);
    assert_eq!(
        imported.scopes,
        ["read_orders", "write_products"],
        "the app's scopes"
    );
    assert_eq!(
        setup.connection(GLOBEX).await.unwrap().scopes,
        ["read_orders"]
    );
    // Importing again leaves them as they are.
    let lines = installgate_server::import::check(&file, settings, &prepared).unwrap();
    let again = installgate_server::import::store(&flow, &prepared, lines)
        .await
        .unwrap();
    assert_eq!((again.stored, again.existing), (0, vec![1, 3]));

    eventually(20, "both connections upgraded", || {
        !setup.sim.access_token_works(&old) && !setup.sim.access_token_works(&globex)
    })
    .await;
    let mut upgraded = None;
    for _ in 0..100 {
        let tokens = setup.connection(ACME).await.unwrap().tokens.unwrap();
        if tokens.expires_at.is_some() {
            upgraded = Some(tokens);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let upgraded = upgraded.expect("the stored tokens expire now");
    assert!(upgraded.refresh_token.is_some());
    assert!(setup.sim.access_token_works(upgraded.access_token.expose()));
    assert!(non_expiring(&setup).await.is_empty());
}

#[tokio::test]
async fn a_webhook_forged_from_an_install_requests_signature_is_refused() {
    let setup = setup(&[]).await;
    setup.installed(ACME, "vic@acme.example").await;
    // An attacker installs on their own shop and keeps the `hmac` Shopify signed its install
    // request with: the HMAC-SHA256, under the same secret, of the request's canonical string.
    let request = setup.sim.install_request(CLIENT_ID, GLOBEX).unwrap();
    let query = request.split_once('?').unwrap().1;
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let hmac_hex = pairs
        .iter()
        .find(|(name, _)| name == "hmac")
        .unwrap()
        .1
        .clone();
    pairs.retain(|(name, _)| name != "hmac");
    pairs.sort();
    let encode = |text: &str| {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let canonical = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let tag: Vec<u8> = (0..hmac_hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hmac_hex[at..at + 2], 16).unwrap())
        .collect();
    let signature = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tag);
    // That tag signs the canonical string as a webhook body: sent as another shop's uninstall.
    let forged = setup
        .app
        .client
        .post(setup.app.url("/notify/shopify/store"))
        .header("content-type", "application/json")
        .header("x-shopify-topic", "app/uninstalled")
        .header("x-shopify-shop-domain", ACME)
        .header("x-shopify-webhook-id", "forged-1")
        .header("x-shopify-hmac-sha256", signature)
        .body(canonical)
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error(), "{}", forged.status());
    assert_eq!(
        setup.connection(ACME).await.unwrap().status,
        ConnectionStatus::Active,
        "the victim's shop is still installed"
    );
    assert_eq!(setup.app.event_count("installation.uninstalled").await, 0);

    // A real webhook of the attacker's shop, replayed as the victim's, is refused too.
    let body = serde_json::json!({ "id": 2, "myshopify_domain": GLOBEX, "domain": GLOBEX });
    let webhook = Webhook {
        url: &setup.app.url("/notify/shopify/store"),
        client_id: CLIENT_ID,
        shop: ACME,
        topic: "app/uninstalled",
        body,
        webhook_id: "replayed-1",
        signature: WebhookSignature::Good,
    };
    let statuses = setup.sim.deliver(&webhook, 1).await;
    assert_eq!(statuses, [400]);
    assert_eq!(
        setup.connection(ACME).await.unwrap().status,
        ConnectionStatus::Active
    );
}

#[tokio::test]
async fn a_delivery_is_applied_by_one_request_at_a_time_and_retried_when_it_failed() {
    let setup = setup(&[]).await;
    let settings = &setup.app.settings;
    let metrics = installgate_server::metrics::Metrics::new().unwrap();
    let providers =
        installgate_server::providers::Providers::all(&settings.providers, &metrics).unwrap();
    let prepared = installgate_server::providers::PreparedApps::new(settings, &providers);
    let app = prepared
        .get(&installgate_core::AppId::parse("store").unwrap())
        .unwrap();
    let installing = installgate_core::Installing {
        provider: app.provider.as_ref(),
        credentials: &app.credentials,
    };
    let redis =
        installgate_store::RedisStateStore::connect_lazy(&installgate_store::RedisOptions {
            target: installgate_store::RedisTarget::Node(installgate_tests::redis_url().into()),
            key_prefix: installgate_tests::unique_prefix(),
            command_timeout: std::time::Duration::from_secs(2),
        })
        .unwrap();
    let flow = installgate_core::InstallFlow::new(
        std::sync::Arc::new(redis),
        std::sync::Arc::new(setup.app.vault().await),
        std::sync::Arc::new(installgate_core::SystemClock),
        std::time::Duration::from_secs(600),
    );
    use installgate_core::DeliverySeen;
    let DeliverySeen::First(first) = flow.first_delivery(installing, "d-1").await.unwrap() else {
        panic!("a new delivery is first");
    };
    // Another try while the first is being applied: the marketplace is told to try again.
    assert!(matches!(
        flow.first_delivery(installing, "d-1").await.unwrap(),
        DeliverySeen::Applying
    ));
    // The first failed: the next try applies it.
    flow.forget_delivery(first).await;
    let DeliverySeen::First(again) = flow.first_delivery(installing, "d-1").await.unwrap() else {
        panic!("a delivery that was not applied is applied on the next try");
    };
    flow.delivered(again).await;
    assert!(matches!(
        flow.first_delivery(installing, "d-1").await.unwrap(),
        DeliverySeen::Applied
    ));
    // Ids are per app and delivery.
    assert!(matches!(
        flow.first_delivery(installing, "d-2").await.unwrap(),
        DeliverySeen::First(_)
    ));
}

#[tokio::test]
async fn a_refused_account_chooses_a_plan_comes_back_once_and_installs() {
    let vendor = installgate_tests::VendorStub::start("STORE").await;
    let setup = setup(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    // Signed up, the new account is not entitled yet: off to the vendor's plan page, with a
    // way back.
    let response = browser.get(&setup.install_request(ACME)).await;
    let resumed = browser
        .sign_up_from(
            &location(&response),
            PURPOSE,
            "paula@acme.example",
            PASSWORD,
        )
        .await;
    let refused = browser.get(&location(&resumed)).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let plans = location(&refused);
    assert!(
        plans.starts_with(&format!("{}?resume=", vendor.plans_url)),
        "{plans}"
    );
    let resume = installgate_tests::query_param(&plans, "resume");
    assert!(resume.starts_with(&format!("{}/account/resume/", setup.app.address)));
    let questions = vendor.questions();
    assert_eq!(questions.len(), 1);
    let (question, signed) = &questions[0];
    assert!(signed, "the question is signed like the events");
    assert_eq!(question["app"], "store");
    assert_eq!(question["provider"], "shopify");
    assert_eq!(question["tenant"], ACME);
    assert!(question["account"].is_string());
    assert_eq!(setup.sim.token_calls(), 0);

    // Another browser cannot use the way back, and that uses it up.
    let elsewhere = Browser::new(&setup.app);
    assert_eq!(
        elsewhere.get(&resume).await.status(),
        StatusCode::BAD_REQUEST
    );
    let back = browser.get(&resume).await;
    assert_eq!(
        back.status(),
        StatusCode::BAD_REQUEST,
        "used up by the other browser"
    );

    // Refused again, the user subscribes, comes back through the new link, once.
    let refused = browser.get(&location(&resumed)).await;
    let resume = installgate_tests::query_param(&location(&refused), "resume");
    vendor.allow(true);
    let back = browser.get(&resume).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let to_consent = browser.get(&location(&back)).await;
    assert_eq!(to_consent.status(), StatusCode::FOUND);
    let callback = setup.consent(&location(&to_consent)).await;
    let done = browser.get(&callback).await;
    assert!(location(&done).starts_with(SETUP_URL));
    assert_eq!(setup.app.event_count("installation.completed").await, 1);
    assert_eq!(
        browser.get(&resume).await.status(),
        StatusCode::BAD_REQUEST,
        "once only"
    );

    // The vendor's service down, with `on_error = "deny"` (the default): a page to try again,
    // nothing installed.
    vendor.stop().await;
    let later = browser.get(&setup.install_request(GLOBEX)).await;
    assert_eq!(later.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(later.text().await.unwrap().contains("try again"));
    assert!(setup.connection(GLOBEX).await.is_none());
}

/// The victim begins an install for their shop; its state leaks to an attacker (a referrer, a
/// log). The attacker makes a callback signed for their own shop, with their own code and the
/// victim's state, and drives the victim's browser to it: the attacker's shop would land in the
/// victim's account. The state is bound to the victim's shop, so nothing is exchanged.
#[tokio::test]
async fn a_leaked_state_cannot_bring_an_attackers_shop_into_the_victims_account() {
    let setup = setup(&[]).await;
    let victim = Browser::new(&setup.app);
    let authorize = setup
        .install_signing_up(&victim, ACME, "victim@acme.example")
        .await;
    let leaked = installgate_tests::query_param(&authorize, "state");

    // The attacker, on their own machine: a code for their shop, and the callback Shopify would
    // sign for it.
    let attackers_code = setup.sim.issue_code(CLIENT_ID, GLOBEX).unwrap();
    let forged = signed(&[
        ("code", attackers_code),
        ("shop", GLOBEX.into()),
        ("state", leaked),
        ("timestamp", now().to_string()),
    ]);
    // The victim's browser follows it (a link, an image on a page of the attacker's).
    let response = victim.get(&forged).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(setup.sim.token_calls(), 0, "no token request");
    assert!(setup.connection(GLOBEX).await.is_none());
    assert_eq!(setup.app.event_count("installation.completed").await, 0);
}

/// A gateway-started install carries the chosen workspace through Shopify's consent in its
/// state; a second install of the same shop into another workspace asks before moving it, and
/// goes on to the setup page either way.
#[tokio::test]
async fn the_chosen_workspace_travels_in_the_state_and_a_reinstall_asks_before_moving() {
    let vendor = installgate_tests::VendorStub::start("STORE").await;
    vendor.allow(true);
    vendor.workspaces(&[("w-a", "Team A"), ("w-b", "Team B")]);
    let setup = setup(&vendor.settings(&[])).await;
    let browser = Browser::new(&setup.app);
    let install = |workspace: &'static str| {
        let browser = &browser;
        let setup = &setup;
        async move {
            let response = browser.get(&setup.install_request(ACME)).await;
            let page = match response.status() {
                StatusCode::OK => response.text().await.unwrap(),
                _ => {
                    let resumed = browser
                        .sign_up_from(&location(&response), PURPOSE, "wes@acme.example", PASSWORD)
                        .await;
                    browser.get(&location(&resumed)).await.text().await.unwrap()
                }
            };
            let csrf = hidden_input(&page, "csrf_token").unwrap();
            let choice = hidden_input(&page, "choice").unwrap();
            let picked = browser
                .post(
                    "/account/workspace",
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("choice", choice.as_str()),
                        ("workspace", workspace),
                    ],
                )
                .await;
            let to_consent = browser.get(&location(&picked)).await;
            assert_eq!(to_consent.status(), StatusCode::FOUND);
            let callback = setup.consent(&location(&to_consent)).await;
            browser.get(&callback).await
        }
    };
    let done = install("w-b").await;
    assert!(location(&done).starts_with(SETUP_URL));
    let connection = setup.connection(ACME).await.unwrap();
    assert_eq!(connection.workspace.unwrap().id, "w-b");

    let asked = install("w-a").await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.unwrap();
    assert!(page.contains("Team B") && page.contains("Team A"), "{page}");
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let question = hidden_input(&page, "question").unwrap();
    let moved = browser
        .post(
            "/account/move",
            &[
                ("csrf_token", csrf.as_str()),
                ("question", question.as_str()),
                ("decision", "move"),
            ],
        )
        .await;
    assert!(
        location(&moved).starts_with(SETUP_URL),
        "on to the setup page"
    );
    assert_eq!(
        setup.connection(ACME).await.unwrap().workspace.unwrap().id,
        "w-a"
    );
    assert_eq!(setup.app.event_count("connection.moved").await, 1);
}
