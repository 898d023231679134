//! Pipedrive's uninstall notification: a `DELETE` to the callback URL with HTTP Basic auth (the
//! app's own client id and secret) and a JSON body naming `client_id`, `company_id`, `user_id`
//! and a `timestamp` (types and format unconfirmed: numbers or strings are accepted, and the
//! timestamp is not read).

use installgate_core::{AppCredentials, LenientNumber, MarketplaceKey};
use installgate_provider_kit::signature::is_app_basic_auth;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UninstallError {
    /// Missing or wrong Basic credentials.
    #[error("the uninstall notice is not authenticated")]
    Unauthorized,
    /// The body is not an uninstall notice for this app.
    #[error("the uninstall notice is not valid: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct Notice {
    client_id: Option<String>,
    company_id: Option<LenientNumber>,
    user_id: Option<LenientNumber>,
}

/// Checks a notice and names the installation it is about.
pub fn parse(
    app: &AppCredentials,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<MarketplaceKey, UninstallError> {
    if !is_app_basic_auth(app, authorization) {
        return Err(UninstallError::Unauthorized);
    }
    let notice: Notice = serde_json::from_slice(body)
        .map_err(|_| UninstallError::Malformed("the body is not JSON".into()))?;
    if notice.client_id.as_deref() != Some(app.client_id.as_str()) {
        return Err(UninstallError::Malformed(
            "client_id is not this app's".into(),
        ));
    }
    let (Some(company), Some(user)) = (
        notice.company_id.as_ref().and_then(LenientNumber::value),
        notice.user_id.as_ref().and_then(LenientNumber::value),
    ) else {
        return Err(UninstallError::Malformed(
            "company_id and user_id are required".into(),
        ));
    };
    MarketplaceKey::parse(&format!("{company}:{user}"))
        .map_err(|error| UninstallError::Malformed(error.to_string()))
}
