//! The languages the pages speak: Fluent message files (`crates/server/locales/*.ftl`, built
//! into the binary), the language each request is answered in, and each app's own wording.
//!
//! A request's language is `?lang=` when it names one of [`LANGUAGES`], else the best match of
//! its `Accept-Language`, else English. An app may override any message in any language
//! (`apps.<id>.messages.<language>.<key>`); a message missing from a language (which the tests
//! forbid for the built-in files) falls back to English.

mod language;

use std::collections::HashMap;
use std::sync::Arc;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

pub use language::Language;

use crate::settings::Settings;

/// The languages every page is available in, English first.
pub const LANGUAGES: [&str; 6] = ["en", "de", "fr", "es", "pt-BR", "ja"];

/// The message files, in the order of [`LANGUAGES`].
const SOURCES: [&str; 6] = [
    include_str!("../../locales/en.ftl"),
    include_str!("../../locales/de.ftl"),
    include_str!("../../locales/fr.ftl"),
    include_str!("../../locales/es.ftl"),
    include_str!("../../locales/pt-BR.ftl"),
    include_str!("../../locales/ja.ftl"),
];

type Bundle = FluentBundle<Arc<FluentResource>>;

/// Every language's messages, for one app or for pages of no app.
#[derive(Clone)]
struct Messages(Arc<[Bundle; 6]>);

impl Messages {
    /// The built-in messages with `overrides` (language → key → text) taking precedence.
    fn new(overrides: &HashMap<String, HashMap<String, String>>) -> Result<Self, String> {
        let mut bundles = Vec::with_capacity(LANGUAGES.len());
        for (index, language) in LANGUAGES.iter().enumerate() {
            let mut bundle = Bundle::new_concurrent(vec![
                language
                    .parse()
                    .map_err(|_| format!("bad language {language}"))?,
            ]);
            // Values are put into HTML by the pages, which escape them; isolation marks would
            // only show as stray characters in titles and attributes.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(built_in(index))
                .map_err(|errors| format!("{language}: {errors:?}"))?;
            if let Some(own) = overrides.get(*language) {
                let resource = override_resource(own)
                    .map_err(|(key, problem)| format!("{language}.{key} {problem}"))?;
                bundle.add_resource_overriding(Arc::new(resource));
            }
            bundles.push(bundle);
        }
        let bundles: [Bundle; 6] = bundles
            .try_into()
            .map_err(|_| "one bundle per language".to_owned())?;
        Ok(Self(Arc::new(bundles)))
    }
}

/// The parsed built-in file of the language at `index`, parsed once per process.
fn built_in(index: usize) -> Arc<FluentResource> {
    static PARSED: std::sync::OnceLock<Vec<Arc<FluentResource>>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        SOURCES
            .iter()
            .map(|source| {
                // The files are checked by the tests: a syntax error cannot ship.
                Arc::new(FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r))
            })
            .collect()
    })[index]
        .clone()
}

/// An app's wording for one language as a Fluent resource: each key must be a built-in
/// message and each text one line of valid Fluent (variables as in the English message,
/// `{ $app }`). An error names the key and what is wrong with it.
pub fn override_resource(
    own: &HashMap<String, String>,
) -> Result<FluentResource, (String, String)> {
    let english = built_in(0);
    let mut source = String::new();
    for (key, text) in own {
        let known = english.entries().any(|entry| {
            matches!(entry, fluent_syntax::ast::Entry::Message(message) if message.id.name == key)
        });
        let problem = if !known {
            Some("is not a message of the pages (see crates/server/locales/en.ftl)")
        } else if text.trim().is_empty() || text.contains(['\n', '\r']) {
            Some("must be one line of text")
        } else if FluentResource::try_new(format!("{key} = {text}\n")).is_err() {
            Some("is not valid Fluent (variables are written { $name })")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err((key.clone(), problem.to_owned()));
        }
        source.push_str(&format!("{key} = {text}\n"));
    }
    FluentResource::try_new(source).map_err(|_| (String::new(), "is not valid Fluent".to_owned()))
}

/// The messages of every app, worked out at start-up.
#[derive(Clone)]
pub struct Catalog {
    default: Messages,
    apps: Arc<HashMap<String, Messages>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("apps_with_own_wording", &self.apps.len())
            .finish()
    }
}

impl Catalog {
    /// The built-in messages, and each app's own wording over them. Settings are validated
    /// before: an override that does not parse is left out here (and logged).
    pub fn new(settings: &Settings) -> Self {
        let apps = settings
            .apps
            .values()
            .filter(|app| !app.messages.is_empty())
            .filter_map(|app| {
                let messages = Messages::new(&app.messages)
                    .inspect_err(|error| tracing::warn!(app = %app.id, %error, "wording left out"))
                    .ok()?;
                Some((app.id.as_str().to_owned(), messages))
            })
            .collect();
        Self {
            apps: Arc::new(apps),
            ..Self::built_in()
        }
    }

    /// The built-in messages alone.
    pub fn built_in() -> Self {
        static DEFAULT: std::sync::OnceLock<Messages> = std::sync::OnceLock::new();
        let default = DEFAULT.get_or_init(|| {
            Messages::new(&HashMap::new()).unwrap_or_else(|error| {
                unreachable!("the built-in messages are checked by the tests: {error}")
            })
        });
        Self {
            default: default.clone(),
            apps: Arc::default(),
        }
    }

    /// What pages of `app` (or of no app) say in `language`.
    pub fn texts(&self, language: Language, app: Option<&str>) -> Texts {
        let messages = app
            .and_then(|app| self.apps.get(app))
            .unwrap_or(&self.default);
        Texts {
            messages: messages.clone(),
            language,
        }
    }
}

/// The messages one page is written with.
#[derive(Clone)]
pub struct Texts {
    messages: Messages,
    language: Language,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("language", &self.language)
            .finish()
    }
}

impl Default for Texts {
    /// The built-in English messages.
    fn default() -> Self {
        Catalog::built_in().texts(Language::ENGLISH, None)
    }
}

impl Texts {
    /// The page's language, for `<html lang>`.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// The message `key` with its variables.
    pub fn with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        let args = (!args.is_empty()).then_some(&fluent_args);
        let format = |bundle: &Bundle| {
            let pattern = bundle.get_message(key)?.value()?;
            let mut errors = Vec::new();
            Some(
                bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned(),
            )
        };
        format(&self.messages.0[self.language.index()])
            .or_else(|| format(&self.messages.0[0]))
            .unwrap_or_else(|| key.to_owned())
    }
}

#[cfg(test)]
mod tests;
