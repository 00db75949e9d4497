//! One community's line in a street's or district's table (街道汇总): its volunteers
//! (registered, not departed), the volunteers who served in the period, hours, points
//! and services of the period (as the dashboard counts them), activities that started
//! in it, and how many volunteers hold each star level today.

use super::query::totals;
use crate::balances::{threshold_versions, thresholds_on, Criteria};
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

/// How many of the community's volunteers hold each star level (index 0 is 1★) under
/// `criteria`: counted by the database (each account's level is the number of criteria
/// it meets, as [`star_level`](crate::balances::star_level) says), so no account is
/// read out.
async fn star_counts(db: &Db, community: &Val, criteria: &Criteria) -> Result<Vec<u64>> {
    let mut level = Vec::new();
    let mut args = Vec::new();
    for (i, minutes) in criteria.minutes.iter().enumerate() {
        let points = criteria.points.as_ref().and_then(|p| p.get(i));
        match points {
            Some(p) => {
                level.push("CASE WHEN verified_minutes >= ? AND points_earned - points_reversed >= ? THEN 1 ELSE 0 END");
                args.extend([Val::from(*minutes), Val::from(*p)]);
            }
            None if criteria.points.is_some() => level.push("0"),
            None => {
                level.push("CASE WHEN verified_minutes >= ? THEN 1 ELSE 0 END");
                args.push(Val::from(*minutes));
            }
        }
    }
    let mut stars = vec![0u64; criteria.len()];
    if level.is_empty() {
        return Ok(stars);
    }
    args.push(community.clone());
    let sql = format!(
        "SELECT CAST({} AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM pj_balances
         WHERE community_id = ? GROUP BY 1",
        level.join(" + ")
    );
    for r in db.fetch(&sql, &args).await? {
        let (held, n) = (r.int(0)?, r.int(1)?);
        if held > 0 {
            if let Some(slot) = stars.get_mut(held as usize - 1) {
                *slot += n.max(0) as u64;
            }
        }
    }
    Ok(stars)
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
    let stars = star_counts(db, &c, &criteria).await?;
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
