//! A stairwell's 文明楼道 score for a month, with its rank and the 流动红旗; its average
//! over a quarter or a year, ranked.

use async_graphql::{SimpleObject, ID};

/// A stairwell's 文明楼道 score for a month.
#[derive(SimpleObject, Clone)]
pub struct StairwellScore {
    pub stairwell_id: ID,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// "YYYY-MM".
    pub month: String,
    /// Sum of the inspection's rubric items.
    pub items: crate::scalars::DecimalScalar,
    /// Households of the stairwell with a volunteer who served that month (a volunteer
    /// with no household given counts as one).
    pub served: u32,
    pub participation: crate::scalars::DecimalScalar,
    pub deductions: crate::scalars::DecimalScalar,
    /// Clamped to 0–100.
    pub total: crate::scalars::DecimalScalar,
    /// Dense rank within the community for the month.
    pub rank: u64,
    /// Holder of the month's 流动红旗.
    pub red_flag: bool,
}

impl From<projections::stairwells::StairwellScore> for StairwellScore {
    fn from(s: projections::stairwells::StairwellScore) -> Self {
        use crate::scalars::DecimalScalar as D;
        StairwellScore {
            stairwell_id: ID(s.stairwell_id.0.to_string()),
            building: s.building,
            unit: s.unit,
            households: s.households,
            month: s.month,
            items: D(s.items),
            served: s.served,
            participation: D(s.participation),
            deductions: D(s.deductions),
            total: D(s.total),
            rank: s.rank,
            red_flag: s.red_flag,
        }
    }
}

/// A stairwell's average 文明楼道 score over a quarter or a year: the mean of the
/// months it was scored in, ranked (dense ranks).
#[derive(SimpleObject, Clone)]
pub struct StairwellAverage {
    pub stairwell_id: ID,
    pub building: String,
    pub unit: String,
    /// "YYYY-Qn" or "YYYY".
    pub period: String,
    pub months_scored: u32,
    pub average: crate::scalars::DecimalScalar,
    pub rank: u64,
    /// Holder of the period's red flag: the first of rank 1, a tie broken by building
    /// and unit as people read them, as for the month's flag.
    pub red_flag: bool,
}

impl StairwellAverage {
    pub fn new(
        s: projections::stairwells::StairwellAverage,
        period: &str,
        red_flag: bool,
    ) -> StairwellAverage {
        StairwellAverage {
            stairwell_id: ID(s.stairwell_id.0.to_string()),
            building: s.building,
            unit: s.unit,
            period: period.to_string(),
            months_scored: s.months_scored,
            average: crate::scalars::DecimalScalar(s.average),
            rank: s.rank,
            red_flag,
        }
    }
}
