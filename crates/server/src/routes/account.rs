//! `/account/…`: sign-in, sign-up and sign-out pages of the built-in accounts, the return point
//! of the vendor's own login (`/account/sso`), and the account page.

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{AccountId, AppId, Email, ProviderId, StateKind, StateToken};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::accounts::SignInRefused;
use crate::client_address::client_key;
use crate::errors::{AppError, PageError};
use crate::i18n::Language;
use crate::metrics::{Outcome, Step};
use crate::pages::{self, AccountForm, ConnectionLine, Installing, Purpose};
use crate::routes::claim;
use crate::routes::location::Location;
use crate::routes::respond::{form_html, html, see_other};
use crate::routes::signed_in::current_account;
use crate::services::Services;
use crate::session::GatewaySession;
use crate::settings::{AccountMode, SignUpPolicy};
use crate::{csrf, park};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    resume: Option<String>,
    app: Option<String>,
    provider: Option<String>,
    frame_host: Option<String>,
}

impl PageQuery {
    /// The install this sign-in is part of, when the query names a configured app.
    fn purpose(&self, services: &Services) -> Purpose {
        let installing = match (&self.app, &self.provider) {
            (Some(app), Some(provider)) => services
                .prepared
                .resolve(&services.settings, provider, app)
                .map(|(settings, prepared)| Installing {
                    app: settings.id.to_string(),
                    provider: provider.to_owned(),
                    marketplace: pages::marketplace_name(provider),
                    branding: settings.branding.clone(),
                    get_account_url: match &settings.install_policy.sign_up {
                        SignUpPolicy::Off { get_account_url } => Some(get_account_url.clone()),
                        SignUpPolicy::Allowed => None,
                    },
                    frame_host: self
                        .frame_host
                        .clone()
                        .filter(|host| prepared.return_hosts.by_pattern_only(host)),
                }),
            _ => None,
        };
        Purpose { installing }
    }

    /// What the page says: in `language`, in the wording of the app it names.
    fn texts(&self, services: &Services, language: Language) -> crate::i18n::Texts {
        services.texts(language, self.app.as_deref())
    }

    /// Counts a sign-in (or sign-up) in the funnel of the install it is part of.
    fn count_signed_in(&self, services: &Services) {
        if let Some(installing) = self.purpose(services).installing {
            services.metrics.install(
                &installing.provider,
                &installing.app,
                Step::SignIn,
                Outcome::SignedIn,
            );
        }
    }
}

/// Sends a visitor who is not signed in to sign in, parking `request` to continue afterwards.
/// Routes that need an account call this.
pub async fn sign_in_first(
    services: &Services,
    request: &HttpRequest,
    install: Option<SignInFor<'_>>,
) -> Result<HttpResponse, AppError> {
    let target = match request.query_string() {
        "" => request.path().to_owned(),
        query => format!("{}?{query}", request.path()),
    };
    sign_in_then(services, &target, install).await
}

/// The install a sign-in is part of, as the sign-in page's address names it.
#[derive(Debug, Clone, Copy)]
pub struct SignInFor<'a> {
    pub app: &'a AppId,
    pub provider: &'a ProviderId,
    /// The data-centre host framing the install, when the app allows it by pattern only (the
    /// sign-in pages may then be framed by it too).
    pub frame_host: Option<&'a str>,
}

impl<'a> SignInFor<'a> {
    pub fn new(app: &'a AppId, provider: &'a ProviderId) -> Self {
        Self {
            app,
            provider,
            frame_host: None,
        }
    }
}

/// Sends the visitor to sign in, continuing at `target` (a gateway route) afterwards.
pub async fn sign_in_then(
    services: &Services,
    target: &str,
    install: Option<SignInFor<'_>>,
) -> Result<HttpResponse, AppError> {
    let token = park::park(
        services.state_store.as_ref(),
        target,
        services.settings.state.ttl,
    )
    .await?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("resume", token.expose());
    if let Some(install) = install {
        query
            .append_pair("app", install.app.as_str())
            .append_pair("provider", install.provider.as_str());
        if let Some(host) = install.frame_host {
            query.append_pair("frame_host", host);
        }
    }
    let sign_in = format!("/account/sign-in?{}", query.finish());
    Location::gateway(&sign_in)
        .map(|location| see_other(&location))
        .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("the sign-in path is not a path")))
}

/// Where to go once signed in: the parked request, or the account page.
async fn resume_target(services: &Services, resume: Option<&str>) -> Result<Location, AppError> {
    let parked = match resume {
        Some(token) => park::take(services.state_store.as_ref(), token).await?,
        None => None,
    };
    // A parked target is a gateway route (`park` takes nothing else); checked again all the same.
    Ok(parked
        .and_then(|parked| Location::gateway(&parked.target))
        .unwrap_or_else(Location::account_page))
}

/// A resume token worth carrying through a form: well-formed, or dropped.
fn clean_resume(resume: Option<&str>) -> Option<&str> {
    resume.filter(|token| StateToken::parse(token).is_ok())
}

#[derive(Debug, Serialize, Deserialize)]
struct ExternalRequest {
    resume: Option<String>,
    /// The digest of the binding of the browser that started the sign-in: the assertion is
    /// accepted in that browser only, so a link made in another cannot sign anyone in.
    #[serde(default)]
    browser: String,
}

/// External mode: hand the visitor to the vendor's login (or sign-up) page with a one-time
/// request id that the returning assertion must carry as its `nonce`.
async fn to_vendor(
    services: &Services,
    session: &GatewaySession,
    signup: bool,
    resume: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let AccountMode::External(external) = &services.settings.accounts.mode else {
        return Err(AppError::NotFound);
    };
    let request_id = StateToken::generate().map_err(|error| AppError::Unexpected(error.into()))?;
    let record = serde_json::to_vec(&ExternalRequest {
        resume: clean_resume(resume).map(str::to_owned),
        browser: installgate_core::browser_digest(&session.browser_binding()?),
    })
    .map_err(|error| AppError::Unexpected(error.into()))?;
    services
        .state_store
        .put(
            StateKind::SignIn,
            &request_id,
            &record,
            services.settings.state.ttl,
        )
        .await?;
    let mut location = if signup {
        external.signup_url.clone()
    } else {
        external.login_url.clone()
    };
    let return_to = format!(
        "{}/account/sso",
        services
            .settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    );
    location
        .query_pairs_mut()
        .append_pair("return_to", &return_to)
        .append_pair("request", request_id.expose());
    Ok(see_other(&Location::configured(&location)))
}

/// The pending install a form inside an install's flow names: this browser's, when the page is
/// for that install.
fn pending_install_of(session: &GatewaySession, purpose: &Purpose) -> Option<String> {
    let installing = purpose.installing.as_ref()?;
    session
        .pending_install()
        .filter(|pending| pending.app == installing.app && pending.provider == installing.provider)
        .map(|pending| pending.connection)
}

/// Whether the install a page belongs to lets only existing accounts install.
fn sign_up_closed(purpose: &Purpose) -> bool {
    purpose
        .installing
        .as_ref()
        .is_some_and(|installing| installing.get_account_url.is_some())
}

/// Whether the form names this browser's held install of an app that lets only existing
/// accounts install (a sign-up form whose page query was changed).
fn names_closed_install(
    services: &Services,
    session: &GatewaySession,
    form: &CredentialsForm,
) -> bool {
    let Some(pending) = session.pending_install() else {
        return false;
    };
    form.install.as_deref() == Some(pending.connection.as_str())
        && services
            .prepared
            .resolve(&services.settings, &pending.provider, &pending.app)
            .is_some_and(|(app, _)| app.install_policy.sign_up != SignUpPolicy::Allowed)
}

/// Which account form a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    SignIn,
    SignUp,
}

/// The sign-in or sign-up form, or in external mode the hand-over to the vendor's page.
async fn form_page(
    services: &Services,
    session: &GatewaySession,
    query: &PageQuery,
    kind: FormKind,
    language: Language,
) -> Result<HttpResponse, PageError> {
    if matches!(services.settings.accounts.mode, AccountMode::External(_)) {
        let signup = kind == FormKind::SignUp;
        return Ok(to_vendor(services, session, signup, query.resume.as_deref()).await?);
    }
    let csrf_token = session.csrf_token()?;
    let purpose = query.purpose(services);
    let install = pending_install_of(session, &purpose);
    let form = AccountForm {
        csrf_token: &csrf_token,
        resume: clean_resume(query.resume.as_deref()),
        install: install.as_deref(),
        purpose,
        texts: query.texts(services, language),
        ..AccountForm::default()
    };
    let page = match kind {
        FormKind::SignIn => pages::sign_in(&form),
        FormKind::SignUp if sign_up_closed(&form.purpose) => pages::account_needed(&form),
        FormKind::SignUp => pages::sign_up(&form),
    };
    Ok(form_html(actix_web::http::StatusCode::OK, page))
}

pub async fn sign_in_page(
    services: web::Data<Services>,
    session: GatewaySession,
    query: web::Query<PageQuery>,
    language: Language,
) -> Result<HttpResponse, PageError> {
    form_page(&services, &session, &query, FormKind::SignIn, language).await
}

pub async fn sign_up_page(
    services: web::Data<Services>,
    session: GatewaySession,
    query: web::Query<PageQuery>,
    language: Language,
) -> Result<HttpResponse, PageError> {
    form_page(&services, &session, &query, FormKind::SignUp, language).await
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Missing is refused like wrong, with 403.
    #[serde(default)]
    csrf_token: String,
    resume: Option<String>,
    /// The pending install this sign-in is for, when the form was shown inside its flow.
    install: Option<String>,
}

impl std::fmt::Debug for CredentialsForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsForm").finish_non_exhaustive()
    }
}

/// A posted account form, if accounts are built in and the form passes the CSRF checks.
fn accepted(
    services: &Services,
    session: &GatewaySession,
    request: &HttpRequest,
    form: CredentialsForm,
) -> Result<CredentialsForm, AppError> {
    if matches!(services.settings.accounts.mode, AccountMode::External(_)) {
        return Err(AppError::NotFound);
    }
    csrf::check(
        request,
        session,
        &form.csrf_token,
        &services.settings.server.public_url,
    )?;
    Ok(form)
}

/// Signs `account` in and continues: attaches the pending install the form names (posting it
/// is the user's answer), or resumes the parked request (or shows the account page).
async fn signed_in_continue(
    services: &Services,
    session: &GatewaySession,
    account: &AccountId,
    form: &CredentialsForm,
    language: Language,
) -> Result<HttpResponse, AppError> {
    session.sign_in(account, services.clock.now())?;
    let named = form.install.as_deref();
    let attached = claim::attach_named_install(services, session, named, account, language);
    if let Some(attached) = attached.await? {
        // The parked request was the claim itself: it is used up here.
        resume_target(services, form.resume.as_deref()).await?;
        return Ok(attached);
    }
    let target = resume_target(services, form.resume.as_deref()).await?;
    Ok(see_other(&target))
}

/// The form again, with what was typed (but the password) and what is wrong.
fn form_again(
    session: &GatewaySession,
    kind: FormKind,
    form: &CredentialsForm,
    purpose: Purpose,
    texts: crate::i18n::Texts,
    error: &str,
) -> Result<HttpResponse, AppError> {
    let csrf_token = session.csrf_token()?;
    let again = AccountForm {
        csrf_token: &csrf_token,
        resume: clean_resume(form.resume.as_deref()),
        install: form.install.as_deref(),
        email: &form.email,
        error: Some(error),
        purpose,
        texts,
    };
    Ok(match kind {
        FormKind::SignIn => form_html(
            actix_web::http::StatusCode::UNAUTHORIZED,
            pages::sign_in(&again),
        ),
        FormKind::SignUp => form_html(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            pages::sign_up(&again),
        ),
    })
}

pub async fn sign_in(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    query: web::Query<PageQuery>,
    language: Language,
    form: web::Form<CredentialsForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = accepted(&services, &session, &request, form.into_inner())?;
    let address = client_key(&request, &services.settings.clients);
    let password = SecretString::from(std::mem::take(&mut form.password));
    match services
        .sign_in
        .sign_in(&form.email, password, address)
        .await?
    {
        Ok(account) => {
            tracing::info!(account = %account.id, "signed in");
            query.count_signed_in(&services);
            Ok(signed_in_continue(&services, &session, &account.id, &form, language).await?)
        }
        Err(SignInRefused::Throttled(wait)) => Err(AppError::TooManyRequests(wait).into()),
        Err(SignInRefused::Invalid) => {
            let texts = query.texts(&services, language);
            let error = texts.get("sign-in-refused");
            let purpose = query.purpose(&services);
            Ok(form_again(
                &session,
                FormKind::SignIn,
                &form,
                purpose,
                texts,
                &error,
            )?)
        }
    }
}

pub async fn sign_up(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    query: web::Query<PageQuery>,
    language: Language,
    form: web::Form<CredentialsForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = accepted(&services, &session, &request, form.into_inner())?;
    let purpose = query.purpose(&services);
    let texts = query.texts(&services, language);
    if sign_up_closed(&purpose) || names_closed_install(&services, &session, &form) {
        // Only users with an account install this app: nothing is created.
        let csrf_token = session.csrf_token()?;
        let page = pages::account_needed(&AccountForm {
            csrf_token: &csrf_token,
            resume: clean_resume(form.resume.as_deref()),
            purpose,
            texts,
            ..AccountForm::default()
        });
        return Ok(form_html(actix_web::http::StatusCode::FORBIDDEN, page));
    }
    let password = SecretString::from(std::mem::take(&mut form.password));
    let problem = match Email::parse(&form.email) {
        Err(_) => Some(texts.get("email-invalid")),
        Ok(email) => match crate::accounts::Passwords::check_new(&password) {
            Err(problem) => Some(problem.text(&texts)),
            Ok(()) => {
                let hash = services.sign_in.passwords.hash(password).await?;
                match services.accounts.create(&email, &hash).await {
                    Ok(account) => {
                        tracing::info!(account = %account.id, "account created");
                        query.count_signed_in(&services);
                        let next =
                            signed_in_continue(&services, &session, &account.id, &form, language);
                        return Ok(next.await?);
                    }
                    Err(installgate_core::AccountError::EmailTaken) => {
                        Some(texts.get("email-taken"))
                    }
                    Err(other) => return Err(AppError::from(other).into()),
                }
            }
        },
    };
    let error = problem.unwrap_or_default();
    let purpose = query.purpose(&services);
    Ok(form_again(
        &session,
        FormKind::SignUp,
        &form,
        purpose,
        texts,
        &error,
    )?)
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn sign_out(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    csrf::check(
        &request,
        &session,
        &form.csrf_token,
        &services.settings.server.public_url,
    )?;
    if let Some(sid) = session
        .signed_in()
        .and_then(|signed_in| signed_in.sid_token())
    {
        // A copy of the old cookie must not sign anyone in again, even where the cookie holds
        // the whole session.
        services
            .state_store
            .put(
                StateKind::RevokedSession,
                &sid,
                b"1",
                services.settings.session.absolute_timeout,
            )
            .await?;
    }
    session.clear();
    let texts = services.texts(Language::of(&request), None);
    Ok(html(
        actix_web::http::StatusCode::OK,
        pages::signed_out(&texts),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SsoQuery {
    request: String,
    assertion: String,
}

pub async fn sso(
    services: web::Data<Services>,
    session: GatewaySession,
    query: web::Query<SsoQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(verifier) = services.assertions.as_ref() else {
        return Err(AppError::NotFound.into());
    };
    let refused = |message: &str| {
        AppError::BadRequest(format!("{message}; start again from the marketplace"))
    };
    let request_id =
        StateToken::parse(&query.request).map_err(|_| refused("this sign-in link is not valid"))?;
    let record = services
        .state_store
        .take(StateKind::SignIn, &request_id)
        .await?
        .ok_or_else(|| refused("this sign-in request has expired or was used already"))?;
    let pending: ExternalRequest =
        serde_json::from_slice(&record).map_err(|error| AppError::Unexpected(error.into()))?;
    let presented = session
        .existing_browser_binding()
        .map(|binding| installgate_core::browser_digest(&binding))
        .unwrap_or_default();
    if pending.browser.is_empty()
        || !bool::from(pending.browser.as_bytes().ct_eq(presented.as_bytes()))
    {
        tracing::warn!("sign-in assertion refused: the request was started in another browser");
        return Err(AppError::BadRequest(
            "this sign-in link was started in another browser; sign in again from this one".into(),
        )
        .into());
    }
    let now_seconds = u64::try_from(services.clock.now().as_millis() / 1000).unwrap_or(0);
    let verified = match verifier
        .verify(&query.assertion, &query.request, now_seconds)
        .await
    {
        Ok(verified) => verified,
        Err(error) if error.is_unavailable() => {
            tracing::warn!(%error, "sign-in keys unavailable");
            return Err(AppError::Unavailable("the sign-in service").into());
        }
        Err(error) => {
            tracing::info!(%error, "sign-in assertion refused");
            return Err(refused(&error.to_string()).into());
        }
    };
    let account_id = AccountId::parse(&verified.subject)
        .map_err(|_| refused("the sign-in assertion names no valid user"))?;
    let email = verified
        .email
        .as_deref()
        .and_then(|email| Email::parse(email).ok());
    let account = services
        .accounts
        .remember_external(&account_id, email.as_ref(), verified.name.as_deref())
        .await?;
    session.sign_in(&account.id, services.clock.now())?;
    if verified.entitled == Some(true) {
        session.set_entitled()?;
    }
    if let Some(workspace) = &verified.workspace {
        session.set_named_workspace(workspace)?;
    }
    tracing::info!(account = %account.id, "signed in through the vendor's login");
    let target = resume_target(&services, pending.resume.as_deref()).await?;
    Ok(see_other(&target))
}

pub async fn home(
    services: web::Data<Services>,
    session: GatewaySession,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let account = current_account(&services, &session).await?;
    let Some(account) = account else {
        return Ok(sign_in_first(&services, &request, None).await?);
    };
    let connections = services.vault.list_by_account(&account.id).await?;
    let lines: Vec<ConnectionLine> = connections
        .into_iter()
        .map(|connection| ConnectionLine {
            app: connection.app.to_string(),
            marketplace: pages::marketplace_name(connection.provider.as_str()),
            account_key: connection.marketplace_key.as_str().to_owned(),
            status: connection.status.as_str().to_owned(),
        })
        .collect();
    let who = account
        .email
        .as_ref()
        .map_or_else(|| account.id.to_string(), ToString::to_string);
    let csrf_token = session.csrf_token()?;
    Ok(form_html(
        actix_web::http::StatusCode::OK,
        pages::account_home(
            &services.texts(Language::of(&request), None),
            &who,
            &lines,
            &csrf_token,
        ),
    ))
}
