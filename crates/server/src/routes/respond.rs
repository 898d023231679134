//! Responses the page routes share: redirects, HTML pages, the setup page of an install, and the
//! page for an install the marketplace did not complete.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use installgate_core::{AppId, Connection, FlowError};

use crate::errors::AppError;
use crate::routes::location::Location;
use crate::settings::AppSettings;

/// `302 Found`: to a validated return URL or a provider's page.
pub fn found(location: &Location) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location.as_str()))
        .finish()
}

/// `303 See Other`: after a form post, or on to the next gateway page.
pub fn see_other(location: &Location) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.as_str()))
        .finish()
}

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A page with a form that posts back to the gateway. Under `Referrer-Policy: no-referrer`
/// browsers send `Origin: null` with a form post, which the CSRF check must refuse; under
/// `same-origin` they send the gateway's origin to the gateway and nothing to anyone else.
pub fn form_html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body)
}

/// On to the app's setup page with the connection id, or the account page without one.
pub fn to_setup(app: &AppSettings, connection: &Connection) -> HttpResponse {
    see_other(&setup_location(app, connection))
}

/// The app's setup page for `connection` (the account page when it has none).
pub fn setup_location(app: &AppSettings, connection: &Connection) -> Location {
    match &app.setup_url {
        Some(setup) => {
            let mut url = setup.clone();
            url.query_pairs_mut()
                .append_pair("connection_id", &connection.id.to_string());
            Location::configured(&url)
        }
        None => Location::account_page(),
    }
}

/// An install that failed at the marketplace is 502 (logged without secrets); other failures
/// keep their own mapping.
pub fn install_failure<'a>(
    app: &'a AppId,
    marketplace: &'static str,
) -> impl Fn(FlowError) -> AppError + 'a {
    move |error| match error {
        FlowError::Provider(error) => {
            tracing::warn!(app = %app, %error, "install failed at the provider");
            AppError::BadGateway(marketplace)
        }
        other => other.into(),
    }
}

/// A request's headers as a provider reads them: names in lower case, values that are text.
pub fn inbound_headers(request: &actix_web::HttpRequest) -> Vec<(String, String)> {
    request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}
