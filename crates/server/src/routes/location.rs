//! Where a response may send the browser. A `Location` header is made only from a [`Location`],
//! and a `Location` only from what the gateway can vouch for: a path of its own, a return URL the
//! app's rules validated, a consent page its provider built for a verified tenant, or an address
//! the operator configured (a setup page, the vendor's login, the console's identity provider). No request parameter becomes a
//! `Location` any other way, so no route can be an open redirect.

use installgate_core::{ConsentUrl, ReturnUrl};
use url::Url;

#[derive(Debug, Clone)]
pub struct Location(String);

/// A [`Location`] kept in a record of the gateway's own (never read from a request).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptLocation(String);

impl Location {
    /// A page of the gateway: `/` then a path (and query), never `//` (another host) or a
    /// backslash (which some browsers read as `/`).
    pub fn gateway(path: &str) -> Option<Self> {
        let own = path.starts_with('/')
            && !path.starts_with("//")
            && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        own.then(|| Self(path.to_owned()))
    }

    /// The operator console's first page.
    pub fn console_home() -> Self {
        Self("/admin/overview".to_owned())
    }

    /// The company identity provider's authorization page, built from the discovery document
    /// found at the configured issuer, for a console sign-in.
    pub fn sign_in_provider(url: &Url) -> Self {
        Self(url.as_str().to_owned())
    }

    /// The account page.
    pub fn account_page() -> Self {
        Self("/account/".to_owned())
    }

    /// Back to the marketplace, at a validated return URL.
    pub fn back(return_url: &ReturnUrl) -> Self {
        Self(return_url.as_str().to_owned())
    }

    /// A marketplace's consent page, as the provider built it (from the app's endpoints and a
    /// verified tenant) for an install core began.
    pub fn consent(url: &ConsentUrl) -> Self {
        Self(url.as_str().to_owned())
    }

    /// A page of the vendor's own service answered (its plan page, with the way back): checked
    /// to be `https` (or a loopback host) by whoever read the answer.
    pub fn vendor(url: &Url) -> Self {
        Self(url.as_str().to_owned())
    }

    /// An address from the configuration (the app's setup page, the vendor's login page).
    pub fn configured(url: &Url) -> Self {
        Self(url.as_str().to_owned())
    }

    /// A `Location` this gateway made itself, kept server-side (in a parked record) while the
    /// user answered a question on the way (whether to move a connection).
    pub fn kept(location: &KeptLocation) -> Self {
        Self(location.0.clone())
    }

    /// This location, to keep server-side until the user has answered.
    pub fn keep(&self) -> KeptLocation {
        KeptLocation(self.0.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_location_is_a_path_of_this_host() {
        assert!(Location::gateway("/account/").is_some());
        assert!(Location::gateway("/connect/x/y?tenant=a").is_some());
        for elsewhere in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "/a b",
        ] {
            assert!(Location::gateway(elsewhere).is_none(), "{elsewhere}");
        }
    }
}
