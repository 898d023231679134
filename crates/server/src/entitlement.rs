//! Asking the vendor whether an account may install (`apps.<id>.install_policy.entitlement_url`),
//! after sign-in and before anything is installed: `POST` of
//! `{"app", "provider", "account", "tenant", "marketplace_key"}`, signed like the webhooks
//! (Standard Webhooks headers), answered by `{"allow": true}` or
//! `{"allow": false, "redirect_url": "https://…"}` within the configured timeout. An allowing
//! answer may list the account's workspaces (`"workspaces": [{"id", "name"}]`), one of which
//! the install lands in.

use installgate_core::{AccountId, AppId, Clock, ProviderId, Workspace};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::settings::{Entitlement, OnError};
use crate::webhooks::Signer;

/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Most workspaces an answer may list.
const MAX_WORKSPACES: usize = 100;

/// What the vendor said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Yes, into one of these workspaces (none listed: the vendor has no workspaces).
    Allow { workspaces: Vec<Workspace> },
    /// Not (yet): the user goes to `redirect_url` (a plan page), with a way back.
    Refuse { redirect_url: Url },
    /// No usable answer, and the app's `on_error` is `deny`.
    Unavailable,
}

/// The question.
#[derive(Debug, Serialize)]
pub struct Question<'a> {
    pub app: &'a AppId,
    pub provider: &'a ProviderId,
    pub account: &'a AccountId,
    pub tenant: Option<&'a str>,
    pub marketplace_key: Option<&'a str>,
}

#[derive(Deserialize)]
struct Answer {
    allow: bool,
    redirect_url: Option<String>,
    #[serde(default)]
    workspaces: Vec<Workspace>,
}

/// Where the vendor may send a refused user: `https`, or `http` to a loopback host (a local
/// vendor stub).
fn plan_page(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    let secure = url.scheme() == "https"
        || (url.scheme() == "http" && crate::settings::is_loopback_host(&url));
    secure.then_some(url)
}

/// The vendor's entitlement service, shared by every app that has one.
#[derive(Debug, Clone)]
pub struct Entitlements {
    client: reqwest::Client,
    signer: Option<Signer>,
}

impl Entitlements {
    pub fn new(client: reqwest::Client, signer: Option<Signer>) -> Self {
        Self { client, signer }
    }

    /// Asks `policy`'s endpoint about `question`; an unusable answer counts as the policy says.
    pub async fn ask(
        &self,
        policy: &Entitlement,
        question: &Question<'_>,
        clock: &dyn Clock,
    ) -> Verdict {
        match self.call(policy, question, clock).await {
            Ok(verdict) => verdict,
            Err(reason) => {
                tracing::warn!(app = %question.app, reason, "the entitlement check got no usable answer");
                match policy.on_error {
                    OnError::Allow => Verdict::Allow {
                        workspaces: Vec::new(),
                    },
                    OnError::Deny => Verdict::Unavailable,
                }
            }
        }
    }

    async fn call(
        &self,
        policy: &Entitlement,
        question: &Question<'_>,
        clock: &dyn Clock,
    ) -> Result<Verdict, &'static str> {
        let signer = self
            .signer
            .as_ref()
            .ok_or("no webhook secret to sign with")?;
        let body = serde_json::to_string(question).map_err(|_| "the question")?;
        let id = format!("ent_{}", uuid::Uuid::new_v4().simple());
        let timestamp = clock.now().as_millis() / 1000;
        let response = self
            .client
            .post(policy.url.clone())
            .timeout(policy.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signer.sign(&id, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    "timed out"
                } else {
                    "not reached"
                }
            })?;
        if !response.status().is_success() {
            return Err("answered an error status");
        }
        let bytes = response.bytes().await.map_err(|_| "the answer broke off")?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large");
        }
        let answer: Answer =
            serde_json::from_slice(&bytes).map_err(|_| "the answer is not the expected JSON")?;
        if answer.allow {
            let workspaces = answer.workspaces;
            if workspaces.len() > MAX_WORKSPACES || !workspaces.iter().all(Workspace::is_usable) {
                return Err("the workspaces are too many, or one has no usable id and name");
            }
            let mut ids: Vec<&str> = workspaces.iter().map(|w| w.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            if ids.len() != workspaces.len() {
                return Err("two workspaces have the same id");
            }
            return Ok(Verdict::Allow { workspaces });
        }
        let redirect_url = answer
            .redirect_url
            .as_deref()
            .and_then(plan_page)
            .ok_or("a refusal without an https redirect_url")?;
        Ok(Verdict::Refuse { redirect_url })
    }
}
