//! Delivering the event outbox to the vendor's webhook, signed as the Standard Webhooks
//! specification describes.

mod signature;
mod worker;

pub use signature::Signer;
pub use worker::{DeliveryHandle, DeliveryWorker, backoff};
