//! A request as the log sees it: the span it runs in (its id and method), and its completion
//! line (the route pattern it was routed to, never the raw path or query, which can carry codes
//! and states; its status; the time it took).
//!
//! The common layer (`middleware::common`) opens and closes it for the public listener; the
//! console's listener, which has no common layer, uses [`logged`].

use std::future::Future;
use std::time::{Duration, Instant};

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

    /// How long since the request arrived: the completion line and the metrics take it once.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The span the request runs in: every line logged while it is handled carries its id.
    pub fn span(&self, method: &Method) -> Span {
        tracing::info_span!("request", request_id = %self.id, method = %method)
    }

    /// Runs the future `handling` makes in `span`, and writes "request failed" if it ends in
    /// an error the server renders itself; the completion line is the caller's, once it knows
    /// the route. The future is made inside the span's own, not moved into it.
    pub fn within<T, F>(
        self,
        span: Span,
        handling: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<T, Error>>
    where
        F: Future<Output = Result<T, Error>>,
    {
        async move {
            let outcome = handling().await;
            if let Err(error) = &outcome {
                self.failed(error);
            }
            outcome
        }
        .instrument(span)
    }

    /// The id as the `X-Request-Id` header's value (a UUID's text always is one).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut text = Uuid::encode_buffer();
        HeaderValue::from_str(self.id.hyphenated().encode_lower(&mut text)).ok()
    }

    /// The completion line; `route` is the pattern the router chose.
    pub fn completed(&self, route: &str, status: StatusCode, elapsed: Duration) {
        // The message as a field of its own: a string, which the plain format writes without
        // the escaping pass a formatted message needs.
        tracing::info!(
            message = "request completed",
            route,
            status = status.as_u16(),
            elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
    }

    /// The line for a request whose handling ended in an error the server renders itself.
    fn failed(&self, error: &Error) {
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
    log.within(span, move || async move {
        let response = next.call(request).await?;
        let route = response.request().match_pattern();
        let route = route.as_deref().unwrap_or(crate::metrics::UNMATCHED);
        log.completed(route, response.status(), log.elapsed());
        Ok(response)
    })
    .await
}
