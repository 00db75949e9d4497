//! One community's line in a street's or district's table (街道汇总): its volunteers
//! (registered, not departed), the volunteers who served in the period, hours, points
//! and services of the period (as the dashboard counts them), activities that started
//! in it, and how many volunteers hold each star level today.

use super::query::totals;
use crate::balances::{star_level, threshold_versions, thresholds_on};
use crate::common::{day_start_millis, month_key, Period};
use crate::db::{Db, Val};
use crate::error::Result;
use chrono::NaiveDate;
use ledger::ids::CommunityId;
use rust_decimal::Decimal;

/// One community's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommunityFigures {
    pub community_id: CommunityId,
    /// Registered and not departed.
    pub volunteers: u64,
    /// Served at least once in the period (活跃志愿者).
    pub active_volunteers: u64,
    pub hours: Decimal,
    pub points: Decimal,
    pub services: u64,
    /// Activities that started in the period and were not cancelled.
    pub activities: u64,
    /// Volunteers holding 1★ … 5★ today (index 0 is 1★), by the community's rule.
    pub stars: Vec<u64>,
}

/// The figures of `community` for `period`, stars as of `today`.
pub async fn community_figures(
    db: &Db,
    community: CommunityId,
    period: Period,
    today: NaiveDate,
) -> Result<CommunityFigures> {
    let span = period.validate()?.span();
    // The dashboard's months, and the activities' start times, within the period.
    let (from, to) = match span {
        Some((first, after)) => (
            month_key(first),
            month_key(after.pred_opt().unwrap_or(first)),
        ),
        None => ("0000-01".to_string(), "9999-12".to_string()),
    };
    let (starts, ends) = match span {
        Some((first, after)) => (day_start_millis(first), day_start_millis(after)),
        None => (i64::MIN, i64::MAX),
    };
    let t = totals(db, community, &from, &to).await?;
    let c = Val::from(community.0.to_string());
    let volunteers = db
        .fetch_optional(
            "SELECT active_volunteers FROM pj_dash_communities WHERE community_id = ?",
            std::slice::from_ref(&c),
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    let activities = db
        .fetch_optional(
            "SELECT COUNT(*) FROM pj_activities
             WHERE community_id = ? AND starts_at >= ? AND starts_at < ? AND status <> 'cancelled'",
            &[c.clone(), Val::from(starts), Val::from(ends)],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0);
    let criteria = thresholds_on(&threshold_versions(db, Some(community.0)).await?, today);
    let mut stars = vec![0u64; criteria.len()];
    for r in db
        .fetch(
            "SELECT verified_minutes, points_earned - points_reversed FROM pj_balances WHERE community_id = ?",
            &[c],
        )
        .await?
    {
        let level = star_level(&criteria, (r.int(0)?, r.int(1)?));
        if level > 0 {
            stars[level - 1] += 1;
        }
    }
    Ok(CommunityFigures {
        community_id: community,
        volunteers: volunteers.max(0) as u64,
        active_volunteers: t.volunteers_served,
        hours: t.hours,
        points: t.points,
        services: t.services,
        activities: activities.max(0) as u64,
        stars,
    })
}
