//! Which origins may frame a page: the app's marketplace origins on the pages of its install
//! (the install routes, and the sign-in and sign-up pages an install leads to), `'none'`
//! everywhere else.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use serde::Deserialize;

use crate::services::Services;

/// The install a page belongs to, as its query names it (`/account/…?app=…&provider=…`).
#[derive(Deserialize)]
struct InstallQuery {
    app: Option<String>,
    provider: Option<String>,
}

/// `frame-ancestors` for a request: the app's marketplace origins when it belongs to the install
/// of a configured app (by its path's provider and app, or else its query's), `'none'`
/// otherwise.
fn policy(request: &ServiceRequest) -> HeaderValue {
    let of = |services: &Services, provider: &str, app: &str| {
        let (_, prepared) = services
            .prepared
            .resolve(&services.settings, provider, app)?;
        prepared.frame_policy.clone()
    };
    let found = request
        .app_data::<web::Data<Services>>()
        .and_then(|services| {
            let info = request.match_info();
            match (info.get("provider"), info.get("app")) {
                (Some(provider), Some(app)) => of(services, provider, app),
                _ => {
                    let query =
                        web::Query::<InstallQuery>::from_query(request.query_string()).ok()?;
                    of(services, query.provider.as_deref()?, query.app.as_deref()?)
                }
            }
        });
    found.unwrap_or_else(|| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// Every response of the wrapped routes, errors included, gets the policy of the install it
/// belongs to.
pub async fn frame_ancestors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = policy(&request);
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.remove(header::X_FRAME_OPTIONS);
    Ok(response)
}
