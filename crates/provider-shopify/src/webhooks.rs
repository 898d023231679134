//! Webhooks Shopify delivers to `POST /notify/shopify/{app}`: `X-Shopify-Hmac-Sha256` is the
//! base64 HMAC-SHA256 of the raw body under the app's secret, checked before anything else;
//! `X-Shopify-Topic` names the topic, `X-Shopify-Shop-Domain` the shop, `X-Shopify-Webhook-Id`
//! the delivery (repeats carry the same id).
//!
//! Only the body is signed, and the app's secret also signs its install requests: a signature is
//! therefore trusted for what the body says, not for the headers. The body must be the topic's
//! JSON object, and the shop it names must be the header's; otherwise a signed text from
//! elsewhere (an install request's canonical query, another shop's webhook) could be sent as a
//! notice about any shop.

use installgate_core::{
    AppCredentials, InboundRequest, MarketplaceKey, Metadata, Notice, NoticeError, PrivacyRequest,
};
use installgate_provider_kit::signature::verify_hmac_sha256_base64;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::shop;

/// The payload fields that identify what a notice is about. `app/uninstalled` carries the shop
/// itself (`myshopify_domain`); the privacy topics name it in `shop_domain`.
#[derive(Deserialize)]
struct Payload {
    myshopify_domain: Option<String>,
    shop_domain: Option<String>,
    shop_id: Option<serde_json::Value>,
    customer: Option<Customer>,
    orders_requested: Option<Vec<serde_json::Value>>,
    orders_to_redact: Option<Vec<serde_json::Value>>,
    data_request: Option<DataRequest>,
}

#[derive(Deserialize)]
struct Customer {
    id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DataRequest {
    id: Option<serde_json::Value>,
}

/// An id as text, whether Shopify sent a number or a string; anything else is left out.
fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::String(text) if text.len() <= 64 => Some(text.clone()),
        _ => None,
    }
}

fn ids(values: &[serde_json::Value]) -> String {
    values
        .iter()
        .filter_map(id_text)
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse(app: &AppCredentials, request: &InboundRequest<'_>) -> Result<Notice, NoticeError> {
    if request.method != "POST" {
        return Err(NoticeError::NotSupported);
    }
    let signature = request
        .header("x-shopify-hmac-sha256")
        .ok_or(NoticeError::Unauthenticated { challenge: None })?;
    let secret = app.client_secret.expose_secret().as_bytes();
    if !verify_hmac_sha256_base64(secret, request.body, signature) {
        return Err(NoticeError::Unauthenticated { challenge: None });
    }
    let malformed = |what: &str| NoticeError::Malformed(what.to_owned());
    let tenant = shop::parse(request.header("x-shopify-shop-domain").unwrap_or_default())
        .map_err(|_| malformed("X-Shopify-Shop-Domain is not a shop"))?;
    let marketplace_key = MarketplaceKey::parse(tenant.as_str())
        .map_err(|_| malformed("X-Shopify-Shop-Domain is not a shop"))?;
    let topic = request
        .header("x-shopify-topic")
        .ok_or_else(|| malformed("X-Shopify-Topic is missing"))?;
    let payload: Payload = serde_json::from_slice(request.body)
        .map_err(|_| malformed("the body is not the topic's JSON"))?;
    let named = match topic {
        "app/uninstalled" => payload.myshopify_domain.as_deref(),
        _ => payload.shop_domain.as_deref(),
    };
    let named =
        shop::parse(named.unwrap_or_default()).map_err(|_| malformed("the body names no shop"))?;
    if named != tenant {
        return Err(malformed(
            "the body is about another shop than X-Shopify-Shop-Domain",
        ));
    }
    let privacy = match topic {
        "app/uninstalled" => return Ok(Notice::Uninstalled { marketplace_key }),
        "customers/data_request" => PrivacyRequest::CustomerDataRequest,
        "customers/redact" => PrivacyRequest::CustomerRedact,
        "shop/redact" => PrivacyRequest::TenantRedact,
        _ => return Err(malformed("this topic is not one the gateway subscribes to")),
    };
    let mut details = Metadata::new();
    details.insert("shop_domain".into(), tenant.as_str().to_owned());
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            details.insert(key.to_owned(), value);
        }
    };
    put("shop_id", payload.shop_id.as_ref().and_then(id_text));
    put(
        "customer_id",
        payload
            .customer
            .and_then(|customer| customer.id)
            .as_ref()
            .and_then(id_text),
    );
    put(
        "orders_requested",
        payload.orders_requested.as_deref().map(ids),
    );
    put(
        "orders_to_redact",
        payload.orders_to_redact.as_deref().map(ids),
    );
    put(
        "data_request_id",
        payload
            .data_request
            .and_then(|request| request.id)
            .as_ref()
            .and_then(id_text),
    );
    Ok(Notice::Privacy {
        marketplace_key,
        request: privacy,
        details,
    })
}

/// The delivery's id, for de-duplication: only of a request [`parse`] accepted.
pub fn delivery_id(request: &InboundRequest<'_>) -> Option<String> {
    request
        .header("x-shopify-webhook-id")
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}
