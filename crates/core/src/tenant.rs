//! The per-install context a marketplace names: HubSpot's data centre (hublet), Pipedrive's
//! `api_domain`, a Shopify shop. Its meaning is the provider's; core only carries it, bound into
//! the state of an install, kept in the connection's metadata, and handed back to the provider
//! with every later call (through [`crate::AppCredentials::tenant`]).

use std::fmt;

/// Where a connection keeps its tenant, in its metadata.
pub const TENANT_METADATA_KEY: &str = "tenant";

/// A tenant as a provider validated it. Core checks only that it is short printable text, so
/// that it is safe to store, log and compare; what a valid tenant is (one `myshopify.com` label,
/// a Pipedrive host) is the provider's rule, applied before it makes one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tenant(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a tenant must be 1 to {} printable ASCII characters", Tenant::MAX_LEN)]
pub struct InvalidTenant;

impl Tenant {
    pub const MAX_LEN: usize = 255;

    pub fn new(value: impl Into<String>) -> Result<Self, InvalidTenant> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= Self::MAX_LEN
            && value.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(value))
        } else {
            Err(InvalidTenant)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant of an install from what was `known` (its state, the operator) and what the
    /// marketplace `named` (a token answer, identification): either when only one is there,
    /// refused when they differ.
    pub fn agree(
        known: Option<Self>,
        named: Option<Self>,
    ) -> Result<Option<Self>, crate::ProviderError> {
        match (known, named) {
            (Some(known), Some(named)) if known != named => {
                Err(crate::ProviderError::Unacceptable(
                    "the marketplace names another tenant than the install's".into(),
                ))
            }
            (known, named) => Ok(known.or(named)),
        }
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tenant({})", self.0)
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_is_short_printable_text() {
        assert_eq!(
            Tenant::new("acme.myshopify.com").unwrap().as_str(),
            "acme.myshopify.com"
        );
        for bad in ["", "a b", "tab\there", "é", &"a".repeat(256)] {
            assert_eq!(Tenant::new(bad), Err(InvalidTenant), "{bad:?}");
        }
    }
}
