//! From a stored row's text to an [`Event`]: straight decoders for the most frequent
//! types of the current schema version, serde for the rest, upcasting for older
//! versions; and the forms a stored `recorded_at` comes in.

use crate::error::ReportError;
use chrono::{DateTime, Utc};
use ledger::event::{current_schema_version, Event};

/// Decodes a stored payload: straight from the text when it is of the current schema
/// version (payloads carry their `type`), otherwise through [`Event::decode_parts`]
/// (upcasting).
pub(super) fn decode_text(
    position: i64,
    event_type: &str,
    schema_version: u32,
    payload: &str,
) -> Result<Event, ReportError> {
    let fail = |reason: String| {
        ReportError::Decode(ledger::event::DecodeError {
            position: u64::try_from(position).unwrap_or(0),
            event_type: event_type.to_string(),
            schema_version,
            reason,
        })
    };
    if schema_version == current_schema_version(event_type) {
        if let Some(Ok(event)) = fast::decode(event_type, payload) {
            return Ok(event);
        }
        if let Ok(event) = serde_json::from_str::<Event>(payload) {
            if event.event_type() == event_type {
                return Ok(event);
            }
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| fail(e.to_string()))?;
    Event::decode_parts(event_type, schema_version, value).map_err(fail)
}

/// A stored `recorded_at` (RFC 3339 as the store writes it; the other forms SQLite
/// stores dates in are accepted too, as UTC).
pub(super) fn parse_time(position: u64, text: &str) -> Result<DateTime<Utc>, ReportError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = text.parse::<DateTime<Utc>>() {
        return Ok(t);
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    Err(ReportError::Decode(ledger::event::DecodeError {
        position,
        event_type: String::new(),
        schema_version: 0,
        reason: format!("recorded_at {text:?} is not a time"),
    }))
}

/// Straight decoders for the most frequent event types of the current schema version.
/// `Event` is internally tagged, so serde buffers every payload into a tree before it
/// reads the variant; these read the variant's fields directly (the stored `type` is
/// ignored: the event type column decides, as in [`Event::decode_parts`]). Each builds
/// its variant with every field, so a change to a variant fails to compile here.
mod fast {
    use chrono::{DateTime, Utc};
    use ledger::amount::{Hours, Points};
    use ledger::event::{Event, ServiceKind};
    use ledger::ids::CommunityId;
    use ledger::ids::{EntryId, ServiceId, StairwellId, VolunteerId, WishId};
    use serde::Deserialize;
    use uuid::Uuid;

    #[derive(Deserialize)]
    struct ServiceLogged {
        service_id: ServiceId,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: Hours,
        place: String,
        note: String,
        logged_by: Uuid,
        #[serde(default)]
        activity: Option<ledger::event::ActivityService>,
        #[serde(default)]
        imported: Option<ledger::event::ImportedRow>,
    }

    #[derive(Deserialize)]
    struct ServiceVerified {
        service_id: ServiceId,
        entry_id: EntryId,
        hours: Hours,
        points: Points,
        rule_version: u32,
        verified_by: Uuid,
        #[serde(default)]
        over_cap: Hours,
        #[serde(default)]
        expires_on: Option<chrono::NaiveDate>,
    }

    #[derive(Deserialize)]
    struct PointsAwarded {
        entry_id: EntryId,
        points: Points,
        reason: String,
        awarded_by: Uuid,
        #[serde(default)]
        expires_on: Option<chrono::NaiveDate>,
    }

    #[derive(Deserialize)]
    struct PointsRedeemed {
        entry_id: EntryId,
        points: Points,
        item: String,
        redeemed_by: Uuid,
    }

    #[derive(Deserialize)]
    struct WishPosted {
        wish_id: WishId,
        community_id: CommunityId,
        stairwell_id: StairwellId,
        category: String,
        description: String,
        resident_label: String,
        posted_by: Uuid,
    }

    #[derive(Deserialize)]
    struct WishFulfilled {
        volunteer_id: VolunteerId,
        hours: Hours,
        note: String,
        fulfilled_at: DateTime<Utc>,
    }

    #[derive(Deserialize)]
    struct WishConfirmed {
        confirmed_by: Uuid,
        service_id: ServiceId,
    }

    /// `None` when the type has no straight decoder.
    pub(super) fn decode(event_type: &str, payload: &str) -> Option<serde_json::Result<Event>> {
        let event = match event_type {
            "ServiceLogged" => {
                serde_json::from_str(payload).map(|e: ServiceLogged| Event::ServiceLogged {
                    service_id: e.service_id,
                    kind: e.kind,
                    started_at: e.started_at,
                    hours: e.hours,
                    place: e.place,
                    note: e.note,
                    logged_by: e.logged_by,
                    activity: e.activity,
                    imported: e.imported,
                })
            }
            "ServiceVerified" => {
                serde_json::from_str(payload).map(|e: ServiceVerified| Event::ServiceVerified {
                    service_id: e.service_id,
                    entry_id: e.entry_id,
                    hours: e.hours,
                    points: e.points,
                    rule_version: e.rule_version,
                    verified_by: e.verified_by,
                    over_cap: e.over_cap,
                    expires_on: e.expires_on,
                })
            }
            "PointsAwarded" => {
                serde_json::from_str(payload).map(|e: PointsAwarded| Event::PointsAwarded {
                    entry_id: e.entry_id,
                    points: e.points,
                    reason: e.reason,
                    awarded_by: e.awarded_by,
                    expires_on: e.expires_on,
                })
            }
            "PointsRedeemed" => {
                serde_json::from_str(payload).map(|e: PointsRedeemed| Event::PointsRedeemed {
                    entry_id: e.entry_id,
                    points: e.points,
                    item: e.item,
                    redeemed_by: e.redeemed_by,
                })
            }
            "WishPosted" => serde_json::from_str(payload).map(|e: WishPosted| Event::WishPosted {
                wish_id: e.wish_id,
                community_id: e.community_id,
                stairwell_id: e.stairwell_id,
                category: e.category,
                description: e.description,
                resident_label: e.resident_label,
                posted_by: e.posted_by,
            }),
            "WishFulfilled" => {
                serde_json::from_str(payload).map(|e: WishFulfilled| Event::WishFulfilled {
                    volunteer_id: e.volunteer_id,
                    hours: e.hours,
                    note: e.note,
                    fulfilled_at: e.fulfilled_at,
                })
            }
            "WishConfirmed" => {
                serde_json::from_str(payload).map(|e: WishConfirmed| Event::WishConfirmed {
                    confirmed_by: e.confirmed_by,
                    service_id: e.service_id,
                })
            }
            _ => return None,
        };
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::amount::{Hours, Points};
    use ledger::event::ServiceKind;
    use ledger::ids::*;
    use uuid::Uuid;

    fn id() -> Uuid {
        Uuid::new_v4()
    }

    /// The straight decoders read what serde reads, and say when they have none.
    #[test]
    fn fast_decoders_agree_with_serde() {
        let at = "2024-03-01T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let events = [
            Event::ServiceLogged {
                imported: None,
                service_id: ServiceId(id()),
                kind: ServiceKind::ElderlyVisit,
                started_at: at,
                hours: Hours::from_minutes(90),
                place: "老年食堂 \"东\"".into(),
                note: "a\nb".into(),
                logged_by: id(),
                activity: None,
            },
            Event::ServiceLogged {
                imported: None,
                service_id: ServiceId(id()),
                kind: ServiceKind::Patrol,
                started_at: at,
                hours: Hours::from_minutes(120),
                place: "小区北门".into(),
                note: "北门巡逻".into(),
                logged_by: id(),
                activity: Some(ledger::event::ActivityService {
                    activity_id: ActivityId(id()),
                    source: ledger::event::RecordSource::Late,
                }),
            },
            Event::ServiceVerified {
                service_id: ServiceId(id()),
                entry_id: EntryId(id()),
                hours: Hours::from_minutes(45),
                points: Points::from_hundredths(975),
                rule_version: 2,
                verified_by: id(),
                over_cap: Hours::from_minutes(15),
                expires_on: chrono::NaiveDate::from_ymd_opt(2029, 1, 1),
            },
            Event::PointsAwarded {
                entry_id: EntryId(id()),
                points: Points::from_hundredths(500),
                reason: "表彰".into(),
                awarded_by: id(),
                expires_on: chrono::NaiveDate::from_ymd_opt(2028, 6, 1),
            },
            Event::PointsRedeemed {
                entry_id: EntryId(id()),
                points: Points::from_hundredths(-200),
                item: "米".into(),
                redeemed_by: id(),
            },
            Event::WishPosted {
                wish_id: WishId(id()),
                community_id: CommunityId(id()),
                stairwell_id: StairwellId(id()),
                category: "c".into(),
                description: "d".into(),
                resident_label: "r".into(),
                posted_by: id(),
            },
            Event::WishFulfilled {
                volunteer_id: VolunteerId(id()),
                hours: Hours::from_minutes(60),
                note: String::new(),
                fulfilled_at: at,
            },
            Event::WishConfirmed {
                confirmed_by: id(),
                service_id: ServiceId(id()),
            },
        ];
        for event in events {
            let text = serde_json::to_string(&event).unwrap();
            let fast = fast::decode(event.event_type(), &text).unwrap().unwrap();
            assert_eq!(fast, event);
            let decoded = decode_text(1, event.event_type(), event.schema_version(), &text);
            assert_eq!(decoded.unwrap(), event);
        }
        let other = Event::TeamJoined {
            team_id: TeamId(id()),
        };
        assert!(fast::decode("TeamJoined", &serde_json::to_string(&other).unwrap()).is_none());
        // A payload the straight decoder refuses still goes the general way.
        assert!(fast::decode("ServiceVerified", "{}").unwrap().is_err());
    }

    #[test]
    fn recorded_at_forms() {
        let want = "2026-11-22T07:48:20.095984127Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        for text in [
            "2026-11-22T07:48:20.095984127+00:00",
            "2026-11-22 07:48:20.095984127+00:00",
            "2026-11-22 07:48:20.095984127",
            "2026-11-22T15:48:20.095984127+08:00",
        ] {
            assert_eq!(parse_time(1, text).unwrap(), want, "{text}");
        }
        assert!(parse_time(1, "yesterday").is_err());
    }
}
