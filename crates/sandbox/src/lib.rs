//! Marketplace simulators that follow the documented protocols, so that installs can be tried
//! and tested on one machine. Each runs its own HTTP server on a loopback port.
//!
//! Architecture invariant: the sandbox depends on no Installgate crate; it speaks only the
//! marketplaces' protocols, as a real marketplace would.

pub mod hubspot;
mod injected;
pub mod pipedrive;
mod refresh_tokens;
mod server;
pub mod shopify;

pub use hubspot::{Failure, HubSpotSimulator, SimulatedApp};
pub use pipedrive::{PipedriveSimulator, PipedriveUser};
pub use shopify::{ShopifySimulator, Webhook, WebhookSignature};
