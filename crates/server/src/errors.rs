//! One error type for every handler, mapped to HTTP in one place.
//!
//! Handlers return [`PageError`] (browsers: a small HTML page) or [`ApiError`] (machines: JSON
//! `{"error": {"code", "message"}}`); both wrap [`AppError`], whose [`AppError::status`] is the
//! single mapping from domain failures to status codes. Users see a short message; the whole
//! cause chain of an unexpected error goes to the log only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use installgate_core::{ConnectionStatus, RefreshError, StateStoreError};
use installgate_store::DatabaseError;

use crate::i18n::Texts;
use crate::pages;

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; the message is safe to show and names what is wrong.
    #[error("{0}")]
    BadRequest(String),
    #[error("there is nothing at this address")]
    NotFound,
    /// No credentials, or credentials that are not valid.
    #[error("a valid API key is required")]
    Unauthorized,
    /// The request was understood and refused; the message says why.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Too many attempts; the client may try again after this long.
    #[error("too many attempts")]
    TooManyRequests(std::time::Duration),
    #[error("this address does not accept that method")]
    MethodNotAllowed,
    /// The connection holds no tokens any more.
    #[error("the connection is {}", .0.as_str())]
    ConnectionInactive(ConnectionStatus),
    /// The request conflicts with the resource's state; the message says how.
    #[error("{0}")]
    Conflict(&'static str),
    /// The marketplace refused a token refresh or answered nonsense.
    #[error("the marketplace did not renew the tokens")]
    ProviderFailed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the address is too long")]
    UriTooLong,
    /// The marketplace did not complete its part; the name of the marketplace.
    #[error("{0} did not complete the install")]
    BadGateway(&'static str),
    /// A backend the request needs does not answer; the request was not carried out.
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
    #[error("something went wrong on our side")]
    Unexpected(#[source] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::ConnectionInactive(_) | Self::Conflict(_) => StatusCode::CONFLICT,
            Self::ProviderFailed => StatusCode::BAD_GATEWAY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, documented code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyRequests(_) => "rate_limited",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ConnectionInactive(_) => "connection_inactive",
            Self::Conflict(_) => "conflict",
            Self::ProviderFailed => "provider_error",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UriTooLong => "uri_too_long",
            Self::Unavailable(_) => "unavailable",
            Self::BadGateway(_) => "bad_gateway",
            Self::Unexpected(_) => "internal",
        }
    }

    /// The page's title, explanation and hint in `t`'s language (the messages `error-…`,
    /// `detail-…` and `hint-…`). Explanations that name a particular problem (which parameter
    /// is wrong, which form expired) are the error's own English words, as they are in English.
    fn page_texts(&self, t: &Texts) -> (String, String, String) {
        let title = match self {
            Self::BadRequest(_) | Self::PayloadTooLarge | Self::UriTooLong => "error-bad-request",
            Self::NotFound => "error-not-found",
            Self::Unauthorized => "error-unauthorized",
            Self::Forbidden(_) | Self::MethodNotAllowed => "error-forbidden",
            Self::TooManyRequests(_) => "error-too-many",
            Self::ConnectionInactive(_) | Self::Conflict(_) => "error-not-now",
            Self::ProviderFailed => "error-marketplace",
            Self::Unavailable(_) => "error-unavailable",
            Self::BadGateway(_) => "error-install-unfinished",
            Self::Unexpected(_) => "error-unexpected",
        };
        let detail = match self {
            _ if t.language().is_english() => None,
            Self::NotFound => Some("detail-not-found"),
            Self::TooManyRequests(_) => Some("detail-too-many"),
            Self::MethodNotAllowed => Some("detail-method"),
            Self::ProviderFailed => Some("detail-marketplace"),
            Self::PayloadTooLarge | Self::UriTooLong => Some("detail-too-large"),
            Self::Unavailable(_) => Some("detail-unavailable"),
            Self::Unexpected(_) => Some("detail-unexpected"),
            _ => None,
        };
        let hint = match self {
            Self::Unavailable(_) => "hint-unavailable",
            Self::TooManyRequests(_) => "hint-too-many",
            Self::Forbidden(_) => "hint-forbidden",
            Self::Unexpected(_) => "hint-unexpected",
            Self::NotFound | Self::MethodNotAllowed => "hint-not-found",
            _ => "hint-start-again",
        };
        (
            t.get(title),
            detail.map_or_else(|| format!("{self}."), |key| t.get(key)),
            t.get(hint),
        )
    }

    /// Logs the error once, at a level that matches who is at fault.
    fn log(&self) {
        match self {
            Self::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "unexpected error")
            }
            Self::Unavailable(what) => tracing::warn!(backend = what, "backend unavailable"),
            other => {
                tracing::info!(status = other.status().as_u16(), reason = %other, "request refused")
            }
        }
    }

    fn response_builder(&self) -> HttpResponseBuilder {
        let mut builder = HttpResponse::build(self.status());
        builder
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ));
        match self {
            Self::Unavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            Self::Unauthorized => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests(wait) => {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                builder.insert_header((header::RETRY_AFTER, seconds.max(1)));
            }
            _ => {}
        }
        builder
    }
}

/// What a 503 names when the memory backend's space for a kind of record is full.
pub const STATE_STORE_FULL: &str = "room for new installs and sign-ins";

impl From<StateStoreError> for AppError {
    fn from(error: StateStoreError) -> Self {
        tracing::warn!(%error, "state store call failed");
        match error {
            StateStoreError::Full(_) => Self::Unavailable(STATE_STORE_FULL),
            _ => Self::Unavailable("the state store"),
        }
    }
}

impl From<installgate_core::VaultError> for AppError {
    fn from(error: installgate_core::VaultError) -> Self {
        match error {
            installgate_core::VaultError::Unavailable(reason) => {
                tracing::warn!(%reason, "vault call failed");
                Self::Unavailable("the database")
            }
            installgate_core::VaultError::NotFound => Self::NotFound,
            other => Self::Unexpected(other.into()),
        }
    }
}

impl From<&RefreshError> for AppError {
    fn from(error: &RefreshError) -> Self {
        match error {
            RefreshError::NotFound => Self::NotFound,
            RefreshError::Inactive(status) => Self::ConnectionInactive(*status),
            RefreshError::Revoked => Self::ConnectionInactive(ConnectionStatus::Revoked),
            RefreshError::NotRefreshable => {
                Self::Conflict("the tokens have expired and there is no refresh token")
            }
            RefreshError::UnknownApp => Self::Conflict("the connection's app is not configured"),
            RefreshError::ProviderUnavailable(error) => {
                tracing::warn!(%error, "token refresh: the marketplace is unavailable");
                Self::Unavailable("the marketplace")
            }
            RefreshError::Busy => Self::Unavailable("the token refresh"),
            RefreshError::ProviderFailed(error) => {
                tracing::warn!(%error, "token refresh: the marketplace failed it");
                Self::ProviderFailed
            }
            RefreshError::Lock(error) => {
                tracing::warn!(%error, "token refresh: the lock is unavailable");
                Self::Unavailable("the state store")
            }
            RefreshError::Vault(installgate_core::VaultError::NotFound) => Self::NotFound,
            RefreshError::Vault(installgate_core::VaultError::Unavailable(reason)) => {
                tracing::warn!(%reason, "vault call failed");
                Self::Unavailable("the database")
            }
            RefreshError::Vault(other) => Self::Unexpected(anyhow::anyhow!("{other}")),
        }
    }
}

impl From<DatabaseError> for AppError {
    fn from(error: DatabaseError) -> Self {
        tracing::warn!(%error, "database call failed");
        Self::Unavailable("the database")
    }
}

/// An error rendered as an HTML page.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub AppError);

/// The JSON body of every API error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and documented: `bad_request`, `unauthorized`, `not_found`, `conflict`,
    /// `connection_inactive`, `payload_too_large`, `rate_limited`, `provider_error`,
    /// `unavailable`, `internal`, …
    pub code: &'static str,
    /// For people; may change.
    pub message: String,
}

/// An error rendered as JSON.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

/// `?` on any backend error in a handler, whichever format it renders.
macro_rules! through_app_error {
    ($($source:ty),*) => {$(
        impl From<$source> for PageError {
            fn from(error: $source) -> Self {
                Self(error.into())
            }
        }

        impl From<$source> for ApiError {
            fn from(error: $source) -> Self {
                Self(error.into())
            }
        }
    )*};
}

through_app_error!(
    StateStoreError,
    DatabaseError,
    installgate_core::VaultError,
    installgate_core::AccountError,
    installgate_store::OperatorError
);

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        self.page(&Texts::default())
    }
}

impl PageError {
    /// The error's page in `t`'s language (the middleware asks for it when the request
    /// prefers another language than English).
    pub fn page(&self, t: &Texts) -> HttpResponse {
        let (title, explanation, hint) = self.0.page_texts(t);
        let html = pages::message(t, &title, &explanation, &hint);
        self.0
            .response_builder()
            .content_type("text/html; charset=utf-8")
            .body(html)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        self.0.response_builder().json(ErrorBody {
            error: ErrorDetail {
                code: self.0.code(),
                message: self.0.to_string(),
            },
        })
    }
}

/// Whether a path belongs to the machine-facing part of the gateway, which speaks JSON.
pub fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path == "/readyz"
}

/// Renders `error` as JSON or HTML, whichever the path speaks.
pub fn for_path(path: &str, error: AppError) -> actix_web::Error {
    as_json_or_page(wants_json(path), error)
}

/// Renders `error` as JSON (the API's answer) or as an HTML page.
pub fn as_json_or_page(json: bool, error: AppError) -> actix_web::Error {
    if json {
        ApiError(error).into()
    } else {
        PageError(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_status_and_code() {
        let cases = [
            (AppError::BadRequest("x".into()), 400, "bad_request"),
            (AppError::NotFound, 404, "not_found"),
            (AppError::Unauthorized, 401, "unauthorized"),
            (AppError::Forbidden("no"), 403, "forbidden"),
            (
                AppError::TooManyRequests(std::time::Duration::from_secs(3)),
                429,
                "rate_limited",
            ),
            (AppError::MethodNotAllowed, 405, "method_not_allowed"),
            (
                AppError::ConnectionInactive(ConnectionStatus::Revoked),
                409,
                "connection_inactive",
            ),
            (AppError::Conflict("no"), 409, "conflict"),
            (AppError::ProviderFailed, 502, "provider_error"),
            (AppError::PayloadTooLarge, 413, "payload_too_large"),
            (AppError::UriTooLong, 414, "uri_too_long"),
            (AppError::Unavailable("the state store"), 503, "unavailable"),
            (AppError::BadGateway("Acme"), 502, "bad_gateway"),
            (
                AppError::Unexpected(anyhow::anyhow!("boom")),
                500,
                "internal",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code);
        }
    }

    #[actix_web::test]
    async fn unexpected_errors_hide_their_cause_from_users() {
        let error = AppError::Unexpected(anyhow::anyhow!("secret detail"));
        let response = PageError(error).error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let response = ApiError(AppError::Unavailable("the database")).error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
    }
}
