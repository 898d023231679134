//! A vendor's entitlement service for tests: it answers whether an account may install (allow,
//! or refuse with its plan page), records the questions and their signature headers, and can be
//! told that the account subscribed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Default)]
struct State {
    allow: AtomicBool,
    questions: Mutex<Vec<(serde_json::Value, bool)>>,
    /// Listed in allowing answers when set.
    workspaces: Mutex<Option<serde_json::Value>>,
}

pub struct VendorStub {
    pub entitlement_url: String,
    pub plans_url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
    /// The gateway settings that ask this stub about app `app`'s installs.
    vars: Vec<(String, String)>,
    /// Events go here: the question is signed with the webhook secret, so one is configured.
    _events: crate::Receiver,
}

async fn entitled(state: web::Data<State>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let signed = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .all(|name| request.headers().contains_key(*name));
    let question = serde_json::from_slice(&body).unwrap_or_default();
    state.questions.lock().unwrap().push((question, signed));
    let plans = format!("http://{}/plans", request.connection_info().host());
    if state.allow.load(Ordering::SeqCst) {
        let mut answer = serde_json::json!({ "allow": true });
        if let Some(workspaces) = state.workspaces.lock().unwrap().clone() {
            answer["workspaces"] = workspaces;
        }
        HttpResponse::Ok().json(answer)
    } else {
        HttpResponse::Ok().json(serde_json::json!({ "allow": false, "redirect_url": plans }))
    }
}

#[derive(serde::Deserialize)]
struct Resume {
    resume: Option<String>,
}

/// The vendor's plan page: a Subscribe button that leads back to the gateway's `resume` URL.
async fn plans(query: web::Query<Resume>) -> HttpResponse {
    let resume = query.resume.clone().unwrap_or_default();
    let escaped = resume.replace('&', "&amp;").replace('"', "&quot;");
    HttpResponse::Ok().content_type("text/html").body(format!(
        "<!doctype html><title>Plans</title><h1>Choose a plan</h1>\
         <form method=post action=/subscribe><input type=hidden name=resume value=\"{escaped}\">\
         <button id=subscribe>Subscribe</button></form>"
    ))
}

/// The user subscribed: the next answers allow, and the browser goes back through `resume`.
async fn subscribe(state: web::Data<State>, form: web::Form<Resume>) -> HttpResponse {
    state.allow.store(true, Ordering::SeqCst);
    let resume = form.resume.clone().unwrap_or_default();
    HttpResponse::SeeOther()
        .insert_header(("location", resume))
        .finish()
}

impl VendorStub {
    /// A stub asked about the installs of the app whose settings key is `app` (`CRM` for
    /// `apps.crm`).
    pub async fn start(app: &str) -> Self {
        let state = Arc::new(State::default());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/entitled", web::post().to(entitled))
                .route("/plans", web::get().to(plans))
                .route("/subscribe", web::post().to(subscribe))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        let entitlement_url = format!("http://127.0.0.1:{port}/entitled");
        let events = crate::Receiver::start(0).await;
        let vars = vec![
            (
                format!("INSTALLGATE__APPS__{app}__INSTALL_POLICY__ENTITLEMENT_URL"),
                entitlement_url.clone(),
            ),
            ("INSTALLGATE__WEBHOOK__URL".to_owned(), events.url.clone()),
            (
                "INSTALLGATE__WEBHOOK__SECRET".to_owned(),
                crate::webhook_secret(6),
            ),
        ];
        Self {
            entitlement_url,
            plans_url: format!("http://127.0.0.1:{port}/plans"),
            state,
            handle,
            vars,
            _events: events,
        }
    }

    /// The gateway settings that ask this stub, with `more` after them.
    pub fn settings<'a>(&'a self, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        self.vars
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .chain(more.iter().copied())
            .collect()
    }

    /// The account "subscribed" (or not): what the next answers say.
    pub fn allow(&self, allow: bool) {
        self.state.allow.store(allow, Ordering::SeqCst);
    }

    /// The account's workspaces, as `(id, name)`: listed in every allowing answer from now on.
    pub fn workspaces(&self, workspaces: &[(&str, &str)]) {
        let listed: Vec<serde_json::Value> = workspaces
            .iter()
            .map(|(id, name)| serde_json::json!({ "id": id, "name": name }))
            .collect();
        *self.state.workspaces.lock().unwrap() = Some(serde_json::Value::Array(listed));
    }

    /// The questions asked so far, each with whether it carried the signature headers.
    pub fn questions(&self) -> Vec<(serde_json::Value, bool)> {
        self.state.questions.lock().unwrap().clone()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
