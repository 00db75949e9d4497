//! A ranking across several scopes at once: a street's or a district's communities.
//! Each volunteer's cells in those scopes are added up (a volunteer who moved between
//! two of the communities in the period counts once, with both parts), then ranked as
//! a single scope is: dense ranks, ties shown by volunteer number, and one volunteer's
//! own place.
//!
//! The top N does not read the street's every cell: a volunteer who never moved to
//! another community has one cell among the scopes, so they can be in the street's top
//! N only if they are in their community's (read through the index by value, with ties
//! at the cut); those candidates, and the few who moved between communities
//! (`pj_rank_movers`, whose parts are added up), are summed and ranked. Its cost grows
//! with the number of communities and N, not with their volunteers or the log. One
//! volunteer's own place still adds up every cell of the scopes (the count of totals
//! above theirs).

use super::query::{entry_of_row, metric_col, ranked_rows, Metric, Ranking};
use super::Scope;
use crate::common::Period;
use crate::db::{Db, Val};
use crate::error::Result;
use ledger::ids::VolunteerId;

/// The top `top` (capped at 1,000) of the ranking of `scopes` together, and `me`'s own
/// place in it.
pub async fn ranking_across(
    db: &Db,
    scopes: &[Scope],
    period: Period,
    metric: Metric,
    top: u32,
    me: Option<VolunteerId>,
) -> Result<Ranking> {
    let empty = Ranking {
        top: Vec::new(),
        me: None,
    };
    let period = period.validate()?.key();
    let mut keys: Vec<Val> = vec![Val::from(period.clone())];
    keys.extend(scopes.iter().map(|s| Val::from(s.key())));
    let marks = vec!["?"; keys.len()].join(", ");
    let mut p = None;
    let mut ids = Vec::new();
    for r in db
        .fetch(
            &format!("SELECT k, id FROM pj_rank_keys WHERE k IN ({marks})"),
            &keys,
        )
        .await?
    {
        if r.text(0)? == period {
            p = Some(r.int(1)?);
        } else {
            ids.push(r.int(1)?);
        }
    }
    let Some(p) = p.filter(|_| !ids.is_empty()) else {
        return Ok(empty);
    };
    let col = metric_col(metric);
    let in_scopes = vec!["?"; ids.len()].join(", ");
    let top_n = i64::from(top.min(1000));
    // Each scope's top N by the index, with everyone tied with its N-th; and movers.
    let mut candidates = Vec::with_capacity(ids.len() + 1);
    let mut cand_vals = Vec::with_capacity(ids.len() * 5 + ids.len() + 1);
    for s in &ids {
        candidates.push(format!(
            "SELECT vol FROM pj_rank_cells WHERE period = ? AND scope = ? AND {col} > 0 AND {col} >=
               COALESCE((SELECT {col} FROM pj_rank_cells WHERE period = ? AND scope = ? AND {col} > 0
                         ORDER BY {col} DESC LIMIT 1 OFFSET ?), 1)"
        ));
        cand_vals.extend([
            Val::from(p),
            Val::from(*s),
            Val::from(p),
            Val::from(*s),
            Val::from(top_n - 1),
        ]);
    }
    candidates.push("SELECT vol FROM pj_rank_movers".to_string());
    cand_vals.push(Val::from(p));
    cand_vals.extend(ids.iter().map(|i| Val::from(*i)));
    cand_vals.push(Val::from(top_n));
    let rows = db
        .fetch(
            &format!(
                "WITH cand AS ({}),
                 s AS (SELECT c.vol, CAST(SUM(c.points) AS BIGINT) AS points, CAST(SUM(c.minutes) AS BIGINT) AS minutes
                       FROM cand JOIN pj_rank_cells c ON c.vol = cand.vol
                       WHERE c.period = ? AND c.scope IN ({in_scopes}) GROUP BY c.vol)
                 SELECT v.volunteer_id, v.volunteer_number, s.points, s.minutes
                 FROM s JOIN pj_rank_volunteers v ON v.vol = s.vol WHERE s.{col} > 0
                 ORDER BY s.{col} DESC, v.volunteer_number ASC, v.volunteer_id ASC LIMIT ?",
                candidates.join(" UNION ")
            ),
            &cand_vals,
        )
        .await?;
    let out = ranked_rows(&rows, metric)?;
    let sums = format!(
        "WITH s AS (SELECT vol, CAST(SUM(points) AS BIGINT) AS points, CAST(SUM(minutes) AS BIGINT) AS minutes
             FROM pj_rank_cells WHERE period = ? AND scope IN ({in_scopes}) GROUP BY vol)"
    );
    let mut vals = vec![Val::from(p)];
    vals.extend(ids.iter().map(|i| Val::from(*i)));
    let me = match me {
        None => None,
        Some(vid) => {
            let mut me_vals = vals.clone();
            me_vals.push(Val::from(vid.0.to_string()));
            let row = db
                .fetch_optional(
                    &format!(
                        "{sums} SELECT v.volunteer_id, v.volunteer_number, s.points, s.minutes,
                            (SELECT COUNT(DISTINCT x.{col}) FROM s x WHERE x.{col} > s.{col})
                         FROM s JOIN pj_rank_volunteers v ON v.vol = s.vol
                         WHERE v.volunteer_id = ? AND s.{col} > 0"
                    ),
                    &me_vals,
                )
                .await?;
            match row {
                Some(r) => Some(entry_of_row(&r, r.int(4)? as u64 + 1)?),
                None => None,
            }
        }
    };
    Ok(Ranking { top: out, me })
}

/// What a scope adds up to in a period: its points and hours, and how many volunteers
/// have something in it (a team's line in a street's ranking of teams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeTotal {
    pub scope: Scope,
    pub points: rust_decimal::Decimal,
    pub hours: rust_decimal::Decimal,
    pub volunteers: u64,
}

/// The totals of each of `scopes` in `period` (one read); a scope with nothing counted
/// in it is left out.
pub async fn scope_totals(db: &Db, scopes: &[Scope], period: Period) -> Result<Vec<ScopeTotal>> {
    let period = period.validate()?.key();
    let mut keys: Vec<Val> = vec![Val::from(period.clone())];
    keys.extend(scopes.iter().map(|s| Val::from(s.key())));
    let marks = vec!["?"; keys.len()].join(", ");
    let mut p = None;
    let mut by_id = std::collections::HashMap::new();
    for r in db
        .fetch(
            &format!("SELECT k, id FROM pj_rank_keys WHERE k IN ({marks})"),
            &keys,
        )
        .await?
    {
        let (k, id) = (r.text(0)?, r.int(1)?);
        if k == period {
            p = Some(id);
        } else if let Some(s) = scopes.iter().find(|s| s.key() == k) {
            by_id.insert(id, s.clone());
        }
    }
    let Some(p) = p.filter(|_| !by_id.is_empty()) else {
        return Ok(Vec::new());
    };
    let in_scopes = vec!["?"; by_id.len()].join(", ");
    let mut vals = vec![Val::from(p)];
    vals.extend(by_id.keys().map(|i| Val::from(*i)));
    let mut out = Vec::new();
    for r in db
        .fetch(
            &format!(
                "SELECT scope, CAST(SUM(points) AS BIGINT), CAST(SUM(minutes) AS BIGINT),
                    SUM(CASE WHEN points > 0 OR minutes > 0 THEN 1 ELSE 0 END)
                 FROM pj_rank_cells WHERE period = ? AND scope IN ({in_scopes}) GROUP BY scope"
            ),
            &vals,
        )
        .await?
    {
        if let Some(scope) = by_id.get(&r.int(0)?) {
            out.push(ScopeTotal {
                scope: scope.clone(),
                points: crate::common::points_dec(r.int(1)?),
                hours: crate::common::hours_dec(r.int(2)?),
                volunteers: r.int(3)?.max(0) as u64,
            });
        }
    }
    Ok(out)
}
