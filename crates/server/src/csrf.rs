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
    check_form(
        request,
        &public_url.origin().ascii_serialization(),
        session.existing_csrf_token(),
        submitted,
        "this form was not sent from this site",
    )
}

/// Both checks of a form: `Origin` is `own_origin` (else `Forbidden(elsewhere)`), and the
/// submitted token is the session's (compared in constant time).
pub fn check_form(
    request: &HttpRequest,
    own_origin: &str,
    expected: Option<String>,
    submitted: &str,
    elsewhere: &'static str,
) -> Result<(), AppError> {
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok());
    if origin != Some(own_origin) {
        return Err(AppError::Forbidden(elsewhere));
    }
    let expected = expected.ok_or(AppError::Forbidden("this form has expired"))?;
    if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Forbidden("this form has expired"))
    }
}
