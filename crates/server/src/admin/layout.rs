//! The console's pages around their content: a navigation bar for a signed-in operator, and
//! the stylesheet and script of the console's own (no inline script, no third-party origin).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use installgate_store::Operator;
use maud::{DOCTYPE, Markup, html};

/// The console's stylesheet and script, served from `/admin/static/`.
pub const STYLESHEET: &str = include_str!("static/console.css");
pub const SCRIPT: &str = include_str!("static/console.js");

/// Every console response's policy: its own stylesheet, script and images, forms to itself
/// only, and never framed.
pub const POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
    img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages in the navigation bar: path and name.
const PAGES: [(&str, &str); 5] = [
    ("/admin/overview", "Overview"),
    ("/admin/connections", "Connections"),
    ("/admin/deliveries", "Deliveries"),
    ("/admin/apps", "Apps"),
    ("/admin/audit", "Audit log"),
];

/// A page for a signed-in operator; `current` is the path of the navigation entry it is under.
pub fn page(
    operator: &Operator,
    csrf: &str,
    title: &str,
    current: &str,
    content: Markup,
) -> HttpResponse {
    let body = html! {
        header class="top" {
            p class="product" { "Installgate console" }
            nav aria-label="Console" {
                ul {
                    @for (path, name) in PAGES {
                        li {
                            @if path == current {
                                a href=(path) aria-current="page" { (name) }
                            } @else {
                                a href=(path) { (name) }
                            }
                        }
                    }
                }
            }
            form method="post" action="/admin/sign-out" class="who" {
                span { (operator.email) " (" (operator.role.as_str()) ")" }
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" class="link" { "Sign out" }
            }
        }
        main id="main" { h1 { (title) } (content) }
    };
    document(StatusCode::OK, title, body)
}

/// A page for someone not signed in (sign-in steps, enrolment).
pub fn bare(status: StatusCode, title: &str, content: Markup) -> HttpResponse {
    let body = html! {
        header class="top" { p class="product" { "Installgate console" } }
        main id="main" class="narrow" { h1 { (title) } (content) }
    };
    document(status, title, body)
}

fn document(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Installgate console" }
                link rel="stylesheet" href="/admin/static/console.css";
                script src="/admin/static/console.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                (body)
            }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A hidden CSRF field and a submit button, as one small form posting to `action`.
pub fn action_form(action: &str, csrf: &str, label: &str, hidden: &[(&str, &str)]) -> Markup {
    html! {
        form method="post" action=(action) class="inline" {
            input type="hidden" name="csrf" value=(csrf);
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" { (label) }
        }
    }
}

/// A time in milliseconds since the epoch, as UTC text.
pub fn when(millis: i64) -> String {
    installgate_core::Timestamp::from_millis(millis).to_rfc3339()
}
