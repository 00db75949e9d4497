//! Events as the store keeps them: JSON payloads with a type and a schema version, read
//! back with the upcasting of older versions.

use super::Event;
use crate::amount::Hours;
use crate::ids::CommunityId;
use crate::store::{Metadata, NewEvent, RecordedEvent};
use uuid::Uuid;

/// A stored event that cannot be read as an [`Event`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot decode event at position {position} ({event_type} v{schema_version}): {reason}")]
pub struct DecodeError {
    pub position: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub reason: String,
}

impl Event {
    /// The event as it is appended.
    pub fn to_new_event(
        &self,
        event_id: Uuid,
        metadata: Metadata,
        community_id: Option<CommunityId>,
    ) -> Result<NewEvent, serde_json::Error> {
        Ok(NewEvent {
            event_id,
            event_type: self.event_type().to_string(),
            schema_version: self.schema_version(),
            payload: serde_json::to_value(self)?,
            metadata,
            community_id: community_id.map(|c| c.0),
        })
    }

    /// Reads a stored event, upcasting older schema versions to the current one.
    pub fn decode(recorded: &RecordedEvent) -> Result<Event, DecodeError> {
        Event::decode_parts(
            &recorded.event_type,
            recorded.schema_version,
            recorded.payload.clone(),
        )
        .map_err(|reason| DecodeError {
            position: recorded.position,
            event_type: recorded.event_type.clone(),
            schema_version: recorded.schema_version,
            reason,
        })
    }

    /// [`Event::decode`] on the raw parts.
    pub fn decode_parts(
        event_type: &str,
        schema_version: u32,
        payload: serde_json::Value,
    ) -> Result<Event, String> {
        let current = current_schema_version(event_type);
        if schema_version > current {
            return Err(format!(
                "schema version {schema_version} is newer than this build knows ({current})"
            ));
        }
        let mut payload = upcast(event_type, schema_version, payload)?;
        let obj = payload
            .as_object_mut()
            .ok_or_else(|| "payload is not a JSON object".to_string())?;
        obj.insert("type".into(), serde_json::Value::String(event_type.into()));
        serde_json::from_value(payload).map_err(|e| e.to_string())
    }
}

/// Current schema version per event type (1 unless changed).
pub fn current_schema_version(event_type: &str) -> u32 {
    match event_type {
        "ServiceLogged" => 2,
        _ => 1,
    }
}

/// Brings a payload of an old schema version up to the current one, step by step.
fn upcast(
    event_type: &str,
    mut version: u32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    while version < current_schema_version(event_type) {
        payload = match (event_type, version) {
            ("ServiceLogged", 1) => service_logged_v1_to_v2(payload)?,
            _ => return Err(format!("no upcast from {event_type} v{version}")),
        };
        version += 1;
    }
    Ok(payload)
}

/// ServiceLogged v1 stored `minutes` (an integer) and had no `place`;
/// v2 stores `hours` as a decimal string and a `place` (empty when unknown).
fn service_logged_v1_to_v2(mut payload: serde_json::Value) -> Result<serde_json::Value, String> {
    let obj = payload
        .as_object_mut()
        .ok_or_else(|| "ServiceLogged v1 payload is not an object".to_string())?;
    let minutes = obj
        .remove("minutes")
        .and_then(|m| m.as_i64())
        .ok_or_else(|| "ServiceLogged v1 has no integer `minutes`".to_string())?;
    let hours = serde_json::to_value(Hours::from_minutes(minutes)).map_err(|e| e.to_string())?;
    obj.insert("hours".into(), hours);
    obj.entry("place")
        .or_insert_with(|| serde_json::Value::String(String::new()));
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Points;
    use crate::event::ServiceKind;
    use crate::ids::*;
    use crate::store::Metadata;
    use chrono::Utc;
    use serde_json::json;

    #[test]
    fn payload_carries_type_and_round_trips() {
        let e = Event::PointsAwarded {
            entry_id: EntryId(Uuid::from_u128(1)),
            points: Points::from_hundredths(1250),
            reason: "楼道清理".into(),
            awarded_by: Uuid::from_u128(2),
            expires_on: None,
        };
        let ne = e
            .to_new_event(Uuid::from_u128(3), Metadata::default(), None)
            .unwrap();
        assert_eq!(ne.event_type, "PointsAwarded");
        assert_eq!(ne.payload["type"], "PointsAwarded");
        assert_eq!(ne.payload["points"], "12.50");
        let back = Event::decode_parts(&ne.event_type, ne.schema_version, ne.payload).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn service_logged_v1_is_upcast() {
        let recorded = RecordedEvent {
            position: 9,
            stream_id: "volunteer-00000000-0000-0000-0000-000000000001".into(),
            stream_version: 2,
            event_id: Uuid::from_u128(5),
            event_type: "ServiceLogged".into(),
            schema_version: 1,
            payload: json!({
                "service_id": Uuid::from_u128(4),
                "kind": "patrol",
                "started_at": "2024-03-01T08:00:00Z",
                "minutes": 90,
                "note": "红袖标巡逻",
                "logged_by": Uuid::from_u128(6),
            }),
            metadata: Metadata::default(),
            community_id: None,
            recorded_at: Utc::now(),
        };
        let event = Event::decode(&recorded).unwrap();
        match event {
            Event::ServiceLogged {
                hours, place, kind, ..
            } => {
                assert_eq!(hours, Hours::from_minutes(90));
                assert_eq!(place, "");
                assert_eq!(kind, ServiceKind::Patrol);
            }
            other => panic!("decoded as {other:?}"),
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        assert!(Event::decode_parts("PointsAwarded", 7, json!({})).is_err());
    }
}
