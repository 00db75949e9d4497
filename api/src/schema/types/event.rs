//! An event of the log as the admin audit (`events`, `ledgerEvents`) shows it.

use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};

/// An event of the log (admin audit).
#[derive(SimpleObject, Clone)]
pub struct LedgerEvent {
    pub position: u64,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_id: ID,
    pub event_type: String,
    pub schema_version: u32,
    pub community_id: Option<ID>,
    pub recorded_at: DateTime<Utc>,
    /// The payload as JSON text.
    pub payload: String,
    /// Who and why (actor, role, idempotency key) as JSON text.
    pub metadata: String,
}

impl From<&ledger::store::RecordedEvent> for LedgerEvent {
    fn from(r: &ledger::store::RecordedEvent) -> Self {
        LedgerEvent {
            position: r.position,
            stream_id: r.stream_id.clone(),
            stream_version: r.stream_version,
            event_id: ID(r.event_id.to_string()),
            event_type: r.event_type.clone(),
            schema_version: r.schema_version,
            community_id: r.community_id.map(|c| ID(c.to_string())),
            recorded_at: r.recorded_at,
            payload: r.payload.to_string(),
            metadata: serde_json::to_string(&r.metadata).unwrap_or_default(),
        }
    }
}
