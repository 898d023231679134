//! The first sign-in of a password operator: the TOTP key made at the password step (kept,
//! sealed, in that browser's session) shown as a QR code and as text, confirmed with a code,
//! then stored, and ten recovery codes shown once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::auth::{ConsoleSession, Halfway};
use super::console::Console;
use super::layout::bare;
use super::sign_in::{CodeForm, halfway_operator, problem, see_other};
use super::totp;
use crate::errors::PageError;
use crate::services::Services;

fn enrol_page(
    csrf: &str,
    uri: &str,
    secret: &str,
    status: StatusCode,
    message: Option<&str>,
) -> HttpResponse {
    bare(
        status,
        "Set up your second factor",
        html! {
            (problem(message))
            p { "Scan this code with an authenticator app, or type the key below into it. Then enter the six-digit code it shows." }
            (totp::qr_svg(uri, "QR code of your authenticator key"))
            p { "Key: " code id="totp-key" { (secret) } }
            form method="post" action="/admin/enrol" {
                input type="hidden" name="csrf" value=(csrf);
                label for="code" { "Six-digit code" }
                input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required;
                p { button type="submit" { "Confirm" } }
            }
        },
    )
}

/// The key this browser's sign-in is enrolling, if it is enrolling one.
fn pending_secret(
    console: &Console,
    session: &ConsoleSession,
    operator: &str,
) -> Result<Option<Vec<u8>>, PageError> {
    match session.enrolment() {
        Some(sealed) => Ok(Some(console.operators.open_pending(operator, &sealed)?)),
        None => Ok(None),
    }
}

fn base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

pub async fn enrol_page_get(
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
) -> Result<HttpResponse, PageError> {
    let Some(operator) = halfway_operator(&services, &console, &session, Halfway::Enrol).await?
    else {
        return Ok(see_other("/admin/sign-in"));
    };
    // The key shown stays the same until it is confirmed (it was made at the password step),
    // so that reloading the page does not invalidate what was scanned.
    let Some(secret) = pending_secret(&console, &session, &operator.id)? else {
        return Ok(see_other("/admin/sign-in"));
    };
    let key = base32(&secret);
    let uri = totp::uri(&totp::totp(secret, &operator.email)?)?;
    Ok(enrol_page(
        &session.csrf_token()?,
        &uri,
        &key,
        StatusCode::OK,
        None,
    ))
}

pub async fn enrol(
    request: HttpRequest,
    services: web::Data<Services>,
    console: web::Data<Console>,
    session: ConsoleSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    session.check_form(&request, &console, &form.csrf)?;
    let now = services.clock.now();
    let Some(operator) = halfway_operator(&services, &console, &session, Halfway::Enrol).await?
    else {
        return Ok(see_other("/admin/sign-in"));
    };
    let id = operator.id.clone();
    let Some(secret) = pending_secret(&console, &session, &id)? else {
        return Ok(see_other("/admin/sign-in"));
    };
    let totp = totp::totp(secret.clone(), &operator.email)?;
    let Some(step) = totp::check(&totp, &form.code, now) else {
        console
            .audit(
                &services,
                &request,
                &operator.email,
                "enrol",
                "",
                "refused: wrong code",
            )
            .await;
        let uri = totp::uri(&totp)?;
        return Ok(enrol_page(
            &session.csrf_token()?,
            &uri,
            &base32(&secret),
            StatusCode::UNAUTHORIZED,
            Some("That code is not right. Check the time on your device, and try the next one."),
        ));
    };
    let codes = totp::recovery_codes()?;
    let digests: Vec<String> = codes
        .iter()
        .map(|code| totp::recovery_digest(code))
        .collect();
    if !console
        .operators
        .finish_enrolment(&id, &secret, step, &digests)
        .await?
    {
        return Ok(see_other("/admin/sign-in"));
    }
    session.sign_in(&id, now)?;
    console
        .audit(&services, &request, &operator.email, "enrol", "", "ok")
        .await;
    Ok(bare(
        StatusCode::OK,
        "Your recovery codes",
        html! {
            p class="ok" { "Your second factor is set up." }
            p { "Keep these codes somewhere safe. Each one signs you in once if you lose your authenticator. They are shown only now." }
            ul class="codes" id="recovery-codes" {
                @for code in &codes { li { code { (code) } } }
            }
            p { a href="/admin/overview" { "Continue to the console" } }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::base32;

    #[test]
    fn keys_are_shown_in_rfc_4648_base32() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0u8; 20]).len(), 32);
    }
}
