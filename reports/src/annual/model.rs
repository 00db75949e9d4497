//! The annual report as documents and the API show it: totals, services by kind,
//! volunteer lists, teams, grids and months (the 文明楼道 tables are in `crate::stairwell`).

use crate::stairwell::{RedFlagMonth, StairwellStanding};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use ledger::ids::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The star thresholds a document used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StarRule {
    /// 0 for the built-in defaults.
    pub version: u32,
    pub thresholds: Vec<Hours>,
    pub effective_from: NaiveDate,
    /// Points earned each star also takes (net of reversals), when the rule says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<ledger::amount::Points>>,
}

/// 总体情况.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub registered_volunteers: u64,
    pub active_volunteers: u64,
    pub services: i64,
    pub verified_hours: Hours,
    pub service_points: Points,
    pub award_points: Points,
    pub points_awarded: Points,
    pub points_redeemed: Points,
    pub wishes_posted: u64,
    pub wishes_fulfilled: u64,
    /// Median days from posting to fulfilment, to one decimal.
    pub median_days_to_fulfil: Option<Decimal>,
    /// Attendances of activities (参与活动人次), final in the year.
    #[serde(default)]
    pub activity_attendances: i64,
    /// Hours from activities' attendance (签到签退).
    #[serde(default)]
    pub activity_hours: Hours,
    /// Hours from 补录.
    #[serde(default)]
    pub late_hours: Hours,
}

/// One service kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindTotal {
    pub kind: ServiceKind,
    pub label: String,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
}

/// A volunteer in a list of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolunteerLine {
    /// Dense rank in the list (ties share a rank).
    pub rank: u32,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    /// From the personal-data table when the report was produced.
    pub name: String,
    pub tags: Vec<String>,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
    /// Cumulative net verified hours at the end of the year.
    pub cumulative_hours: Hours,
    pub star_level: u8,
    pub star_level_at_start: u8,
    /// Star levels newly reached in the year (e.g. `[2, 3]`).
    pub new_stars: Vec<u8>,
    /// Activities attended (records final in the year).
    #[serde(default)]
    pub activities: i64,
    /// Of the hours, those from activities' attendance and those from 补录.
    #[serde(default)]
    pub activity_hours: Hours,
    #[serde(default)]
    pub late_hours: Hours,
}

/// A team (志愿服务队) or a grid (网格): what its members did in the year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitTotal {
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
    /// Attendances of activities by its members (参与活动人次).
    #[serde(default)]
    pub activities: i64,
    /// Of the hours, those from activities' attendance and those from 补录.
    #[serde(default)]
    pub activity_hours: Hours,
    #[serde(default)]
    pub late_hours: Hours,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamTotal {
    pub team_id: TeamId,
    pub name: String,
    #[serde(flatten)]
    pub totals: UnitTotal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridTotal {
    pub grid_id: GridId,
    pub name: String,
    /// The grid a micro-grid (微网格) belongs to.
    pub parent_name: Option<String>,
    pub stairwells: u64,
    #[serde(flatten)]
    pub totals: UnitTotal,
}

/// One month of the year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonthTotal {
    pub month: u32,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: Hours,
    pub service_points: Points,
    pub award_points: Points,
    pub points_awarded: Points,
    pub points_redeemed: Points,
}

/// The annual report, pinned to `position`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnualReport {
    pub community_id: CommunityId,
    pub community_name: String,
    pub year: i32,
    /// The log position the report was computed at.
    pub position: u64,
    /// When the event at `position` was recorded.
    pub as_of: Option<DateTime<Utc>>,
    pub star_rule: StarRule,
    pub totals: Totals,
    pub services_by_kind: Vec<KindTotal>,
    pub top_by_hours: Vec<VolunteerLine>,
    pub top_by_points: Vec<VolunteerLine>,
    pub new_stars: Vec<VolunteerLine>,
    pub teams: Vec<TeamTotal>,
    pub grids: Vec<GridTotal>,
    pub stairwells: Vec<StairwellStanding>,
    pub red_flags: Vec<RedFlagMonth>,
    pub months: Vec<MonthTotal>,
}
