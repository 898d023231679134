//! What a simulated endpoint does instead of answering normally when a test injected a failure.

use actix_web::HttpResponse;

use crate::Failure;

/// The answer `failure` stands for, after its delay; `None` when the endpoint should go on and
/// answer normally (no failure, or one that only slows it down). `invalid_grant` is the
/// marketplace's own refusal.
pub async fn answer(
    failure: Option<Failure>,
    invalid_grant: impl FnOnce() -> HttpResponse,
) -> Option<HttpResponse> {
    match failure? {
        Failure::ServerError => {
            Some(HttpResponse::InternalServerError().body("Internal Server Error"))
        }
        Failure::Garbage => Some(
            HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"access"),
        ),
        Failure::InvalidGrant => Some(invalid_grant()),
        Failure::Oversized => Some(
            HttpResponse::Ok()
                .content_type("application/json")
                .body(crate::hubspot::oversized_body()),
        ),
        Failure::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Failure::Stall(delay) => {
            tokio::time::sleep(delay).await;
            Some(HttpResponse::ServiceUnavailable().body("Service Unavailable"))
        }
    }
}
