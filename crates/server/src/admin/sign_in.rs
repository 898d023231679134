//! Signing operators in: email and password, then a TOTP code (or a recovery code), or the
//! TOTP's enrolment at the first sign-in (`enrol`); and signing out. Every refused attempt is
//! written to the audit log, and attempts are throttled per email and per client address as the
//! vendor's sign-ins are.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::Email;
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use super::auth::{ConsoleSession, Halfway};
use super::console::Console;
use super::layout::bare;
use super::totp;
use crate::errors::{AppError, PageError};
use crate::routes::location::Location;
use crate::routes::respond;
use crate::services::Services;
use installgate_store::Operator;

/// How long the second step may follow the password.
pub(super) const HALFWAY_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// `303 See Other` to a console page (a path the console made).
pub fn see_other(path: &str) -> HttpResponse {
    let location = Location::gateway(path).unwrap_or_else(Location::console_home);
    respond::see_other(&location)
}

fn client(request: &HttpRequest, services: &Services) -> Option<std::net::IpAddr> {
    crate::client_address::client_address(request, &services.settings.clients.trusted_proxies)
}

pub(super) fn problem(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p class="error" role="alert" id="problem" { (message) }
        }
    }
}

fn password_page(
    console: &Console,
    csrf: &str,
    status: StatusCode,
    message: Option<&str>,
) -> HttpResponse {
    bare(
        status,
        "Sign in",
        html! {
            (problem(message))
            form method="post" action="/admin/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "Email" }
                input type="email" id="email" name="email" autocomplete="username" required;
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { "Continue" } }
            }
            @if console.oidc.is_some() {
                p { a href="/admin/oidc/start" { "Sign in with your company account" } }
            }
        },
    )
}

pub async fn sign_in_page(
    console: web::Data<Console>,
    session: ConsoleSession,
) -> Result<HttpResponse, PageError> {
    let csrf = session.csrf_token()?;
    Ok(password_page(&console, &csrf, StatusCode::OK, None))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    email: String,
    password: SecretString,
}

pub async fn sign_in(
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    session.check_form(&request, &console, &form.csrf)?;
    let email = form.email.trim().to_lowercase();
    let refuse = |status: StatusCode, message: &str| -> Result<HttpResponse, PageError> {
        let csrf = session.csrf_token()?;
        Ok(password_page(&console, &csrf, status, Some(message)))
    };
    let attempt = match services
        .sign_in
        .attempt("console", &email, client(&request, &services))
        .await?
    {
        Ok(attempt) => attempt,
        Err(_) => {
            console
                .audit(
                    &services,
                    &request,
                    &email,
                    "sign_in",
                    "",
                    "refused: too many attempts",
                )
                .await;
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Wait a few minutes, then try again.",
            );
        }
    };
    let record = match Email::parse(&email) {
        Ok(parsed) => console.operators.by_email(&parsed).await?,
        Err(_) => None,
    };
    let hash = record
        .as_ref()
        .and_then(|record| record.password_hash.clone());
    let matched = services
        .sign_in
        .passwords
        .verify(hash, form.password)
        .await?;
    let Some(record) = record.filter(|record| matched && record.password_hash.is_some()) else {
        console
            .audit(
                &services,
                &request,
                &email,
                "sign_in",
                "",
                "refused: wrong email or password",
            )
            .await;
        return refuse(
            StatusCode::UNAUTHORIZED,
            "The email or the password is not right.",
        );
    };
    services.sign_in.succeeded(&attempt).await?;
    let operator = record.operator;
    if operator.totp_enrolled {
        session.set_halfway(&operator.id, Halfway::Code, services.clock.now())?;
        return Ok(see_other("/admin/sign-in/code"));
    }
    // A new secret for each enrolment, kept (sealed) in this browser's session until a code
    // proves it: whoever gave the password elsewhere never sees the one that gets enrolled.
    let sealed = console
        .operators
        .seal_pending(&operator.id, &totp::new_secret()?)?;
    session.set_halfway(&operator.id, Halfway::Enrol, services.clock.now())?;
    session.set_enrolment(&sealed)?;
    Ok(see_other("/admin/enrol"))
}

fn code_page(csrf: &str, status: StatusCode, message: Option<&str>) -> HttpResponse {
    bare(
        status,
        "Enter your code",
        html! {
            (problem(message))
            form method="post" action="/admin/sign-in/code" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { "The six-digit code from your authenticator app, or a recovery code" }
                input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="text" required;
                p { button type="submit" { "Sign in" } }
            }
        },
    )
}

pub async fn code_page_get(
    services: web::Data<Services>,
    session: ConsoleSession,
) -> Result<HttpResponse, PageError> {
    match session.halfway(services.clock.now(), HALFWAY_FOR) {
        Some((_, Halfway::Code)) => Ok(code_page(&session.csrf_token()?, StatusCode::OK, None)),
        _ => Ok(see_other("/admin/sign-in")),
    }
}

/// The operator halfway through signing in, at `stage`, in this browser.
pub(super) async fn halfway_operator(
    services: &Services,
    console: &Console,
    session: &ConsoleSession,
    stage: Halfway,
) -> Result<Option<Operator>, PageError> {
    let Some((id, at)) = session.halfway(services.clock.now(), HALFWAY_FOR) else {
        return Ok(None);
    };
    if at != stage {
        return Ok(None);
    }
    let operator = console
        .operators
        .get(&id)
        .await?
        .ok_or(AppError::Forbidden("this operator no longer exists"))?;
    // Enrolment is over once a second factor is enrolled (from another browser, say).
    let over = stage == Halfway::Enrol && operator.totp_enrolled;
    Ok((!over).then_some(operator))
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    pub(super) csrf: String,
    pub(super) code: String,
}

pub async fn code(
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    session.check_form(&request, &console, &form.csrf)?;
    let now = services.clock.now();
    let Some(operator) = halfway_operator(&services, &console, &session, Halfway::Code).await?
    else {
        return Ok(see_other("/admin/sign-in"));
    };
    // A refused code: audited, and the form again with why.
    let refuse = async |status: StatusCode, outcome: &str, message: &str| {
        console
            .audit(
                &services,
                &request,
                &operator.email,
                "sign_in.code",
                "",
                outcome,
            )
            .await;
        Ok::<_, PageError>(code_page(&session.csrf_token()?, status, Some(message)))
    };
    let attempt = match services
        .sign_in
        .attempt("console-code", &operator.id, client(&request, &services))
        .await?
    {
        Ok(attempt) => attempt,
        Err(_) => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "refused: too many attempts",
                "Too many attempts. Wait a few minutes, then try again.",
            )
            .await;
        }
    };
    let secret = console
        .operators
        .totp_secret(&operator.id)
        .await?
        .ok_or(AppError::Forbidden("no second factor is enrolled"))?;
    let totp = totp::totp(secret, &operator.email)?;
    let accepted = match totp::check(&totp, &form.code, now) {
        Some(step) => console.operators.take_step(&operator.id, step).await?,
        None => {
            let digest = totp::recovery_digest(&form.code);
            let used = console
                .operators
                .use_recovery_code(&operator.id, &digest)
                .await?;
            if used {
                console
                    .audit(
                        &services,
                        &request,
                        &operator.email,
                        "sign_in.recovery_code",
                        "",
                        "ok",
                    )
                    .await;
            }
            used
        }
    };
    if !accepted {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "refused: wrong or used code",
            "That code is not right, or was used already. Wait for the next one.",
        )
        .await;
    }
    services.sign_in.succeeded(&attempt).await?;
    session.sign_in(&operator.id, now)?;
    console
        .audit(&services, &request, &operator.email, "sign_in", "", "ok")
        .await;
    Ok(see_other("/admin/overview"))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    operator: super::auth::SignedOperator,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_form(&request, &console, &form.csrf)?;
    session.end();
    console
        .audit(
            &services,
            &request,
            &operator.operator.email,
            "sign_out",
            "",
            "ok",
        )
        .await;
    Ok(see_other("/admin/sign-in"))
}
