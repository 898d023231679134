//! CSRF protection for every state-changing form: a per-session token in a hidden field, and
//! an `Origin` that must be the gateway's own. `SameSite=None` cookies (needed in marketplace
//! iframes) no longer keep cross-site posts out, so both checks are needed.

use actix_web::HttpRequest;
use actix_web::http::header::ORIGIN;
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::errors::AppError;
use crate::session::GatewaySession;

pub fn check(
    request: &HttpRequest,
    session: &GatewaySession,
    submitted: &str,
    public_url: &Url,
) -> Result<(), AppError> {
    let own_origin = public_url.origin().ascii_serialization();
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok());
    if origin != Some(own_origin.as_str()) {
        return Err(AppError::Forbidden("this form was not sent from this site"));
    }
    let expected = session
        .existing_csrf_token()
        .ok_or(AppError::Forbidden("this form has expired"))?;
    if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Forbidden("this form has expired"))
    }
}
