//! A street's annual report (街道年度汇总): the annual report of each of its communities,
//! all pinned to one log position, and a summary with a line per community and the
//! street's total. Which communities are the street's is the caller's to say (the
//! organisation as it was at the year's end, from the api's read model): this crate
//! reads the log only.

use crate::annual::{annual_report, AnnualReport};
use crate::error::ReportError;
use crate::fold;
use crate::table::{annual_sections, Cell, Section};
use chrono::{DateTime, Utc};
use ledger::amount::{Hours, Points};
use ledger::ids::CommunityId;
use ledger::store::Store;

/// A street's report of a year.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetReport {
    pub street_name: String,
    pub year: i32,
    /// The log position every community's report was computed at.
    pub position: u64,
    pub as_of: Option<DateTime<Utc>>,
    /// The communities' reports, in the order given.
    pub communities: Vec<AnnualReport>,
}

/// The reports of `communities` for `year`, pinned to one position (`at`, or the head).
pub async fn street_report(
    store: &Store,
    street_name: &str,
    communities: &[CommunityId],
    year: i32,
    at: Option<u64>,
) -> Result<StreetReport, ReportError> {
    let position = fold::pin(store, at).await?;
    let mut reports = Vec::with_capacity(communities.len());
    for c in communities {
        reports.push(annual_report(store, *c, year, Some(position), |_, _| {}).await?);
    }
    Ok(StreetReport {
        street_name: street_name.to_string(),
        year,
        position,
        as_of: fold::recorded_at(store, position).await?,
        communities: reports,
    })
}

const SUMMARY: [&str; 10] = [
    "社区",
    "注册志愿者",
    "活跃志愿者",
    "服务次数",
    "服务时长（小时）",
    "发放积分",
    "兑换积分",
    "心愿完成",
    "活动参与人次",
    "流动红旗月数",
];

/// The summary (a line per community and the total), then each community's own
/// overview sheet under its name.
pub fn street_sections(r: &StreetReport) -> Vec<Section> {
    let mut summary = Section {
        key: "street",
        title: format!("{}{}年汇总", r.street_name, r.year),
        columns: SUMMARY.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    };
    let (mut reg, mut active, mut services, mut wishes, mut attend, mut flags) = (0, 0, 0, 0, 0, 0);
    let (mut hours, mut awarded, mut redeemed) = (Hours::ZERO, Points::ZERO, Points::ZERO);
    for c in &r.communities {
        let t = &c.totals;
        summary.rows.push(vec![
            Cell::text(&c.community_name),
            Cell::Int(t.registered_volunteers as i64),
            Cell::Int(t.active_volunteers as i64),
            Cell::Int(t.services),
            Cell::Hours(t.verified_hours),
            Cell::Points(t.points_awarded),
            Cell::Points(t.points_redeemed),
            Cell::Int(t.wishes_fulfilled as i64),
            Cell::Int(t.activity_attendances),
            Cell::Int(c.red_flags.len() as i64),
        ]);
        reg += t.registered_volunteers as i64;
        active += t.active_volunteers as i64;
        services += t.services;
        wishes += t.wishes_fulfilled as i64;
        attend += t.activity_attendances;
        flags += c.red_flags.len() as i64;
        hours = hours.checked_add(t.verified_hours).unwrap_or(hours);
        awarded = awarded.checked_add(t.points_awarded).unwrap_or(awarded);
        redeemed = redeemed.checked_add(t.points_redeemed).unwrap_or(redeemed);
    }
    summary.rows.push(vec![
        Cell::text("合计"),
        Cell::Int(reg),
        Cell::Int(active),
        Cell::Int(services),
        Cell::Hours(hours),
        Cell::Points(awarded),
        Cell::Points(redeemed),
        Cell::Int(wishes),
        Cell::Int(attend),
        Cell::Int(flags),
    ]);
    let mut out = vec![summary];
    for c in &r.communities {
        if let Some(mut overview) = annual_sections(c).into_iter().find(|s| s.key == "overview") {
            overview.title = c.community_name.clone();
            out.push(overview);
        }
    }
    out
}
