//! Calls to a marketplace: the shared client (no redirects, bounded in time, set up by the
//! server), answers read up to [`MAX_BODY_BYTES`], and failures as [`ProviderError`]s that carry
//! no token, code or secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use installgate_core::{AppCredentials, ProviderError};
use secrecy::ExposeSecret as _;

/// Largest answer read from a marketplace.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest part of a marketplace's error message kept in an error.
const MAX_MESSAGE_CHARS: usize = 80;

/// How the app authenticates to a token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    FormBody,
}

/// A transport failure: timed out, or not reached at all.
pub fn transport(error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unreachable
    }
}

/// `Basic base64(client_id:client_secret)`.
pub fn basic_credentials(app: &AppCredentials) -> String {
    let pair = format!("{}:{}", app.client_id, app.client_secret.expose_secret());
    format!("Basic {}", STANDARD.encode(pair))
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: Option<String>,
    /// HubSpot's extra detail (`BAD_REFRESH_TOKEN`, …).
    status: Option<String>,
}

/// The error a 4xx answer stands for. `error` may be RFC 6749's code (`invalid_grant`) or a
/// sentence (`Invalid grant: refresh_token is invalid`); either way an ended grant is
/// [`ProviderError::InvalidGrant`], so that the refresher can tell it from other refusals.
pub fn error_of(status: reqwest::StatusCode, body: &[u8]) -> ProviderError {
    let Ok(ErrorBody {
        error: Some(error),
        status: detail,
    }) = serde_json::from_slice::<ErrorBody>(body)
    else {
        return ProviderError::Status(status.as_u16());
    };
    if !status.is_client_error() {
        return ProviderError::Status(status.as_u16());
    }
    if error == "invalid_grant" || error.starts_with("Invalid grant") {
        return ProviderError::InvalidGrant;
    }
    // Printable ASCII only: no control characters or other text copied into logs.
    let error: String = error
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(MAX_MESSAGE_CHARS)
        .collect();
    let detail = detail.filter(|detail| {
        detail.len() <= 40 && detail.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
    });
    ProviderError::OAuth(detail.map_or(error.clone(), |detail| format!("{error} ({detail})")))
}

/// The body of a 2xx answer, or the error the answer stands for.
async fn finish(response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let status = response.status();
    let body = read_limited(response).await?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(error_of(status, &body))
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`].
pub async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Err(ProviderError::Malformed("the answer is too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| transport(&error))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ProviderError::Malformed("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Posts `form` to `url` with the app authenticated as `auth` says; the 2xx body.
pub async fn post_form(
    client: &reqwest::Client,
    url: &url::Url,
    app: &AppCredentials,
    auth: ClientAuth,
    form: &[(&str, &str)],
) -> Result<Vec<u8>, ProviderError> {
    let request = client.post(url.clone());
    let response = match auth {
        ClientAuth::Basic => {
            request
                .header(reqwest::header::AUTHORIZATION, basic_credentials(app))
                .form(form)
                .send()
                .await
        }
        ClientAuth::FormBody => {
            let mut with_client: Vec<(&str, &str)> = form.to_vec();
            with_client.push(("client_id", app.client_id.as_str()));
            with_client.push(("client_secret", app.client_secret.expose_secret()));
            request.form(&with_client).send().await
        }
    }
    .map_err(|error| transport(&error))?;
    finish(response).await
}

/// `GET` with a bearer token; the 2xx body.
pub async fn get_bearer(
    client: &reqwest::Client,
    url: &url::Url,
    token: &str,
) -> Result<Vec<u8>, ProviderError> {
    let response = client
        .get(url.clone())
        .bearer_auth(token)
        .send()
        .await
        .map_err(|error| transport(&error))?;
    finish(response).await
}

/// `DELETE` with a bearer token; any 2xx is success.
pub async fn delete_bearer(
    client: &reqwest::Client,
    url: &url::Url,
    token: &str,
) -> Result<(), ProviderError> {
    let response = client
        .delete(url.clone())
        .bearer_auth(token)
        .send()
        .await
        .map_err(|error| transport(&error))?;
    finish(response).await.map(|_| ())
}

/// `DELETE` authenticated by a header of the marketplace's own (`X-Shopify-Access-Token`);
/// any 2xx is success.
pub async fn delete_with_header(
    client: &reqwest::Client,
    url: &url::Url,
    header: &'static str,
    token: &str,
) -> Result<(), ProviderError> {
    let response = client
        .delete(url.clone())
        .header(header, token)
        .send()
        .await
        .map_err(|error| transport(&error))?;
    finish(response).await.map(|_| ())
}

/// The placeholder an endpoint override puts where the tenant goes (`…/shops/{tenant}/…`), for
/// marketplaces whose endpoints are on each tenant's own host.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// `template` with its `{tenant}` placeholder replaced by `tenant`; `None` when the template has
/// none, or the result is not a URL. A tenant is validated by its provider before it gets here;
/// it is percent-encoded all the same, so it can never add a path segment or a query.
pub fn tenant_endpoint(template: &url::Url, tenant: &installgate_core::Tenant) -> Option<url::Url> {
    let encoded_placeholder = TENANT_PLACEHOLDER.replace('{', "%7B").replace('}', "%7D");
    let encoded_placeholder = encoded_placeholder.as_str();
    let text = template.as_str();
    if !text.contains(encoded_placeholder) {
        return None;
    }
    let tenant: String = url::form_urlencoded::byte_serialize(tenant.as_str().as_bytes()).collect();
    url::Url::parse(&text.replace(encoded_placeholder, &tenant)).ok()
}

/// Reads a 2xx body as JSON of type `T`. The error says where the answer went wrong, never what
/// it held (serde's messages quote the values they refuse).
pub fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|error| {
        ProviderError::Malformed(format!(
            "the answer is not the expected JSON ({:?} at line {}, column {})",
            error.classify(),
            error.line(),
            error.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn an_ended_grant_is_recognised_in_both_shapes() {
        for body in [
            r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
            r#"{"success":false,"error":"Invalid grant: refresh_token is invalid"}"#,
            r#"{"error":"invalid_grant","status":"BAD_REFRESH_TOKEN","message":"…"}"#,
        ] {
            assert_eq!(
                error_of(StatusCode::BAD_REQUEST, body.as_bytes()),
                ProviderError::InvalidGrant,
                "{body}"
            );
        }
    }

    #[test]
    fn other_refusals_keep_a_short_reason_and_nothing_else() {
        let hubspot = r#"{"error":"invalid_client","status":"BAD_CLIENT_SECRET"}"#;
        assert_eq!(
            error_of(StatusCode::BAD_REQUEST, hubspot.as_bytes()),
            ProviderError::OAuth("invalid_client (BAD_CLIENT_SECRET)".into())
        );
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(500));
        let ProviderError::OAuth(kept) = error_of(StatusCode::UNAUTHORIZED, long.as_bytes()) else {
            panic!("an OAuth error");
        };
        assert_eq!(kept.len(), MAX_MESSAGE_CHARS);
        // A detail that is not a plain code is dropped rather than repeated.
        let odd = r#"{"error":"invalid_client","status":"token abc123 is bad"}"#;
        assert_eq!(
            error_of(StatusCode::BAD_REQUEST, odd.as_bytes()),
            ProviderError::OAuth("invalid_client".into())
        );
    }

    #[test]
    fn unreadable_answers_name_where_not_what() {
        let refused =
            json::<std::collections::HashMap<String, u32>>(br#"{"access_token": "secret-abc"}"#);
        let Err(ProviderError::Malformed(message)) = refused else {
            panic!("a malformed answer");
        };
        assert!(!message.contains("secret-abc"), "{message}");
        let ProviderError::OAuth(kept) = error_of(
            StatusCode::BAD_REQUEST,
            b"{\"error\":\"bad\\u0007\\nthing\"}",
        ) else {
            panic!("an OAuth error");
        };
        assert_eq!(kept, "badthing");
    }

    #[test]
    fn answers_without_an_error_body_are_their_status() {
        assert_eq!(
            error_of(StatusCode::BAD_REQUEST, b"<html>no</html>"),
            ProviderError::Status(400)
        );
        assert_eq!(
            error_of(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"error":"invalid_grant"}"#
            ),
            ProviderError::Status(500)
        );
    }
}
