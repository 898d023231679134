//! A request as the log sees it: the span it runs in (its id and method), and its completion
//! line (the route pattern it was routed to, never the raw path or query, which can carry codes
//! and states; its status; the time it took).
//!
//! The common layer (`middleware::common`) opens and closes it for the public listener; the
//! console's listener, which has no common layer, uses [`logged`].

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use tracing::{Instrument as _, Span};
use uuid::Uuid;

/// A request's id and arrival time, from the moment the gateway took it.
#[derive(Debug, Clone, Copy)]
pub struct RequestLog {
    id: Uuid,
    started: Instant,
}

impl RequestLog {
    /// A request arriving now, with a fresh random id.
    pub fn begin() -> Self {
        Self {
            id: Uuid::new_v4(),
            started: Instant::now(),
        }
    }

    /// When the request arrived: the completion line's `elapsed_us` and the metrics' duration
    /// both count from it.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The span the request runs in: every line logged while it is handled carries its id.
    pub fn span(&self, method: &Method) -> Span {
        tracing::info_span!("request", request_id = %self.id, method = %method)
    }

    /// The id as the `X-Request-Id` header's value (a UUID's text always is one).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut text = Uuid::encode_buffer();
        HeaderValue::from_str(self.id.hyphenated().encode_lower(&mut text)).ok()
    }

    /// The completion line; `route` is the pattern the router chose (`None`: no route matched).
    pub fn completed(&self, route: Option<&str>, status: StatusCode) {
        let elapsed_us = self.started.elapsed().as_micros();
        // The message as a field of its own: a string, which the plain format writes without
        // the escaping pass a formatted message needs.
        tracing::info!(
            message = "request completed",
            route = route.unwrap_or(crate::metrics::UNMATCHED),
            status = status.as_u16(),
            elapsed_us = u64::try_from(elapsed_us).unwrap_or(u64::MAX),
        );
    }

    /// The line for a request whose handling ended in an error the server renders itself.
    pub fn failed(&self, error: &Error) {
        let status = error.as_response_error().status_code().as_u16();
        tracing::info!(status, "request failed");
    }
}

/// The request's span and completion line alone, for a listener without the common layer.
pub async fn logged<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let log = RequestLog::begin();
    let span = log.span(request.method());
    async move {
        match next.call(request).await {
            Ok(response) => {
                let route = response.request().match_pattern();
                log.completed(route.as_deref(), response.status());
                Ok(response)
            }
            Err(error) => {
                log.failed(&error);
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}
