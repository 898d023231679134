//! Requests Shopify signs with the app's secret: the install request (`shop`, `timestamp`,
//! `host`, `hmac`) and the OAuth callback (`code`, `state` and the same). Nothing of them is read
//! before the signature, the shop and the age check out.

use installgate_core::{
    AppCredentials, AuthorizationCode, InboundRequest, InstallRequest, MalformedRequest,
    QueryParams, Timestamp,
};
use installgate_provider_kit::signature::verify_hmac_sha256_hex;
use secrecy::ExposeSecret as _;

use crate::shop;

/// How far a signed request's `timestamp` may be from the gateway's clock, either way (the bound
/// Shopify's own libraries use).
pub const MAX_AGE_SECONDS: i64 = 90;

/// The string Shopify signs: every parameter but `hmac` (and the legacy `signature`), sorted by
/// name, each name and value form-encoded with spaces as `%20`, joined as `name=value` by `&`.
pub fn canonical(params: &QueryParams) -> String {
    let encode = |text: &str| -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| *name != "hmac" && *name != "signature")
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn parse(
    app: &AppCredentials,
    request: &InboundRequest<'_>,
    now: Timestamp,
) -> Result<InstallRequest, MalformedRequest> {
    let malformed = |what: &str| MalformedRequest(what.to_owned());
    let params = installgate_provider_kit::query(request)?;
    let hmac = params
        .get("hmac")
        .ok_or_else(|| malformed("the request is not signed (no hmac)"))?;
    let secret = app.client_secret.expose_secret().as_bytes();
    if !verify_hmac_sha256_hex(secret, canonical(&params).as_bytes(), hmac) {
        return Err(malformed("the request's signature (hmac) is not valid"));
    }
    let tenant = shop::parse(params.get("shop").unwrap_or_default())?;
    let signed_at = params
        .get("timestamp")
        .and_then(|seconds| seconds.parse::<i64>().ok())
        .ok_or_else(|| malformed("timestamp must be a number of seconds"))?;
    let age = (now.as_millis() / 1000).abs_diff(signed_at);
    if age > MAX_AGE_SECONDS.unsigned_abs() {
        return Err(malformed(
            "the request is too old (or from the future): start the install again",
        ));
    }
    match params.get("code") {
        None => Ok(InstallRequest::Begin { tenant }),
        Some(code) => {
            let code =
                AuthorizationCode::parse(code).map_err(|error| malformed(&error.to_string()))?;
            let state = params
                .get("state")
                .ok_or_else(|| malformed("the callback carries no state"))?;
            Ok(InstallRequest::Code {
                code,
                state: Some(state.to_owned()),
                return_url: None,
                tenant: Some(tenant),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_string_sorts_escapes_and_leaves_out_the_tag() {
        let params = QueryParams::parse(
            "timestamp=1&shop=a.myshopify.com&hmac=x&code=c&host=YQ%3D%3D&a%26b=1+2&signature=s",
        )
        .unwrap();
        assert_eq!(
            canonical(&params),
            "a%26b=1%202&code=c&host=YQ%3D%3D&shop=a.myshopify.com&timestamp=1"
        );
    }
}
