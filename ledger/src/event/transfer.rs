//! The events of a volunteer's move to another community (记录转移接续): the record
//! follows the person, in the volunteer's own stream, and the new community numbers
//! them (`VolunteerEnrolled` in its stream, in the same append). What was done before
//! stays counted where it was done: every earlier event keeps its community, so the old
//! community's reports do not change. Whether the points balance follows or stays is a
//! versioned rule of the community left ([`TransferRulesSet`], default: follow).

use crate::amount::{Hours, Points};
use crate::ids::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The volunteer now belongs to `community_id`, numbered `volunteer_number` there,
/// living in `stairwell_id` (its grid `grid_id`); the teams of the old community are
/// left. Hours, stars, the statement, the service record and certificates follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolunteerTransferred {
    pub volunteer_id: VolunteerId,
    pub from_community: CommunityId,
    pub community_id: CommunityId,
    pub volunteer_number: String,
    pub stairwell_id: StairwellId,
    pub grid_id: GridId,
    /// The household moved into, as a pseudonym (see `VolunteerRegistered`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// 党员, 五老, 青年, … as they were (they follow the person).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The old community's teams the volunteer was in, left by the move.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams_left: Vec<TeamId>,
    /// The transfer rules version of the old community applied (0: the default).
    pub rule_version: u32,
    /// Whether the points balance followed (else it stayed: `points_left`).
    pub points_follow: bool,
    /// The points balance left with the old community under a "stay" rule, as an
    /// entry of the account (none when the points followed or there were none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_left: Option<PointsLeft>,
    pub reason: String,
    pub transferred_by: Uuid,
    /// What the record carries over, for the new community's scans that start here:
    /// verified hours (banked − reversed, what stars count) and points earned net of
    /// reversals, as of the move.
    pub verified_hours: Hours,
    pub star_points: Points,
}

/// The volunteer left this community for `to_community` (in the old community's
/// stream, in the same append as [`VolunteerTransferred`]): what the community's own
/// scans (its annual report, its member list) see of the move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerTransferredOut {
    pub volunteer_id: VolunteerId,
    pub to_community: CommunityId,
}

/// Points that stayed with the community left: taken out of the account as one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsLeft {
    pub entry_id: EntryId,
    pub points: Points,
}

/// A community's transfer rules (转移接续规则), versioned: whether a departing
/// volunteer's points balance follows them or stays with this community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRulesSet {
    pub version: u32,
    pub points_follow: bool,
    pub effective_from: NaiveDate,
}
