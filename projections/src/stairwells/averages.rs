//! A community's stairwells ranked by their average monthly total over a quarter or a
//! year (the months they were scored in).

use super::monthly::scores_for_months;
use super::rules::{div_round, hundredths};
use crate::common::{points_dec, Period};
use crate::db::Db;
use crate::error::Result;
use ledger::domain::stairwell::listing_cmp;
use ledger::ids::{CommunityId, StairwellId};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A stairwell's average over a quarter or a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StairwellAverage {
    pub stairwell_id: StairwellId,
    pub building: String,
    pub unit: String,
    pub months_scored: u32,
    pub average: Decimal,
    pub rank: u64,
}

/// Average monthly totals over a quarter or a year, ranked.
pub async fn average_scores(
    db: &Db,
    community: CommunityId,
    period: Period,
) -> Result<Vec<StairwellAverage>> {
    let months = period.validate()?.months();
    let by_month = scores_for_months(db, community, &months).await?;
    let mut acc: BTreeMap<StairwellId, (String, String, i64, u32)> = BTreeMap::new();
    for list in by_month.values() {
        for s in list {
            let e = acc
                .entry(s.stairwell_id)
                .or_insert_with(|| (s.building.clone(), s.unit.clone(), 0, 0));
            e.2 += hundredths(s.total);
            e.3 += 1;
        }
    }
    let mut out: Vec<StairwellAverage> = acc
        .into_iter()
        .map(|(id, (b, u, sum, n))| StairwellAverage {
            stairwell_id: id,
            building: b,
            unit: u,
            months_scored: n,
            average: points_dec(div_round(sum as i128, n.max(1) as i128)),
            rank: 0,
        })
        .collect();
    out.sort_by(|a, b| {
        b.average.cmp(&a.average).then_with(|| {
            listing_cmp(
                (&a.building, &a.unit, a.stairwell_id),
                (&b.building, &b.unit, b.stairwell_id),
            )
        })
    });
    let mut rank = 0;
    let mut last = None;
    for s in out.iter_mut() {
        if last != Some(s.average) {
            rank += 1;
            last = Some(s.average);
        }
        s.rank = rank;
    }
    Ok(out)
}
