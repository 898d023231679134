//! `GET /install/{provider}/{app}`, the one URL registered at a marketplace, and
//! `GET /connect/{provider}/{app}`, which starts an install from the vendor's own pages.

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{
    Account, AppCredentials, AuthorizationCode, Decision, FlowError, InboundRequest,
    InstallRequest, Installing, Next, Provider, Reached, ReturnUrl, Tenant,
};
use std::sync::Arc;

use crate::errors::{AppError, PageError};
use crate::i18n::{Language, Texts};
use crate::metrics::{Outcome, Step};
use crate::pages;
use crate::providers::PreparedApp;
use crate::routes::account::{SignInFor, sign_in_first, sign_in_then};
use crate::routes::claim;
use crate::routes::entitled::{self, Entitled};
use crate::routes::framing::{FramedFor, ShownHost};
use crate::routes::location::Location;
use crate::routes::moving;
use crate::routes::respond::{
    found, html, inbound_headers, install_failure, setup_location, to_setup,
};
use crate::routes::signed_in::current_account;
use crate::services::Services;
use crate::session::GatewaySession;
use crate::settings::AppSettings;

impl From<FlowError> for AppError {
    fn from(error: FlowError) -> Self {
        match error {
            FlowError::StateStore(error) => error.into(),
            FlowError::Vault(error) => error.into(),
            FlowError::Provider(error) => Self::Unexpected(error.into()),
            FlowError::Random => Self::Unexpected(anyhow::anyhow!("no randomness")),
        }
    }
}

struct Install<'a> {
    services: &'a Services,
    app: &'a AppSettings,
    prepared: &'a PreparedApp,
    provider: &'a Arc<dyn Provider>,
    credentials: &'a AppCredentials,
    /// The request being answered, for the language of a page.
    request: &'a HttpRequest,
    /// The host of the return URL the request showed, once it passed the app's rules, for the
    /// framing policy of the answer.
    shown_host: std::cell::Cell<Option<String>>,
}

impl<'a> Install<'a> {
    /// The app of `/…/{provider}/{app}`; 404 unless it is configured for that provider.
    fn for_path(
        services: &'a Services,
        request: &'a HttpRequest,
        path: &(String, String),
    ) -> Result<Self, AppError> {
        let (app, prepared) = services
            .prepared
            .resolve(&services.settings, &path.0, &path.1)
            .ok_or(AppError::NotFound)?;
        Ok(Self {
            services,
            app,
            prepared,
            provider: &prepared.provider,
            credentials: &prepared.credentials,
            request,
            shown_host: std::cell::Cell::new(None),
        })
    }

    /// What a page of this install says, in the request's language.
    fn texts(&self) -> Texts {
        let language = Language::of(self.request);
        self.services.texts(language, Some(self.app.id.as_str()))
    }

    /// Counts a step of this install in the funnel.
    fn count(&self, step: Step, outcome: Outcome) {
        self.services.metrics.install(
            self.app.provider.as_str(),
            self.app.id.as_str(),
            step,
            outcome,
        );
    }

    fn return_url(&self, raw: &str) -> Result<ReturnUrl, AppError> {
        let hosts = &self.prepared.return_hosts;
        let parsed = if self.app.allow_loopback_return_urls {
            ReturnUrl::parse_allowing_loopback(raw, hosts)
        } else {
            ReturnUrl::parse(raw, hosts)
        };
        let parsed = parsed.map_err(|error| AppError::BadRequest(error.to_string()))?;
        self.shown_host.set(Some(parsed.host().to_owned()));
        Ok(parsed)
    }

    async fn account(&self, session: &GatewaySession) -> Result<Option<Account>, AppError> {
        current_account(self.services, session).await
    }

    fn installing(&self) -> Installing<'a> {
        Installing {
            provider: self.provider.as_ref(),
            credentials: self.credentials,
        }
    }

    /// Counts what a step came to, and turns its decision into a response. A refusal is an
    /// error page, counted by the caller as every failed step is.
    fn respond(&self, step: Step, decision: Decision) -> Result<HttpResponse, AppError> {
        let outcome = match decision.reached {
            Reached::SignInRequired => Some(Outcome::SignInRequired),
            Reached::StateMinted => Some(Outcome::StateMinted),
            Reached::Finalized => Some(Outcome::Finalized),
            Reached::Cancelled => Some(Outcome::Cancelled),
            Reached::Failed(_) if matches!(decision.next, Next::Refused(_)) => None,
            Reached::Failed(reason) => Some(Outcome::Failed(reason)),
        };
        if let Some(outcome) = outcome {
            self.count(step, outcome);
        }
        match decision.next {
            Next::Back(return_url) => Ok(found(&Location::back(&return_url))),
            Next::Consent(consent) => Ok(found(&Location::consent(&consent))),
            Next::Setup(connection) => Ok(to_setup(self.app, &connection)),
            Next::Cancelled => Ok(html(
                actix_web::http::StatusCode::OK,
                pages::install_cancelled(
                    &self.texts(),
                    self.provider.display_name(),
                    &self.app.branding,
                ),
            )),
            Next::Refused(why) => Err(AppError::BadRequest(why.to_string())),
            // Signing in needs the request, to park it: the caller asks for it.
            Next::SignIn => Err(AppError::Unexpected(anyhow::anyhow!(
                "a sign-in was not handled by the step"
            ))),
        }
    }

    /// `step=authorize`: sign in if needed, then send the user back with a fresh state.
    async fn authorize(
        &self,
        request: &HttpRequest,
        session: &GatewaySession,
        raw_return_url: &str,
    ) -> Result<HttpResponse, AppError> {
        let return_url = self.return_url(raw_return_url)?;
        let account = self.account(session).await?.map(|account| account.id);
        let mut workspace = None;
        if let Some(account) = &account {
            let check = entitled::check(
                self.services,
                session,
                self.app,
                account,
                entitled::About::default(),
                || format!("{}?{}", request.path(), request.query_string()),
                || Language::of(request),
            );
            match check.await? {
                Entitled::Yes(chosen) => workspace = chosen,
                Entitled::Ask(page) => return Ok(page),
                Entitled::No(answer) => {
                    self.count(Step::Authorize, Outcome::Failed("not_entitled"));
                    return Ok(answer);
                }
            }
        }
        let host = return_url.host().to_owned();
        let decision = self
            .services
            .flow
            .authorize(
                self.installing(),
                return_url,
                account,
                &self.prepared.conditional_scope,
                workspace,
            )
            .await?;
        if let Next::SignIn = decision.next {
            self.count(Step::Authorize, Outcome::SignInRequired);
            let install = SignInFor {
                frame_host: self
                    .prepared
                    .return_hosts
                    .by_pattern_only(&host)
                    .then_some(host.as_str()),
                ..SignInFor::new(&self.app.id, &self.app.provider)
            };
            return sign_in_first(self.services, request, Some(install)).await;
        }
        self.respond(Step::Authorize, decision)
    }

    /// An install the gateway starts, for `tenant` when the marketplace has tenants: a signed-in
    /// user goes on to the marketplace's consent page; anyone else signs in first, and comes
    /// back to `/connect/…` for the same tenant.
    async fn begin(
        &self,
        session: &GatewaySession,
        tenant: Option<Tenant>,
    ) -> Result<HttpResponse, AppError> {
        let mut target = format!("/connect/{}/{}", self.app.provider, self.app.id);
        if let Some(tenant) = &tenant {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("tenant", tenant.as_str())
                .finish();
            target = format!("{target}?{query}");
        }
        let mut workspace = None;
        let signed_in = match self.account(session).await? {
            Some(account) => {
                let check = entitled::check(
                    self.services,
                    session,
                    self.app,
                    &account.id,
                    entitled::About {
                        tenant: tenant.as_ref(),
                        marketplace_key: None,
                    },
                    || target.clone(),
                    || Language::of(self.request),
                );
                match check.await? {
                    Entitled::Yes(chosen) => workspace = chosen,
                    Entitled::Ask(page) => return Ok(page),
                    Entitled::No(answer) => {
                        self.count(Step::Connect, Outcome::Failed("not_entitled"));
                        return Ok(answer);
                    }
                }
                Some((account.id, session.browser_binding()?))
            }
            None => None,
        };
        let decision = self
            .services
            .flow
            .begin(self.installing(), tenant.clone(), signed_in, workspace)
            .await?;
        match decision.next {
            Next::SignIn => {
                self.count(Step::Connect, Outcome::SignInRequired);
                let install = SignInFor::new(&self.app.id, &self.app.provider);
                sign_in_then(self.services, &target, Some(install)).await
            }
            Next::Consent(_) => {
                session.set_connect_started(self.app.id.as_str())?;
                self.respond(Step::Connect, decision)
            }
            _ => self.respond(Step::Connect, decision),
        }
    }

    /// `step=finalize`: whatever happens, the user goes back to the (valid) return URL.
    async fn finalize(
        &self,
        session: &GatewaySession,
        code: &AuthorizationCode,
        state: Option<&str>,
        raw_return_url: &str,
    ) -> Result<HttpResponse, AppError> {
        let return_url = self.return_url(raw_return_url)?;
        let decision = self
            .services
            .flow
            .finalize(
                self.installing(),
                code,
                state,
                return_url,
                self.app.partner_sign_in,
            )
            .await?;
        self.respond_or_ask_to_move(session, Step::Finalize, decision)
            .await
    }

    /// Like [`Self::respond`], but a reinstall that named another workspace than its
    /// connection's first asks the user whether to move it, then goes where it was going.
    async fn respond_or_ask_to_move(
        &self,
        session: &GatewaySession,
        step: Step,
        mut decision: Decision,
    ) -> Result<HttpResponse, AppError> {
        let Some(offer) = decision.move_offer.take() else {
            return self.respond(step, decision);
        };
        let then = match &decision.next {
            Next::Back(return_url) => Location::back(return_url),
            Next::Setup(connection) => setup_location(self.app, connection),
            _ => return self.respond(step, decision),
        };
        // Counted as the step it is; the question is asked instead of its redirect.
        self.respond(step, decision)?;
        let language = Language::of(self.request);
        moving::ask(self.services, session, self.app, offer, &then, language).await
    }

    /// The OAuth callback of an install the gateway started: the state is required, and it
    /// must come back to the browser that asked for it, signed in as the same account (or not
    /// signed in any more).
    async fn callback(
        &self,
        session: &GatewaySession,
        code: &AuthorizationCode,
        state: &str,
        tenant: Option<&Tenant>,
    ) -> Result<HttpResponse, AppError> {
        let browser = session.existing_browser_binding();
        let flow = &self.services.flow;
        let binding = match flow
            .callback_state(self.installing(), state, browser.as_ref(), tenant)
            .await?
        {
            Ok(binding) => binding,
            Err(refused) => return self.respond(Step::Callback, refused),
        };
        // Asked only once the state is accepted (and used up).
        let signed_in = self.account(session).await?.map(|account| account.id);
        let decision = flow
            .finish_callback(self.installing(), code, binding, signed_in.as_ref())
            .await
            .map_err(install_failure(&self.app.id, self.provider.display_name()))?;
        self.respond_or_ask_to_move(session, Step::Callback, decision)
            .await
    }

    /// The user cancelled at the marketplace: one event, only for an install that was really
    /// started here (see `InstallFlow::cancelled`).
    async fn cancelled(
        &self,
        session: &GatewaySession,
        state: Option<&str>,
    ) -> Result<HttpResponse, AppError> {
        let app = self.app.id.as_str();
        let held_here = session
            .pending_install()
            .is_some_and(|pending| pending.app == app);
        if held_here {
            // Counted once: the browser's pending install no longer ties a later cancel.
            session.clear_pending_install();
        }
        let started_here = session.take_connect_started(app) || held_here;
        let decision = self
            .services
            .flow
            .cancelled(self.installing(), state, started_here)
            .await?;
        self.respond(Step::Callback, decision)
    }
}

/// The funnel step an install request stands for.
fn step_of(request: &InstallRequest) -> Step {
    match request {
        InstallRequest::Begin { .. } => Step::Connect,
        InstallRequest::Authorize { .. } => Step::Authorize,
        InstallRequest::Code {
            return_url: Some(_),
            ..
        } => Step::Finalize,
        InstallRequest::Code { .. } | InstallRequest::Denied { .. } => Step::Callback,
    }
}

pub async fn install(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let install = Install::for_path(&services, &request, &path)?;
    let headers = inbound_headers(&request);
    let inbound = InboundRequest {
        method: request.method().as_str(),
        query: request.query_string(),
        headers: &headers,
        body: &[],
    };
    let install_request = install
        .provider
        .parse_install(install.credentials, &inbound, services.clock.now())
        .map_err(|error| AppError::BadRequest(error.to_string()));
    let install_request = match install_request {
        Ok(install_request) => install_request,
        Err(error) => {
            install.count(Step::Request, Outcome::failed(&error));
            return Err(error.into());
        }
    };
    let step = step_of(&install_request);
    install.count(step, Outcome::Started);
    if let InstallRequest::Code { state: None, .. } | InstallRequest::Denied { state: None, .. } =
        &install_request
    {
        services
            .metrics
            .install_started_by_marketplace(install.app.provider.as_str(), install.app.id.as_str());
    }
    let tenant = match &install_request {
        InstallRequest::Begin { tenant }
        | InstallRequest::Code {
            tenant: Some(tenant),
            ..
        } => Some(tenant.clone()),
        _ => None,
    };
    let answer = answer(&install, &session, &request, install_request).await;
    if let Err(error) = &answer {
        install.count(step, Outcome::failed(error));
    }
    // The verified tenant may frame this answer (a shop's admin); error pages keep the app's
    // own policy.
    let mut response = answer?;
    if let Some(tenant) = tenant {
        response.extensions_mut().insert(FramedFor(tenant));
    }
    if let Some(host) = install.shown_host.take() {
        response.extensions_mut().insert(ShownHost(host));
    }
    Ok(response)
}

async fn answer(
    install: &Install<'_>,
    session: &GatewaySession,
    request: &HttpRequest,
    install_request: InstallRequest,
) -> Result<HttpResponse, AppError> {
    let services = install.services;
    let app = install.app;
    let response = match install_request {
        InstallRequest::Begin { tenant } => install.begin(session, Some(tenant)).await?,
        InstallRequest::Authorize { return_url } => {
            install.authorize(request, session, &return_url).await?
        }
        InstallRequest::Code {
            code,
            state,
            return_url: Some(return_url),
            ..
        } => {
            install
                .finalize(session, &code, state.as_deref(), &return_url)
                .await?
        }
        InstallRequest::Code {
            code,
            state: Some(state),
            return_url: None,
            tenant,
        } => {
            session.take_connect_started(app.id.as_str());
            install
                .callback(session, &code, &state, tenant.as_ref())
                .await?
        }
        InstallRequest::Code {
            code,
            state: None,
            return_url: None,
            ..
        } => {
            if session.take_connect_started(app.id.as_str()) {
                tracing::warn!(app = %app.id, "callback of a gateway-started install without its state");
                return Err(AppError::BadRequest(
                    "this install link has expired or was used already; start again".into(),
                ));
            }
            let language = Language::of(request);
            let held =
                claim::hold_and_ask(services, session, app, install.prepared, &code, language);
            let held = held.await?;
            install.count(Step::Callback, Outcome::Held);
            held
        }
        InstallRequest::Denied {
            cancelled: true,
            error,
            state,
            ..
        } => {
            tracing::info!(app = %app.id, %error, "the user cancelled the install");
            install.cancelled(session, state.as_deref()).await?
        }
        InstallRequest::Denied {
            error, description, ..
        } => {
            tracing::info!(app = %app.id, %error, "the marketplace reported an error");
            install.count(Step::Callback, Outcome::Failed("marketplace_error"));
            let page = pages::install_failed(
                &install.texts(),
                install.provider.display_name(),
                &error,
                description.as_deref(),
                &app.branding,
            );
            html(actix_web::http::StatusCode::OK, page)
        }
    };
    Ok(response)
}

/// The query of `/connect/…`: the tenant to install for, when the marketplace has tenants.
#[derive(Debug, serde::Deserialize)]
pub struct ConnectQuery {
    tenant: Option<String>,
}

/// `GET /connect/{provider}/{app}`: a signed-in user is sent to the provider's consent page.
pub async fn connect(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<ConnectQuery>,
) -> Result<HttpResponse, PageError> {
    let install = Install::for_path(&services, &request, &path)?;
    install.count(Step::Connect, Outcome::Started);
    let tenant = query
        .tenant
        .as_deref()
        .map(|raw| install.provider.parse_tenant(raw))
        .transpose()
        .map_err(|error| AppError::BadRequest(error.to_string()));
    let answer = match tenant {
        Ok(tenant) => install.begin(&session, tenant).await,
        Err(error) => Err(error),
    };
    if let Err(error) = &answer {
        install.count(Step::Connect, Outcome::failed(error));
    }
    Ok(answer?)
}
