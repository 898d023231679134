//! The Marketplace pages: "Install now" opens the consent dialog in a new tab; "Uninstall"
//! makes Pipedrive send the app its `DELETE` notice.

use actix_web::{HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use maud::{DOCTYPE, html};
use serde::Deserialize;
use serde_json::json;

use super::state::SimState;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(listing))
        .route("/marketplace/uninstall", web::post().to(uninstall));
}

async fn listing(state: web::Data<SimState>) -> HttpResponse {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Simulated Pipedrive Marketplace" } }
            body {
                p { small { "Simulated Pipedrive Marketplace (sandbox)" } }
                @for app in &state.apps {
                    section {
                        h2 { (app.name) }
                        @let install = {
                            let mut url = url::Url::parse(&format!("{}/oauth/authorize", state.base_url))
                                .unwrap_or_else(|_| unreachable_url());
                            url.query_pairs_mut()
                                .append_pair("client_id", &app.client_id)
                                .append_pair("redirect_uri", &app.redirect_uri);
                            url.to_string()
                        };
                        a class="install" href=(install) target="_blank" { "Install now" }
                        form method="post" action="/marketplace/uninstall" {
                            input type="hidden" name="client_id" value=(app.client_id);
                            select name="user" {
                                @for user in &state.users {
                                    option value=(format!("{}:{}", user.company_id, user.user_id)) {
                                        (user.name) " at " (user.company_name)
                                    }
                                }
                            }
                            button type="submit" { "Uninstall" }
                        }
                    }
                }
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

#[allow(clippy::panic)]
fn unreachable_url() -> url::Url {
    panic!("the simulator's own URL parses")
}

#[derive(Deserialize)]
struct UninstallForm {
    client_id: String,
    user: String,
}

async fn uninstall(state: web::Data<SimState>, form: web::Form<UninstallForm>) -> HttpResponse {
    let Some((company, user)) = form
        .user
        .split_once(':')
        .and_then(|(c, u)| Some((c.parse().ok()?, u.parse().ok()?)))
    else {
        return HttpResponse::BadRequest().body("pick a user");
    };
    let outcome = send_uninstall(&state, &form.client_id, company, user, true).await;
    let text = match outcome {
        Ok(status) => format!("Pipedrive sent the uninstall notice; the app answered {status}."),
        Err(error) => format!("The uninstall notice could not be sent: {error}"),
    };
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// Sends the `DELETE` notice to the app's callback URL.
pub async fn send_uninstall(
    state: &SimState,
    client_id: &str,
    company_id: u64,
    user_id: u64,
    with_valid_credentials: bool,
) -> Result<u16, String> {
    let app = state.app(client_id).ok_or("unknown client_id")?;
    let secret = if with_valid_credentials {
        app.client_secret.as_str()
    } else {
        "wrong-secret"
    };
    let credentials = STANDARD.encode(format!("{}:{secret}", app.client_id));
    // Types and timestamp format of the body are unconfirmed (Pipedrive's documentation does not say); the simulator
    // sends ids as numbers and an ISO-8601 time.
    let body = json!({
        "client_id": app.client_id, "company_id": company_id, "user_id": user_id,
        "timestamp": "2026-11-23T12:00:00.000Z",
    });
    let response = reqwest::Client::new()
        .delete(&app.redirect_uri)
        .header("authorization", format!("Basic {credentials}"))
        .json(&body)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    Ok(response.status().as_u16())
}
