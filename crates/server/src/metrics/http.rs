//! The HTTP side of the metrics: counting and timing every request by route pattern, counting
//! requests that failed for want of a backend, and serving `/metrics`.

use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};

use super::Metrics;
use crate::errors::{ApiError, AppError, PageError};
use crate::services::Services;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// How long a scrape waits for the outbox count before showing the last one.
const BACKLOG_TIMEOUT: Duration = Duration::from_secs(1);

/// The method as a label: the standard ones by name, anything else as `other`, so that a client
/// cannot make new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The backend whose absence an error response reports.
fn missing_backend(error: &actix_web::Error) -> Option<&'static str> {
    let app_error: &AppError = if let Some(PageError(error)) = error.as_error::<PageError>() {
        error
    } else {
        &error.as_error::<ApiError>()?.0
    };
    match app_error {
        AppError::Unavailable("the state store") => Some("state_store"),
        AppError::Unavailable("the database") => Some("database"),
        AppError::Unavailable(crate::errors::STATE_STORE_FULL) => Some("state_store_full"),
        _ => None,
    }
}

/// Counts a finished request and its duration by `route`, the pattern the router chose (never
/// the path; [`UNMATCHED`] when none), and the backend its error names, if any. The caller
/// reads the pattern from the resource the router chose, once for the metrics and the access
/// line (matching the path again would cost a walk over every route, regexes included), and
/// the duration once for both.
pub fn count_request<B>(
    metrics: &Metrics,
    route: &str,
    elapsed: Duration,
    response: &ServiceResponse<B>,
) {
    metrics.http_request(
        route,
        method_label(response.request().method()),
        response.status().as_str(),
        elapsed.as_secs_f64(),
    );
    if let Some(backend) = response.response().error().and_then(missing_backend) {
        metrics.backend_error(backend);
    }
}

/// `GET /metrics`: the Prometheus text exposition format.
pub async fn serve(services: web::Data<Services>) -> HttpResponse {
    match tokio::time::timeout(BACKLOG_TIMEOUT, services.outbox.backlog()).await {
        Ok(Ok(backlog)) => services.metrics.set_outbox_backlog(backlog),
        Ok(Err(_)) | Err(_) => services.metrics.backend_error("database"),
    }
    match services.metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(error) => {
            tracing::error!(%error, "the metrics could not be rendered");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}
