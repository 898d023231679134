//! The HTML the gateway shows people: plain, accessible pages that work in a narrow iframe and in
//! a tab, in the language of the request ([`Texts`]). Markup goes through `maud`, which escapes
//! every interpolated value.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Texts;
use crate::settings::Branding;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1d1d1f;\
background:#fff}main{max-width:34rem;margin:0 auto}h1{font-size:1.4rem;margin:0 0 .75rem}\
p{margin:.5rem 0}.hint{color:#555}header,footer{max-width:34rem;margin:0 auto 1rem;\
display:flex;align-items:center;gap:.75rem}footer{margin:2rem auto 0;font-size:.9rem}\
.brand-name{font-weight:600}";

/// A whole page around `content`.
pub fn layout(t: &Texts, title: &str, content: Markup) -> String {
    layout_for(t, title, content, None)
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
pub fn layout_for(t: &Texts, title: &str, content: Markup, branding: Option<&Branding>) -> String {
    let branding = branding.filter(|branding| **branding != Branding::default());
    let name = branding.and_then(|branding| branding.display_name.as_deref());
    let accent = branding.and_then(|branding| branding.accent_color.as_deref());
    html! {
        (DOCTYPE)
        html lang=(t.language().tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (name.map_or_else(|| t.get("site-name"), str::to_owned)) }
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
                            img src=(logo.as_str()) alt=(name.map_or_else(String::new, |name| t.with("logo-alt", &[("name", name)]))) height="40";
                        }
                        @if let Some(name) = name {
                            p class="brand-name" { (name) }
                        }
                    }
                }
                main { (content) }
                @if let Some(branding) = branding {
                    @let links = [
                        (&branding.support_url, t.get("link-help")),
                        (&branding.privacy_url, t.get("link-privacy")),
                        (&branding.terms_url, t.get("link-terms")),
                    ];
                    @if links.iter().any(|(url, _)| url.is_some()) {
                        footer {
                            nav aria-label=(t.get("about-this-app")) {
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
pub fn message(t: &Texts, title: &str, explanation: &str, hint: &str) -> String {
    layout(
        t,
        title,
        html! {
            h1 { (title) }
            p { (explanation) }
            p class="hint" { (hint) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_text_is_escaped() {
        let t = crate::i18n::Catalog::built_in().texts(crate::i18n::Language::ENGLISH, None);
        let page = message(&t, "<b>t</b>", "x<script>alert(1)</script>", "\"hint\"");
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
    /// The line under a form's heading: `key_install` while installing, else `key`.
    fn line(&self, t: &Texts, key_install: &str, key: &str) -> String {
        match &self.installing {
            Some(installing) => t.with(
                key_install,
                &[
                    ("app", installing.name()),
                    ("marketplace", &installing.marketplace),
                ],
            ),
            None => t.get(key),
        }
    }

    /// `path` with the install it belongs to in its query (`app`, `provider`), so that the
    /// next page keeps naming the install and keeps the app's framing policy, and with the
    /// language when the user chose it by `?lang=`.
    fn carried(&self, t: &Texts, path: &str, resume: Option<&str>) -> String {
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
        if t.language().is_explicit() {
            query.append_pair("lang", t.language().tag());
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
    /// What the page says, in the request's language and the app's wording.
    pub texts: Texts,
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
button{margin-top:1rem;padding:.5rem 1rem;font:inherit}.error{color:#b00020}\
fieldset{border:0;padding:0;margin:0}legend{font-weight:600}\
.choice{display:flex;gap:.5rem;align-items:center;margin:.5rem 0}";

impl AccountForm<'_> {
    fn branding(&self) -> Option<&Branding> {
        self.purpose
            .installing
            .as_ref()
            .map(|installing| &installing.branding)
    }

    fn carried(&self, path: &str, resume: Option<&str>) -> String {
        self.purpose.carried(&self.texts, path, resume)
    }
}

pub fn sign_in(form: &AccountForm<'_>) -> String {
    let t = &form.texts;
    let title = t.get("sign-in-title");
    layout_for(
        t,
        &title,
        html! {
            style { (FORM_STYLE) }
            h1 { (title) }
            p { (form.purpose.line(t, "purpose-sign-in-install", "purpose-sign-in")) }
            @if let Some(error) = form.error {
                p class="error" role="alert" { (error) }
            }
            form method="post" action=(form.carried("/account/sign-in", None)) {
                (hidden_fields(form))
                label for="email" { (t.get("field-email")) }
                input id="email" name="email" type="email" autocomplete="username" required value=(form.email);
                label for="password" { (t.get("field-password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (t.get("sign-in-submit")) }
            }
            p { (t.get("no-account-yet")) " " a href=(form.carried("/account/sign-up", form.resume)) { (t.get("to-sign-up")) } }
        },
        form.branding(),
    )
}

/// Instead of the sign-up form, for an app that only users with an account may install: where
/// to get one, and the way back to sign in.
pub fn account_needed(form: &AccountForm<'_>) -> String {
    let t = &form.texts;
    let installing = form.purpose.installing.as_ref();
    let fallback = t.get("the-vendor");
    let vendor = installing.map_or(fallback.as_str(), Installing::name);
    let title = t.get("account-needed-title");
    layout_for(
        t,
        &title,
        html! {
            h1 { (title) }
            p { (t.with("account-needed-text", &[("app", vendor), ("vendor", vendor)])) }
            @if let Some(url) = installing.and_then(|installing| installing.get_account_url.as_ref()) {
                p { a href=(url.as_str()) { (t.with("account-needed-get", &[("vendor", vendor)])) } }
            }
            p {
                (t.get("have-an-account")) " "
                a href=(form.carried("/account/sign-in", form.resume)) { (t.get("to-sign-in")) }
                " " (t.get("account-needed-continue"))
            }
        },
        form.branding(),
    )
}

pub fn sign_up(form: &AccountForm<'_>) -> String {
    let t = &form.texts;
    let min = crate::accounts::MIN_PASSWORD_CHARS.to_string();
    let heading = t.get("sign-up-heading");
    layout_for(
        t,
        &t.get("sign-up-title"),
        html! {
            style { (FORM_STYLE) }
            h1 { (heading) }
            p { (form.purpose.line(t, "purpose-sign-up-install", "purpose-sign-up")) }
            @if let Some(error) = form.error {
                p class="error" role="alert" { (error) }
            }
            form method="post" action=(form.carried("/account/sign-up", None)) {
                (hidden_fields(form))
                label for="email" { (t.get("field-email")) }
                input id="email" name="email" type="email" autocomplete="username" required value=(form.email);
                label for="password" { (t.with("field-new-password", &[("min", &min)])) }
                input id="password" name="password" type="password" autocomplete="new-password" required minlength=(min);
                button type="submit" { (t.get("sign-up-submit")) }
            }
            p { (t.get("have-an-account")) " " a href=(form.carried("/account/sign-in", form.resume)) { (t.get("to-sign-in")) } }
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

pub fn account_home(
    t: &Texts,
    who: &str,
    connections: &[ConnectionLine],
    csrf_token: &str,
) -> String {
    layout(
        t,
        &t.get("account-title"),
        html! {
            style { (FORM_STYLE) }
            h1 { (t.get("account-heading")) }
            p { (t.with("account-signed-in-as", &[("who", who)])) }
            h2 { (t.get("account-connections")) }
            @if connections.is_empty() {
                p { (t.get("account-no-connections")) }
            } @else {
                ul {
                    @for line in connections {
                        li { (t.with("account-connection", &[
                            ("app", &line.app),
                            ("marketplace", &line.marketplace),
                            ("account", &line.account_key),
                            ("status", &line.status),
                        ])) }
                    }
                }
            }
            form method="post" action="/account/sign-out" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                button type="submit" { (t.get("sign-out")) }
            }
        },
    )
}

pub fn signed_out(t: &Texts) -> String {
    message(
        t,
        &t.get("signed-out-title"),
        &t.get("signed-out-text"),
        &t.get("signed-out-hint"),
    )
}

/// The name people know a marketplace by.
pub fn marketplace_name(provider: &str) -> String {
    crate::registry::display_name(provider)
}

/// The marketplace reported an error (the user declined, or it failed) on an install callback.
pub fn install_failed(
    t: &Texts,
    marketplace: &str,
    error: &str,
    description: Option<&str>,
    branding: &Branding,
) -> String {
    let of = [("marketplace", marketplace)];
    layout_for(
        t,
        &t.get("install-failed-title"),
        html! {
            h1 { (t.get("install-failed-heading")) }
            p { (t.with("install-failed-reported", &of)) " " code { (error) } }
            @if let Some(description) = description {
                p { (description) }
            }
            p class="hint" { (t.with("install-failed-hint", &of)) }
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
pub fn confirm_connection(t: &Texts, offer: &ConnectionOffer, csrf_token: &str) -> String {
    let mut args = vec![
        ("marketplace", offer.marketplace.as_str()),
        ("kind", offer.account.kind),
        ("name", offer.account.name.as_str()),
        ("account", offer.vendor_account.as_str()),
    ];
    let text = match &offer.account.user {
        Some(user) => {
            args.push(("user", user.as_str()));
            t.with("confirm-text-user", &args)
        }
        None => t.with("confirm-text", &args),
    };
    layout_for(
        t,
        &t.get("confirm-title"),
        html! {
            style { (FORM_STYLE) }
            h1 { (t.with("confirm-heading", &args[..1])) }
            p { (text) }
            form method="post" action=(offer.confirm_action) {
                input type="hidden" name="csrf_token" value=(csrf_token);
                button type="submit" name="decision" value="confirm" { (t.get("confirm-connect")) }
                " "
                button type="submit" name="decision" value="cancel" { (t.get("confirm-cancel")) }
            }
        },
        Some(&offer.branding),
    )
}

/// The vendor's entitlement service did not answer: nothing was installed; try again.
pub fn try_again_shortly(t: &Texts, branding: &Branding) -> String {
    let title = t.get("try-again-title");
    layout_for(
        t,
        &title,
        html! {
            h1 { (title) }
            p { (t.get("try-again-text")) }
            p class="hint" { (t.get("try-again-hint")) }
        },
        Some(branding),
    )
}

/// The user declined at the marketplace, or cancelled here.
pub fn install_cancelled(t: &Texts, marketplace: &str, branding: &Branding) -> String {
    let title = t.get("cancelled-title");
    layout_for(
        t,
        &title,
        html! {
            h1 { (title) }
            p { (t.get("cancelled-text")) }
            p class="hint" { (t.with("cancelled-hint", &[("marketplace", marketplace)])) }
        },
        Some(branding),
    )
}

/// What the workspace page offers.
#[derive(Debug, Clone)]
pub struct WorkspaceChoice {
    /// The app's name for people.
    pub app: String,
    pub marketplace: String,
    pub workspaces: Vec<installgate_core::Workspace>,
    /// The single-use token of the install this choice continues.
    pub choice: String,
}

/// The user picks the workspace the install lands in.
pub fn choose_workspace(
    t: &Texts,
    offer: &WorkspaceChoice,
    csrf_token: &str,
    branding: &Branding,
) -> String {
    let title = t.get("workspace-title");
    layout_for(
        t,
        &title,
        html! {
            style { (FORM_STYLE) }
            h1 { (title) }
            form method="post" action="/account/workspace" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                input type="hidden" name="choice" value=(offer.choice);
                fieldset {
                    legend { (t.with("workspace-text", &[("app", &offer.app), ("marketplace", &offer.marketplace)])) }
                    @for (index, workspace) in offer.workspaces.iter().enumerate() {
                        div class="choice" {
                            input type="radio" name="workspace" id=(format!("workspace-{index}"))
                                value=(workspace.id) required checked[index == 0];
                            label for=(format!("workspace-{index}")) { (workspace.name) }
                        }
                    }
                }
                button type="submit" { (t.get("workspace-submit")) }
            }
        },
        Some(branding),
    )
}

/// What the move page asks.
#[derive(Debug, Clone)]
pub struct MoveQuestion {
    pub marketplace: String,
    pub from: String,
    pub to: String,
    /// The single-use token of the question.
    pub token: String,
}

/// A reinstall named another workspace than the connection's: move it, or keep it where it is.
pub fn confirm_move(
    t: &Texts,
    question: &MoveQuestion,
    csrf_token: &str,
    branding: &Branding,
) -> String {
    let title = t.get("move-title");
    layout_for(
        t,
        &title,
        html! {
            style { (FORM_STYLE) }
            h1 { (title) }
            p { (t.with("move-text", &[
                ("marketplace", &question.marketplace),
                ("from", &question.from),
                ("to", &question.to),
            ])) }
            form method="post" action="/account/move" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                input type="hidden" name="question" value=(question.token);
                button type="submit" name="decision" value="move" { (t.get("move-confirm")) }
                " "
                button type="submit" name="decision" value="keep" { (t.get("move-cancel")) }
            }
        },
        Some(branding),
    )
}
