//! Cross-cutting request handling: refusing over-long query strings before any handler parses
//! them, and headers every response carries unless its route set its own.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, HttpMessage as _, web};
use tracing_actix_web::RequestId;

use crate::errors::{self, AppError};

/// The longest query string a request may carry.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimit(pub usize);

/// Refuses over-long query strings with 414 and tags every response with its request id.
pub async fn guard_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limit = request
        .app_data::<web::Data<QueryLimit>>()
        .map_or(usize::MAX, |limit| limit.0);
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| HeaderValue::from_str(&id.to_string()).ok());
    let mut response = if request.query_string().len() > limit {
        let error = errors::for_path(request.path(), AppError::UriTooLong);
        request.error_response(error).map_into_right_body()
    } else {
        next.call(request).await?.map_into_left_body()
    };
    if let Some(id) = request_id {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(response)
}

/// Headers for every response; a route that frames differently sets its own
/// `Content-Security-Policy`, which this then leaves alone.
pub fn default_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// The session middleware fails a request with a bare 500 when its store does not answer; this
/// turns that into the gateway's 503 page (or JSON), with `Retry-After`.
pub async fn session_store_unavailable(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = request.path().to_owned();
    next.call(request).await.map_err(|error| {
        tracing::warn!(%error, "the session store failed");
        errors::for_path(&path, AppError::Unavailable("the session store"))
    })
}
