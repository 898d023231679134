//! The operator console as a test drives it over HTTP: its own cookie jar, forms posted from
//! the console's origin with its CSRF token, operators created as `installgate admin create`
//! creates them, and TOTP codes computed as an authenticator app would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use totp_rs::{Builder, Secret};

use crate::{TestApp, hidden_input, location};

pub const OPERATOR_PASSWORD: &str = "operator password 1";

/// A browser of the console: its own cookies, no redirects followed.
pub struct ConsoleClient {
    pub base: String,
    pub client: reqwest::Client,
}

/// Creates an operator of `app`'s console, as `installgate admin create` does.
pub async fn create_operator(app: &TestApp, email: &str, role: &str) {
    let database = installgate_store::Database::connect(&app.settings.database)
        .await
        .unwrap();
    installgate_server::admin::cli::create(
        &app.settings,
        database,
        email,
        role,
        Ok(OPERATOR_PASSWORD.to_owned()),
    )
    .await
    .unwrap();
}

/// The code an authenticator app shows for the base-32 `key`, `ahead` steps from now.
pub fn totp_code(key: &str, ahead: u64) -> String {
    let secret = Secret::try_from_base32(key).unwrap();
    let totp = Builder::new().with_secret(secret).build().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + ahead * 30).to_string()
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

impl ConsoleClient {
    pub fn new(app: &TestApp) -> Self {
        let port = app.admin_port.expect("the console is on");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form from the console's own origin.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_from(path, form, Some(&self.base.clone())).await
    }

    pub async fn post_from(
        &self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap()
    }

    /// The CSRF token of the form on the page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        hidden_input(&self.text(path).await, "csrf").expect("a form with a CSRF token")
    }

    /// Email and password: where the sign-in goes next.
    pub async fn password(&self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/admin/sign-in").await;
        self.post(
            "/admin/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// The first sign-in: password, then the TOTP enrolment. The key and the recovery codes.
    pub async fn enrol(&self, email: &str) -> (String, Vec<String>) {
        let signed = self.password(email, OPERATOR_PASSWORD).await;
        assert_eq!(location(&signed), "/admin/enrol");
        let page = self.text("/admin/enrol").await;
        let key = between(&page, "<code id=\"totp-key\">", "</code>")
            .unwrap()
            .to_owned();
        let csrf = hidden_input(&page, "csrf").unwrap();
        let enrolled = self
            .post(
                "/admin/enrol",
                &[("csrf", &csrf), ("code", &totp_code(&key, 0))],
            )
            .await;
        assert_eq!(enrolled.status(), 200);
        let page = enrolled.text().await.unwrap();
        let list = between(&page, "<ul class=\"codes\" id=\"recovery-codes\">", "</ul>").unwrap();
        let codes = list
            .split("<code>")
            .skip(1)
            .filter_map(|part| part.split("</code>").next())
            .map(str::to_owned)
            .collect();
        (key, codes)
    }

    /// A later sign-in: password, then `code`. The answer to the code.
    pub async fn sign_in(&self, email: &str, code: &str) -> reqwest::Response {
        let signed = self.password(email, OPERATOR_PASSWORD).await;
        assert_eq!(location(&signed), "/admin/sign-in/code");
        let csrf = self.csrf("/admin/sign-in/code").await;
        self.post("/admin/sign-in/code", &[("csrf", &csrf), ("code", code)])
            .await
    }

    /// A new operator of `role`, created, enrolled and signed in on a console client of its own.
    pub async fn signed_in(app: &TestApp, email: &str, role: &str) -> (Self, String) {
        create_operator(app, email, role).await;
        let console = Self::new(app);
        let (key, _) = console.enrol(email).await;
        (console, key)
    }
}

/// Waits (up to 15 s) until `check` holds; fails naming `what` otherwise.
pub async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not happen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
