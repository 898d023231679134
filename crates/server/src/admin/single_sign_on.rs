//! `GET /admin/oidc/start` and `GET /admin/oidc/callback`: console sign-in through the
//! company's OpenID Connect provider (see `oidc`). A refused sign-in is shown and audited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::Email;
use maud::html;
use serde::Deserialize;

use super::auth::ConsoleSession;
use super::console::Console;
use super::layout::bare;
use super::oidc::OidcError;
use super::sign_in::see_other;
use crate::errors::{AppError, PageError};
use crate::routes::location::Location;
use crate::routes::respond;
use crate::services::Services;

const CALLBACK: &str = "/admin/oidc/callback";

pub async fn start(
    console: web::Data<Console>,
    session: ConsoleSession,
) -> Result<HttpResponse, PageError> {
    let oidc = console.oidc.as_ref().ok_or(AppError::NotFound)?;
    match oidc.start(&console.url(CALLBACK)).await {
        Ok((url, pending)) => {
            session.set_oidc(&pending)?;
            Ok(respond::found(&Location::sign_in_provider(&url)))
        }
        Err(error) => Ok(refused(StatusCode::BAD_GATEWAY, &error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn refused(status: StatusCode, error: &OidcError) -> HttpResponse {
    bare(
        status,
        "Sign-in refused",
        html! {
            p class="error" role="alert" { (error.to_string()) }
            p { a href="/admin/sign-in" { "Back to sign-in" } }
        },
    )
}

pub async fn callback(
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    query: web::Query<Callback>,
) -> Result<HttpResponse, PageError> {
    let oidc = console.oidc.as_ref().ok_or(AppError::NotFound)?;
    let pending = session.take_oidc();
    let outcome = match (&query.error, &query.code, &query.state) {
        (Some(error), _, _) => Err(OidcError::Denied(error.chars().take(100).collect())),
        (None, Some(code), Some(state)) => {
            oidc.finish(pending, state, code, &console.url(CALLBACK))
                .await
        }
        _ => Err(OidcError::State),
    };
    // A refused sign-in: audited (by the email, when there is one), and shown.
    let refuse = async |actor: &str, error: OidcError| {
        console
            .audit(
                &services,
                &request,
                actor,
                "sign_in.oidc",
                "",
                &format!("refused: {error}"),
            )
            .await;
        let status = match error {
            OidcError::Provider(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::FORBIDDEN,
        };
        Ok::<_, PageError>(refused(status, &error))
    };
    let identity = match outcome {
        Ok(identity) => identity,
        Err(error) => {
            let actor = match &error {
                OidcError::NotAllowed(email) => email.clone(),
                _ => "(identity provider)".to_owned(),
            };
            return refuse(&actor, error).await;
        }
    };
    let Ok(email) = Email::parse(&identity.email) else {
        let error = OidcError::NotAllowed(format!("{} (not a valid email)", identity.email));
        return refuse(&identity.email, error).await;
    };
    let operator = match console
        .operators
        .from_identity_provider(&email, identity.role)
        .await
    {
        Ok(operator) => operator,
        Err(installgate_store::OperatorError::PasswordOperator) => {
            let error = OidcError::NotAllowed(format!("{} (a password operator)", identity.email));
            return refuse(&identity.email, error).await;
        }
        Err(other) => return Err(other.into()),
    };
    session.sign_in(&operator.id, services.clock.now())?;
    console
        .audit(
            &services,
            &request,
            &operator.email,
            "sign_in.oidc",
            "",
            "ok",
        )
        .await;
    Ok(see_other("/admin/overview"))
}
