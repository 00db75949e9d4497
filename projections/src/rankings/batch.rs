//! What a correction of many volunteers at once (a history import reversed as one)
//! would do to their places in one ranking: every volunteer's value shifted together,
//! the dense ranks recomputed over the whole scope, and for each shifted volunteer
//! their rank before and after and who would pass them. Read only; nothing is written.
//!
//! One volunteer's move alone ([`super::rank_shift`]) assumes everyone else stays; when
//! several fall at once, they pass each other, so the ranks are recomputed together.

use super::impact::RankMove;
use super::query::{cell_range, entry_of_row, metric_col};
use super::{Metric, RankEntry, Scope};
use crate::common::Period;
use crate::db::{Db, Val};
use crate::error::Result;
use ledger::ids::VolunteerId;
use std::collections::{BTreeMap, BTreeSet};

/// The moves of the volunteers of `shifts` (their value changed by that many minor
/// units, hundredths of a point or minutes) in (`scope`, `period`, `metric`), all at
/// once; volunteers ranked in neither state are left out.
pub async fn batch_moves(
    db: &Db,
    scope: &Scope,
    period: Period,
    metric: Metric,
    shifts: &BTreeMap<VolunteerId, i64>,
) -> Result<Vec<(VolunteerId, RankMove)>> {
    let Some((p, s)) = cell_range(db, scope, period).await? else {
        return Ok(Vec::new());
    };
    let col = metric_col(metric);
    let rows = db
        .fetch(
            &format!(
                "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes, c.{col}
                 FROM pj_rank_cells c JOIN pj_rank_volunteers v ON v.vol = c.vol
                 WHERE c.period = ? AND c.scope = ? AND c.{col} > 0"
            ),
            &[Val::from(p), Val::from(s)],
        )
        .await?;
    let mut values = Vec::with_capacity(rows.len());
    for r in &rows {
        values.push((entry_of_row(r, 0)?, r.int(4)?));
    }
    Ok(moves(period, metric, &values, shifts))
}

/// Dense ranks of positive values: value → rank.
fn dense(values: impl Iterator<Item = i64>) -> BTreeMap<i64, u64> {
    let distinct: BTreeSet<i64> = values.filter(|v| *v > 0).collect();
    distinct
        .into_iter()
        .rev()
        .enumerate()
        .map(|(i, v)| (v, i as u64 + 1))
        .collect()
}

/// The pure part of [`batch_moves`]: `values` are everyone ranked today (entry, value
/// in minor units).
pub fn moves(
    period: Period,
    metric: Metric,
    values: &[(RankEntry, i64)],
    shifts: &BTreeMap<VolunteerId, i64>,
) -> Vec<(VolunteerId, RankMove)> {
    let now: BTreeMap<VolunteerId, (&RankEntry, i64)> = values
        .iter()
        .map(|(e, v)| (e.volunteer_id, (e, *v)))
        .collect();
    let after_of = |id: &VolunteerId, v: i64| v + shifts.get(id).copied().unwrap_or(0);
    let before_ranks = dense(values.iter().map(|(_, v)| *v));
    let after_ranks = dense(
        values
            .iter()
            .map(|(e, v)| after_of(&e.volunteer_id, *v))
            .chain(
                shifts
                    .iter()
                    .filter(|(id, _)| !now.contains_key(id))
                    .map(|(_, s)| *s),
            ),
    );
    let mut out = Vec::new();
    for (id, shift) in shifts {
        let before_value = now.get(id).map(|(_, v)| *v).unwrap_or(0);
        let after_value = before_value + shift;
        let before = before_ranks.get(&before_value).copied();
        let after = after_ranks.get(&after_value).copied();
        if before.is_none() && after.is_none() || *shift == 0 {
            continue;
        }
        // Who was not above them and would be: highest first, today's rank.
        let mut passed: Vec<(&RankEntry, i64)> = values
            .iter()
            .filter(|(e, v)| {
                e.volunteer_id != *id
                    && *v <= before_value
                    && after_of(&e.volunteer_id, *v) > after_value
            })
            .map(|(e, v)| (e, *v))
            .collect();
        passed.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.volunteer_number.cmp(&b.0.volunteer_number))
        });
        let passed_by = passed
            .into_iter()
            .take(20)
            .map(|(e, v)| RankEntry {
                rank: before_ranks.get(&v).copied().unwrap_or(0),
                ..e.clone()
            })
            .collect();
        out.push((
            *id,
            RankMove {
                period,
                metric,
                before,
                after,
                passed_by,
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use uuid::Uuid;

    fn entry(n: u128) -> RankEntry {
        RankEntry {
            rank: 0,
            volunteer_id: VolunteerId(Uuid::from_u128(n)),
            volunteer_number: format!("TB-{n:06}"),
            points: Decimal::ZERO,
            hours: Decimal::ZERO,
        }
    }

    #[test]
    fn volunteers_falling_together_are_ranked_together() {
        // A 100, B 90, C 80, D 70; A and B lose 50 each at once.
        let values: Vec<(RankEntry, i64)> = vec![
            (entry(1), 100),
            (entry(2), 90),
            (entry(3), 80),
            (entry(4), 70),
        ];
        let shifts = BTreeMap::from([
            (VolunteerId(Uuid::from_u128(1)), -50),
            (VolunteerId(Uuid::from_u128(2)), -50),
        ]);
        let m = moves(Period::AllTime, Metric::Hours, &values, &shifts);
        let of = |n: u128| {
            &m.iter()
                .find(|(id, _)| id.0 == Uuid::from_u128(n))
                .unwrap()
                .1
        };
        // After: C 80, D 70, A 50, B 40.
        assert_eq!((of(1).before, of(1).after), (Some(1), Some(3)));
        assert_eq!((of(2).before, of(2).after), (Some(2), Some(4)));
        let passed: Vec<&str> = of(2)
            .passed_by
            .iter()
            .map(|e| e.volunteer_number.as_str())
            .collect();
        // B is passed by C and D, and by A, who fell with them but stays above.
        assert_eq!(passed, ["TB-000003", "TB-000004"]);
        assert_eq!(of(2).passed_by[0].rank, 3, "today's rank");
    }

    #[test]
    fn a_volunteer_left_with_nothing_is_no_longer_ranked() {
        let values = vec![(entry(1), 100), (entry(2), 50)];
        let shifts = BTreeMap::from([(VolunteerId(Uuid::from_u128(2)), -50)]);
        let m = moves(Period::AllTime, Metric::Points, &values, &shifts);
        assert_eq!((m[0].1.before, m[0].1.after), (Some(2), None));
    }
}
