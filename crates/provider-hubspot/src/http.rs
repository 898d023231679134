//! Calls to HubSpot's API: form posts, bounded answers, errors that carry no secret.

use installgate_core::ProviderError;
use serde::de::DeserializeOwned;

/// Largest answer read from HubSpot.
const MAX_BODY_BYTES: usize = 64 * 1024;

fn transport(error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unreachable
    }
}

#[derive(serde::Deserialize)]
struct OAuthError {
    error: Option<String>,
    status: Option<String>,
}

/// Posts `form` and reads a JSON answer of type `T`.
pub async fn post_form<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &url::Url,
    form: &[(&str, &str)],
) -> Result<T, ProviderError> {
    let response = client
        .post(url.clone())
        .form(form)
        .send()
        .await
        .map_err(|error| transport(&error))?;
    let status = response.status();
    let body = read_limited(response).await?;
    if status.is_client_error() {
        // RFC 6749 errors, with HubSpot's extra `status` (BAD_REFRESH_TOKEN, …).
        if let Ok(OAuthError {
            error: Some(error),
            status,
        }) = serde_json::from_slice::<OAuthError>(&body)
        {
            if error == "invalid_grant" {
                return Err(ProviderError::InvalidGrant);
            }
            let code = status.map_or(error.clone(), |status| format!("{error} ({status})"));
            return Err(ProviderError::OAuth(code));
        }
        return Err(ProviderError::Status(status.as_u16()));
    }
    if !status.is_success() {
        return Err(ProviderError::Status(status.as_u16()));
    }
    serde_json::from_slice(&body).map_err(|error| ProviderError::Malformed(error.to_string()))
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
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(ProviderError::Status(status.as_u16()))
    }
}
