//! Pipedrive's uninstall notification: a `DELETE` to the callback URL with HTTP Basic auth (the
//! app's own client id and secret) and a JSON body naming `client_id`, `company_id`, `user_id`
//! and a `timestamp` (types and format unconfirmed: numbers or strings are accepted, and the
//! timestamp is not read).

use installgate_core::{
    AppCredentials, InboundRequest, LenientNumber, MarketplaceKey, Notice, NoticeError,
};
use installgate_provider_kit::signature::is_app_basic_auth;
use serde::Deserialize;

#[derive(Deserialize)]
struct NoticeBody {
    client_id: Option<String>,
    company_id: Option<LenientNumber>,
    user_id: Option<LenientNumber>,
}

/// Checks a notice (a `DELETE`) and names the installation it is about.
pub fn parse(app: &AppCredentials, request: &InboundRequest<'_>) -> Result<Notice, NoticeError> {
    if request.method != "DELETE" {
        return Err(NoticeError::NotSupported);
    }
    if !is_app_basic_auth(app, request.header("authorization")) {
        return Err(NoticeError::Unauthenticated {
            challenge: Some("Basic"),
        });
    }
    let malformed = |reason: &str| NoticeError::Malformed(reason.to_owned());
    let notice: NoticeBody =
        serde_json::from_slice(request.body).map_err(|_| malformed("the body is not JSON"))?;
    if notice.client_id.as_deref() != Some(app.client_id.as_str()) {
        return Err(malformed("client_id is not this app's"));
    }
    let (Some(company), Some(user)) = (
        notice.company_id.as_ref().and_then(LenientNumber::value),
        notice.user_id.as_ref().and_then(LenientNumber::value),
    ) else {
        return Err(malformed("company_id and user_id are required"));
    };
    let marketplace_key = MarketplaceKey::parse(&format!("{company}:{user}"))
        .map_err(|error| NoticeError::Malformed(error.to_string()))?;
    Ok(Notice::Uninstalled { marketplace_key })
}
