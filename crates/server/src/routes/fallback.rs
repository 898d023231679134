//! What the gateway answers when no route matches, or a framework extractor refuses the input:
//! the same HTML page or JSON body as every other error.

use actix_web::error::{JsonPayloadError, QueryPayloadError, UrlencodedError};
use actix_web::{HttpRequest, HttpResponse};

use crate::errors::{self, AppError};

pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    Err(errors::for_path(request.path(), AppError::NotFound))
}

pub fn query_error(error: QueryPayloadError, request: &HttpRequest) -> actix_web::Error {
    let message = match error {
        QueryPayloadError::Deserialize(_) => "the query parameters are not valid",
        _ => "the query string cannot be read",
    };
    errors::for_path(request.path(), AppError::BadRequest(message.into()))
}

pub fn json_error(error: JsonPayloadError, request: &HttpRequest) -> actix_web::Error {
    let app_error = match error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            AppError::BadRequest("the body must be JSON (Content-Type: application/json)".into())
        }
        _ => AppError::BadRequest("the JSON body is not valid".into()),
    };
    errors::for_path(request.path(), app_error)
}

pub fn form_error(error: UrlencodedError, request: &HttpRequest) -> actix_web::Error {
    let app_error = match error {
        UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("the form is not valid".into()),
    };
    errors::for_path(request.path(), app_error)
}

/// Replaces the framework's empty 405 with the gateway's own error body.
pub fn method_not_allowed<B>(
    response: actix_web::dev::ServiceResponse<B>,
) -> actix_web::dev::ServiceResponse {
    let (request, _) = response.into_parts();
    let error = errors::for_path(request.path(), AppError::MethodNotAllowed);
    actix_web::dev::ServiceResponse::new(request, error.error_response())
}
