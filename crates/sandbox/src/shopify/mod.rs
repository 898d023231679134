//! A Shopify simulator: several shops on one server (each under `/shops/{shop}/…`, where Shopify
//! gives each shop its own host), an admin with an "Install app" button per app that sends the
//! signed install request, the consent page, `admin/oauth/access_token` (code and refresh grants,
//! expiring offline tokens with rotation, single-use codes, invalid client, invalid grant),
//! uninstalling through `admin/api_permissions/current.json`, and signed webhook deliveries with
//! retries, following Shopify's documentation, with failure injection and call counters.

mod oauth;
mod state;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::dev::ServerHandle;

use crate::{Failure, SimulatedApp};
use state::SimState;
pub use state::signed_query;

/// How a simulated webhook delivery is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSignature {
    /// `X-Shopify-Hmac-Sha256` as Shopify computes it.
    Good,
    /// A signature made with another secret.
    Bad,
    /// No signature header at all.
    Missing,
}

/// One webhook delivery to make.
#[derive(Debug, Clone)]
pub struct Webhook<'a> {
    /// Where the app receives it (`…/notify/shopify/{app}` at the gateway).
    pub url: &'a str,
    pub client_id: &'a str,
    pub shop: &'a str,
    pub topic: &'a str,
    pub body: serde_json::Value,
    /// The same id on every try of one delivery.
    pub webhook_id: &'a str,
    pub signature: WebhookSignature,
}

pub struct ShopifySimulator {
    url: String,
    state: Arc<SimState>,
    handle: ServerHandle,
    client: reqwest::Client,
}

impl std::fmt::Debug for ShopifySimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifySimulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ShopifySimulator {
    /// Starts on `127.0.0.1:port` (0 for any free port) with these apps (`redirect_uri` is both
    /// the app URL and its allowed redirect) and shops (`acme.myshopify.com`, …).
    pub async fn start(
        apps: Vec<SimulatedApp>,
        shops: Vec<String>,
        port: u16,
    ) -> std::io::Result<Self> {
        let (url, state, handle) = crate::server::start(
            port,
            |_| Arc::new(SimState::new(apps, shops)),
            oauth::routes,
        )?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Ok(Self {
            url,
            state,
            handle,
            client,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The authorize endpoint of every shop, for an app's `authorize_url` (`{tenant}` is the
    /// shop).
    pub fn authorize_url(&self) -> String {
        format!("{}/shops/{{tenant}}/admin/oauth/authorize", self.url)
    }

    /// The token endpoint of every shop, for an app's `token_url`.
    pub fn token_url(&self) -> String {
        format!("{}/shops/{{tenant}}/admin/oauth/access_token", self.url)
    }

    /// The Admin API base of every shop, for an app's `api_base_url`.
    pub fn api_base_url(&self) -> String {
        format!("{}/shops/{{tenant}}/", self.url)
    }

    /// A shop's admin page.
    pub fn admin_url(&self, shop: &str) -> String {
        format!("{}/shops/{shop}/admin", self.url)
    }

    /// The signed install request Shopify sends when the merchant installs `client_id`'s app on
    /// `shop` (signed now).
    pub fn install_request(&self, client_id: &str, shop: &str) -> Option<String> {
        oauth::install_request(&self.state, client_id, shop)
    }

    /// What "Install" on the consent page does: a single-use code.
    pub fn issue_code(&self, client_id: &str, shop: &str) -> Option<String> {
        self.state.issue_code(client_id, shop)
    }

    /// Token-endpoint calls so far (every grant, failures included).
    pub fn token_calls(&self) -> usize {
        SimState::count(&self.state.counters.token)
    }

    /// Refresh requests so far, refused ones included.
    pub fn refresh_calls(&self) -> usize {
        self.state.refresh.redeemed()
    }

    /// `api_permissions/current.json` deletions so far.
    pub fn revoke_calls(&self) -> usize {
        SimState::count(&self.state.counters.revoke)
    }

    /// Whether an access token works against the Admin API.
    pub fn access_token_works(&self, token: &str) -> bool {
        self.state.access_grant(token).is_some()
    }

    /// Tokens of a non-expiring offline install, as apps made before expiring tokens hold them.
    pub fn non_expiring_grant(&self, client_id: &str, shop: &str) -> String {
        self.state.issue_non_expiring(&state::Grant {
            client_id: client_id.to_owned(),
            shop: shop.to_owned(),
        })
    }

    /// Rotation is Shopify's behaviour and on by default; off, a refresh answers the same token.
    pub fn rotate_refresh_tokens(&self, on: bool) {
        self.state.refresh.set_rotation(on);
    }

    /// Whether `expiring=1` is honoured (on by default).
    pub fn offer_expiring_tokens(&self, on: bool) {
        self.state.offers_expiring.store(on, Ordering::SeqCst);
    }

    /// The next call of the token endpoint fails this way.
    pub fn fail_next(&self, failure: Failure) {
        self.state.push_failure(failure);
    }

    /// Webhook deliveries made so far (every try).
    pub fn webhook_calls(&self) -> usize {
        SimState::count(&self.state.counters.webhooks)
    }

    /// Delivers `webhook` as Shopify does: a `POST` of the JSON body with the topic, shop,
    /// webhook id and signature headers, tried again (up to `tries` times in all) while the app
    /// does not answer 2xx. The statuses the app answered, in order (0: not reached).
    pub async fn deliver(&self, webhook: &Webhook<'_>, tries: usize) -> Vec<u16> {
        let Some(app) = self.state.app(webhook.client_id) else {
            return Vec::new();
        };
        let body = webhook.body.to_string();
        let signature = match webhook.signature {
            WebhookSignature::Good => Some(state::tag(&app.client_secret, body.as_bytes())),
            WebhookSignature::Bad => Some(state::tag("not-the-secret", body.as_bytes())),
            WebhookSignature::Missing => None,
        };
        let mut statuses = Vec::new();
        for attempt in 0..tries.max(1) {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            self.state.counters.webhooks.fetch_add(1, Ordering::SeqCst);
            let mut request = self
                .client
                .post(webhook.url)
                .header("content-type", "application/json")
                .header("x-shopify-topic", webhook.topic)
                .header("x-shopify-shop-domain", webhook.shop)
                .header("x-shopify-webhook-id", webhook.webhook_id)
                .header("x-shopify-api-version", "2025-10");
            if let Some(signature) = &signature {
                use base64::Engine as _;
                request = request.header(
                    "x-shopify-hmac-sha256",
                    base64::engine::general_purpose::STANDARD.encode(signature),
                );
            }
            let status = match request.body(body.clone()).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            statuses.push(status);
            if (200..300).contains(&status) {
                break;
            }
        }
        statuses
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
