//! Console sign-in through the company's OpenID Connect provider: the authorization code flow
//! with PKCE (S256), `state` and `nonce` kept in the console session; the provider's endpoints
//! from its discovery document (whose `issuer` must be the configured one); the ID token's RS256
//! signature checked against the provider's JWKS, with its issuer, audience, expiry and nonce.
//! Who may sign in is decided here: a verified email in an allowed domain (when domains are
//! named), and membership of a viewer group (when viewer groups are named) or of an operator
//! group; operators are those in `operator_groups`, everyone else admitted is a viewer.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::StateToken;
use installgate_store::OperatorRole;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tokio::sync::OnceCell;
use url::Url;

use super::auth::OidcPending;
use crate::accounts::jwks::JwksCache;
use crate::settings::OidcSettings;

/// Largest discovery document or token answer read.
const MAX_BYTES: usize = 64 * 1024;
/// Clock skew allowed on the ID token's times.
const LEEWAY_SECONDS: u64 = 60;

/// Why an OpenID Connect sign-in was refused. Shown to the operator, and written to the audit
/// log; it never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached or answered nonsense ({0})")]
    Provider(String),
    #[error("this sign-in was not started here, or was answered already")]
    State,
    #[error("the identity provider's token is not valid ({0})")]
    Token(String),
    #[error("the identity provider gave no verified email address")]
    NoEmail,
    #[error("{0} may not use this console")]
    NotAllowed(String),
    #[error("the identity provider refused the sign-in ({0})")]
    Denied(String),
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Discovered {
    discovery: Discovery,
    keys: JwksCache,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    email: Option<String>,
    /// A boolean, or (as some providers send it) the string `"true"` or `"false"`.
    email_verified: Option<serde_json::Value>,
    nonce: Option<String>,
    #[serde(flatten)]
    others: serde_json::Map<String, serde_json::Value>,
}

/// Who signed in, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    pub email: String,
    pub role: OperatorRole,
}

pub struct OidcClient {
    settings: OidcSettings,
    http: reqwest::Client,
    timeout: Duration,
    discovered: OnceCell<Discovered>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.settings.issuer.as_str())
            .finish_non_exhaustive()
    }
}

fn random_text() -> Result<String, OidcError> {
    StateToken::generate()
        .map(|token| token.expose().to_owned())
        .map_err(|_| OidcError::Provider("no randomness".into()))
}

fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, OidcError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|error| OidcError::Provider(error.without_url().to_string()))?;
    if body.len() > MAX_BYTES {
        return Err(OidcError::Provider("the answer is too large".into()));
    }
    if !status.is_success() {
        return Err(OidcError::Provider(format!("HTTP {}", status.as_u16())));
    }
    serde_json::from_slice(&body).map_err(|_| OidcError::Provider("not the expected JSON".into()))
}

impl OidcClient {
    pub fn new(settings: OidcSettings, http: reqwest::Client, timeout: Duration) -> Self {
        Self {
            settings,
            http,
            timeout,
            discovered: OnceCell::new(),
        }
    }

    /// The discovery document, fetched once (a failed fetch is tried again next time).
    async fn discovered(&self) -> Result<&Discovered, OidcError> {
        self.discovered
            .get_or_try_init(|| async {
                let issuer = self.settings.issuer.as_str().trim_end_matches('/');
                let url = format!("{issuer}/.well-known/openid-configuration");
                let response = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .map_err(|error| OidcError::Provider(error.without_url().to_string()))?;
                let discovery: Discovery = read_json(response).await?;
                if !same_issuer(&discovery.issuer, issuer) {
                    return Err(OidcError::Provider(
                        "the discovery document names another issuer".into(),
                    ));
                }
                for endpoint in [
                    &discovery.authorization_endpoint,
                    &discovery.token_endpoint,
                    &discovery.jwks_uri,
                ] {
                    let url = Url::parse(endpoint).map_err(|_| {
                        OidcError::Provider("the discovery document names an invalid URL".into())
                    })?;
                    if url.scheme() != "https" && !crate::settings::is_loopback_host(&url) {
                        return Err(OidcError::Provider(
                            "the discovery document names an endpoint without https".into(),
                        ));
                    }
                }
                let jwks_uri = Url::parse(&discovery.jwks_uri)
                    .map_err(|_| OidcError::Provider("the JWKS URL is not valid".into()))?;
                let keys = JwksCache::new(
                    jwks_uri,
                    Algorithm::RS256,
                    self.timeout,
                    Duration::from_secs(3600),
                    Duration::from_secs(30),
                )
                .map_err(|error| OidcError::Provider(error.to_string()))?;
                Ok(Discovered { discovery, keys })
            })
            .await
    }

    /// Where to send the operator, and what the callback must find in the session.
    pub async fn start(&self, redirect_uri: &str) -> Result<(Url, OidcPending), OidcError> {
        let discovered = self.discovered().await?;
        let pending = OidcPending {
            state: random_text()?,
            nonce: random_text()?,
            verifier: random_text()?,
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
        let mut url = Url::parse(&discovered.discovery.authorization_endpoint)
            .map_err(|_| OidcError::Provider("the authorization URL is not valid".into()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok((url, pending))
    }

    /// Finishes a sign-in: the callback's `state` checked against the session's, the code
    /// exchanged, the ID token verified, and the person admitted or refused.
    pub async fn finish(
        &self,
        pending: Option<OidcPending>,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OidcIdentity, OidcError> {
        let pending = pending.ok_or(OidcError::State)?;
        if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(OidcError::State);
        }
        let discovered = self.discovered().await?;
        let response = self
            .http
            .post(discovered.discovery.token_endpoint.as_str())
            .basic_auth(
                &self.settings.client_id,
                Some(self.settings.client_secret.expose_secret()),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &pending.verifier),
            ])
            .send()
            .await
            .map_err(|error| OidcError::Provider(error.without_url().to_string()))?;
        let answer: TokenAnswer = read_json(response).await?;
        let claims = self
            .verify(discovered, &answer.id_token, &pending.nonce)
            .await?;
        self.admit(claims)
    }

    async fn verify(
        &self,
        discovered: &Discovered,
        id_token: &str,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        let header = decode_header(id_token).map_err(|_| OidcError::Token("not a JWT".into()))?;
        if header.alg != Algorithm::RS256 {
            return Err(OidcError::Token("not signed with RS256".into()));
        }
        let kid = header
            .kid
            .ok_or_else(|| OidcError::Token("no key id".into()))?;
        let key = discovered
            .keys
            .key(&kid)
            .await
            .map_err(|error| OidcError::Token(error.to_string()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[discovered.discovery.issuer.as_str()]);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let claims = decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|error| OidcError::Token(format!("{:?}", error.kind())))?
            .claims;
        let nonce_matches = claims
            .nonce
            .as_deref()
            .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(nonce.as_bytes())));
        if !nonce_matches {
            return Err(OidcError::Token("the nonce does not match".into()));
        }
        Ok(claims)
    }

    fn admit(&self, claims: IdClaims) -> Result<OidcIdentity, OidcError> {
        let stated = claims
            .email_verified
            .as_ref()
            .and_then(|value| match value {
                serde_json::Value::Bool(verified) => Some(*verified),
                serde_json::Value::String(text) if text == "true" => Some(true),
                serde_json::Value::String(text) if text == "false" => Some(false),
                _ => None,
            });
        let verified = if self.settings.require_verified_email {
            stated == Some(true)
        } else {
            stated != Some(false)
        };
        let email = claims
            .email
            .filter(|_| verified)
            .map(|email| email.trim().to_lowercase())
            .filter(|email| email.contains('@'))
            .ok_or(OidcError::NoEmail)?;
        let settings = &self.settings;
        let domain = email.rsplit('@').next().unwrap_or_default();
        if !settings.allowed_domains.is_empty()
            && !settings
                .allowed_domains
                .iter()
                .any(|allowed| allowed == domain)
        {
            return Err(OidcError::NotAllowed(email));
        }
        let groups: Vec<&str> = claims
            .others
            .get(&settings.groups_claim)
            .and_then(serde_json::Value::as_array)
            .map(|groups| {
                groups
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect()
            })
            .unwrap_or_default();
        let member_of = |configured: &[String]| {
            configured
                .iter()
                .any(|group| groups.contains(&group.as_str()))
        };
        // Members of operator_groups act; the others admitted (members of viewer_groups, or
        // everyone of an allowed domain when no viewer group is named) look.
        let role = if member_of(&settings.operator_groups) {
            OperatorRole::Operator
        } else if settings.viewer_groups.is_empty() || member_of(&settings.viewer_groups) {
            OperatorRole::Viewer
        } else {
            return Err(OidcError::NotAllowed(email));
        };
        Ok(OidcIdentity { email, role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(require_verified_email: bool) -> OidcClient {
        let settings = OidcSettings {
            issuer: Url::parse("https://login.example.com").unwrap(),
            client_id: "console".into(),
            client_secret: "secret".into(),
            allowed_domains: vec!["example.com".into()],
            groups_claim: "groups".into(),
            viewer_groups: vec![],
            operator_groups: vec!["ops".into()],
            require_verified_email,
        };
        OidcClient::new(settings, reqwest::Client::new(), Duration::from_secs(1))
    }

    fn claims(verified: serde_json::Value, groups: &[&str]) -> IdClaims {
        serde_json::from_value(serde_json::json!({
            "email": "Someone@Example.com",
            "email_verified": verified,
            "groups": groups,
        }))
        .unwrap()
    }

    #[test]
    fn a_verified_email_may_be_said_as_a_boolean_or_a_string() {
        let strict = client(true);
        for verified in [serde_json::json!(true), serde_json::json!("true")] {
            let identity = strict.admit(claims(verified, &["ops"])).unwrap();
            assert_eq!(identity.email, "someone@example.com");
            assert_eq!(identity.role, OperatorRole::Operator);
        }
        for unverified in [
            serde_json::json!(false),
            serde_json::json!("false"),
            serde_json::json!(null),
            serde_json::json!("yes"),
        ] {
            assert_eq!(
                strict.admit(claims(unverified, &[])),
                Err(OidcError::NoEmail)
            );
        }
        let lenient = client(false);
        assert!(lenient.admit(claims(serde_json::json!(null), &[])).is_ok());
        assert_eq!(
            lenient.admit(claims(serde_json::json!("false"), &[])),
            Err(OidcError::NoEmail)
        );
        assert_eq!(
            lenient
                .admit(claims(serde_json::json!(true), &[]))
                .unwrap()
                .role,
            OperatorRole::Viewer
        );
    }
}
