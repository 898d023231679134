//! The sandbox's own page: the demo apps with their Install buttons, the connections made so
//! far, and the events the vendor's webhook received (this portal is that webhook).

use std::sync::Mutex;

use actix_web::{HttpRequest, HttpResponse, web};
use installgate_core::{ConnectionFilter, ConnectionVault as _};
use installgate_store::SqlVault;
use maud::{DOCTYPE, Markup, html};

use super::config::{DEMO_SHOPS, DemoApp, Ports, hubspot_pages_url, url};
use crate::webhooks::Signer;

/// One event as the webhook received it.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    pub id: String,
    pub kind: String,
    pub body: String,
    pub signature_valid: bool,
}

/// What the portal shows.
pub struct Portal {
    pub ports: Ports,
    pub apps: Vec<DemoApp>,
    pub vault: SqlVault,
    pub signer: Signer,
    pub api_key: String,
    pub events: Mutex<Vec<ReceivedEvent>>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route("/webhook", web::post().to(webhook))
        .route("/setup/{app}", web::get().to(setup));
}

fn layout(title: &str, body: Markup) -> HttpResponse {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Installgate sandbox" }
                style { "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}code{font-size:13px}.app{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}.button{display:inline-block;background:#0a66c2;color:#fff;padding:.3rem .8rem;border-radius:4px;text-decoration:none}" }
            }
            body { (body) }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(page.into_string())
}

fn install_link(app: &DemoApp, ports: &Ports) -> (String, &'static str) {
    match app.provider {
        // HubSpot's install starts on its Marketplace page for the app.
        "hubspot" => (
            format!("{}/marketplace/{}", hubspot_pages_url(ports), app.client_id),
            "_self",
        ),
        // Shopify's starts in the shop's admin, which sends the signed install request.
        "shopify" => (
            format!("{}/shops/{}/admin", url(ports.shopify), DEMO_SHOPS[0]),
            "_self",
        ),
        // Pipedrive's opens the consent dialog in a new tab.
        _ => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &app.client_id)
                .append_pair("redirect_uri", &app.install_url(ports))
                .finish();
            (
                format!("{}/oauth/authorize?{query}", url(ports.pipedrive)),
                "_blank",
            )
        }
    }
}

async fn home(portal: web::Data<Portal>) -> HttpResponse {
    let connections = portal
        .vault
        .list(&ConnectionFilter::default(), None, 200)
        .await
        .unwrap_or_default();
    let events: Vec<ReceivedEvent> = portal
        .events
        .lock()
        .map(|events| events.iter().rev().cloned().collect())
        .unwrap_or_default();
    let ports = &portal.ports;
    layout(
        "Home",
        html! {
            h1 { "Installgate sandbox" }
            p {
                "The gateway runs at " a href=(url(ports.gateway)) { (url(ports.gateway)) }
                ", with a simulated " a href=(hubspot_pages_url(ports)) { "HubSpot" }
                ", a simulated " a href=(url(ports.pipedrive)) { "Pipedrive" }
                " and a simulated " a href=(format!("{}/shops/{}/admin", url(ports.shopify), DEMO_SHOPS[0])) { "Shopify" }
                ". No real marketplace account is needed: sign up in the gateway when it asks."
            }
            h2 { "Demo apps" }
            @for app in &portal.apps {
                @let (link, target) = install_link(app, ports);
                div class="app" {
                    h3 { (app.name) }
                    p {
                        (crate::registry::display_name(app.provider))
                        @if app.partner_sign_in { ", with partner sign-in" }
                        ". Install URL: " code { (app.install_url(ports)) }
                    }
                    a class="button install" data-app=(app.id) href=(link) target=(target) { "Install" }
                    @if app.partner_sign_in {
                        " "
                        a class="button install-framed" data-app=(app.id) href=(format!("{link}?sign_in=frame")) {
                            "Install, signing in inside HubSpot's page"
                        }
                    }
                }
            }
            h2 { "Connections" }
            @if connections.is_empty() {
                p id="no-connections" { "None yet." }
            } @else {
                table id="connections" {
                    tr { th { "App" } th { "Marketplace account" } th { "Vendor account" } th { "Status" } th { "Updated" } }
                    @for connection in &connections {
                        tr class="connection" {
                            td class="app" { (connection.app) }
                            td { (connection.provider) " " (connection.marketplace_key.as_str()) }
                            td { (connection.account.as_ref().map(ToString::to_string).unwrap_or_else(|| "—".into())) }
                            td class="status" { (connection.status.as_str()) }
                            td { (connection.updated_at.to_rfc3339()) }
                        }
                    }
                }
            }
            h2 { "Events received by the webhook" }
            @if events.is_empty() {
                p { "None yet." }
            } @else {
                table id="events" {
                    tr { th { "Type" } th { "Signature" } th { "Body" } }
                    @for event in &events {
                        tr class="event" {
                            td class="event-type" { (event.kind) }
                            td { (if event.signature_valid { "valid" } else { "INVALID" }) }
                            td { code { (event.body) } }
                        }
                    }
                }
            }
            h2 { "Vendor API" }
            p { "Key: " code { (portal.api_key) } }
            pre { code { "curl -H 'Authorization: Bearer " (portal.api_key) "' " (url(ports.gateway)) "/api/v1/connections" } }
            p { a href="/" { "Reload" } }
        },
    )
}

#[derive(serde::Deserialize)]
struct EventBody {
    #[serde(rename = "type")]
    kind: String,
}

/// The vendor's webhook: checks the Standard Webhooks signature and keeps the event.
async fn webhook(portal: web::Data<Portal>, request: HttpRequest, body: String) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or_default();
    let expected = portal.signer.sign(&id, timestamp, &body);
    let signature_valid = header("webhook-signature")
        .split(' ')
        .any(|candidate| candidate == expected);
    let kind = serde_json::from_str::<EventBody>(&body)
        .map(|event| event.kind)
        .unwrap_or_else(|_| "(unreadable)".into());
    if let Ok(mut events) = portal.events.lock() {
        events.push(ReceivedEvent {
            id,
            kind,
            body,
            signature_valid,
        });
    }
    HttpResponse::NoContent().finish()
}

/// The app's setup page, where Pipedrive installs end.
async fn setup(portal: web::Data<Portal>, path: web::Path<String>) -> HttpResponse {
    let name = portal
        .apps
        .iter()
        .find(|app| app.id == path.as_str())
        .map_or("the app", |app| app.name);
    layout(
        "Set up",
        html! {
            h1 id="setup" { "Welcome to " (name) }
            p { "The install is complete: this is the app's own setup page." }
            p { a href="/" { "Back to the sandbox" } }
        },
    )
}
