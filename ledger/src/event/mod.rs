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

mod codec;
mod kinds;

pub use codec::{current_schema_version, DecodeError};
pub use kinds::*;

use crate::amount::{Hours, Points};
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

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
}
