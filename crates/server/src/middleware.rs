//! Cross-cutting request handling: what every request goes through outside the session
//! middleware (the query-length limit, session-store failures, the framework's empty 405
//! given the gateway's error body, the session cookie's `Partitioned`, the headers every
//! response carries unless its route set its own, the request id, the metrics), in one layer.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, web};

use crate::errors::{self, AppError};
use crate::i18n::Language;
use crate::metrics;
use crate::routes::fallback;
use crate::services::Services;
use crate::session;
use crate::telemetry::RequestLog;

/// The longest query string a request may carry.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimit(pub usize);

/// What every request goes through outside the session middleware, in one layer: the span
/// every line it logs carries (its id and method) and its completion line; over-long query
/// strings refused with 414 before any handler parses them; a failing session store turned into
/// the gateway's 503 page (or JSON) with `Retry-After`, where the session middleware would
/// answer a bare 500 (the dispatcher renders that answer, which gets nothing more); the
/// framework's empty 405 replaced by the gateway's error page or JSON; `Partitioned` added to
/// the session cookie; the [`DEFAULT_HEADERS`] a route did not set itself; the request id; and
/// the request counted and timed in the metrics.
pub async fn common(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let log = RequestLog::begin();
    let span = log.span(request.method());
    log.within(span, move || respond(request, next, log)).await
}

/// [`common`] within the request's span.
async fn respond(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    log: RequestLog,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limit = request
        .app_data::<web::Data<QueryLimit>>()
        .map_or(usize::MAX, |limit| limit.0);
    let mut response = if request.query_string().len() > limit {
        let error = errors::for_path(request.path(), AppError::UriTooLong);
        request.error_response(error).map_into_right_body()
    } else {
        let json = errors::wants_json(request.path());
        // The request is the inner service's now; the dispatcher renders this error.
        next.call(request)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "the session store failed");
                errors::as_json_or_page(json, AppError::Unavailable("the session store"))
            })?
            .map_into_left_body()
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response = fallback::method_not_allowed(response).map_into_right_body();
    }
    if let Some(page) = in_the_users_language(&response) {
        response = page.map_into_right_body();
    }
    let headers = response.headers_mut();
    session::partition_session_cookie(headers);
    for (name, value) in DEFAULT_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if let Some(id) = log.header_value() {
        headers.insert(HeaderName::from_static("x-request-id"), id);
    }
    let route = response.request().match_pattern();
    let route = route.as_deref().unwrap_or(metrics::UNMATCHED);
    let elapsed = log.elapsed();
    if let Some(services) = response.request().app_data::<web::Data<Services>>() {
        metrics::count_request(&services.metrics, route, elapsed, &response);
    }
    log.completed(route, response.status(), elapsed);
    Ok(response)
}

/// An error page again in the language the request prefers, when that is not English (the
/// error rendered itself without the request).
fn in_the_users_language<B>(response: &ServiceResponse<B>) -> Option<ServiceResponse> {
    let error = response
        .response()
        .error()?
        .as_error::<errors::PageError>()?;
    let language = Language::of(response.request());
    if language.is_english() {
        return None;
    }
    let services = response.request().app_data::<web::Data<Services>>()?;
    let page = error.page(&services.texts(language, None));
    Some(ServiceResponse::new(response.request().clone(), page))
}

/// Headers for every response; a route that frames differently sets its own
/// `Content-Security-Policy`, which is then left alone.
const DEFAULT_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        crate::routes::framing::NOTHING,
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
];

/// [`DEFAULT_HEADERS`] as a middleware of its own, for the metrics listener.
pub fn default_headers() -> DefaultHeaders {
    DEFAULT_HEADERS
        .into_iter()
        .fold(DefaultHeaders::new(), |headers, (name, value)| {
            headers.add((name, value))
        })
}

/// Refuses a request with 429 (and `Retry-After`) once its client address is over the limit.
pub async fn limit_by_client(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if request.method() != actix_web::http::Method::DELETE
        && let Some(services) = request.app_data::<web::Data<Services>>()
        && let Some(address) =
            crate::client_address::client_key(request.request(), &services.settings.clients)
        && let Err(wait) = services.rate_limit.check(address)
    {
        tracing::info!(route = ?request.match_pattern(), "rate limited");
        let refused = errors::PageError(AppError::TooManyRequests(wait));
        return Ok(request.error_response(refused).map_into_right_body());
    }
    Ok(next.call(request).await?.map_into_left_body())
}
