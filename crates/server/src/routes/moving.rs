//! Moving a connection to another workspace: a reinstall that named another workspace than its
//! connection's leaves the connection where it is and asks the user (`POST /account/move`, for
//! the browser that was asked, once), then goes on where the install was going.

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{AccountId, ConnectionId, MoveOffer};
use serde::Deserialize;

use crate::errors::{AppError, PageError};
use crate::i18n::Language;
use crate::pages;
use crate::park::{self, ParkedMove};
use crate::routes::location::Location;
use crate::routes::respond::{form_html, see_other};
use crate::services::Services;
use crate::session::GatewaySession;
use crate::settings::AppSettings;

/// The move page for `offer`; `then` is where the install was going.
pub async fn ask(
    services: &Services,
    session: &GatewaySession,
    app: &AppSettings,
    offer: MoveOffer,
    then: &Location,
    language: Language,
) -> Result<HttpResponse, AppError> {
    let browser = session.browser_binding()?;
    let question = pages::MoveQuestion {
        marketplace: pages::marketplace_name(app.provider.as_str()),
        from: offer.from.name,
        to: offer.to.name.clone(),
        token: String::new(),
    };
    let token = park::park_move(
        services.state_store.as_ref(),
        services.settings.state.ttl,
        &browser,
        ParkedMove {
            app: app.id.to_string(),
            connection: offer.connection.to_string(),
            account: offer.account.as_str().to_owned(),
            to: offer.to,
            then: then.keep(),
        },
    )
    .await?;
    let question = pages::MoveQuestion {
        token: token.expose().to_owned(),
        ..question
    };
    let texts = services.texts(language, Some(app.id.as_str()));
    let page = pages::confirm_move(&texts, &question, &session.csrf_token()?, &app.branding);
    Ok(form_html(actix_web::http::StatusCode::OK, page))
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    question: String,
    decision: Option<String>,
}

/// `POST /account/move`: the user's answer; either way, on to where the install was going.
pub async fn answer(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, PageError> {
    crate::csrf::check(
        &request,
        &session,
        &form.csrf_token,
        &services.settings.server.public_url,
    )?;
    let move_it = match form.decision.as_deref() {
        Some("move") => true,
        Some("keep") => false,
        _ => return Err(AppError::BadRequest("choose to move it or to keep it".into()).into()),
    };
    let parked = park::take_here(services.state_store.as_ref(), &session, &form.question).await?;
    let Some(question) = parked.and_then(|parked| parked.moving) else {
        return Err(AppError::BadRequest(
            "this question has expired, was answered already, or was opened in another browser"
                .into(),
        )
        .into());
    };
    if move_it {
        let (Ok(id), Ok(account)) = (
            ConnectionId::parse(&question.connection),
            AccountId::parse(&question.account),
        ) else {
            return Err(AppError::Unexpected(anyhow::anyhow!("a parked move is not valid")).into());
        };
        match services.vault.move_to(id, &account, &question.to).await? {
            Some(_) => {
                tracing::info!(app = %question.app, connection = %id, "connection moved to another workspace")
            }
            None => {
                tracing::info!(app = %question.app, connection = %id, "connection not moved: no longer active")
            }
        }
    }
    Ok(see_other(&Location::kept(&question.then)))
}
