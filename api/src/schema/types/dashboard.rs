//! A community's dashboard (社区看板): this month's and this year's totals, open wishes,
//! the red-flag holder.

use super::stairwell::StairwellScore;
use async_graphql::{SimpleObject, ID};

/// Services of one kind.
#[derive(SimpleObject, Clone)]
pub struct KindTotals {
    pub kind: String,
    pub services: u64,
    pub hours: crate::scalars::DecimalScalar,
}

/// Totals of a period.
#[derive(SimpleObject, Clone)]
pub struct PeriodTotals {
    pub hours: crate::scalars::DecimalScalar,
    pub points: crate::scalars::DecimalScalar,
    pub services: u64,
    /// Volunteers with a verified service in the period.
    pub volunteers_served: u64,
    pub by_kind: Vec<KindTotals>,
}

impl From<projections::dashboard::PeriodTotals> for PeriodTotals {
    fn from(t: projections::dashboard::PeriodTotals) -> Self {
        use crate::scalars::DecimalScalar as D;
        PeriodTotals {
            hours: D(t.hours),
            points: D(t.points),
            services: t.services,
            volunteers_served: t.volunteers_served,
            by_kind: t
                .by_kind
                .into_iter()
                .map(|k| KindTotals {
                    kind: k.kind,
                    services: k.services,
                    hours: D(k.hours),
                })
                .collect(),
        }
    }
}

/// A community's dashboard (社区看板).
#[derive(SimpleObject, Clone)]
pub struct Dashboard {
    pub community_id: ID,
    pub active_volunteers: u64,
    pub open_wishes: u64,
    pub wishes_in_progress: u64,
    /// "YYYY-MM" of today (UTC+8).
    pub month: String,
    pub this_month: PeriodTotals,
    pub this_year: PeriodTotals,
    /// The red-flag holder of the latest inspected month up to this month.
    pub red_flag: Option<StairwellScore>,
    /// Position the read models had reached.
    pub position: u64,
}
