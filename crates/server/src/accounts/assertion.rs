//! Checking the JWT the vendor's login sends back: signature (HS256 with the shared secret, or
//! the configured RS256 or ES256 with a signing key from the vendor's JWKS), `iss`, `aud`, `sub`,
//! `exp` (and no more than five minutes ahead), `nbf` when present, and `nonce` equal to the
//! one-time request id.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::jwks::{JwksCache, JwksError};
use crate::settings::{AssertionKeys, ExternalLogin};

/// How far in the future an assertion's `exp` may be.
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);
/// Clock skew allowed on `exp`.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the sign-in assertion is not a valid token")]
    Malformed,
    #[error("the sign-in assertion uses an algorithm this gateway does not accept")]
    Algorithm,
    #[error("the sign-in assertion's signature does not verify")]
    Signature,
    #[error("the sign-in assertion has expired")]
    Expired,
    #[error("the sign-in assertion is not valid yet")]
    NotYetValid,
    #[error("the sign-in assertion is valid for too long")]
    TooLongLived,
    #[error("the sign-in assertion was not issued for this gateway")]
    WrongAudienceOrIssuer,
    #[error("the sign-in assertion lacks a required claim")]
    MissingClaim,
    #[error("the sign-in assertion does not belong to this sign-in request")]
    Nonce,
    #[error(transparent)]
    Keys(#[from] JwksError),
}

impl AssertionError {
    /// Whether the failure lies with the vendor's key server rather than the assertion.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Keys(JwksError::Unavailable(_)))
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: u64,
    nonce: Option<String>,
    email: Option<String>,
    name: Option<String>,
    /// Every other claim, for the one that may say the user is entitled to install.
    #[serde(flatten)]
    others: std::collections::BTreeMap<String, serde_json::Value>,
}

/// What a verified assertion says of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// What the configured entitlement claim says, when the assertion carries it as a boolean.
    pub entitled: Option<bool>,
    /// The workspace the configured workspace claim names, when it names a usable one.
    pub workspace: Option<installgate_core::Workspace>,
}

enum Keys {
    Hs256(DecodingKey),
    Jwks(JwksCache, Algorithm),
}

pub struct AssertionVerifier {
    issuer: String,
    audience: String,
    keys: Keys,
    entitlement_claim: Option<String>,
    workspace_claim: Option<String>,
}

/// A workspace as a claim names it: its id (the name then too), or `{"id", "name"}`; `None`
/// unless [`Workspace::is_usable`](installgate_core::Workspace::is_usable).
fn workspace_of(claim: &serde_json::Value) -> Option<installgate_core::Workspace> {
    let (id, name) = match claim {
        serde_json::Value::String(id) => (id.clone(), id.clone()),
        serde_json::Value::Object(fields) => {
            let id = fields.get("id")?.as_str()?.to_owned();
            let name = fields
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map_or_else(|| id.clone(), str::to_owned);
            (id, name)
        }
        _ => return None,
    };
    Some(installgate_core::Workspace { id, name }).filter(installgate_core::Workspace::is_usable)
}

impl std::fmt::Debug for AssertionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl AssertionVerifier {
    pub fn new(settings: &ExternalLogin) -> anyhow::Result<Self> {
        let keys = match &settings.keys {
            AssertionKeys::Hs256(secret) => {
                Keys::Hs256(DecodingKey::from_secret(secret.expose_secret()))
            }
            AssertionKeys::Jwks { url, algorithm } => Keys::Jwks(
                JwksCache::new(
                    url.clone(),
                    *algorithm,
                    settings.jwks_timeout,
                    settings.jwks_cache,
                    settings.jwks_min_refetch,
                )?,
                *algorithm,
            ),
        };
        Ok(Self {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            keys,
            entitlement_claim: settings.entitlement_claim.clone(),
            workspace_claim: settings.workspace_claim.clone(),
        })
    }

    pub async fn verify(
        &self,
        token: &str,
        nonce: &str,
        now_seconds: u64,
    ) -> Result<Verified, AssertionError> {
        let header = decode_header(token).map_err(|_| AssertionError::Malformed)?;
        let key = match (&self.keys, header.alg) {
            (Keys::Hs256(key), Algorithm::HS256) => key.clone(),
            (Keys::Jwks(jwks, configured), alg) if alg == *configured => {
                let kid = header.kid.as_deref().ok_or(AssertionError::MissingClaim)?;
                jwks.key(kid).await?
            }
            _ => return Err(AssertionError::Algorithm),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => AssertionError::Expired,
                    ErrorKind::ImmatureSignature => AssertionError::NotYetValid,
                    ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer => {
                        AssertionError::WrongAudienceOrIssuer
                    }
                    ErrorKind::MissingRequiredClaim(_) => AssertionError::MissingClaim,
                    ErrorKind::InvalidSignature => AssertionError::Signature,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        AssertionError::Algorithm
                    }
                    _ => AssertionError::Malformed,
                }
            })?
            .claims;
        if claims.exp > now_seconds + MAX_LIFETIME.as_secs() + LEEWAY_SECONDS {
            return Err(AssertionError::TooLongLived);
        }
        let matches = claims
            .nonce
            .as_deref()
            .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(nonce.as_bytes())));
        if !matches {
            return Err(AssertionError::Nonce);
        }
        let subject = claims
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or(AssertionError::MissingClaim)?;
        let entitled = self
            .entitlement_claim
            .as_ref()
            .and_then(|claim| claims.others.get(claim))
            .and_then(serde_json::Value::as_bool);
        let workspace = self
            .workspace_claim
            .as_ref()
            .and_then(|claim| claims.others.get(claim))
            .and_then(workspace_of);
        Ok(Verified {
            subject,
            email: claims.email,
            name: claims.name,
            entitled,
            workspace,
        })
    }
}
