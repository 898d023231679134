use std::sync::Mutex;

use crate::TestApp;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "__Host-installgate";

/// A browser-like client: keeps the session cookie (which is `Secure`, so an HTTP client's own
/// jar would not send it over plain HTTP), sends the page's `Origin` with forms, follows no
/// redirects.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Mutex<Option<String>>,
    /// The full `Set-Cookie` lines of the session cookie, newest last.
    pub set_cookie_lines: Mutex<Vec<String>>,
    /// The `Accept-Language` every request sends, when set.
    languages: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.address)
    }

    /// A browser for the gateway at `base` (`http://127.0.0.1:PORT`).
    pub fn at(base: &str) -> Self {
        Self::at_from(base, None)
    }

    /// A browser whose requests come from `address` (a loopback address such as 127.0.0.7),
    /// as a client on another network would.
    pub fn from_address(app: &TestApp, address: std::net::IpAddr) -> Self {
        Self::at_from(&app.address, Some(address))
    }

    fn at_from(base: &str, address: Option<std::net::IpAddr>) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookie: Mutex::new(None),
            set_cookie_lines: Mutex::new(Vec::new()),
            languages: Mutex::new(None),
        }
    }

    pub fn origin(&self) -> &str {
        &self.base
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub fn set_session_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends `Accept-Language: {languages}` from now on.
    pub fn speaks(&self, languages: &str) {
        *self.languages.lock().unwrap() = Some(languages.to_owned());
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let languages = self.languages.lock().unwrap().clone();
        let request = match languages {
            Some(languages) => request.header("accept-language", languages),
            None => request,
        };
        match self.session_cookie() {
            Some(value) => request.header("cookie", format!("{SESSION_COOKIE}={value}")),
            None => request,
        }
    }

    fn remember(&self, response: &reqwest::Response) {
        for line in response.headers().get_all("set-cookie") {
            let Ok(line) = line.to_str() else { continue };
            let Some(rest) = line.strip_prefix(&format!("{SESSION_COOKIE}=")) else {
                continue;
            };
            self.set_cookie_lines.lock().unwrap().push(line.to_owned());
            let value = rest.split(';').next().unwrap_or_default().to_owned();
            let cleared = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
            self.set_session_cookie((!cleared).then_some(value));
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self
            .with_cookie(self.client.get(self.url(path)))
            .send()
            .await
            .unwrap();
        self.remember(&response);
        response
    }

    /// Posts a form as the gateway's own page would: with its `Origin`.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let origin = self.base.clone();
        self.post_from(path, fields, Some(&origin)).await
    }

    /// Posts a form with the given `Origin` header (or none).
    pub async fn post_from(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .with_cookie(self.client.post(self.url(path)))
            .form(fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }
}

impl Browser {
    /// From a sign-in redirect of a parked request, signs up with `email` and `password`;
    /// returns the redirect that resumes the request. `purpose` must appear on the sign-in page.
    pub async fn sign_up_from(
        &self,
        sign_in: &str,
        purpose: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = self.get(sign_in).await.text().await.unwrap();
        assert!(page.contains(purpose), "{purpose:?} not in {page}");
        let resume = hidden_input(&page, "resume").unwrap();
        // The sign-in page's link to sign up keeps its query (the install it is part of).
        let sign_up = sign_in.replacen("/account/sign-in", "/account/sign-up", 1);
        let form = self.get(&sign_up).await.text().await.unwrap();
        let csrf = hidden_input(&form, "csrf_token").unwrap();
        let install = hidden_input(&form, "install");
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf_token", csrf.as_str()),
            ("resume", resume.as_str()),
        ];
        if let Some(install) = &install {
            fields.push(("install", install.as_str()));
        }
        self.post("/account/sign-up", &fields).await
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
