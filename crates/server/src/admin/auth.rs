//! Who is using the console: the typed console session, the signed-in operator (an extractor
//! that sends everyone else to the sign-in page), the role check of every action, and the CSRF
//! check of every form.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use installgate_core::Timestamp;
use installgate_store::{Operator, OperatorError};
use serde::{Deserialize, Serialize};

use super::console::Console;
use crate::errors::{AppError, PageError};
use crate::services::Services;

const SIGNED_IN: &str = "operator";
const HALFWAY: &str = "halfway";
const CSRF: &str = "csrf";
const OIDC: &str = "oidc";
const ENROLMENT: &str = "enrolment";

/// An operator past every factor, since when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignedIn {
    id: String,
    at: i64,
}

/// Where a password sign-in stands before the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Halfway {
    /// The password was right; a TOTP or recovery code is due.
    Code,
    /// The password was right and no second factor is enrolled yet: enrolment is due.
    Enrol,
}

/// What the OpenID Connect sign-in keeps for its callback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcPending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

pub struct ConsoleSession(Session);

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleSession")
    }
}

fn unexpected(error: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("console session: {error}"))
}

impl ConsoleSession {
    /// Past the password, waiting for the second factor (or its enrolment).
    pub fn set_halfway(
        &self,
        operator: &str,
        stage: Halfway,
        now: Timestamp,
    ) -> Result<(), AppError> {
        self.0.renew();
        self.0.remove(SIGNED_IN);
        self.0.remove(CSRF);
        self.0.remove(ENROLMENT);
        self.0
            .insert(HALFWAY, (operator, stage, now.as_millis()))
            .map_err(unexpected)
    }

    /// Keeps the (sealed) TOTP secret this browser is enrolling: only the browser that gave
    /// the password sees it or can confirm it.
    pub fn set_enrolment(&self, sealed: &str) -> Result<(), AppError> {
        self.0.insert(ENROLMENT, sealed).map_err(unexpected)
    }

    pub fn enrolment(&self) -> Option<String> {
        self.0.get::<String>(ENROLMENT).ok().flatten()
    }

    /// The operator halfway through signing in, and the stage, if it began within `within`.
    pub fn halfway(
        &self,
        now: Timestamp,
        within: std::time::Duration,
    ) -> Option<(String, Halfway)> {
        let (id, stage, at) = self
            .0
            .get::<(String, Halfway, i64)>(HALFWAY)
            .ok()
            .flatten()?;
        (now.since(Timestamp::from_millis(at)) < within).then_some((id, stage))
    }

    /// Signs the operator in (every factor passed) under a new session key.
    pub fn sign_in(&self, operator: &str, now: Timestamp) -> Result<(), AppError> {
        self.0.renew();
        self.0.remove(HALFWAY);
        self.0.remove(CSRF);
        self.0.remove(OIDC);
        self.0.remove(ENROLMENT);
        let signed_in = SignedIn {
            id: operator.to_owned(),
            at: now.as_millis(),
        };
        self.0.insert(SIGNED_IN, signed_in).map_err(unexpected)
    }

    fn signed_in(&self) -> Option<SignedIn> {
        self.0.get::<SignedIn>(SIGNED_IN).ok().flatten()
    }

    /// Ends the session: deleted in the database, the cookie cleared.
    pub fn end(&self) {
        self.0.purge();
    }

    /// The CSRF token of this session, made on first use.
    pub fn csrf_token(&self) -> Result<String, AppError> {
        crate::session::token_in(&self.0, CSRF)
    }

    pub fn set_oidc(&self, pending: &OidcPending) -> Result<(), AppError> {
        self.0.insert(OIDC, pending).map_err(unexpected)
    }

    /// The OpenID Connect sign-in under way, taken (a callback is answered once).
    pub fn take_oidc(&self) -> Option<OidcPending> {
        let pending = self.0.get::<OidcPending>(OIDC).ok().flatten();
        self.0.remove(OIDC);
        pending
    }

    /// Checks a form: sent from the console's own origin, carrying this session's token.
    pub fn check_form(
        &self,
        request: &HttpRequest,
        console: &Console,
        submitted: &str,
    ) -> Result<(), AppError> {
        crate::csrf::check_form(
            request,
            &console.origin(),
            self.0.get::<String>(CSRF).ok().flatten(),
            submitted,
            "this form was not sent from the console",
        )
    }
}

impl FromRequest for ConsoleSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(request.get_session())))
    }
}

impl From<OperatorError> for AppError {
    fn from(error: OperatorError) -> Self {
        match error {
            OperatorError::Database(error) => error.into(),
            other => AppError::Unexpected(other.into()),
        }
    }
}

/// A page for a signed-in operator only: anyone else is sent to the sign-in page.
#[derive(Debug)]
pub enum NotSignedIn {
    SignIn,
    Failed(PageError),
}

impl std::fmt::Display for NotSignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn => f.write_str("sign in first"),
            Self::Failed(error) => error.fmt(f),
        }
    }
}

impl ResponseError for NotSignedIn {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn => StatusCode::SEE_OTHER,
            Self::Failed(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn => super::sign_in::see_other("/admin/sign-in"),
            Self::Failed(error) => error.error_response(),
        }
    }
}

/// The signed-in operator: within the absolute timeout, and still an operator (the role is read
/// again on every request, so a changed role counts at once).
#[derive(Debug)]
pub struct SignedOperator {
    pub operator: Operator,
}

impl SignedOperator {
    /// Refuses a viewer: only operators act.
    pub fn may_act(&self) -> Result<(), AppError> {
        if self.operator.role.may_act() {
            Ok(())
        } else {
            Err(AppError::Forbidden("viewers may look, not act"))
        }
    }
}

impl FromRequest for SignedOperator {
    type Error = NotSignedIn;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let session = ConsoleSession(request.get_session());
        let services = request.app_data::<web::Data<Services>>().cloned();
        let console = request.app_data::<web::Data<Console>>().cloned();
        Box::pin(async move {
            let (Some(services), Some(console)) = (services, console) else {
                return Err(NotSignedIn::Failed(PageError(AppError::Unexpected(
                    anyhow::anyhow!("the console is not set up"),
                ))));
            };
            let signed_in = session.signed_in().ok_or(NotSignedIn::SignIn)?;
            let now = services.clock.now();
            if now.since(Timestamp::from_millis(signed_in.at)) >= console.settings.absolute_timeout
            {
                session.end();
                return Err(NotSignedIn::SignIn);
            }
            let operator = console
                .operators
                .get(&signed_in.id)
                .await
                .map_err(|error| NotSignedIn::Failed(PageError(error.into())))?;
            match operator {
                Some(operator) => Ok(Self { operator }),
                None => {
                    session.end();
                    Err(NotSignedIn::SignIn)
                }
            }
        })
    }
}
