//! The HTML the gateway shows people: plain, accessible pages that work in a narrow iframe and in
//! a tab. Markup goes through `maud`, which escapes every interpolated value.

use maud::{DOCTYPE, Markup, html};

use crate::settings::Branding;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1d1d1f;\
background:#fff}main{max-width:34rem;margin:0 auto}h1{font-size:1.4rem;margin:0 0 .75rem}\
p{margin:.5rem 0}.hint{color:#555}header,footer{max-width:34rem;margin:0 auto 1rem;\
display:flex;align-items:center;gap:.75rem}footer{margin:2rem auto 0;font-size:.9rem}\
.brand-name{font-weight:600}";

/// A whole page around `content`.
pub fn layout(title: &str, content: Markup) -> String {
    layout_for(title, content, None)
}

/// Black or white, whichever reads better on `hex` (`#rgb` or `#rrggbb`), by WCAG's relative
/// luminance.
fn text_on(hex: &str) -> &'static str {
    let digits = hex.trim_start_matches('#');
    let channel = |index: usize| -> f64 {
        let value = if digits.len() == 3 {
            u8::from_str_radix(&digits[index..=index].repeat(2), 16)
        } else {
            u8::from_str_radix(&digits[index * 2..index * 2 + 2], 16)
        }
        .unwrap_or(0);
        let c = f64::from(value) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
    // Contrast with white is (1.05) / (L + 0.05), with black (L + 0.05) / 0.05.
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
        "#fff"
    } else {
        "#000"
    }
}

/// A whole page around `content`, presenting the vendor when the install's app has branding:
/// its logo and name above, its colour on buttons, its help, privacy and terms links below.
pub fn layout_for(title: &str, content: Markup, branding: Option<&Branding>) -> String {
    let branding = branding.filter(|branding| **branding != Branding::default());
    let name = branding.and_then(|branding| branding.display_name.as_deref());
    let accent = branding.and_then(|branding| branding.accent_color.as_deref());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (name.unwrap_or("Installgate")) }
                style { (STYLE) }
                @if let Some(accent) = accent {
                    style {
                        "button{background:" (accent) ";color:" (text_on(accent)) ";border:1px solid "
                        (accent) ";border-radius:4px}header{border-bottom:3px solid " (accent) "}"
                    }
                }
            }
            body {
                @if let Some(branding) = branding {
                    header class="brand" {
                        @if let Some(logo) = &branding.logo_url {
                            img src=(logo.as_str()) alt=(name.map_or_else(String::new, |name| format!("{name} logo"))) height="40";
                        }
                        @if let Some(name) = name {
                            p class="brand-name" { (name) }
                        }
                    }
                }
                main { (content) }
                @if let Some(branding) = branding {
                    @let links = [
                        (&branding.support_url, "Help"),
                        (&branding.privacy_url, "Privacy"),
                        (&branding.terms_url, "Terms"),
                    ];
                    @if links.iter().any(|(url, _)| url.is_some()) {
                        footer {
                            nav aria-label="About this app" {
                                @for (url, label) in links {
                                    @if let Some(url) = url {
                                        a href=(url.as_str()) { (label) } " "
                                    }
                                }
                            }
                        }
                    }
                }
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
    /// How the app presents the vendor.
    pub branding: Branding,
    /// Where new users get an account, when the app lets only existing accounts install.
    pub get_account_url: Option<url::Url>,
}

impl Installing {
    /// The app's name for people: its display name, or its id.
    fn name(&self) -> &str {
        self.branding.display_name.as_deref().unwrap_or(&self.app)
    }
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
                installing.name(),
                installing.marketplace
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

impl AccountForm<'_> {
    fn branding(&self) -> Option<&Branding> {
        self.purpose
            .installing
            .as_ref()
            .map(|installing| &installing.branding)
    }
}

pub fn sign_in(form: &AccountForm<'_>) -> String {
    layout_for(
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
        form.branding(),
    )
}

/// Instead of the sign-up form, for an app that only users with an account may install: where
/// to get one, and the way back to sign in.
pub fn account_needed(form: &AccountForm<'_>) -> String {
    let installing = form.purpose.installing.as_ref();
    let vendor = installing.map_or("the vendor", Installing::name);
    let title = "An account is needed";
    layout_for(
        title,
        html! {
            h1 { (title) }
            p { "To install " (vendor) ", you need an account with " (vendor) " first." }
            @if let Some(url) = installing.and_then(|installing| installing.get_account_url.as_ref()) {
                p { a href=(url.as_str()) { "Get an account with " (vendor) } }
            }
            p { "Have an account? " a href=(form.purpose.carried("/account/sign-in", form.resume)) { "Sign in" } " to continue the install." }
        },
        form.branding(),
    )
}

pub fn sign_up(form: &AccountForm<'_>) -> String {
    layout_for(
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
        form.branding(),
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
pub fn install_failed(
    marketplace: &str,
    error: &str,
    description: Option<&str>,
    branding: &Branding,
) -> String {
    layout_for(
        "Install not completed",
        html! {
            h1 { "The install was not completed" }
            p { (marketplace) " reported: " code { (error) } }
            @if let Some(description) = description {
                p { (description) }
            }
            p class="hint" { "Nothing was stored. You can close this window, or start the install again from " (marketplace) "." }
        },
        Some(branding),
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
    pub branding: Branding,
}

/// A signed-in user confirms (or cancels) connecting a marketplace account to their account.
pub fn confirm_connection(offer: &ConnectionOffer, csrf_token: &str) -> String {
    layout_for(
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
        Some(&offer.branding),
    )
}

/// The vendor's entitlement service did not answer: nothing was installed; try again.
pub fn try_again_shortly(branding: &Branding) -> String {
    let title = "Please try again shortly";
    layout_for(
        title,
        html! {
            h1 { (title) }
            p { "We could not confirm your subscription just now, so nothing was installed yet." }
            p class="hint" { "Try again in a few minutes from the marketplace." }
        },
        Some(branding),
    )
}

/// The user declined at the marketplace, or cancelled here.
pub fn install_cancelled(marketplace: &str, branding: &Branding) -> String {
    let title = "Installation cancelled";
    layout_for(
        title,
        html! {
            h1 { (title) }
            p { "The installation was cancelled and nothing was connected." }
            p class="hint" {
                "You can close this tab, or start the installation again from the " (marketplace) " Marketplace."
            }
        },
        Some(branding),
    )
}
