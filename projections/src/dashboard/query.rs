//! A community's dashboard read for a day: the standing counts, this month's and this
//! year's totals (hours, points, services, volunteers served, services by kind) and the
//! current red-flag stairwell.

use crate::common::{hours_dec, month_key, points_dec};
use crate::db::{Db, Val};
use crate::error::Result;
use crate::stairwells::{current_red_flag, StairwellScore};
use chrono::{Datelike, NaiveDate};
use ledger::ids::CommunityId;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Services of one kind in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: String,
    pub services: u64,
    pub hours: Decimal,
}

/// Totals of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PeriodTotals {
    pub hours: Decimal,
    pub points: Decimal,
    pub services: u64,
    /// Volunteers with a verified service in the period.
    pub volunteers_served: u64,
    pub by_kind: Vec<KindCount>,
}

/// A community's dashboard as of `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityDashboard {
    pub community_id: CommunityId,
    pub active_volunteers: u64,
    pub open_wishes: u64,
    pub wishes_in_progress: u64,
    /// "YYYY-MM" of `today`.
    pub month: String,
    pub this_month: PeriodTotals,
    pub this_year: PeriodTotals,
    /// The red-flag holder of the latest inspected month up to this month.
    pub red_flag: Option<StairwellScore>,
}

pub(super) async fn totals(
    db: &Db,
    community: CommunityId,
    from: &str,
    to: &str,
) -> Result<PeriodTotals> {
    let vals = [
        Val::from(community.0.to_string()),
        Val::from(from.to_string()),
        Val::from(to.to_string()),
    ];
    let mut t = PeriodTotals::default();
    let (mut points, mut minutes) = (0i64, 0i64);
    for r in db
        .fetch(
            "SELECT points, minutes, services FROM pj_dash_months WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        points += r.int(0)?;
        minutes += r.int(1)?;
        t.services += r.int(2)?.max(0) as u64;
    }
    t.points = points_dec(points);
    t.hours = hours_dec(minutes);
    let mut kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in db
        .fetch(
            "SELECT kind, services, minutes FROM pj_dash_kinds WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        let e = kinds.entry(r.text(0)?).or_default();
        e.0 += r.int(1)?;
        e.1 += r.int(2)?;
    }
    t.by_kind = kinds
        .into_iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(kind, (n, m))| KindCount {
            kind,
            services: n as u64,
            hours: hours_dec(m),
        })
        .collect();
    t.volunteers_served = db
        .fetch_optional(
            "SELECT COUNT(DISTINCT volunteer_id) FROM pj_dash_served
             WHERE community_id = ? AND month >= ? AND month <= ? AND services > 0",
            &vals,
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0) as u64;
    Ok(t)
}

/// The dashboard of `community` for the month and year of `today` (UTC+8 calendar).
pub async fn dashboard(
    db: &Db,
    community: CommunityId,
    today: NaiveDate,
) -> Result<CommunityDashboard> {
    let month = month_key(today);
    let year_from = format!("{:04}-01", today.year());
    let year_to = format!("{:04}-12", today.year());
    let row = db
        .fetch_optional(
            "SELECT active_volunteers, open_wishes, wishes_in_progress FROM pj_dash_communities WHERE community_id = ?",
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let (active, open, in_progress) = match row {
        Some(r) => (r.int(0)?, r.int(1)?, r.int(2)?),
        None => (0, 0, 0),
    };
    Ok(CommunityDashboard {
        community_id: community,
        active_volunteers: active.max(0) as u64,
        open_wishes: open.max(0) as u64,
        wishes_in_progress: in_progress.max(0) as u64,
        this_month: totals(db, community, &month, &month).await?,
        this_year: totals(db, community, &year_from, &year_to).await?,
        red_flag: current_red_flag(db, community, &month).await?,
        month,
    })
}
