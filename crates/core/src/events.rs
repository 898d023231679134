//! What the vendor's backend is told. Events describe a connection by its ids and status; they
//! never carry a token, a code or a secret.

use serde::Serialize;

use crate::{
    AccountId, AppId, Connection, ConnectionId, ConnectionStatus, MarketplaceKey, Metadata,
    ProviderId, Timestamp,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    InstallationCompleted,
    InstallationCancelled,
    InstallationUninstalled,
    /// A held install nobody claimed in time: its grant was revoked at the marketplace.
    InstallationAbandoned,
    ConnectionRevoked,
    ConnectionClaimed,
    /// A claim of a connection that another account owns was refused; the connection stayed.
    ClaimRefused,
    /// The user moved the connection to another workspace.
    ConnectionMoved,
    /// Privacy-law requests a marketplace passed on (Shopify's mandatory topics).
    PrivacyCustomerDataRequest,
    PrivacyCustomerRedact,
    PrivacyShopRedact,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InstallationCompleted => "installation.completed",
            Self::InstallationCancelled => "installation.cancelled",
            Self::InstallationUninstalled => "installation.uninstalled",
            Self::InstallationAbandoned => "installation.abandoned",
            Self::ConnectionRevoked => "connection.revoked",
            Self::ConnectionClaimed => "connection.claimed",
            Self::ClaimRefused => "connection.claim_refused",
            Self::ConnectionMoved => "connection.moved",
            Self::PrivacyCustomerDataRequest => "privacy.customer_data_request",
            Self::PrivacyCustomerRedact => "privacy.customer_redact",
            Self::PrivacyShopRedact => "privacy.shop_redact",
        }
    }
}

/// The `data` of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventData {
    pub app: AppId,
    pub provider: ProviderId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<ConnectionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_key: Option<MarketplaceKey>,
    pub account: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectionStatus>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// The connection's workspace, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<crate::Workspace>,
}

/// One event, as written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unique, stable across redeliveries: the `webhook-id` receivers deduplicate on.
    pub id: String,
    pub kind: EventKind,
    pub occurred_at: Timestamp,
    /// Events with the same key are delivered in the order they were written.
    pub ordering_key: String,
    pub data: EventData,
}

/// The JSON body posted to the vendor's webhook.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    data: &'a EventData,
}

impl Event {
    fn new_id() -> String {
        format!("evt_{}", uuid::Uuid::now_v7().simple())
    }

    /// An event about `connection` as it is now.
    pub fn about(kind: EventKind, connection: &Connection, at: Timestamp) -> Self {
        Self {
            id: Self::new_id(),
            kind,
            occurred_at: at,
            ordering_key: connection.id.to_string(),
            data: EventData {
                app: connection.app.clone(),
                provider: connection.provider.clone(),
                connection_id: Some(connection.id),
                marketplace_key: Some(connection.marketplace_key.clone()),
                account: connection.account.clone(),
                status: Some(connection.status),
                scopes: connection.scopes.clone(),
                metadata: connection.metadata.clone(),
                workspace: connection.workspace.clone(),
            },
        }
    }

    /// An install that ended before any connection existed (the user cancelled).
    pub fn without_connection(
        kind: EventKind,
        app: AppId,
        provider: ProviderId,
        at: Timestamp,
    ) -> Self {
        Self {
            id: Self::new_id(),
            kind,
            occurred_at: at,
            ordering_key: format!("app:{app}"),
            data: EventData {
                app,
                provider,
                connection_id: None,
                marketplace_key: None,
                account: None,
                status: None,
                scopes: Vec::new(),
                metadata: Metadata::new(),
                workspace: None,
            },
        }
    }

    /// The webhook body: `{"type", "timestamp", "data"}`.
    pub fn payload(&self) -> String {
        let envelope = Envelope {
            kind: self.kind.as_str(),
            timestamp: self.occurred_at.to_rfc3339(),
            data: &self.data,
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_names_the_type_and_time_and_no_tokens() {
        let event = Event::without_connection(
            EventKind::InstallationCancelled,
            AppId::parse("demo").unwrap(),
            ProviderId::parse("pipedrive").unwrap(),
            Timestamp::from_millis(1_700_000_000_123),
        );
        let payload: serde_json::Value = serde_json::from_str(&event.payload()).unwrap();
        assert_eq!(payload["type"], "installation.cancelled");
        assert_eq!(payload["timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(payload["data"]["app"], "demo");
        assert!(payload["data"].get("connection_id").is_none());
        assert!(event.id.starts_with("evt_"));
    }
}
