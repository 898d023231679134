//! `apps.<id>.messages`: an app's own wording of the pages, per language and message.

use std::collections::{BTreeMap, HashMap};

use super::Report;
use crate::i18n::{LANGUAGES, override_resource};

/// Language → key → text, each language one the pages speak and each text valid Fluent for a
/// message that exists; `None` when something is wrong (each problem reported at its key).
pub(super) fn messages(
    report: &mut Report,
    path: &str,
    raw: &BTreeMap<String, BTreeMap<String, String>>,
) -> Option<HashMap<String, HashMap<String, String>>> {
    let mut valid = true;
    let mut all = HashMap::new();
    for (language, own) in raw {
        // Keys may reach here lower-cased (`pt-br`), as environment variables give them.
        let Some(tag) = LANGUAGES
            .iter()
            .find(|tag| tag.eq_ignore_ascii_case(language))
        else {
            report.add(
                format!("{path}.{language}"),
                format!("must be one of {}", LANGUAGES.join(", ")),
            );
            valid = false;
            continue;
        };
        let mut texts = HashMap::new();
        for (key, text) in own {
            let one = HashMap::from([(key.clone(), text.clone())]);
            if let Err((_, problem)) = override_resource(&one) {
                report.add(format!("{path}.{language}.{key}"), problem);
                valid = false;
            } else {
                texts.insert(key.clone(), text.clone());
            }
        }
        all.insert((*tag).to_owned(), texts);
    }
    valid.then_some(all)
}
