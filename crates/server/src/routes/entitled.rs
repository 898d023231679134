//! The entitlement check of an install, after sign-in and before anything is installed: when
//! the vendor refuses, the user goes to its plan page with a `resume` link back (single-use,
//! short-lived, for this browser only), which continues the install and asks again. When the
//! vendor lists more than one workspace, the user picks one on the workspace page first; the
//! choice continues the install the same way, and is checked against the next answer.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use installgate_core::{AccountId, MarketplaceKey, Tenant, Workspace};

use crate::entitlement::{Question, Verdict};
use crate::errors::AppError;
use crate::i18n::Language;
use crate::pages;
use crate::park;
use crate::routes::location::Location;
use crate::routes::respond::{form_html, html, see_other};
use crate::services::Services;
use crate::session::GatewaySession;
use crate::settings::AppSettings;

/// What the vendor's check means for the install.
#[derive(Debug)]
pub enum Entitled {
    /// Go on with the install, into this workspace when the vendor has workspaces.
    Yes(Option<Workspace>),
    /// Answer this instead (the plan page, or the try-again page).
    No(HttpResponse),
    /// Allowed, once the user has picked a workspace on this page (not a refusal).
    Ask(HttpResponse),
}

/// What the install is about, as far as it is known when the vendor is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    pub tenant: Option<&'a Tenant>,
    /// The marketplace account, once a grant names it (a held install).
    pub marketplace_key: Option<&'a MarketplaceKey>,
}

/// Asks the vendor whether `account` may install `app` (`about` what), when the app has a
/// check. `target` makes the gateway request that continues the install once the user comes
/// back (asked for only then); `language` the language of a page (asked for only when one is
/// shown).
pub async fn check(
    services: &Services,
    session: &GatewaySession,
    app: &AppSettings,
    account: &AccountId,
    about: About<'_>,
    target: impl FnOnce() -> String,
    language: impl FnOnce() -> Language,
) -> Result<Entitled, AppError> {
    let policy = match unasked(session, app) {
        Ok(workspace) => return Ok(Entitled::Yes(workspace)),
        Err(policy) => policy,
    };
    let named = session.named_workspace();
    let question = Question {
        app: &app.id,
        provider: &app.provider,
        account,
        tenant: about.tenant.map(Tenant::as_str),
        marketplace_key: about.marketplace_key.map(MarketplaceKey::as_str),
    };
    match services
        .entitlements
        .ask(policy, &question, services.clock.as_ref())
        .await
    {
        Verdict::Allow { workspaces } => {
            let chosen = session.take_workspace_choice(account);
            let listed = |id: &str| workspaces.iter().find(|w| w.id == id).cloned();
            if let Some(named) =
                named.filter(|named| workspaces.is_empty() || listed(&named.id).is_some())
            {
                return Ok(Entitled::Yes(Some(named)));
            }
            if workspaces.len() <= 1 {
                return Ok(Entitled::Yes(workspaces.into_iter().next()));
            }
            if let Some(workspace) = chosen.as_deref().and_then(listed) {
                return Ok(Entitled::Yes(Some(workspace)));
            }
            let token = park_here(services, session, &target()).await?;
            let page = pages::choose_workspace(
                &services.texts(language(), Some(app.id.as_str())),
                &pages::WorkspaceChoice {
                    app: app
                        .branding
                        .display_name
                        .clone()
                        .unwrap_or_else(|| app.id.to_string()),
                    marketplace: pages::marketplace_name(app.provider.as_str()),
                    workspaces,
                    choice: token.expose().to_owned(),
                },
                &session.csrf_token()?,
                &app.branding,
            );
            Ok(Entitled::Ask(form_html(StatusCode::OK, page)))
        }
        Verdict::Refuse { mut redirect_url } => {
            let token = park_here(services, session, &target()).await?;
            let resume = format!(
                "{}/account/resume/{}",
                services
                    .settings
                    .server
                    .public_url
                    .as_str()
                    .trim_end_matches('/'),
                token.expose()
            );
            redirect_url
                .query_pairs_mut()
                .append_pair("resume", &resume);
            tracing::info!(app = %app.id, "the vendor asked the user to choose a plan first");
            Ok(Entitled::No(see_other(&Location::vendor(&redirect_url))))
        }
        Verdict::Unavailable => Ok(Entitled::No(html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::try_again_shortly(
                &services.texts(language(), Some(app.id.as_str())),
                &app.branding,
            ),
        ))),
    }
}

/// Where the install lands when the vendor is not asked (the app has no check, or the vendor's
/// assertion said the user is entitled): the workspace the assertion named, if any. The
/// app's check when the vendor must be asked.
pub fn unasked<'a>(
    session: &GatewaySession,
    app: &'a AppSettings,
) -> Result<Option<Workspace>, &'a crate::settings::Entitlement> {
    match &app.install_policy.entitlement {
        Some(policy) if !session.entitled() => Err(policy),
        _ => Ok(session.named_workspace()),
    }
}

/// Parks `target` for this browser only, to be continued once.
async fn park_here(
    services: &Services,
    session: &GatewaySession,
    target: &str,
) -> Result<installgate_core::StateToken, AppError> {
    let browser = session.browser_binding()?;
    park::park_for(
        services.state_store.as_ref(),
        target,
        services.settings.state.ttl,
        Some(&browser),
    )
    .await
}

/// `GET /account/resume/{token}`: back from the vendor's plan page, in the browser that left,
/// once.
pub async fn resume(
    services: actix_web::web::Data<Services>,
    session: GatewaySession,
    path: actix_web::web::Path<String>,
) -> Result<HttpResponse, crate::errors::PageError> {
    let parked = park::take_here(services.state_store.as_ref(), &session, &path).await?;
    let location = parked.and_then(|parked| Location::gateway(&parked.target));
    match location {
        Some(location) => Ok(see_other(&location)),
        None => Err(AppError::BadRequest(
            "this link has expired, was used already, or was opened in another browser: start the install again"
                .into(),
        )
        .into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct WorkspaceForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    choice: String,
    #[serde(default)]
    workspace: String,
}

/// `POST /account/workspace`: the signed-in user picked a workspace. The choice is remembered
/// for the install it continues (parked for this browser, once), which checks it against the
/// vendor's next answer.
pub async fn choose_workspace(
    services: actix_web::web::Data<Services>,
    session: GatewaySession,
    request: actix_web::HttpRequest,
    form: actix_web::web::Form<WorkspaceForm>,
) -> Result<HttpResponse, crate::errors::PageError> {
    crate::csrf::check(
        &request,
        &session,
        &form.csrf_token,
        &services.settings.server.public_url,
    )?;
    let account = crate::routes::signed_in::current_account(&services, &session)
        .await?
        .ok_or(AppError::Forbidden("sign in to choose a workspace"))?;
    if form.workspace.is_empty() || form.workspace.len() > 1000 {
        return Err(AppError::BadRequest("choose a workspace".into()).into());
    }
    let parked = park::take_here(services.state_store.as_ref(), &session, &form.choice).await?;
    let Some(location) = parked.and_then(|parked| Location::gateway(&parked.target)) else {
        return Err(AppError::BadRequest(
            "this page has expired, was used already, or was opened in another browser: start the install again"
                .into(),
        )
        .into());
    };
    session.set_workspace_choice(&account.id, &form.workspace)?;
    Ok(see_other(&location))
}
