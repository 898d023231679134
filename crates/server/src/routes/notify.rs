//! Notices a marketplace sends on its own: `POST /notify/{provider}/{app}` (signed webhooks), and
//! `DELETE /install/{provider}/{app}` where a marketplace sends its uninstall notice to the
//! install URL. The provider verifies and reads the notice; this applies it. Marketplaces do not
//! read the answer; it is still accurate: 200 once applied (or already, or about an unknown
//! installation), 401 when not authenticated, 400 for a body that is not a notice for this app,
//! 405 (on `DELETE`) or 404 (on `/notify`) for a marketplace that sends no such notice. A
//! notice the marketplace names a delivery id for is applied once, however often it is
//! delivered: a repeat is answered 200 and changes nothing.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{DeliverySeen, InboundRequest, MarketplaceKey, Notice, NoticeError};
use serde_json::json;

use crate::errors::{ApiError, AppError};
use crate::metrics::{Outcome, Step};
use crate::providers::PreparedApp;
use crate::routes::respond::inbound_headers;
use crate::services::Services;
use crate::settings::AppSettings;

/// `DELETE /install/{provider}/{app}`.
pub async fn at_install_url(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    notice(
        &services,
        &request,
        &path,
        &body,
        AppError::MethodNotAllowed,
    )
    .await
}

/// `POST /notify/{provider}/{app}`.
pub async fn notify(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    notice(&services, &request, &path, &body, AppError::NotFound).await
}

async fn notice(
    services: &Services,
    request: &HttpRequest,
    path: &(String, String),
    body: &[u8],
    unsupported: AppError,
) -> Result<HttpResponse, ApiError> {
    let (provider_id, app_id) = path;
    let (app, prepared) = services
        .prepared
        .resolve(&services.settings, provider_id, app_id)
        .ok_or(AppError::NotFound)?;
    let headers = inbound_headers(request);

    let inbound = InboundRequest {
        method: request.method().as_str(),
        query: request.query_string(),
        headers: &headers,
        body,
    };
    match prepared
        .provider
        .parse_notice(&prepared.credentials, &inbound)
    {
        Ok(notice) => {
            let installing = prepared.installing();
            let delivery = match prepared.provider.delivery_id(&inbound) {
                Some(id) => match services
                    .flow
                    .first_delivery(installing, &id)
                    .await
                    .map_err(AppError::from)?
                {
                    DeliverySeen::First(delivery) => Some(delivery),
                    DeliverySeen::Applied => {
                        tracing::info!(app = %app.id, "repeated notice delivery");
                        return Ok(HttpResponse::Ok().json(json!({ "status": "ok" })));
                    }
                    DeliverySeen::Applying => {
                        // The marketplace tries again; by then the first try is done.
                        return Ok(HttpResponse::ServiceUnavailable()
                            .insert_header((header::RETRY_AFTER, "5"))
                            .json(json!({ "error": { "code": "unavailable", "message": "this delivery is being applied; try again shortly" } })));
                    }
                },
                None => None,
            };
            let applied = apply(services, app, prepared, notice).await;
            match (&applied, delivery) {
                (Ok(()), Some(delivery)) => services.flow.delivered(delivery).await,
                (Err(_), Some(delivery)) => services.flow.forget_delivery(delivery).await,
                (_, None) => {}
            }
            applied?;
            Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
        }
        Err(NoticeError::NotSupported) => Err(unsupported.into()),
        Err(NoticeError::Unauthenticated { challenge }) => {
            tracing::warn!(app = %app.id, "notice with bad credentials");
            services.metrics.install(
                app.provider.as_str(),
                app.id.as_str(),
                Step::Uninstall,
                Outcome::Failed("refused"),
            );
            let mut answer = HttpResponse::Unauthorized();
            if let Some(challenge) = challenge {
                answer.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Ok(answer.json(json!({ "error": { "code": "unauthorized", "message": "the credentials are not this app's" } })))
        }
        Err(NoticeError::Malformed(reason)) => Err(AppError::BadRequest(reason).into()),
    }
}

async fn apply(
    services: &Services,
    app: &AppSettings,
    prepared: &PreparedApp,
    notice: Notice,
) -> Result<(), AppError> {
    match notice {
        Notice::Uninstalled { marketplace_key } => {
            uninstalled(services, app, prepared, &marketplace_key).await
        }
        Notice::Privacy {
            marketplace_key,
            request,
            details,
        } => {
            let installing = prepared.installing();
            services
                .flow
                .privacy_request(installing, &marketplace_key, request, details)
                .await?;
            Ok(())
        }
    }
}

/// Marks the installation uninstalled (once, with its event), and forgets its cached token.
async fn uninstalled(
    services: &Services,
    app: &AppSettings,
    prepared: &PreparedApp,
    key: &MarketplaceKey,
) -> Result<(), AppError> {
    let installing = prepared.installing();
    if let Some(id) = services.flow.uninstalled(installing, key).await? {
        services.tokens.forget(id).await;
        services.metrics.install(
            app.provider.as_str(),
            app.id.as_str(),
            Step::Uninstall,
            Outcome::Uninstalled,
        );
    }
    Ok(())
}
