//! The HTML the gateway shows people: plain, accessible pages that work in a narrow iframe and in
//! a tab. Markup goes through `maud`, which escapes every interpolated value.

use maud::{DOCTYPE, Markup, html};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1d1d1f;\
background:#fff}main{max-width:34rem;margin:0 auto}h1{font-size:1.4rem;margin:0 0 .75rem}\
p{margin:.5rem 0}.hint{color:#555}";

/// A whole page around `content`.
pub fn layout(title: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Installgate" }
                style { (STYLE) }
            }
            body {
                main { (content) }
            }
        }
    }
    .into_string()
}

/// A page with a heading, one explanation and a hint of what to do next.
pub fn message(title: &str, explanation: &str, hint: &str) -> String {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (explanation) "." }
            p class="hint" { (hint) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_text_is_escaped() {
        let page = message("<b>t</b>", "x<script>alert(1)</script>", "\"hint\"");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("&lt;b&gt;t&lt;/b&gt;"));
    }
}

/// The install a sign-in or sign-up page is part of.
#[derive(Debug, Clone)]
pub struct Installing {
    pub app: String,
    pub provider: String,
    /// The marketplace's name, for people.
    pub marketplace: String,
    /// The data-centre host framing the install (`app-na2.example.com`), carried from page to
    /// page so that each may be framed by it too.
    pub frame_host: Option<String>,
}

/// What a sign-in or sign-up page says it is for.
#[derive(Debug, Clone, Default)]
pub struct Purpose {
    /// The app being installed, when the user is mid-install.
    pub installing: Option<Installing>,
}

impl Purpose {
    fn line(&self, action: &str) -> String {
        match &self.installing {
            Some(installing) => format!(
                "{action} to continue installing {} from {}.",
                installing.app, installing.marketplace
            ),
            None => format!("{action} to manage your marketplace connections."),
        }
    }

    /// `path` with the install it belongs to in its query (`app`, `provider`), so that the
    /// next page keeps naming the install and keeps the app's framing policy.
    fn carried(&self, path: &str, resume: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(token) = resume {
            query.append_pair("resume", token);
        }
        if let Some(installing) = &self.installing {
            query
                .append_pair("app", &installing.app)
                .append_pair("provider", &installing.provider);
            if let Some(host) = &installing.frame_host {
                query.append_pair("frame_host", host);
            }
        }
        match query.finish() {
            query if query.is_empty() => path.to_owned(),
            query => format!("{path}?{query}"),
        }
    }
}

/// The fields every account form carries.
#[derive(Debug, Clone, Default)]
pub struct AccountForm<'a> {
    pub csrf_token: &'a str,
    pub resume: Option<&'a str>,
    /// The pending install this form attaches when it signs the user in (the connection id).
    pub install: Option<&'a str>,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub purpose: Purpose,
}

fn hidden_fields(form: &AccountForm<'_>) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(form.csrf_token);
        @if let Some(resume) = form.resume {
            input type="hidden" name="resume" value=(resume);
        }
        @if let Some(install) = form.install {
            input type="hidden" name="install" value=(install);
        }
    }
}

const FORM_STYLE: &str = "label{display:block;margin:.75rem 0 .25rem}input[type=email],\
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}\
button{margin-top:1rem;padding:.5rem 1rem;font:inherit}.error{color:#b00020}";

pub fn sign_in(form: &AccountForm<'_>) -> String {
    layout(
        "Sign in",
        html! {
            style { (FORM_STYLE) }
            h1 { "Sign in" }
            p { (form.purpose.line("Sign in")) }
            @if let Some(error) = form.error {
                p class="error" role="alert" { (error) }
            }
            form method="post" action=(form.purpose.carried("/account/sign-in", None)) {
                (hidden_fields(form))
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="username" required value=(form.email);
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
            p { "No account yet? " a href=(form.purpose.carried("/account/sign-up", form.resume)) { "Sign up" } }
        },
    )
}

pub fn sign_up(form: &AccountForm<'_>) -> String {
    layout(
        "Sign up",
        html! {
            style { (FORM_STYLE) }
            h1 { "Create an account" }
            p { (form.purpose.line("Create an account")) }
            @if let Some(error) = form.error {
                p class="error" role="alert" { (error) }
            }
            form method="post" action=(form.purpose.carried("/account/sign-up", None)) {
                (hidden_fields(form))
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="username" required value=(form.email);
                label for="password" { "Password (10 characters or more)" }
                input id="password" name="password" type="password" autocomplete="new-password" required minlength="10";
                button type="submit" { "Create account" }
            }
            p { "Have an account? " a href=(form.purpose.carried("/account/sign-in", form.resume)) { "Sign in" } }
        },
    )
}

/// A connection as the account page lists it.
#[derive(Debug, Clone)]
pub struct ConnectionLine {
    pub app: String,
    pub marketplace: String,
    pub account_key: String,
    pub status: String,
}

pub fn account_home(who: &str, connections: &[ConnectionLine], csrf_token: &str) -> String {
    layout(
        "Your account",
        html! {
            style { (FORM_STYLE) }
            h1 { "Signed in" }
            p { "You are signed in as " strong { (who) } "." }
            h2 { "Marketplace connections" }
            @if connections.is_empty() {
                p { "None yet. Install the app from a marketplace to connect it." }
            } @else {
                ul {
                    @for line in connections {
                        li { (line.app) " on " (line.marketplace) " (account " (line.account_key) "): " (line.status) }
                    }
                }
            }
            form method="post" action="/account/sign-out" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                button type="submit" { "Sign out" }
            }
        },
    )
}

pub fn signed_out() -> String {
    message(
        "Signed out",
        "You are signed out",
        "You can close this window, or sign in again from the marketplace.",
    )
}

/// The name people know a marketplace by.
pub fn marketplace_name(provider: &str) -> String {
    crate::registry::display_name(provider)
}

/// The marketplace reported an error (the user declined, or it failed) on an install callback.
pub fn install_failed(marketplace: &str, error: &str, description: Option<&str>) -> String {
    layout(
        "Install not completed",
        html! {
            h1 { "The install was not completed" }
            p { (marketplace) " reported: " code { (error) } }
            @if let Some(description) = description {
                p { (description) }
            }
            p class="hint" { "Nothing was stored. You can close this window, or start the install again from " (marketplace) "." }
        },
    )
}

/// What the confirmation page says about the marketplace account being connected.
#[derive(Debug, Clone)]
pub struct ConnectionOffer {
    pub marketplace: String,
    /// The marketplace account, as its provider names it.
    pub account: installgate_core::AccountDescription,
    pub vendor_account: String,
    pub confirm_action: String,
}

/// A signed-in user confirms (or cancels) connecting a marketplace account to their account.
pub fn confirm_connection(offer: &ConnectionOffer, csrf_token: &str) -> String {
    layout(
        "Confirm the connection",
        html! {
            style { (FORM_STYLE) }
            h1 { "Connect " (offer.marketplace) "?" }
            p {
                "Connect " (offer.marketplace) " " (offer.account.kind) " " strong { (offer.account.name) }
                @if let Some(user) = &offer.account.user {
                    " (user " (user) ")"
                }
                " to your account " strong { (offer.vendor_account) } "?"
            }
            form method="post" action=(offer.confirm_action) {
                input type="hidden" name="csrf_token" value=(csrf_token);
                button type="submit" name="decision" value="confirm" { "Connect" }
                " "
                button type="submit" name="decision" value="cancel" { "Cancel" }
            }
        },
    )
}

/// The user declined at the marketplace, or cancelled here.
pub fn install_cancelled(marketplace: &str) -> String {
    message(
        "Installation cancelled",
        "The installation was cancelled and nothing was connected",
        &format!(
            "You can close this tab, or start the installation again from the {marketplace} Marketplace."
        ),
    )
}
