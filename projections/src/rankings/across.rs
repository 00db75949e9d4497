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

use super::query::{dense_ranks, entry_of_row, metric_col, Metric, RankEntry, Ranking};
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
    let out = top_across(db, p, &ids, metric, top.min(1000)).await?;
    let me = match me {
        None => None,
        Some(vid) => {
            let col = metric_col(metric);
            let in_scopes = vec!["?"; ids.len()].join(", ");
            let sums = format!(
                "WITH s AS (SELECT vol, CAST(SUM(points) AS BIGINT) AS points, CAST(SUM(minutes) AS BIGINT) AS minutes
                     FROM pj_rank_cells WHERE period = ? AND scope IN ({in_scopes}) GROUP BY vol)"
            );
            let mut me_vals = vec![Val::from(p)];
            me_vals.extend(ids.iter().map(|i| Val::from(*i)));
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

/// A candidate of the top: its volunteer id, number, points and minutes.
type Candidate = (String, String, i64, i64);

/// The top `n` across the scopes `ids` of period `p`: each scope's top `n` through its
/// index by value (with everyone tied with its `n`-th), each volunteer one cell; then
/// the movers' cells in the scopes, added up (they replace their parts); sorted as a
/// single scope is and ranked densely.
async fn top_across(
    db: &Db,
    p: i64,
    ids: &[i64],
    metric: Metric,
    n: u32,
) -> Result<Vec<RankEntry>> {
    let col = metric_col(metric);
    // Per scope: the first `n` down the index, and everyone equal to the `n`-th (both
    // read through the index by value, whatever the scope's size).
    let mut parts = Vec::with_capacity(ids.len() * 2);
    let mut vals = Vec::with_capacity(ids.len() * 7);
    for (i, s) in ids.iter().enumerate() {
        parts.push(format!(
            "SELECT * FROM (SELECT c.vol, c.points, c.minutes FROM pj_rank_cells c
               WHERE c.period = ? AND c.scope = ? AND c.{col} > 0 ORDER BY c.{col} DESC LIMIT ?) t{i}"
        ));
        parts.push(format!(
            "SELECT c.vol, c.points, c.minutes FROM pj_rank_cells c
             WHERE c.period = ? AND c.scope = ? AND c.{col} = (SELECT {col} FROM pj_rank_cells
               WHERE period = ? AND scope = ? AND {col} > 0 ORDER BY {col} DESC LIMIT 1 OFFSET ?)"
        ));
        let (p, s) = (Val::from(p), Val::from(*s));
        vals.extend([p.clone(), s.clone(), Val::from(i64::from(n))]);
        vals.extend([p.clone(), s.clone(), p, s, Val::from(i64::from(n) - 1)]);
    }
    let sql = format!(
        "SELECT x.vol, v.volunteer_id, v.volunteer_number, x.points, x.minutes
         FROM ({}) x JOIN pj_rank_volunteers v ON v.vol = x.vol",
        parts.join(" UNION ALL ")
    );
    let mut by_vol: std::collections::HashMap<i64, Candidate> = std::collections::HashMap::new();
    for r in db.fetch(&sql, &vals).await? {
        by_vol.insert(r.int(0)?, (r.text(1)?, r.text(2)?, r.int(3)?, r.int(4)?));
    }
    // Volunteers who moved between communities: their parts added up.
    let movers: Vec<Val> = db
        .fetch("SELECT vol FROM pj_rank_movers", &[])
        .await?
        .iter()
        .map(|r| r.int(0).map(Val::from))
        .collect::<Result<_>>()?;
    for chunk in movers.chunks(500) {
        let mut vals = vec![Val::from(p)];
        vals.extend(ids.iter().map(|i| Val::from(*i)));
        vals.extend(chunk.iter().cloned());
        let sql = format!(
            "SELECT c.vol, v.volunteer_id, v.volunteer_number, CAST(SUM(c.points) AS BIGINT), CAST(SUM(c.minutes) AS BIGINT)
             FROM pj_rank_cells c JOIN pj_rank_volunteers v ON v.vol = c.vol
             WHERE c.period = ? AND c.scope IN ({}) AND c.vol IN ({})
             GROUP BY c.vol, v.volunteer_id, v.volunteer_number",
            vec!["?"; ids.len()].join(", "),
            vec!["?"; chunk.len()].join(", ")
        );
        for r in db.fetch(&sql, &vals).await? {
            by_vol.insert(r.int(0)?, (r.text(1)?, r.text(2)?, r.int(3)?, r.int(4)?));
        }
    }
    let value = |c: &Candidate| if metric == Metric::Points { c.2 } else { c.3 };
    let mut all: Vec<Candidate> = by_vol.into_values().filter(|c| value(c) > 0).collect();
    all.sort_by(|a, b| {
        value(b)
            .cmp(&value(a))
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    all.truncate(n as usize);
    let ranks = dense_ranks(all.iter().map(value));
    all.into_iter()
        .zip(ranks)
        .map(|(c, rank)| {
            Ok(RankEntry {
                rank,
                volunteer_id: VolunteerId(
                    uuid::Uuid::parse_str(&c.0)
                        .map_err(|e| crate::error::ProjectionError::corrupt(super::NAME, e))?,
                ),
                volunteer_number: c.1,
                points: crate::common::points_dec(c.2),
                hours: crate::common::hours_dec(c.3),
            })
        })
        .collect()
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
