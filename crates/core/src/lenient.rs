//! Numbers that marketplaces send either as JSON numbers or as strings (`"3600"`).

use serde::Deserialize;

/// A non-negative integer read from a number or a numeric string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LenientNumber {
    Number(u64),
    Text(String),
}

impl LenientNumber {
    /// The number, or `None` when the text is not one.
    pub fn value(&self) -> Option<u64> {
        match self {
            Self::Number(number) => Some(*number),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_numeric_strings() {
        let read = |json: &str| serde_json::from_str::<LenientNumber>(json).unwrap().value();
        assert_eq!(read("3600"), Some(3600));
        assert_eq!(read("\"3600\""), Some(3600));
        assert_eq!(read("\" 42 \""), Some(42));
        assert_eq!(read("\"soon\""), None);
        assert!(serde_json::from_str::<LenientNumber>("-1").is_err());
    }
}
