//! A shop's host, the tenant of every Shopify install: `{name}.myshopify.com`, one label of
//! letters, digits and hyphens that starts with a letter or digit (the check Shopify's own
//! libraries make). Anything else (`evil.com`, `acme.myshopify.com.evil.com`,
//! `acme.myshopify.com@evil.com`, a port, a path) is refused before it can become a URL.

use installgate_core::{MalformedRequest, Tenant};

const SUFFIX: &str = ".myshopify.com";
/// A DNS label is at most 63 characters.
const MAX_LABEL: usize = 63;

/// The shop host `raw`, as a tenant, if it is one. Upper case is folded: hosts are
/// case-insensitive, and a shop must compare equal however it was written.
pub fn parse(raw: &str) -> Result<Tenant, MalformedRequest> {
    let refused = || MalformedRequest("shop must be a myshopify.com host".into());
    let host = raw.to_ascii_lowercase();
    let label = host.strip_suffix(SUFFIX).ok_or_else(refused)?;
    let valid = !label.is_empty()
        && label.len() <= MAX_LABEL
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && label.as_bytes()[0].is_ascii_alphanumeric();
    if !valid {
        return Err(refused());
    }
    Tenant::new(host).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_is_one_myshopify_label() {
        for good in [
            "acme.myshopify.com",
            "a-1.myshopify.com",
            "ACME.myshopify.com",
        ] {
            assert_eq!(
                parse(good).unwrap().as_str(),
                good.to_ascii_lowercase(),
                "{good}"
            );
        }
        for bad in [
            "evil.com",
            "myshopify.com",
            ".myshopify.com",
            "-acme.myshopify.com",
            "acme.myshopify.com.evil.com",
            "acme.myshopify.com@evil.com",
            "evil.com@acme.myshopify.com",
            "evil.com/acme.myshopify.com",
            "a.b.myshopify.com",
            "acme.myshopify.com:8443",
            "acme_shop.myshopify.com",
            "https://acme.myshopify.com",
            "acme .myshopify.com",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("{}.myshopify.com", "a".repeat(64))).is_err());
    }
}
