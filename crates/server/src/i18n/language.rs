//! Which of the [`LANGUAGES`](super::LANGUAGES) a request is answered in.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use unic_langid::LanguageIdentifier;

use super::LANGUAGES;

/// One of [`LANGUAGES`], and whether the request asked for it by `?lang=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    index: usize,
    /// Chosen by `?lang=`: the links and forms of the page carry it on.
    explicit: bool,
}

impl Default for Language {
    fn default() -> Self {
        Self::ENGLISH
    }
}

impl Language {
    pub const ENGLISH: Self = Self {
        index: 0,
        explicit: false,
    };

    /// `?lang=` when it names a language the pages speak, else the best of `Accept-Language`.
    pub fn choose(query_lang: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(index) = query_lang.and_then(Self::find) {
            return Self {
                index,
                explicit: true,
            };
        }
        let index = accept_language.map_or(0, Self::negotiate);
        Self {
            index,
            explicit: false,
        }
    }

    /// The language `tag` names (`de`, `pt-BR`, `pt`, `ja-JP`…), if the pages speak it.
    pub fn named(tag: &str) -> Option<Self> {
        Self::find(tag).map(|index| Self {
            index,
            explicit: true,
        })
    }

    /// Its tag, as `<html lang>` and `?lang=` take it.
    pub fn tag(self) -> &'static str {
        LANGUAGES[self.index]
    }

    pub fn is_english(self) -> bool {
        self.index == 0
    }

    /// Whether `?lang=` chose it (and links should carry it on).
    pub fn is_explicit(self) -> bool {
        self.explicit
    }

    pub(super) fn index(self) -> usize {
        self.index
    }

    fn find(tag: &str) -> Option<usize> {
        let wanted: LanguageIdentifier = tag.parse().ok()?;
        Self::best(&[wanted])
    }

    /// The best supported language for an `Accept-Language` value, by quality; English when
    /// nothing matches.
    fn negotiate(header: &str) -> usize {
        let mut ranges: Vec<(LanguageIdentifier, f32)> = header
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                let id = tag.parse().ok()?;
                (quality > 0.0).then_some((id, quality))
            })
            .collect();
        // A stable sort keeps the header's order among equal qualities.
        ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
        let wanted: Vec<LanguageIdentifier> = ranges.into_iter().map(|(id, _)| id).collect();
        Self::best(&wanted).unwrap_or(0)
    }

    fn best(wanted: &[LanguageIdentifier]) -> Option<usize> {
        static AVAILABLE: std::sync::OnceLock<Vec<LanguageIdentifier>> = std::sync::OnceLock::new();
        let available = AVAILABLE.get_or_init(|| {
            LANGUAGES
                .iter()
                .filter_map(|tag| tag.parse().ok())
                .collect()
        });
        let chosen = fluent_langneg::negotiate_languages(
            wanted,
            available,
            None,
            fluent_langneg::NegotiationStrategy::Filtering,
        );
        let chosen = chosen.first()?;
        available.iter().position(|id| id == *chosen)
    }
}

impl FromRequest for Language {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self::of(request)))
    }
}

impl Language {
    /// The language `request` is answered in.
    pub fn of(request: &HttpRequest) -> Self {
        let query_lang = url::form_urlencoded::parse(request.query_string().as_bytes())
            .find(|(name, _)| name == "lang")
            .map(|(_, value)| value.into_owned());
        let accept = request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok());
        Self::choose(query_lang.as_deref(), accept)
    }
}
