//! The requests each scenario sends.

use std::sync::Arc;

use crate::load::Request;

/// `GET url`, answered with `302`.
pub struct Redirect {
    pub client: reqwest::Client,
    pub url: String,
    /// The session cookie (`name=value`), for routes that need a signed-in user.
    pub cookie: Option<String>,
}

impl Request for Redirect {
    async fn send(&self, _n: u64) -> bool {
        let mut request = self.client.get(&self.url);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        matches!(request.send().await, Ok(response) if response.status().as_u16() == 302)
    }
}

/// `step=finalize` with the `n`th prepared state and code; `302` back to the return URL.
pub struct Finalize {
    pub client: reqwest::Client,
    /// Finalize URLs, each with its own state and code (single use).
    pub urls: Arc<Vec<String>>,
}

impl Request for Finalize {
    async fn send(&self, n: u64) -> bool {
        let Some(url) = self.urls.get(n as usize) else {
            return false;
        };
        matches!(self.client.get(url).send().await, Ok(response) if response.status().as_u16() == 302)
    }
}

/// `POST /api/v1/connections/{id}/access-token` over the connections in turn; `200`.
pub struct AccessToken {
    pub client: reqwest::Client,
    pub urls: Vec<String>,
    pub api_key: String,
    pub force_refresh: bool,
}

impl Request for AccessToken {
    async fn send(&self, n: u64) -> bool {
        let url = &self.urls[n as usize % self.urls.len()];
        let mut request = self.client.post(url).bearer_auth(&self.api_key);
        if self.force_refresh {
            request = request
                .header("content-type", "application/json")
                .body(r#"{"force_refresh": true}"#);
        }
        matches!(request.send().await, Ok(response) if response.status().as_u16() == 200)
    }
}
