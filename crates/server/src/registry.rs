//! The marketplaces this build speaks: one line each. This is the only place in the server that
//! names a marketplace (the sandbox's demo configuration aside); everything else asks the
//! provider it is given.

use std::sync::Arc;

use installgate_core::Provider;
use installgate_provider_hubspot::HubSpot;
use installgate_provider_pipedrive::Pipedrive;
use installgate_provider_shopify::Shopify;

/// How a marketplace joins the build.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The provider id in URLs and configuration (`apps.<id>.provider`).
    pub id: &'static str,
    /// The name people know the marketplace by.
    pub display_name: &'static str,
    /// Makes the provider with the gateway's shared HTTP client (bounded, no redirects).
    pub make: fn(reqwest::Client) -> anyhow::Result<Arc<dyn Provider>>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Adding a marketplace adds one line here.
pub const REGISTRY: &[Registration] = &[
    Registration {
        id: installgate_provider_hubspot::PROVIDER_ID,
        display_name: "HubSpot",
        make: |client| Ok(Arc::new(HubSpot::new(client)?)),
    },
    Registration {
        id: installgate_provider_pipedrive::PROVIDER_ID,
        display_name: "Pipedrive",
        make: |client| Ok(Arc::new(Pipedrive::new(client)?)),
    },
    Registration {
        id: installgate_provider_shopify::PROVIDER_ID,
        display_name: "Shopify",
        make: |client| Ok(Arc::new(Shopify::new(client)?)),
    },
];

/// The provider ids this build knows.
pub fn ids() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|registration| registration.id)
}

/// The name people know provider `id`'s marketplace by (the id itself for an unknown one).
pub fn display_name(id: &str) -> String {
    REGISTRY
        .iter()
        .find(|registration| registration.id == id)
        .map_or_else(
            || id.to_owned(),
            |registration| registration.display_name.to_owned(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registration_makes_the_provider_it_names() {
        for registration in REGISTRY {
            let provider = (registration.make)(reqwest::Client::new()).unwrap();
            assert_eq!(provider.id().as_str(), registration.id);
            assert_eq!(provider.display_name(), registration.display_name);
        }
        assert_eq!(display_name("unknown"), "unknown");
    }
}
