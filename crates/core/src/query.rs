//! Query strings read strictly: every parameter at most once.

use url::form_urlencoded;

/// A parameter appeared twice; "first wins" would let an attacker pick which one is checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the parameter `{0}` appears more than once")]
pub struct DuplicateParameter(pub String);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: &str) -> Result<Self, DuplicateParameter> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(DuplicateParameter(name.chars().take(40).collect()));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every parameter, decoded, in the order sent (a signature's canonical string needs them
    /// all).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parameters_once_and_refuses_duplicates() {
        let params =
            QueryParams::parse("step=finalize&code=a%20b&returnUrl=https%3A%2F%2Fx").unwrap();
        assert_eq!(params.get("code"), Some("a b"));
        assert_eq!(params.get("returnUrl"), Some("https://x"));
        assert_eq!(params.get("state"), None);
        assert_eq!(
            QueryParams::parse("step=a&step=b"),
            Err(DuplicateParameter("step".into()))
        );
        assert!(QueryParams::parse("").unwrap().get("x").is_none());
        let pairs: Vec<(&str, &str)> = params.iter().collect();
        assert_eq!(
            pairs,
            [
                ("step", "finalize"),
                ("code", "a b"),
                ("returnUrl", "https://x")
            ]
        );
    }
}
