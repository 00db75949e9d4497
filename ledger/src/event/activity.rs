//! What the activity events carry besides ids: who may sign up, the details a change
//! names, an attendance record as approved, and what an objection's resolution decided.

use crate::amount::{Hours, Points};
use crate::ids::{EntryId, GridId, ServiceId, TeamId, VolunteerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who may sign up for an activity: every condition given must hold (none: anyone of
/// the community).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// Members of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// Volunteers of this grid (or of a micro-grid in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<GridId>,
    /// Volunteers with this tag, e.g. 党员.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The details of an activity that a change can set; a change names only those it
/// changes (and the event keeps their previous values beside them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signup_deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_ins: Option<bool>,
}

impl ActivityDetails {
    pub fn is_empty(&self) -> bool {
        *self == ActivityDetails::default()
    }
}

/// How an attendance record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordSource {
    /// From check-in and check-out (签到/签退).
    Attendance,
    /// Added by staff after the activity for someone who took part without checking in
    /// (补录).
    Late,
}

/// One volunteer's approved attendance: the times counted, the hours and points the
/// rules give them, and the ids of the service and entry that finality credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceRecord {
    pub volunteer_id: VolunteerId,
    pub source: RecordSource,
    /// The counted start: the check-in, or the activity's start for a 补录.
    pub from: DateTime<Utc>,
    /// The counted end: the check-out, or the activity's end where it was missing.
    pub until: DateTime<Utc>,
    /// The check-out was missing and the activity's end was counted (未签退).
    #[serde(default)]
    pub checkout_missing: bool,
    pub hours: Hours,
    pub points: Points,
    /// The point rules the points follow.
    pub rule_version: u32,
    /// Why staff adjusted the times, when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<String>,
    pub service_id: ServiceId,
    pub entry_id: EntryId,
}

/// A volunteer left out of an approval, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub volunteer_id: VolunteerId,
    pub reason: String,
}

/// What the resolution of an objection decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ObjectionDecision {
    /// The record stands.
    Dismissed,
    /// Upheld: the record is corrected to these hours and points.
    Corrected { hours: Hours, points: Points },
    /// Upheld: the record is rejected and never credited.
    Rejected,
}

/// Marks a service record that an activity's attendance credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityService {
    pub activity_id: crate::ids::ActivityId,
    pub source: RecordSource,
}

/// Who provided a service paid for with hours, and the service recorded on their
/// account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
}
