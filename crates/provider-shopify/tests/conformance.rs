//! Shopify against the provider port's conformance suite, on the simulated Shopify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use installgate_core::{AppCredentials, AppId, AuthorizationCode, Provider, Tenant, TokenSet};
use installgate_provider_conformance::{
    Failure, Harness, NoticeCase, OwnedInbound, conformance_suite, http_client,
};
use installgate_provider_shopify::Shopify;
use installgate_sandbox::{ShopifySimulator, SimulatedApp};

const CLIENT_ID: &str = "conformance-shopify";
const CLIENT_SECRET: &str = "conformance-shopify-secret";
const REDIRECT_URI: &str = "https://gateway.example/install/shopify/store";
const SHOP: &str = "acme.myshopify.com";

struct ShopifyHarness {
    sim: ShopifySimulator,
    provider: Shopify,
    app: AppCredentials,
}

async fn harness() -> ShopifyHarness {
    let sim = ShopifySimulator::start(
        vec![SimulatedApp {
            name: "Conformance".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: REDIRECT_URI.into(),
            scopes: vec!["read_orders".into(), "write_products".into()],
            partner_sign_in: false,
        }],
        vec![SHOP.into()],
        0,
    )
    .await
    .unwrap();
    // Every call about an install is made for its shop.
    let app = AppCredentials {
        app: AppId::parse("store").unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.to_owned().into(),
        redirect_uri: REDIRECT_URI.parse().unwrap(),
        scopes: vec!["read_orders".into(), "write_products".into()],
        optional_scopes: Vec::new(),
        authorize_url: Some(sim.authorize_url().parse().unwrap()),
        token_url: Some(sim.token_url().parse().unwrap()),
        api_base_url: Some(sim.api_base_url().parse().unwrap()),
        return_hosts: None,
        options: Default::default(),
        tenant: Some(Tenant::new(SHOP).unwrap()),
    };
    let provider = Shopify::new(http_client()).unwrap();
    ShopifyHarness { sim, provider, app }
}

fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[async_trait::async_trait]
impl Harness for ShopifyHarness {
    fn provider(&self) -> &dyn Provider {
        &self.provider
    }

    fn app(&self) -> &AppCredentials {
        &self.app
    }

    fn code(&self) -> AuthorizationCode {
        let code = self.sim.issue_code(CLIENT_ID, SHOP).unwrap();
        AuthorizationCode::parse(&code).unwrap()
    }

    fn expected_key(&self) -> String {
        SHOP.into()
    }

    fn fail_next(&self, failure: Failure) {
        self.sim.fail_next(failure);
    }

    fn rotate_refresh_tokens(&self, on: bool) {
        self.sim.rotate_refresh_tokens(on);
    }

    fn token_calls(&self) -> usize {
        self.sim.token_calls()
    }

    fn grant_is_live(&self, tokens: &TokenSet) -> bool {
        self.sim.access_token_works(tokens.access_token.expose())
    }

    /// The shop comes from the signed request, never from a token answer.
    fn answer_with_tenant(&self, _tenant: &str) -> bool {
        false
    }

    fn notice(&self, case: NoticeCase) -> Option<OwnedInbound> {
        let body =
            br#"{"id":1,"name":"Acme","domain":"acme.example","myshopify_domain":"acme.myshopify.com"}"#
                .to_vec();
        let mut headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-shopify-topic".to_owned(), "app/uninstalled".to_owned()),
            ("x-shopify-shop-domain".to_owned(), SHOP.to_owned()),
            (
                "x-shopify-webhook-id".to_owned(),
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".to_owned(),
            ),
        ];
        match case {
            NoticeCase::Good => {
                headers.push((
                    "x-shopify-hmac-sha256".into(),
                    signature(CLIENT_SECRET, &body),
                ));
            }
            NoticeCase::BadCredentials => {
                headers.push((
                    "x-shopify-hmac-sha256".into(),
                    signature("not-the-secret", &body),
                ));
            }
            NoticeCase::NoCredentials => {}
        }
        Some(OwnedInbound {
            method: "POST".into(),
            query: String::new(),
            headers,
            body,
        })
    }

    fn expected_frame_origins(&self) -> Vec<String> {
        // The install's shop, and the admin that frames every shop.
        vec![
            format!("https://{SHOP}"),
            "https://admin.shopify.com".into(),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![CLIENT_SECRET.into()]
    }
}

conformance_suite!(harness);
