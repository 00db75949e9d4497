//! A community's stairwell scores for a month, computed when read from the stored
//! inspections, households served and issues; ranked densely by total (ties in listing
//! order), the first in the month's order holding the 流动红旗.

use super::rules::{deducted_in, participation, total};
use super::NAME;
use crate::common::{points_dec, Period};
use crate::db::{Db, Val};
use crate::error::{ProjectionError, Result};
use ledger::domain::stairwell::listing_cmp;
use ledger::event::DEFAULT_PARTICIPATION_MAX;
use ledger::ids::{CommunityId, StairwellId};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A stairwell's score for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StairwellScore {
    pub stairwell_id: StairwellId,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// "YYYY-MM".
    pub month: String,
    pub items: Decimal,
    /// Households of the stairwell with a volunteer who served that month (a volunteer
    /// with no household given counts as one).
    pub served: u32,
    pub participation: Decimal,
    pub deductions: Decimal,
    pub total: Decimal,
    /// Dense rank within the community for the month.
    pub rank: u64,
    /// The month's 流动红旗 holder.
    pub red_flag: bool,
}

struct Sw {
    building: String,
    unit: String,
    households: u32,
}

/// Scores of every stairwell of `community` for each of `months`, ranked per month.
pub async fn scores_for_months(
    db: &Db,
    community: CommunityId,
    months: &[String],
) -> Result<BTreeMap<String, Vec<StairwellScore>>> {
    let mut out = BTreeMap::new();
    let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
        return Ok(out);
    };
    let c = Val::from(community.0.to_string());
    let parse = |s: String| Uuid::parse_str(&s).map_err(|e| ProjectionError::corrupt(NAME, e));
    let mut sws: HashMap<Uuid, Sw> = HashMap::new();
    for r in db
        .fetch(
            "SELECT stairwell_id, building, unit, households FROM pj_sw_stairwells WHERE community_id = ?",
            std::slice::from_ref(&c),
        )
        .await?
    {
        sws.insert(
            parse(r.text(0)?)?,
            Sw {
                building: r.text(1)?,
                unit: r.text(2)?,
                households: r.int(3)? as u32,
            },
        );
    }
    let mut pmax: HashMap<i64, i64> = HashMap::new();
    for r in db
        .fetch(
            "SELECT version, participation_max FROM pj_sw_rubrics WHERE community_id = ?",
            std::slice::from_ref(&c),
        )
        .await?
    {
        pmax.insert(r.int(0)?, r.int(1)?);
    }
    let range = [c.clone(), Val::from(first.clone()), Val::from(last.clone())];
    let inspections = db
        .fetch(
            "SELECT i.stairwell_id, i.month, i.items, i.rubric_version FROM pj_sw_inspections i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.month >= ? AND i.month <= ?",
            &range,
        )
        .await?;
    // Distinct households: a volunteer without one ("") is a household of their own.
    let mut served: HashMap<(Uuid, String), u32> = HashMap::new();
    for r in db
        .fetch(
            "SELECT v.stairwell_id, v.month,
                COUNT(DISTINCT CASE WHEN v.household = '' THEN 'v:' || v.volunteer_id ELSE 'h:' || v.household END)
             FROM pj_sw_served v
             JOIN pj_sw_stairwells s ON s.stairwell_id = v.stairwell_id
             WHERE s.community_id = ? AND v.month >= ? AND v.month <= ? AND v.services > 0
             GROUP BY v.stairwell_id, v.month",
            &range,
        )
        .await?
    {
        served.insert((parse(r.text(0)?)?, r.text(1)?), r.int(2)? as u32);
    }
    let mut issues: HashMap<Uuid, Vec<(String, Option<String>, i64)>> = HashMap::new();
    for r in db
        .fetch(
            "SELECT i.stairwell_id, i.reported_month, i.resolved_month, i.deduction FROM pj_sw_issues i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.reported_month <= ?",
            &[c, Val::from(last.clone())],
        )
        .await?
    {
        issues
            .entry(parse(r.text(0)?)?)
            .or_default()
            .push((r.text(1)?, r.opt_text(2)?, r.int(3)?));
    }
    let wanted: HashSet<&String> = months.iter().collect();
    let default_pmax = DEFAULT_PARTICIPATION_MAX * 100;
    for r in inspections {
        let id = parse(r.text(0)?)?;
        let month = r.text(1)?;
        if !wanted.contains(&month) {
            continue;
        }
        let Some(sw) = sws.get(&id) else { continue };
        let items = r.int(2)?;
        let max = pmax.get(&r.int(3)?).copied().unwrap_or(default_pmax);
        let n = served.get(&(id, month.clone())).copied().unwrap_or(0);
        let part = participation(max, n as u64, sw.households as u64);
        let ded: i64 = issues
            .get(&id)
            .map(|l| {
                l.iter()
                    .filter(|(rep, res, _)| deducted_in(&month, rep, res.as_deref()))
                    .map(|(_, _, d)| *d)
                    .sum()
            })
            .unwrap_or(0);
        out.entry(month.clone())
            .or_insert_with(Vec::new)
            .push(StairwellScore {
                stairwell_id: StairwellId(id),
                building: sw.building.clone(),
                unit: sw.unit.clone(),
                households: sw.households,
                month,
                items: points_dec(items),
                served: n,
                participation: points_dec(part),
                deductions: points_dec(ded),
                total: points_dec(total(items, part, ded)),
                rank: 0,
                red_flag: false,
            });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| {
            b.total.cmp(&a.total).then_with(|| {
                listing_cmp(
                    (&a.building, &a.unit, a.stairwell_id),
                    (&b.building, &b.unit, b.stairwell_id),
                )
            })
        });
        let mut rank = 0;
        let mut last: Option<Decimal> = None;
        for s in list.iter_mut() {
            if last != Some(s.total) {
                rank += 1;
                last = Some(s.total);
            }
            s.rank = rank;
        }
        if let Some(first) = list.first_mut() {
            first.red_flag = true;
        }
    }
    Ok(out)
}

/// The ranked scores of a community's inspected stairwells for a month ("YYYY-MM").
pub async fn monthly_scores(
    db: &Db,
    community: CommunityId,
    month: &str,
) -> Result<Vec<StairwellScore>> {
    Ok(scores_for_months(db, community, &[month.to_string()])
        .await?
        .remove(month)
        .unwrap_or_default())
}

/// The 流动红旗 holder of each month of a period that has inspections.
pub async fn red_flags(
    db: &Db,
    community: CommunityId,
    period: Period,
) -> Result<Vec<StairwellScore>> {
    let months = period.validate()?.months();
    Ok(scores_for_months(db, community, &months)
        .await?
        .into_values()
        .filter_map(|l| l.into_iter().next())
        .collect())
}

/// The most recent month up to `month` with an inspection in the community, and its
/// red-flag holder.
pub async fn current_red_flag(
    db: &Db,
    community: CommunityId,
    month: &str,
) -> Result<Option<StairwellScore>> {
    let row = db
        .fetch_optional(
            "SELECT MAX(i.month) FROM pj_sw_inspections i JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.month <= ?",
            &[Val::from(community.0.to_string()), Val::from(month.to_string())],
        )
        .await?;
    let Some(m) = row.map(|r| r.opt_text(0)).transpose()?.flatten() else {
        return Ok(None);
    };
    Ok(monthly_scores(db, community, &m).await?.into_iter().next())
}

/// How many issues are open (reported, not yet resolved) in each stairwell of a
/// community that has any.
pub async fn open_issue_counts(db: &Db, community: CommunityId) -> Result<Vec<(StairwellId, u64)>> {
    let rows = db
        .fetch(
            "SELECT i.stairwell_id, COUNT(*) FROM pj_sw_issues i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.resolved_month IS NULL
             GROUP BY i.stairwell_id ORDER BY i.stairwell_id",
            &[Val::from(community.0.to_string())],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let id = uuid::Uuid::parse_str(&r.text(0)?)
                .map_err(|e| crate::error::ProjectionError::corrupt(super::NAME, e))?;
            Ok((StairwellId(id), r.int(1)? as u64))
        })
        .collect()
}

/// The stairwells of a community inspected in `month` ("YYYY-MM").
pub async fn inspected_in(
    db: &Db,
    community: CommunityId,
    month: &str,
) -> Result<Vec<StairwellId>> {
    let rows = db
        .fetch(
            "SELECT i.stairwell_id FROM pj_sw_inspections i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.month = ? ORDER BY i.stairwell_id",
            &[Val::from(community.0.to_string()), Val::from(month)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let id = Uuid::parse_str(&r.text(0)?).map_err(|e| ProjectionError::corrupt(NAME, e))?;
            Ok(StairwellId(id))
        })
        .collect()
}
