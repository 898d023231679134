//! The provider kit: what every marketplace crate would otherwise write again.
//!
//! - [`http`]: calls to a marketplace with the gateway's shared client, answers read up to a
//!   bound, transport failures and error bodies mapped to [`ProviderError`] (RFC 6749's
//!   `{"error": "invalid_grant", …}` and the message shape some marketplaces use,
//!   `{"error": "Invalid grant: …"}`), with the client authenticated by HTTP Basic or in the form
//!   ([`ClientAuth`]);
//! - [`token_answer`]: a token endpoint's answer read into a core `Grant`;
//! - [`signature`]: HMAC-SHA256 tags and their constant-time checks, and Basic credentials
//!   compared in constant time;
//! - [`Redacted`]: the `Debug` stand-in for a secret field.
//!
//! Architecture invariant: the kit depends on core and an HTTP client only, like the providers.
//!
//! [`ProviderError`]: installgate_core::ProviderError

pub mod http;
pub mod signature;

/// The query of an inbound request, each parameter at most once.
pub fn query(
    request: &installgate_core::InboundRequest<'_>,
) -> Result<installgate_core::QueryParams, installgate_core::MalformedRequest> {
    installgate_core::QueryParams::parse(request.query)
        .map_err(|error| installgate_core::MalformedRequest(error.to_string()))
}
pub mod token_answer;

pub use http::ClientAuth;
pub use token_answer::TokenAnswer;

/// Stands in for a secret in a `Debug` output: `.field("client_secret", &Redacted)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_field_shows_nothing_of_the_secret() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct App {
            client_id: &'static str,
            client_secret: Redacted,
        }
        let shown = format!(
            "{:?}",
            App {
                client_id: "id",
                client_secret: Redacted
            }
        );
        assert_eq!(
            shown,
            "App { client_id: \"id\", client_secret: [redacted] }"
        );
    }
}
