use std::collections::{BTreeSet, HashMap};

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

fn parsed(source: &str) -> fluent_syntax::ast::Resource<&str> {
    fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"))
}

/// Each message of a file with the variables it uses.
fn messages(source: &str) -> HashMap<String, BTreeSet<String>> {
    fn variables(pattern: &Pattern<&str>, into: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let PatternElement::Placeable {
                expression: Expression::Inline(InlineExpression::VariableReference { id }),
            } = element
            {
                into.insert(id.name.to_owned());
            }
        }
    }
    parsed(source)
        .body
        .iter()
        .filter_map(|entry| match entry {
            Entry::Message(message) => {
                let mut used = BTreeSet::new();
                if let Some(value) = &message.value {
                    variables(value, &mut used);
                }
                Some((message.id.name.to_owned(), used))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn every_language_has_every_message_with_the_same_variables_and_nothing_else() {
    let english = messages(SOURCES[0]);
    assert!(english.len() > 50, "the English file is the reference");
    for (language, source) in LANGUAGES.iter().zip(SOURCES).skip(1) {
        let translated = messages(source);
        for (key, variables) in &english {
            let Some(theirs) = translated.get(key) else {
                panic!("{language} lacks {key}");
            };
            assert_eq!(theirs, variables, "{language}.{key} uses other variables");
        }
        for key in translated.keys() {
            assert!(
                english.contains_key(key),
                "{language}.{key} is not in English"
            );
        }
    }
}

#[test]
fn every_message_formats_without_errors_in_every_language() {
    let catalog = Catalog::built_in();
    let english = messages(SOURCES[0]);
    for tag in LANGUAGES {
        let texts = catalog.texts(Language::named(tag).unwrap(), None);
        for (key, variables) in &english {
            let args: Vec<(&str, &str)> = variables.iter().map(|v| (v.as_str(), "X")).collect();
            let text = texts.with(key, &args);
            assert_ne!(&text, key, "{tag}.{key} did not format");
            assert!(!text.contains('{'), "{tag}.{key}: {text}");
        }
    }
}

#[test]
fn the_query_wins_then_accept_language_by_quality_then_english() {
    let tag = |query: Option<&str>, header: Option<&str>| Language::choose(query, header).tag();
    assert_eq!(tag(Some("ja"), Some("de")), "ja");
    assert_eq!(tag(Some("xx"), Some("de-DE,de;q=0.9")), "de");
    assert_eq!(tag(None, Some("fr-CA,fr;q=0.9,en;q=0.8")), "fr");
    assert_eq!(tag(None, Some("en;q=0.5, ja;q=0.9")), "ja");
    assert_eq!(tag(None, Some("pt-BR")), "pt-BR");
    assert_eq!(tag(None, Some("pt")), "pt-BR");
    assert_eq!(tag(None, Some("es-419")), "es");
    assert_eq!(tag(None, Some("zh-CN, ko")), "en");
    assert_eq!(tag(None, Some("de;q=0, fr")), "fr");
    assert_eq!(tag(None, Some(";;,,q=")), "en");
    assert_eq!(tag(None, None), "en");
    assert!(Language::choose(Some("de"), None).is_explicit());
    assert!(!Language::choose(None, Some("de")).is_explicit());
}

#[test]
fn an_apps_wording_replaces_the_built_in_one_for_that_app_only() {
    let own = HashMap::from([(
        "de".to_owned(),
        HashMap::from([(
            "sign-in-title".to_owned(),
            "Bei { $app } anmelden".to_owned(),
        )]),
    )]);
    let messages = Messages::new(&own).unwrap();
    let catalog = Catalog {
        default: Catalog::built_in().default,
        apps: Arc::new(HashMap::from([("crm".to_owned(), messages)])),
    };
    let german = Language::named("de").unwrap();
    let texts = catalog.texts(german, Some("crm"));
    assert_eq!(
        texts.with("sign-in-title", &[("app", "CRM")]),
        "Bei CRM anmelden"
    );
    assert_eq!(texts.get("sign-out"), "Abmelden", "the rest stays built in");
    assert_eq!(
        catalog.texts(german, Some("other")).get("sign-in-title"),
        "Anmelden"
    );
    assert_eq!(
        catalog
            .texts(Language::ENGLISH, Some("crm"))
            .get("sign-in-title"),
        "Sign in"
    );
}

#[test]
fn wording_for_an_unknown_message_or_in_broken_fluent_is_refused() {
    let one = |key: &str, text: &str| HashMap::from([(key.to_owned(), text.to_owned())]);
    assert!(override_resource(&one("no-such-message", "x")).is_err());
    assert!(override_resource(&one("sign-out", "{ broken")).is_err());
    assert!(override_resource(&one("sign-out", "two\nlines")).is_err());
    assert!(override_resource(&one("sign-out", "  ")).is_err());
    assert!(override_resource(&one("sign-out", "Tschüss")).is_ok());
}
