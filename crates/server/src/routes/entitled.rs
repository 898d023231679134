//! The entitlement check of an install, after sign-in and before anything is installed: when
//! the vendor refuses, the user goes to its plan page with a `resume` link back (single-use,
//! short-lived, for this browser only), which continues the install and asks again.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use installgate_core::{AccountId, MarketplaceKey, Tenant};

use crate::entitlement::{Question, Verdict};
use crate::errors::AppError;
use crate::i18n::Language;
use crate::pages;
use crate::park;
use crate::routes::location::Location;
use crate::routes::respond::{html, see_other};
use crate::services::Services;
use crate::session::GatewaySession;
use crate::settings::AppSettings;

/// What the vendor's check means for the install.
#[derive(Debug)]
pub enum Entitled {
    /// Go on with the install.
    Yes,
    /// Answer this instead (the plan page, or the try-again page).
    No(HttpResponse),
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
/// back (asked for only then).
pub async fn check(
    services: &Services,
    session: &GatewaySession,
    app: &AppSettings,
    account: &AccountId,
    about: About<'_>,
    target: impl FnOnce() -> String,
    language: Language,
) -> Result<Entitled, AppError> {
    let Some(policy) = &app.install_policy.entitlement else {
        return Ok(Entitled::Yes);
    };
    // The vendor's own assertion said so at sign-in: no question to ask.
    if session.entitled() {
        return Ok(Entitled::Yes);
    }
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
        Verdict::Allow => Ok(Entitled::Yes),
        Verdict::Refuse { mut redirect_url } => {
            let browser = session.browser_binding()?;
            let token = park::park_for(
                services.state_store.as_ref(),
                &target(),
                services.settings.state.ttl,
                Some(&browser),
            )
            .await?;
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
                &services.texts(language, Some(app.id.as_str())),
                &app.branding,
            ),
        ))),
    }
}

/// `GET /account/resume/{token}`: back from the vendor's plan page, in the browser that left,
/// once.
pub async fn resume(
    services: actix_web::web::Data<Services>,
    session: GatewaySession,
    path: actix_web::web::Path<String>,
) -> Result<HttpResponse, crate::errors::PageError> {
    let browser = session.existing_browser_binding();
    let parked = park::take_for(
        services.state_store.as_ref(),
        &path.into_inner(),
        browser.as_ref(),
    )
    .await?;
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
