//! Installs that arrive from a marketplace without a state (installs started in the marketplace):
//! the code is exchanged at once and the tokens held as a pending connection, which a vendor
//! account then claims: by signing in or up inside this flow, or, when the user was signed in
//! already, by an explicit confirmation. The pending install lives in this browser's session, so
//! no other browser can claim it.

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{
    Account, AccountId, AuthorizationCode, Claim, Connection, ConnectionId, Held, Provider,
};
use serde::Deserialize;

use crate::csrf;
use crate::errors::{AppError, PageError};
use crate::i18n::{Language, Texts};
use crate::metrics::{Outcome, Step};
use crate::pages::{self, ConnectionOffer};
use crate::providers::PreparedApp;
use crate::routes::account::{SignInFor, sign_in_then};
use crate::routes::entitled::{self, Entitled};
use crate::routes::respond::{form_html, html, install_failure, to_setup};
use crate::routes::signed_in::current_account;
use crate::services::Services;
use crate::session::{GatewaySession, PendingInstall};
use crate::settings::AppSettings;

fn claim_path(app: &AppSettings) -> String {
    format!("/install/{}/{}/claim", app.provider, app.id)
}

async fn signed_in(
    services: &Services,
    session: &GatewaySession,
) -> Result<Option<Account>, AppError> {
    current_account(services, session).await
}

/// The callback with a code and no state: exchange now, hold the tokens, then ask who claims it.
pub async fn hold_and_ask(
    services: &Services,
    session: &GatewaySession,
    app: &AppSettings,
    prepared: &PreparedApp,
    code: &AuthorizationCode,
    language: Language,
) -> Result<HttpResponse, AppError> {
    let provider = prepared.provider.as_ref();
    let installing = prepared.installing();
    let held = services
        .flow
        .hold(installing, code)
        .await
        .map_err(install_failure(&app.id, provider.display_name()))?;
    let connection = match held {
        // A reinstall of a connection that is claimed already: straight to the setup page.
        Held::AlreadyClaimed(connection) => return Ok(to_setup(app, &connection)),
        Held::Pending(connection) => connection,
    };
    session.set_pending_install(&PendingInstall {
        app: app.id.to_string(),
        provider: app.provider.to_string(),
        connection: connection.id.to_string(),
    })?;
    match signed_in(services, session).await? {
        Some(account) => {
            let texts = services.texts(language, Some(app.id.as_str()));
            offer_page(session, app, provider, &connection, &account, &texts)
        }
        None => {
            sign_in_then(
                services,
                &claim_path(app),
                Some(SignInFor::new(&app.id, &app.provider)),
            )
            .await
        }
    }
}

/// The question a signed-in user answers with a CSRF-checked `POST …/confirm`: connect this
/// marketplace account to your account?
fn offer_page(
    session: &GatewaySession,
    app: &AppSettings,
    provider: &dyn Provider,
    connection: &Connection,
    account: &Account,
    texts: &Texts,
) -> Result<HttpResponse, AppError> {
    let offer = ConnectionOffer {
        branding: app.branding.clone(),
        marketplace: provider.display_name().to_owned(),
        account: provider.describe(connection),
        vendor_account: account
            .email
            .as_ref()
            .map_or_else(|| account.id.to_string(), ToString::to_string),
        confirm_action: format!("/install/{}/{}/confirm", app.provider, app.id),
    };
    let csrf_token = session.csrf_token()?;
    Ok(form_html(
        actix_web::http::StatusCode::OK,
        pages::confirm_connection(texts, &offer, &csrf_token),
    ))
}

/// The pending install of this session for `app`, if there is one.
fn pending_for(session: &GatewaySession, app: &AppSettings) -> Result<ConnectionId, AppError> {
    session
        .pending_install()
        .filter(|pending| {
            pending.app == app.id.as_str() && pending.provider == app.provider.as_str()
        })
        .and_then(|pending| ConnectionId::parse(&pending.connection).ok())
        .ok_or_else(|| {
            AppError::BadRequest(
                "this installation has expired; start it again from the marketplace".into(),
            )
        })
}

/// Attaches this session's pending install of `app` to `account` and continues to the app's
/// setup page. A connection another account owns stays with it: the user gets a page that says
/// so, and `connection.claim_refused` records the attempt.
async fn attach_and_continue(
    services: &Services,
    session: &GatewaySession,
    app: &AppSettings,
    account: &AccountId,
    language: Language,
) -> Result<HttpResponse, AppError> {
    let id = pending_for(session, app)?;
    // The vendor may want a subscription first: the install stays held meanwhile, and the way
    // back leads to the confirmation again.
    let workspace = match entitled::unasked(session, app) {
        Ok(workspace) => workspace,
        // Asked with the marketplace account, when the install is still held (a claim of one
        // that is gone finds it gone).
        Err(_) => match services.vault.get(id).await? {
            Some(held) if held.status.holds_tokens() => {
                let tenant = held.tenant();
                let about = entitled::About {
                    tenant: tenant.as_ref(),
                    marketplace_key: Some(&held.marketplace_key),
                };
                let target = || claim_path(app);
                let check =
                    entitled::check(services, session, app, account, about, target, || language);
                match check.await? {
                    Entitled::Yes(chosen) => chosen,
                    Entitled::Ask(page) => return Ok(page),
                    Entitled::No(answer) => {
                        services.metrics.install(
                            app.provider.as_str(),
                            app.id.as_str(),
                            Step::Claim,
                            Outcome::Failed("not_entitled"),
                        );
                        return Ok(answer);
                    }
                }
            }
            _ => None,
        },
    };
    let claimed = services.flow.claim(id, account, workspace.as_ref()).await?;
    let (outcome, answer) = match claimed {
        Claim::Attached(connection) => {
            session.clear_pending_install();
            (Outcome::Finalized, Ok(to_setup(app, &connection)))
        }
        Claim::OwnedByAnother => {
            session.clear_pending_install();
            let texts = services.texts(language, Some(app.id.as_str()));
            let page = refused_claim(app, &texts);
            (Outcome::Failed("owned_by_another"), Ok(page))
        }
        Claim::Gone => {
            return Err(AppError::BadRequest(
                "this installation has expired; start it again from the marketplace".into(),
            ));
        }
    };
    services
        .metrics
        .install(app.provider.as_str(), app.id.as_str(), Step::Claim, outcome);
    answer
}

/// The 409 page for a claim of a connection another account owns.
fn refused_claim(app: &AppSettings, t: &Texts) -> HttpResponse {
    let marketplace = pages::marketplace_name(app.provider.as_str());
    html(
        actix_web::http::StatusCode::CONFLICT,
        pages::message(
            t,
            &t.get("already-connected-title"),
            &t.with("already-connected-text", &[("marketplace", &marketplace)]),
            &t.get("already-connected-hint"),
        ),
    )
}

/// After a sign-in or sign-up form posted inside an install's flow: when the form names this
/// browser's pending install (and it is still pending), attaches it to `account` and answers
/// with the next step. `None` when there is nothing to attach: the caller continues as usual.
pub async fn attach_named_install(
    services: &Services,
    session: &GatewaySession,
    named: Option<&str>,
    account: &AccountId,
    language: Language,
) -> Result<Option<HttpResponse>, AppError> {
    let (Some(named), Some(pending)) = (named, session.pending_install()) else {
        return Ok(None);
    };
    if pending.connection != named {
        return Ok(None);
    }
    let Some((app, _)) =
        services
            .prepared
            .resolve(&services.settings, &pending.provider, &pending.app)
    else {
        return Ok(None);
    };
    let Ok(id) = ConnectionId::parse(&pending.connection) else {
        return Ok(None);
    };
    let still_held = services
        .vault
        .get(id)
        .await?
        .is_some_and(|connection| connection.status.holds_tokens());
    if !still_held {
        return Ok(None);
    }
    attach_and_continue(services, session, app, account, language)
        .await
        .map(Some)
}

/// `GET /install/{provider}/{app}/claim`: where an install continues after a sign-in that did
/// not attach it (the vendor's own login, say). A GET never attaches: a signed-in user gets the
/// confirmation page, anyone else the sign-in page.
pub async fn claim(
    services: web::Data<Services>,
    session: GatewaySession,
    path: web::Path<(String, String)>,
    language: Language,
) -> Result<HttpResponse, PageError> {
    let (app, prepared) = services
        .prepared
        .resolve(&services.settings, &path.0, &path.1)
        .ok_or(AppError::NotFound)?;
    let id = pending_for(&session, app)?;
    let Some(account) = signed_in(&services, &session).await? else {
        return Ok(sign_in_then(
            &services,
            &claim_path(app),
            Some(SignInFor::new(&app.id, &app.provider)),
        )
        .await?);
    };
    let connection = services
        .vault
        .get(id)
        .await?
        .filter(|connection| connection.status.holds_tokens())
        .ok_or_else(|| {
            AppError::BadRequest(
                "this installation has expired; start it again from the marketplace".into(),
            )
        })?;
    Ok(offer_page(
        &session,
        app,
        prepared.provider.as_ref(),
        &connection,
        &account,
        &services.texts(language, Some(app.id.as_str())),
    )?)
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf_token: String,
    decision: Option<String>,
}

/// `POST /install/{provider}/{app}/confirm`: the signed-in user's answer.
pub async fn confirm(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    language: Language,
    form: web::Form<Decision>,
) -> Result<HttpResponse, PageError> {
    let (app, prepared) = services
        .prepared
        .resolve(&services.settings, &path.0, &path.1)
        .ok_or(AppError::NotFound)?;
    let provider = prepared.provider.as_ref();
    csrf::check(
        &request,
        &session,
        &form.csrf_token,
        &services.settings.server.public_url,
    )?;
    let account = signed_in(&services, &session)
        .await?
        .ok_or(AppError::Forbidden("sign in to confirm this connection"))?;
    match form.decision.as_deref() {
        Some("confirm") => {
            Ok(attach_and_continue(&services, &session, app, &account.id, language).await?)
        }
        Some("cancel") => {
            let id = pending_for(&session, app)?;
            let installing = prepared.installing();
            services
                .flow
                .cancel_held(installing, id)
                .await
                .map_err(AppError::from)?;
            session.clear_pending_install();
            services.metrics.install(
                app.provider.as_str(),
                app.id.as_str(),
                Step::Claim,
                Outcome::Cancelled,
            );
            Ok(html(
                actix_web::http::StatusCode::OK,
                pages::install_cancelled(
                    &services.texts(language, Some(app.id.as_str())),
                    provider.display_name(),
                    &app.branding,
                ),
            ))
        }
        _ => Err(AppError::BadRequest("choose to connect or to cancel".into()).into()),
    }
}
