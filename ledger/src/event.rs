//! The domain events: one [`Event`] enum for every stream, with schema versions and
//! upcasting of old payloads.
//!
//! Streams (see [`crate::ids`]):
//! - `community-…` (社区): establishment, grids (网格/微网格), stairwells (楼道), teams,
//!   versioned point rules, star thresholds (星级) and the stairwell rubric (文明楼道评分),
//!   and the enrolment that assigns volunteer numbers;
//! - `volunteer-…` (志愿者账户): registration, moves, teams, services (服务记录), points
//!   (积分) and time-bank hours (时间银行);
//! - `wish-…` (小心愿): a resident's small wish through its lifecycle;
//! - `stairwell-…` (楼道): monthly inspections and issues.
//!
//! Events name people only by id: names, phones and ID numbers are kept beside the log
//! ([`crate::store::Person`]). Every event that changes a balance carries an
//! [`EntryId`], which statements link to and reversals name.
//!
//! Payloads are JSON with a `"type"` field equal to [`Event::event_type`]. The current
//! schema version of each type is [`Event::schema_version`]; [`Event::decode`] upcasts
//! older payloads (ServiceLogged v1 stored `minutes` and no `place`).

use crate::amount::{Hours, Points};
use crate::ids::*;
use crate::store::{Metadata, NewEvent, RecordedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Kind of a volunteer service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// 巡逻: patrols, fire-hazard checks.
    Patrol,
    /// 维修: small repairs.
    Repair,
    /// 上门探访: visits to elders living alone.
    ElderlyVisit,
    /// 小心愿: a fulfilled wish (recorded when staff confirm it).
    Wish,
    /// 调解: neighbourhood mediation.
    Mediation,
    /// 其他: haircuts, blood-pressure checks, phone classes…
    Other,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::Patrol,
        ServiceKind::Repair,
        ServiceKind::ElderlyVisit,
        ServiceKind::Wish,
        ServiceKind::Mediation,
        ServiceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Patrol => "patrol",
            ServiceKind::Repair => "repair",
            ServiceKind::ElderlyVisit => "elderly_visit",
            ServiceKind::Wish => "wish",
            ServiceKind::Mediation => "mediation",
            ServiceKind::Other => "other",
        }
    }
}

/// One item of the stairwell rubric (文明楼道评分细则), scored 0..=max.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricItem {
    pub key: String,
    pub name: String,
    pub max: Decimal,
}

/// Every event of every stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    // ---- community stream (社区) ----
    CommunityEstablished {
        community_id: CommunityId,
        name: String,
    },
    /// A grid (网格); with a parent it is a micro-grid (微网格).
    GridAdded {
        grid_id: GridId,
        name: String,
        parent: Option<GridId>,
    },
    /// A stairwell (楼道): building (楼栋) and unit (单元).
    StairwellRegistered {
        stairwell_id: StairwellId,
        grid_id: GridId,
        building: String,
        unit: String,
        households: u32,
    },
    TeamFormed {
        team_id: TeamId,
        name: String,
    },
    /// Versioned point rules (积分规则): points per verified hour × coefficient per kind.
    PointRulesSet {
        version: u32,
        points_per_hour: Points,
        coefficients: BTreeMap<ServiceKind, Decimal>,
        max_hours_per_record: Hours,
        effective_from: NaiveDate,
    },
    /// Versioned star thresholds (星级志愿者), five ascending cumulative hours.
    StarThresholdsSet {
        version: u32,
        thresholds: Vec<Hours>,
        effective_from: NaiveDate,
    },
    /// Versioned stairwell rubric (文明楼道评分标准).
    RubricSet {
        version: u32,
        items: Vec<RubricItem>,
        participation_max: Decimal,
        effective_from: NaiveDate,
    },
    /// A volunteer number assigned by the community, written with `VolunteerRegistered`
    /// in the same append so numbers stay unique within the community.
    VolunteerEnrolled {
        volunteer_id: VolunteerId,
        volunteer_number: String,
    },

    // ---- volunteer stream (志愿者) ----
    VolunteerRegistered {
        volunteer_id: VolunteerId,
        community_id: CommunityId,
        volunteer_number: String,
        stairwell_id: StairwellId,
        grid_id: GridId,
        /// 党员, 五老, 青年, …
        tags: Vec<String>,
        teams: Vec<TeamId>,
        /// The household (户) in the stairwell, as a pseudonym (`hh-…`, keyed by the
        /// deployment key kept beside the log: the room number given, e.g. "3-2-201",
        /// is personal data and never stored); absent when not given (and in events
        /// recorded before households were kept): the volunteer then counts as a
        /// household of their own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household: Option<String>,
    },
    /// A move to another stairwell, or to another household of the same one.
    VolunteerMoved {
        stairwell_id: StairwellId,
        grid_id: GridId,
        /// The household moved into, as a pseudonym; absent: not given (a household
        /// of their own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household: Option<String>,
    },
    TeamJoined {
        team_id: TeamId,
    },
    TeamLeft {
        team_id: TeamId,
    },
    VolunteerDeparted {
        reason: String,
    },
    /// A service record (志愿服务记录), awaiting verification. Schema v2.
    ServiceLogged {
        service_id: ServiceId,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: Hours,
        place: String,
        note: String,
        logged_by: Uuid,
    },
    /// Hours banked and points credited by the point rules in force on the service date.
    ServiceVerified {
        service_id: ServiceId,
        entry_id: EntryId,
        hours: Hours,
        points: Points,
        /// Point rules version applied (0: the built-in defaults).
        rule_version: u32,
        verified_by: Uuid,
    },
    ServiceRejected {
        service_id: ServiceId,
        reason: String,
        rejected_by: Uuid,
    },
    /// 积分奖励.
    PointsAwarded {
        entry_id: EntryId,
        points: Points,
        reason: String,
        awarded_by: Uuid,
    },
    /// Redeemed at the points shop (积分超市). Never undone.
    PointsRedeemed {
        entry_id: EntryId,
        points: Points,
        item: String,
        redeemed_by: Uuid,
    },
    /// A correction (冲正) of an earlier entry: removes its points and hours.
    EntryReversed {
        entry_id: EntryId,
        reverses: EntryId,
        points: Points,
        hours: Hours,
        reason: String,
        reversed_by: Uuid,
    },
    /// Hours gifted to another volunteer (sender's stream).
    HoursGifted {
        entry_id: EntryId,
        to: VolunteerId,
        hours: Hours,
    },
    /// Hours received from another volunteer (recipient's stream, same append).
    HoursReceived {
        entry_id: EntryId,
        from: VolunteerId,
        hours: Hours,
    },
    /// Hours spent on receiving a service (时间银行兑换).
    HoursSpent {
        entry_id: EntryId,
        hours: Hours,
        description: String,
    },

    // ---- wish stream (小心愿) ----
    WishPosted {
        wish_id: WishId,
        community_id: CommunityId,
        stairwell_id: StairwellId,
        category: String,
        description: String,
        /// A label for the resident (e.g. "3单元独居老人"), not personal data.
        resident_label: String,
        posted_by: Uuid,
    },
    WishClaimed {
        volunteer_id: VolunteerId,
    },
    WishReleased {
        volunteer_id: VolunteerId,
    },
    WishFulfilled {
        volunteer_id: VolunteerId,
        hours: Hours,
        note: String,
        fulfilled_at: DateTime<Utc>,
    },
    /// Confirmed by staff; the service is written to the claimer's stream in the same append.
    WishConfirmed {
        confirmed_by: Uuid,
        service_id: ServiceId,
    },
    WishCancelled {
        reason: String,
        cancelled_by: Uuid,
    },

    // ---- stairwell stream (楼道) ----
    /// A monthly inspection (文明楼道评比).
    StairwellInspected {
        /// "YYYY-MM".
        month: String,
        scores: BTreeMap<String, Decimal>,
        inspector: Uuid,
        note: String,
        rubric_version: u32,
    },
    StairwellIssueReported {
        issue_id: IssueId,
        description: String,
        deduction: Decimal,
        reported_by: Uuid,
    },
    StairwellIssueResolved {
        issue_id: IssueId,
        note: String,
        resolved_by: Uuid,
    },
    /// The volunteer's personal data (name, phone, ID number) was erased on request. It
    /// carries none: it records that, when and by whom (in its metadata) it was done.
    PersonalDataErased {},
}

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
    /// The variant name, stored as the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::CommunityEstablished { .. } => "CommunityEstablished",
            Event::GridAdded { .. } => "GridAdded",
            Event::StairwellRegistered { .. } => "StairwellRegistered",
            Event::TeamFormed { .. } => "TeamFormed",
            Event::PointRulesSet { .. } => "PointRulesSet",
            Event::StarThresholdsSet { .. } => "StarThresholdsSet",
            Event::RubricSet { .. } => "RubricSet",
            Event::VolunteerEnrolled { .. } => "VolunteerEnrolled",
            Event::VolunteerRegistered { .. } => "VolunteerRegistered",
            Event::VolunteerMoved { .. } => "VolunteerMoved",
            Event::TeamJoined { .. } => "TeamJoined",
            Event::TeamLeft { .. } => "TeamLeft",
            Event::VolunteerDeparted { .. } => "VolunteerDeparted",
            Event::ServiceLogged { .. } => "ServiceLogged",
            Event::ServiceVerified { .. } => "ServiceVerified",
            Event::ServiceRejected { .. } => "ServiceRejected",
            Event::PointsAwarded { .. } => "PointsAwarded",
            Event::PointsRedeemed { .. } => "PointsRedeemed",
            Event::EntryReversed { .. } => "EntryReversed",
            Event::HoursGifted { .. } => "HoursGifted",
            Event::HoursReceived { .. } => "HoursReceived",
            Event::HoursSpent { .. } => "HoursSpent",
            Event::WishPosted { .. } => "WishPosted",
            Event::WishClaimed { .. } => "WishClaimed",
            Event::WishReleased { .. } => "WishReleased",
            Event::WishFulfilled { .. } => "WishFulfilled",
            Event::WishConfirmed { .. } => "WishConfirmed",
            Event::WishCancelled { .. } => "WishCancelled",
            Event::StairwellInspected { .. } => "StairwellInspected",
            Event::StairwellIssueReported { .. } => "StairwellIssueReported",
            Event::StairwellIssueResolved { .. } => "StairwellIssueResolved",
            Event::PersonalDataErased { .. } => "PersonalDataErased",
        }
    }

    /// The current schema version of this event's type.
    pub fn schema_version(&self) -> u32 {
        current_schema_version(self.event_type())
    }

    /// The entry id of a balance-changing event.
    pub fn entry_id(&self) -> Option<EntryId> {
        match self {
            Event::ServiceVerified { entry_id, .. }
            | Event::PointsAwarded { entry_id, .. }
            | Event::PointsRedeemed { entry_id, .. }
            | Event::EntryReversed { entry_id, .. }
            | Event::HoursGifted { entry_id, .. }
            | Event::HoursReceived { entry_id, .. }
            | Event::HoursSpent { entry_id, .. } => Some(*entry_id),
            _ => None,
        }
    }

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

/// The built-in rubric (used until a community sets its own): 楼道卫生 30, 杂物清理 25,
/// 消防安全 25, plus participation (居民参与) 20.
pub fn default_rubric_items() -> Vec<RubricItem> {
    vec![
        RubricItem {
            key: "cleanliness".into(),
            name: "楼道卫生".into(),
            max: Decimal::from(30),
        },
        RubricItem {
            key: "clutter".into(),
            name: "杂物清理".into(),
            max: Decimal::from(25),
        },
        RubricItem {
            key: "fire_safety".into(),
            name: "消防安全".into(),
            max: Decimal::from(25),
        },
    ]
}

/// Participation maximum of the built-in rubric.
pub const DEFAULT_PARTICIPATION_MAX: i64 = 20;

/// The built-in star thresholds (national default): 100/300/600/1000/1500 h.
pub fn default_star_thresholds() -> Vec<Hours> {
    [100, 300, 600, 1000, 1500]
        .into_iter()
        .map(Hours::whole)
        .collect()
}

/// Teams named in a set, for evolve functions.
pub(crate) fn team_set(teams: &[TeamId]) -> BTreeSet<TeamId> {
    teams.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_carries_type_and_round_trips() {
        let e = Event::PointsAwarded {
            entry_id: EntryId(Uuid::from_u128(1)),
            points: Points::from_hundredths(1250),
            reason: "楼道清理".into(),
            awarded_by: Uuid::from_u128(2),
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
