//! The communities' lines in a street's or district's table (街道汇总): each one's
//! volunteers (registered, not departed), the volunteers who served in the period,
//! hours, points and services of the period (as the dashboard counts them), activities
//! that started in it, and how many volunteers hold each star level today.
//!
//! Every figure is read for all the communities at once (one grouped read each, not
//! one per community); the period's active volunteers are a count the read model keeps
//! (`active`); the star counts read only the accounts at or above the first star's
//! hours, through an index: the table's cost follows the number of communities and of
//! their starred volunteers, not of all their volunteers or the log.

use crate::balances::{threshold_versions_of, thresholds_on, Criteria};
use crate::common::{day_start_millis, hours_dec, month_key, points_dec, Period};
use crate::db::{Db, Val};
use crate::error::Result;
use chrono::NaiveDate;
use ledger::ids::CommunityId;
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

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

/// `?, ?, …` and the values of `ids` as text.
fn in_list(ids: &[Uuid]) -> (String, Vec<Val>) {
    (
        vec!["?"; ids.len()].join(", "),
        ids.iter().map(|c| Val::from(c.to_string())).collect(),
    )
}

/// A grouped read: `(community, value)` per row, the value at column `col`.
async fn by_community(
    db: &Db,
    sql: &str,
    vals: &[Val],
) -> Result<HashMap<Uuid, Vec<crate::db::Row>>> {
    let mut out: HashMap<Uuid, Vec<crate::db::Row>> = HashMap::new();
    for r in db.fetch(sql, vals).await? {
        if let Ok(c) = Uuid::parse_str(&r.text(0)?) {
            out.entry(c).or_default().push(r);
        }
    }
    Ok(out)
}

/// How many accounts of `communities` (all under `criteria`) hold each star level
/// (index 0 is 1★), per community: counted by the database over the accounts with at
/// least the first level's hours (the others hold no star), so no account is read out.
async fn star_counts(
    db: &Db,
    communities: &[Uuid],
    criteria: &Criteria,
) -> Result<HashMap<Uuid, Vec<u64>>> {
    let mut out: HashMap<Uuid, Vec<u64>> = communities
        .iter()
        .map(|c| (*c, vec![0u64; criteria.len()]))
        .collect();
    let Some(floor) = criteria.minutes.first() else {
        return Ok(out);
    };
    let mut level = Vec::new();
    let mut args = Vec::new();
    for (i, minutes) in criteria.minutes.iter().enumerate() {
        match criteria.points.as_ref().map(|p| p.get(i)) {
            Some(Some(p)) => {
                level.push("CASE WHEN verified_minutes >= ? AND points_earned - points_reversed >= ? THEN 1 ELSE 0 END");
                args.extend([Val::from(*minutes), Val::from(*p)]);
            }
            Some(None) => level.push("0"),
            None => {
                level.push("CASE WHEN verified_minutes >= ? THEN 1 ELSE 0 END");
                args.push(Val::from(*minutes));
            }
        }
    }
    let (marks, ids) = in_list(communities);
    args.extend(ids);
    args.push(Val::from(*floor));
    let sql = format!(
        "SELECT community_id, CAST({} AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM pj_balances
         WHERE community_id IN ({marks}) AND verified_minutes >= ? GROUP BY community_id, 2",
        level.join(" + ")
    );
    for (c, rows) in by_community(db, &sql, &args).await? {
        let Some(stars) = out.get_mut(&c) else {
            continue;
        };
        for r in rows {
            let (held, n) = (r.int(1)?, r.int(2)?);
            if held > 0 {
                if let Some(slot) = stars.get_mut(held as usize - 1) {
                    *slot += n.max(0) as u64;
                }
            }
        }
    }
    Ok(out)
}

/// The figures of `community` for `period`, stars as of `today`.
pub async fn community_figures(
    db: &Db,
    community: CommunityId,
    period: Period,
    today: NaiveDate,
) -> Result<CommunityFigures> {
    let mut all = communities_figures(db, &[community], period, today).await?;
    Ok(all.remove(0))
}

/// The figures of each of `communities` for `period` (in that order), stars as of
/// `today`.
pub async fn communities_figures(
    db: &Db,
    communities: &[CommunityId],
    period: Period,
    today: NaiveDate,
) -> Result<Vec<CommunityFigures>> {
    let span = period.validate()?.span();
    if communities.is_empty() {
        return Ok(Vec::new());
    }
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
    let ids: Vec<Uuid> = communities.iter().map(|c| c.0).collect();
    let (marks, id_vals) = in_list(&ids);
    let with = |extra: Vec<Val>| {
        let mut v = id_vals.clone();
        v.extend(extra);
        v
    };
    let months = by_community(
        db,
        &format!(
            "SELECT community_id, CAST(SUM(points) AS BIGINT), CAST(SUM(minutes) AS BIGINT), CAST(SUM(services) AS BIGINT)
             FROM pj_dash_months WHERE community_id IN ({marks}) AND month >= ? AND month <= ? GROUP BY community_id"
        ),
        &with(vec![Val::from(from), Val::from(to)]),
    )
    .await?;
    // Kept per period by the read model (`active`): one row per community.
    let served = by_community(
        db,
        &format!(
            "SELECT community_id, volunteers FROM pj_dash_active WHERE community_id IN ({marks}) AND period = ?"
        ),
        &with(vec![Val::from(period.validate()?.key())]),
    )
    .await?;
    let registered = by_community(
        db,
        &format!("SELECT community_id, active_volunteers FROM pj_dash_communities WHERE community_id IN ({marks})"),
        &id_vals,
    )
    .await?;
    let activities = by_community(
        db,
        &format!(
            "SELECT community_id, CAST(COUNT(*) AS BIGINT) FROM pj_activities
             WHERE community_id IN ({marks}) AND starts_at >= ? AND starts_at < ? AND status <> 'cancelled'
             GROUP BY community_id"
        ),
        &with(vec![Val::from(starts), Val::from(ends)]),
    )
    .await?;
    // Communities under the same star rule are counted together.
    let versions = threshold_versions_of(db, &ids).await?;
    let mut rules: Vec<(Criteria, Vec<Uuid>)> = Vec::new();
    for c in &ids {
        let criteria = thresholds_on(versions.get(c).map_or(&[][..], Vec::as_slice), today);
        match rules.iter_mut().find(|(r, _)| *r == criteria) {
            Some((_, cs)) => cs.push(*c),
            None => rules.push((criteria, vec![*c])),
        }
    }
    let mut stars = HashMap::new();
    for (criteria, cs) in &rules {
        stars.extend(star_counts(db, cs, criteria).await?);
    }
    let first = |m: &HashMap<Uuid, Vec<crate::db::Row>>, c: &Uuid, col: usize| -> Result<i64> {
        Ok(match m.get(c).and_then(|rows| rows.first()) {
            Some(r) => r.int(col)?,
            None => 0,
        })
    };
    communities
        .iter()
        .map(|c| {
            let id = &c.0;
            Ok(CommunityFigures {
                community_id: *c,
                volunteers: first(&registered, id, 1)?.max(0) as u64,
                active_volunteers: first(&served, id, 1)?.max(0) as u64,
                hours: hours_dec(first(&months, id, 2)?),
                points: points_dec(first(&months, id, 1)?),
                services: first(&months, id, 3)?.max(0) as u64,
                activities: first(&activities, id, 1)?.max(0) as u64,
                stars: stars.remove(id).unwrap_or_default(),
            })
        })
        .collect()
}
