//! Calls to Pipedrive: form posts with HTTP Basic client auth, bearer GETs, bounded answers, and
//! errors that carry no secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use installgate_core::{AppCredentials, ProviderError};
use secrecy::ExposeSecret as _;

/// Largest answer read from Pipedrive.
const MAX_BODY_BYTES: usize = 64 * 1024;

fn transport(error: &reqwest::Error) -> ProviderError {
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
}

async fn finish(response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let status = response.status();
    let body = read_limited(response).await?;
    if status.is_success() {
        return Ok(body);
    }
    if status.is_client_error()
        && let Ok(ErrorBody { error: Some(error) }) = serde_json::from_slice(&body)
    {
        // Pipedrive documents its errors as sentences ("Invalid grant: refresh_token is
        // invalid", in `{"success": false, "error": …}`); an RFC 6749 body carries the code
        // (`{"error": "invalid_grant", "error_description": …}`). Either means the grant is gone.
        if error == "invalid_grant" || error.starts_with("Invalid grant") {
            return Err(ProviderError::InvalidGrant);
        }
        return Err(ProviderError::OAuth(error.chars().take(80).collect()));
    }
    Err(ProviderError::Status(status.as_u16()))
}

pub async fn post_form_basic(
    client: &reqwest::Client,
    url: &url::Url,
    app: &AppCredentials,
    form: &[(&str, &str)],
) -> Result<Vec<u8>, ProviderError> {
    let response = client
        .post(url.clone())
        .header(reqwest::header::AUTHORIZATION, basic_credentials(app))
        .form(form)
        .send()
        .await
        .map_err(|error| transport(&error))?;
    finish(response).await
}

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

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
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
