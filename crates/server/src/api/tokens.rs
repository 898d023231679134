//! `POST /api/v1/connections/{id}/access-token`: a valid access token, refreshed first when it
//! expires within the margin or when the caller asks.

use actix_web::http::header::{CACHE_CONTROL, ContentType, HeaderValue};
use actix_web::{HttpResponse, web};
use installgate_core::ConnectionId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiClient, connections};
use crate::errors::{ApiError, AppError, ErrorBody};
use crate::services::Services;

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 4096;
/// Room for an answer's JSON apart from its access token and API domain (the names, the id,
/// the expiry).
const ANSWER_BYTES: usize = 192;

/// The request body; it may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenRequest {
    /// Refresh even if the token is still valid (after the marketplace rejected it, say).
    #[serde(default)]
    pub force_refresh: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenResponse<'a> {
    // Serialised from the id itself, without a `String` of it first; a string in the schema.
    #[schema(value_type = String)]
    pub connection_id: ConnectionId,
    pub access_token: &'a str,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// RFC 3339; `null` when the marketplace gave no lifetime.
    pub expires_at: Option<&'a str>,
    /// The account's own API base URL, for marketplaces that give each account one: every API
    /// call for this connection must use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_domain: Option<&'a str>,
}

fn read_request(body: &[u8]) -> Result<AccessTokenRequest, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(AccessTokenRequest::default());
    }
    serde_json::from_slice(body).map_err(|_| {
        AppError::BadRequest(
            "the body must be empty or a JSON object like {\"force_refresh\": true}".into(),
        )
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/access-token",
    tag = "connections",
    params(("id" = String, Path, description = "The connection id (a UUID)")),
    request_body(content = Option<AccessTokenRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "A valid access token", body = AccessTokenResponse),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such connection for this key", body = ErrorBody),
        (status = 409, description = "The connection is revoked or uninstalled (`connection_inactive`), or cannot be refreshed (`conflict`)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 502, description = "The marketplace refused the refresh or answered nonsense", body = ErrorBody),
        (status = 503, description = "The marketplace or a backend is unavailable; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn access_token(
    services: web::Data<Services>,
    client: ApiClient,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = connections::parse_id(&path)?;
    let body = payload
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?
        .map_err(|_| AppError::BadRequest("the body cannot be read".into()))?;
    let request = read_request(&body)?;
    let token = match services.tokens.cached(id).await {
        Some(token) if !request.force_refresh => token,
        _ => {
            // Only connections this key may see are loaded or refreshed.
            connections::find_visible(&services, &client, id).await?;
            services
                .tokens
                .access_token(id, request.force_refresh)
                .await
                .map_err(|error| AppError::from(error.as_ref()))?
        }
    };
    if !client.may_see(&token.app) {
        return Err(AppError::NotFound.into());
    }
    let answer = AccessTokenResponse {
        connection_id: id,
        access_token: token.access_token.expose(),
        token_type: "bearer",
        expires_at: token.expires_at_rfc3339.as_deref(),
        api_domain: token.api_domain.as_deref(),
    };
    // Written into a buffer that fits the answer, where `HttpResponseBuilder::json` would start
    // at 128 bytes and grow it once or more (a token alone can be longer).
    let mut body = Vec::with_capacity(
        ANSWER_BYTES + answer.access_token.len() + answer.api_domain.map_or(0, str::len),
    );
    serde_json::to_writer(&mut body, &answer)
        .map_err(|error| AppError::Unexpected(error.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .content_type(ContentType::json())
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer's bytes, as clients parse them: field order, the id's form, `null` for no
    /// expiry, no `api_domain` when there is none.
    #[test]
    fn the_answer_is_written_field_by_field_with_the_id_as_lowercase_text() {
        let id = ConnectionId::parse("0190A5C3-7B1E-7C2D-9F00-123456789ABC").unwrap();
        let answer = AccessTokenResponse {
            connection_id: id,
            access_token: "tok\"en",
            token_type: "bearer",
            expires_at: None,
            api_domain: None,
        };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"connection_id":"0190a5c3-7b1e-7c2d-9f00-123456789abc","access_token":"tok\"en","token_type":"bearer","expires_at":null}"#
        );
        let answer = AccessTokenResponse {
            expires_at: Some("2026-12-07T20:00:00Z"),
            api_domain: Some("https://api.example.com"),
            ..answer
        };
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"connection_id":"0190a5c3-7b1e-7c2d-9f00-123456789abc","access_token":"tok\"en","token_type":"bearer","expires_at":"2026-12-07T20:00:00Z","api_domain":"https://api.example.com"}"#
        );
    }
}
