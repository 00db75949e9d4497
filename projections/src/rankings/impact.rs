//! What a correction would do to a volunteer's place in a ranking (更正影响): their
//! dense rank with one value and with another (a reversal lowers today's value; an
//! upheld objection or a rejected service changes what a record not yet credited would
//! add to it), and who would pass them (those above the lower value and not above the
//! higher one). Read only; nothing is written.

use super::query::{cell_range, entry_of_row, metric_col};
use super::{ranking, Metric, RankEntry, Scope};
use crate::common::Period;
use crate::db::{Db, Val};
use crate::error::Result;
use ledger::ids::VolunteerId;

/// A volunteer's move in one ranking.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RankMove {
    pub period: Period,
    pub metric: Metric,
    /// Rank before; none when not ranked (no positive value).
    pub before: Option<u64>,
    /// Rank after; none when the value would no longer be positive.
    pub after: Option<u64>,
    /// Who would pass them, highest first (at most 20); their `rank` is today's.
    pub passed_by: Vec<RankEntry>,
}

/// The move of `me` in (`scope`, `period`, `metric`) if their value there were lowered
/// by `minor` (hundredths of a point, or minutes); none when they are not ranked there.
pub async fn rank_move(
    db: &Db,
    scope: &Scope,
    period: Period,
    metric: Metric,
    me: VolunteerId,
    minor: i64,
) -> Result<Option<RankMove>> {
    rank_shift(db, scope, period, metric, me, (0, -minor)).await
}

/// The move of `me` from their value today plus `shift.0` to their value plus
/// `shift.1` (in minor units, either way); none when ranked in neither. Those who would
/// pass them are listed when the value falls.
pub async fn rank_shift(
    db: &Db,
    scope: &Scope,
    period: Period,
    metric: Metric,
    me: VolunteerId,
    shift: (i64, i64),
) -> Result<Option<RankMove>> {
    let now = ranking(db, scope, period, metric, 0, Some(me)).await?;
    let value = match (&now.me, metric) {
        (None, _) => 0,
        (Some(m), Metric::Points) => (m.points * rust_decimal::Decimal::ONE_HUNDRED)
            .trunc()
            .try_into()
            .unwrap_or(0i64),
        (Some(m), Metric::Hours) => (m.hours * rust_decimal::Decimal::from(60))
            .round()
            .try_into()
            .unwrap_or(0i64),
    };
    let (from, to) = (value + shift.0, value + shift.1);
    let (high, low) = (from.max(to), from.min(to));
    if high <= 0 {
        return Ok(None);
    }
    let Some((p, s)) = cell_range(db, scope, period).await? else {
        // Nobody is counted there yet: a record not yet credited would be first.
        return Ok(Some(RankMove {
            period,
            metric,
            before: (from > 0).then_some(1),
            after: (to > 0).then_some(1),
            passed_by: Vec::new(),
        }));
    };
    let col = metric_col(metric);
    // Dense rank of a value: the distinct values of others above it, plus one.
    let above = format!(
        "SELECT COUNT(DISTINCT {col}) FROM pj_rank_cells
         WHERE period = ? AND scope = ? AND {col} > ?
           AND vol NOT IN (SELECT vol FROM pj_rank_volunteers WHERE volunteer_id = ?)"
    );
    let mut ranks = [None, None];
    for (slot, v) in ranks.iter_mut().zip([from, to]) {
        if v <= 0 {
            continue;
        }
        let args = [
            Val::from(p),
            Val::from(s),
            Val::from(v),
            Val::from(me.0.to_string()),
        ];
        let n = db.fetch_optional(&above, &args).await?;
        *slot = Some(n.map(|r| r.int(0)).transpose()?.unwrap_or(0) as u64 + 1);
    }
    let [before, after] = ranks;
    if to >= from {
        return Ok(Some(RankMove {
            period,
            metric,
            before,
            after,
            passed_by: Vec::new(),
        }));
    }
    let rows = db
        .fetch(
            &format!(
                "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes,
                    (SELECT COUNT(DISTINCT x.{col}) FROM pj_rank_cells x
                     WHERE x.period = c.period AND x.scope = c.scope AND x.{col} > c.{col})
                 FROM pj_rank_cells c JOIN pj_rank_volunteers v ON v.vol = c.vol
                 WHERE c.period = ? AND c.scope = ? AND c.{col} > ? AND c.{col} <= ?
                   AND v.volunteer_id <> ?
                 ORDER BY c.{col} DESC, v.volunteer_number ASC LIMIT 20"
            ),
            &[
                Val::from(p),
                Val::from(s),
                Val::from(low.max(0)),
                Val::from(high),
                Val::from(me.0.to_string()),
            ],
        )
        .await?;
    let passed_by = rows
        .iter()
        .map(|r| entry_of_row(r, r.int(4)? as u64 + 1))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(RankMove {
        period,
        metric,
        before,
        after,
        passed_by,
    }))
}
