//! A ranking read: the top N of a (period, scope) cell range by points or hours with
//! everyone tied with the last of them, dense ranks, ties shown by volunteer number, and
//! one volunteer's own rank (the distinct values above theirs).

use super::{Scope, NAME};
use crate::common::{hours_dec, points_dec, Period};
use crate::db::{Db, Val};
use crate::error::{ProjectionError, Result};
use ledger::ids::VolunteerId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a ranking orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    Points,
    Hours,
}

/// One ranked volunteer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RankEntry {
    /// Dense rank: 1, 1, 2, …
    pub rank: u64,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub points: Decimal,
    pub hours: Decimal,
}

/// The top of a ranking, and one volunteer's own place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ranking {
    pub top: Vec<RankEntry>,
    /// The asked-for volunteer, if ranked in this scope and period.
    pub me: Option<RankEntry>,
}

/// The numbers of a (period, scope) range of cells; none when nothing was counted in it.
pub(super) async fn cell_range(
    db: &Db,
    scope: &Scope,
    period: Period,
) -> Result<Option<(i64, i64)>> {
    let period = period.validate()?.key();
    let scope = scope.key();
    let mut ids = (None, None);
    for r in db
        .fetch(
            "SELECT k, id FROM pj_rank_keys WHERE k IN (?, ?)",
            &[Val::from(period.clone()), Val::from(scope.clone())],
        )
        .await?
    {
        let k = r.text(0)?;
        if k == period {
            ids.0 = Some(r.int(1)?);
        }
        if k == scope {
            ids.1 = Some(r.int(1)?);
        }
    }
    Ok(ids.0.zip(ids.1))
}

pub(super) fn metric_col(m: Metric) -> &'static str {
    match m {
        Metric::Points => "points",
        Metric::Hours => "minutes",
    }
}

pub(super) fn entry_of_row(r: &crate::db::Row, rank: u64) -> Result<RankEntry> {
    Ok(RankEntry {
        rank,
        volunteer_id: VolunteerId(
            Uuid::parse_str(&r.text(0)?).map_err(|e| ProjectionError::corrupt(NAME, e))?,
        ),
        volunteer_number: r.text(1)?,
        points: points_dec(r.int(2)?),
        hours: hours_dec(r.int(3)?),
    })
}

/// Rows in ranking order (volunteer id, number, points, minutes) as entries with their
/// dense ranks by `metric`.
pub(super) fn ranked_rows(rows: &[crate::db::Row], metric: Metric) -> Result<Vec<RankEntry>> {
    let idx = if metric == Metric::Points { 2 } else { 3 };
    let values = rows
        .iter()
        .map(|r| r.int(idx))
        .collect::<Result<Vec<_>>>()?;
    rows.iter()
        .zip(dense_ranks(values))
        .map(|(r, rank)| entry_of_row(r, rank))
        .collect()
}

/// The dense ranks (1, 1, 2, …) of values already in ranking order.
pub(super) fn dense_ranks(values: impl IntoIterator<Item = i64>) -> Vec<u64> {
    let (mut rank, mut last) = (0u64, None);
    values
        .into_iter()
        .map(|v| {
            if last != Some(v) {
                rank += 1;
                last = Some(v);
            }
            rank
        })
        .collect()
}

/// The top `top` (capped at 1,000) of a ranking, and `me`'s own rank.
pub async fn ranking(
    db: &Db,
    scope: &Scope,
    period: Period,
    metric: Metric,
    top: u32,
    me: Option<VolunteerId>,
) -> Result<Ranking> {
    let col = metric_col(metric);
    let Some((p, s)) = cell_range(db, scope, period).await? else {
        return Ok(Ranking {
            top: Vec::new(),
            me: None,
        });
    };
    let top = top.min(1000) as i64;
    let mut out = Vec::new();
    if top > 0 {
        // The places shown and everyone tied with the last of them (one scan of the
        // (period, scope) range), then in order with the tie-break.
        let sql = if db.is_postgres() {
            format!(
                "WITH t AS (SELECT vol, points, minutes FROM pj_rank_cells
                     WHERE period = ? AND scope = ? AND {col} > 0
                     ORDER BY {col} DESC FETCH FIRST ? ROWS WITH TIES)
                 SELECT v.volunteer_id, v.volunteer_number, t.points, t.minutes
                 FROM t JOIN pj_rank_volunteers v ON v.vol = t.vol
                 ORDER BY t.{col} DESC, v.volunteer_number ASC, v.volunteer_id ASC LIMIT ?"
            )
        } else {
            format!(
                "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes
                 FROM pj_rank_cells c JOIN pj_rank_volunteers v ON v.vol = c.vol
                 WHERE c.period = ?1 AND c.scope = ?2 AND c.{col} >= (
                     SELECT MIN(x) FROM (SELECT {col} AS x FROM pj_rank_cells
                         WHERE period = ?1 AND scope = ?2 AND {col} > 0 ORDER BY {col} DESC LIMIT ?3) t)
                 ORDER BY c.{col} DESC, v.volunteer_number ASC, v.volunteer_id ASC LIMIT ?3"
            )
        };
        let vals = if db.is_postgres() {
            vec![Val::from(p), Val::from(s), Val::from(top), Val::from(top)]
        } else {
            vec![Val::from(p), Val::from(s), Val::from(top)]
        };
        out = ranked_rows(&db.fetch(&sql, &vals).await?, metric)?;
    }
    let me = match me {
        None => None,
        Some(vid) => {
            // The volunteer's cell and how many distinct values are above it. CROSS JOIN
            // keeps SQLite from driving the join by the value index (a scan of the
            // whole range): the volunteer first, then the cell by its key.
            let row = db
                .fetch_optional(
                    &format!(
                        "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes,
                            (SELECT COUNT(DISTINCT x.{col}) FROM pj_rank_cells x
                             WHERE x.period = c.period AND x.scope = c.scope AND x.{col} > c.{col})
                         FROM pj_rank_volunteers v CROSS JOIN pj_rank_cells c
                         WHERE c.vol = v.vol AND v.volunteer_id = ? AND c.period = ? AND c.scope = ? AND c.{col} > 0"
                    ),
                    &[Val::from(vid.0.to_string()), Val::from(p), Val::from(s)],
                )
                .await?;
            match row {
                Some(r) => {
                    let above = r.int(4)?;
                    Some(entry_of_row(&r, above as u64 + 1)?)
                }
                None => None,
            }
        }
    };
    Ok(Ranking { top: out, me })
}
