//! The annual commendation report (年度表彰) of a community as GraphQL objects: totals,
//! services by kind, the lists of volunteers, teams, grids and stairwells, the red flags
//! and the months, with links to its files.

use super::{download, DocumentFormat, Download};
use crate::documents::annual_report_url;
use crate::scalars::{DecimalScalar, HoursScalar, PointsScalar};
use crate::schema::args::id;
use crate::schema::types::ServiceKind;
use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use reports::annual::{GridTotal, KindTotal, MonthTotal, TeamTotal, Totals, VolunteerLine};
use reports::stairwell::{RedFlagMonth, StairwellStanding};

/// 总体情况 of a year.
#[derive(SimpleObject)]
pub struct ReportTotals {
    pub registered_volunteers: u64,
    pub active_volunteers: u64,
    pub services: i64,
    pub verified_hours: HoursScalar,
    /// Points of verified services.
    pub service_points: PointsScalar,
    /// Points of 积分奖励 awards.
    pub award_points: PointsScalar,
    pub points_awarded: PointsScalar,
    pub points_redeemed: PointsScalar,
    pub wishes_posted: u64,
    pub wishes_fulfilled: u64,
    pub median_days_to_fulfil: Option<DecimalScalar>,
    /// Attendances of activities (参与活动人次) final in the year.
    pub activity_attendances: i64,
    /// Of the hours, those from activities' attendance (签到签退) and from 补录.
    pub activity_hours: HoursScalar,
    pub late_hours: HoursScalar,
}

impl From<&Totals> for ReportTotals {
    fn from(t: &Totals) -> Self {
        ReportTotals {
            registered_volunteers: t.registered_volunteers,
            active_volunteers: t.active_volunteers,
            services: t.services,
            verified_hours: HoursScalar(t.verified_hours),
            service_points: PointsScalar(t.service_points),
            award_points: PointsScalar(t.award_points),
            points_awarded: PointsScalar(t.points_awarded),
            points_redeemed: PointsScalar(t.points_redeemed),
            wishes_posted: t.wishes_posted,
            wishes_fulfilled: t.wishes_fulfilled,
            median_days_to_fulfil: t.median_days_to_fulfil.map(DecimalScalar),
            activity_attendances: t.activity_attendances,
            activity_hours: HoursScalar(t.activity_hours),
            late_hours: HoursScalar(t.late_hours),
        }
    }
}

/// Services of one kind in the year.
#[derive(SimpleObject)]
pub struct ReportKindTotal {
    pub kind: ServiceKind,
    /// 巡逻, 维修, …
    pub label: String,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
}

impl From<&KindTotal> for ReportKindTotal {
    fn from(k: &KindTotal) -> Self {
        ReportKindTotal {
            kind: k.kind.into(),
            label: k.label.clone(),
            services: k.services,
            hours: HoursScalar(k.hours),
            points: PointsScalar(k.points),
        }
    }
}

/// A volunteer in a list of the report.
#[derive(SimpleObject)]
pub struct ReportVolunteer {
    /// Dense rank in the list (ties share a rank).
    pub rank: u32,
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub name: String,
    pub tags: Vec<String>,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
    /// Net verified hours up to the end of the year.
    pub cumulative_hours: HoursScalar,
    pub star_level: u8,
    pub star_level_at_start: u8,
    /// Star levels newly reached in the year.
    pub new_stars: Vec<u8>,
    /// Activities attended (records final in the year).
    pub activities: i64,
    /// Of the hours, those from activities' attendance and from 补录.
    pub activity_hours: HoursScalar,
    pub late_hours: HoursScalar,
}

impl From<&VolunteerLine> for ReportVolunteer {
    fn from(l: &VolunteerLine) -> Self {
        ReportVolunteer {
            rank: l.rank,
            volunteer_id: id(l.volunteer_id.0),
            volunteer_number: l.volunteer_number.clone(),
            name: l.name.clone(),
            tags: l.tags.clone(),
            services: l.services,
            hours: HoursScalar(l.hours),
            points: PointsScalar(l.points),
            cumulative_hours: HoursScalar(l.cumulative_hours),
            star_level: l.star_level,
            star_level_at_start: l.star_level_at_start,
            new_stars: l.new_stars.clone(),
            activities: l.activities,
            activity_hours: HoursScalar(l.activity_hours),
            late_hours: HoursScalar(l.late_hours),
        }
    }
}

/// What a team (志愿服务队) or a grid (网格) did in the year.
#[derive(SimpleObject)]
pub struct ReportUnit {
    pub id: ID,
    pub name: String,
    /// The grid a micro-grid belongs to (grids only).
    pub parent_name: Option<String>,
    /// Stairwells of the grid (grids only).
    pub stairwells: Option<u64>,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
    /// Attendances of activities by its members (参与活动人次).
    pub activities: i64,
    /// Of the hours, those from activities' attendance and from 补录.
    pub activity_hours: HoursScalar,
    pub late_hours: HoursScalar,
}

impl From<&TeamTotal> for ReportUnit {
    fn from(t: &TeamTotal) -> Self {
        ReportUnit {
            id: id(t.team_id.0),
            name: t.name.clone(),
            parent_name: None,
            stairwells: None,
            active_volunteers: t.totals.active_volunteers,
            services: t.totals.services,
            hours: HoursScalar(t.totals.hours),
            points: PointsScalar(t.totals.points),
            activities: t.totals.activities,
            activity_hours: HoursScalar(t.totals.activity_hours),
            late_hours: HoursScalar(t.totals.late_hours),
        }
    }
}

impl From<&GridTotal> for ReportUnit {
    fn from(g: &GridTotal) -> Self {
        ReportUnit {
            id: id(g.grid_id.0),
            name: g.name.clone(),
            parent_name: g.parent_name.clone(),
            stairwells: Some(g.stairwells),
            active_volunteers: g.totals.active_volunteers,
            services: g.totals.services,
            hours: HoursScalar(g.totals.hours),
            points: PointsScalar(g.totals.points),
            activities: g.totals.activities,
            activity_hours: HoursScalar(g.totals.activity_hours),
            late_hours: HoursScalar(g.totals.late_hours),
        }
    }
}

/// A stairwell's 文明楼道 year.
#[derive(SimpleObject)]
pub struct ReportStairwell {
    /// Dense rank by yearly average; null when no month was scored.
    pub rank: Option<u32>,
    pub stairwell_id: ID,
    pub grid_name: String,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// Scores of months 1–12 (null when the month was not inspected).
    pub monthly_scores: Vec<Option<DecimalScalar>>,
    pub average: Option<DecimalScalar>,
    /// Months (1–12) holding the 流动红旗.
    pub red_flag_months: Vec<u32>,
}

impl From<&StairwellStanding> for ReportStairwell {
    fn from(s: &StairwellStanding) -> Self {
        ReportStairwell {
            rank: s.rank,
            stairwell_id: id(s.stairwell_id.0),
            grid_name: s.grid_name.clone(),
            building: s.building.clone(),
            unit: s.unit.clone(),
            households: s.households,
            monthly_scores: s
                .months
                .iter()
                .map(|m| m.score.map(DecimalScalar))
                .collect(),
            average: s.average.map(DecimalScalar),
            red_flag_months: s.red_flag_months.clone(),
        }
    }
}

/// The 流动红旗 holder of a month: one flag, one stairwell (a tie of top scores is
/// broken by building, unit and id, as on the boards).
#[derive(SimpleObject)]
pub struct ReportRedFlag {
    pub month: u32,
    pub score: DecimalScalar,
    pub stairwell_id: ID,
    /// "3号楼 2单元" of the holder.
    pub label: String,
    /// The holder, alone.
    #[graphql(deprecation = "one stairwell holds the flag: use stairwellId")]
    pub stairwell_ids: Vec<ID>,
    /// The holder's label, alone.
    #[graphql(deprecation = "one stairwell holds the flag: use label")]
    pub labels: Vec<String>,
}

impl From<&RedFlagMonth> for ReportRedFlag {
    fn from(r: &RedFlagMonth) -> Self {
        ReportRedFlag {
            month: r.month,
            score: DecimalScalar(r.score),
            stairwell_id: id(r.stairwell_id.0),
            label: r.label.clone(),
            stairwell_ids: vec![id(r.stairwell_id.0)],
            labels: vec![r.label.clone()],
        }
    }
}

/// One month of the year.
#[derive(SimpleObject)]
pub struct ReportMonth {
    pub month: u32,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: HoursScalar,
    pub service_points: PointsScalar,
    pub award_points: PointsScalar,
    pub points_awarded: PointsScalar,
    pub points_redeemed: PointsScalar,
}

impl From<&MonthTotal> for ReportMonth {
    fn from(m: &MonthTotal) -> Self {
        ReportMonth {
            month: m.month,
            active_volunteers: m.active_volunteers,
            services: m.services,
            hours: HoursScalar(m.hours),
            service_points: PointsScalar(m.service_points),
            award_points: PointsScalar(m.award_points),
            points_awarded: PointsScalar(m.points_awarded),
            points_redeemed: PointsScalar(m.points_redeemed),
        }
    }
}

/// The annual commendation report (年度表彰) of a community, pinned to `position`.
#[derive(SimpleObject)]
pub struct AnnualReport {
    pub community_id: ID,
    pub community_name: String,
    pub year: i32,
    /// The log position the report was computed at: ask again with `at: position` (or
    /// download the files below) for exactly these figures.
    pub position: u64,
    /// When the event at `position` was recorded.
    pub as_of: Option<DateTime<Utc>>,
    /// Star thresholds in force at `position` (hours for 1 to 5 stars).
    pub star_thresholds: Vec<HoursScalar>,
    pub star_rule_version: u32,
    pub totals: ReportTotals,
    #[graphql(complexity = "crate::schema::rows_cost(6, child_complexity)")]
    pub services_by_kind: Vec<ReportKindTotal>,
    #[graphql(complexity = "crate::schema::rows_cost(reports::TOP_N, child_complexity)")]
    pub top_by_hours: Vec<ReportVolunteer>,
    #[graphql(complexity = "crate::schema::rows_cost(reports::TOP_N, child_complexity)")]
    pub top_by_points: Vec<ReportVolunteer>,
    /// Volunteers who reached a new star level in the year.
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub new_stars: Vec<ReportVolunteer>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub teams: Vec<ReportUnit>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub grids: Vec<ReportUnit>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub stairwells: Vec<ReportStairwell>,
    #[graphql(complexity = "crate::schema::rows_cost(12, child_complexity)")]
    pub red_flags: Vec<ReportRedFlag>,
    #[graphql(complexity = "crate::schema::rows_cost(12, child_complexity)")]
    pub months: Vec<ReportMonth>,
    /// The report as XLSX, CSV (UTF-8 with BOM) and printable HTML.
    pub downloads: Vec<Download>,
}

impl From<&reports::AnnualReport> for AnnualReport {
    fn from(r: &reports::AnnualReport) -> Self {
        let downloads = [
            DocumentFormat::Xlsx,
            DocumentFormat::Csv,
            DocumentFormat::Html,
        ]
        .into_iter()
        .map(|f| {
            download(
                annual_report_url(r.community_id, r.year, r.position, f.into()),
                f,
                r.position,
            )
        })
        .collect();
        AnnualReport {
            community_id: id(r.community_id.0),
            community_name: r.community_name.clone(),
            year: r.year,
            position: r.position,
            as_of: r.as_of,
            star_thresholds: r
                .star_rule
                .thresholds
                .iter()
                .copied()
                .map(HoursScalar)
                .collect(),
            star_rule_version: r.star_rule.version,
            totals: (&r.totals).into(),
            services_by_kind: r.services_by_kind.iter().map(Into::into).collect(),
            top_by_hours: r.top_by_hours.iter().map(Into::into).collect(),
            top_by_points: r.top_by_points.iter().map(Into::into).collect(),
            new_stars: r.new_stars.iter().map(Into::into).collect(),
            teams: r.teams.iter().map(Into::into).collect(),
            grids: r.grids.iter().map(Into::into).collect(),
            stairwells: r.stairwells.iter().map(Into::into).collect(),
            red_flags: r.red_flags.iter().map(Into::into).collect(),
            months: r.months.iter().map(Into::into).collect(),
            downloads,
        }
    }
}
