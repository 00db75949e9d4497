//! What a correction would do to a volunteer's place in a ranking (更正影响): their
//! dense rank now, their rank with their value lowered by what the correction takes
//! away, and who would pass them (those above the lowered value and not above the
//! present one). Read only; nothing is written.

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
    /// Rank now; none when not ranked (no positive value).
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
    let now = ranking(db, scope, period, metric, 0, Some(me)).await?;
    let Some(mine) = now.me else {
        return Ok(None);
    };
    let Some((p, s)) = cell_range(db, scope, period).await? else {
        return Ok(None);
    };
    let value = match metric {
        Metric::Points => (mine.points * rust_decimal::Decimal::ONE_HUNDRED)
            .trunc()
            .try_into()
            .unwrap_or(0i64),
        Metric::Hours => (mine.hours * rust_decimal::Decimal::from(60))
            .round()
            .try_into()
            .unwrap_or(0i64),
    };
    let lowered = value - minor;
    let col = metric_col(metric);
    let others = "SELECT vol FROM pj_rank_volunteers WHERE volunteer_id = ?";
    let after = if lowered > 0 {
        let above = db
            .fetch_optional(
                &format!(
                    "SELECT COUNT(DISTINCT {col}) FROM pj_rank_cells
                     WHERE period = ? AND scope = ? AND {col} > ? AND vol NOT IN ({others})"
                ),
                &[
                    Val::from(p),
                    Val::from(s),
                    Val::from(lowered),
                    Val::from(me.0.to_string()),
                ],
            )
            .await?
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        Some(above as u64 + 1)
    } else {
        None
    };
    let floor = lowered.max(0);
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
                Val::from(floor),
                Val::from(value),
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
        before: Some(mine.rank),
        after,
        passed_by,
    }))
}
