//! Identifiers that appear in public paths: the `{app}` and `{provider}` of `/install/{provider}/{app}`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} must be 1 to {max} characters of lowercase letters, digits, '-' and '_', starting with a letter or digit"
)]
pub struct InvalidId {
    kind: &'static str,
    max: usize,
}

fn check_slug(kind: &'static str, max: usize, input: &str) -> Result<(), InvalidId> {
    let error = InvalidId { kind, max };
    let mut chars = input.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if first_ok && rest_ok && input.len() <= max {
        Ok(())
    } else {
        Err(error)
    }
}

/// The id of one configured app, as it appears in `/install/{provider}/{app}`.
///
/// Lowercase so that it survives environment-variable configuration keys, which are lowercased;
/// `_` is allowed because environment variable names cannot carry `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AppId(String);

impl AppId {
    pub const MAX_LEN: usize = 63;

    pub fn parse(input: &str) -> Result<Self, InvalidId> {
        check_slug("an app id", Self::MAX_LEN, input)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// So that maps keyed by app id can be searched with a path segment without parsing it first:
/// a segment that is no valid id matches no key.
impl std::borrow::Borrow<str> for AppId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// The id of a marketplace provider (`hubspot`, `pipedrive`, …).
///
/// A string rather than an enum: adding a marketplace adds a provider crate, not a variant here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProviderId(String);

impl ProviderId {
    pub const MAX_LEN: usize = 32;

    /// A provider crate's own id, a constant that follows the slug rules (each crate tests its
    /// id with [`ProviderId::parse`]).
    pub fn from_static(id: &'static str) -> Self {
        debug_assert!(check_slug("a provider id", Self::MAX_LEN, id).is_ok());
        Self(id.to_owned())
    }

    pub fn parse(input: &str) -> Result<Self, InvalidId> {
        check_slug("a provider id", Self::MAX_LEN, input)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! display_and_deserialize {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

display_and_deserialize!(AppId);
display_and_deserialize!(ProviderId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_of_app_ids_are_searched_by_path_segment() {
        let apps: std::collections::BTreeMap<AppId, u8> =
            [(AppId::parse("crm").unwrap(), 1)].into_iter().collect();
        assert_eq!(apps.get("crm"), Some(&1));
        for missing in ["CRM", "crm ", "", "../crm", "crm%00"] {
            assert_eq!(apps.get(missing), None, "{missing:?}");
        }
    }

    #[test]
    fn accepts_lowercase_slugs() {
        for ok in ["demo", "a", "crm-sync-2", "0app", "crm_hubspot"] {
            assert_eq!(AppId::parse(ok).unwrap().as_str(), ok);
        }
        assert!(ProviderId::parse("hubspot").is_ok());
    }

    #[test]
    fn refuses_anything_that_is_not_a_slug() {
        let too_long = "a".repeat(AppId::MAX_LEN + 1);
        for bad in [
            "", "-demo", "_demo", "Demo", "demo app", "demo/app", "demo.app", "démo", "demo\0",
            &too_long,
        ] {
            assert!(AppId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(ProviderId::parse(&"p".repeat(33)).is_err());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<AppId>("\"ok-app\"").is_ok());
        assert!(serde_json::from_str::<AppId>("\"Not OK\"").is_err());
    }
}
