//! 文明楼道 (civilised stairwell) scores per stairwell per month, the monthly ranking
//! within a community, the 流动红旗 (rotating red flag) holder of each month, and
//! quarterly and yearly averages.
//!
//! A stairwell is scored for a month when it was inspected that month:
//! - the rubric items of the month's inspection (default 楼道卫生 30, 杂物清理 25,
//!   消防安全 25), summed;
//! - 邻里互助 participation = max × min(1, served ÷ (30% × households)), where max is the
//!   participation maximum of the inspection's rubric version (default 20) and served is
//!   the number of distinct households of the stairwell with a volunteer who has a
//!   verified, unreversed service started that month (UTC+8); a volunteer counts in the
//!   stairwell and household they lived in when the service was logged, and a volunteer
//!   with no household given counts as a household of their own;
//! - minus the deductions of issues reported by the end of the month and not resolved
//!   within it (UTC+8 months of the events);
//! - clamped to 0–100, in hundredths (participation rounded half away from zero).
//!
//! The monthly ranking orders by total, ties sharing a dense rank and broken for display
//! by building and unit as people read them (2栋 before 10栋,
//! [`listing_cmp`](ledger::domain::stairwell::listing_cmp)), then id; the red flag goes
//! to the first in that order. An average is over the months a stairwell was scored in
//! the quarter or year.
//!
//! - `rules`: the score's arithmetic (items, participation, deductions, the total).
//! - `fold`: the rows in memory and how events change them.
//! - `store`: the rows a batch reads back, and the changed rows written.
//! - `monthly`: a month's scores, ranked, and the red flag.
//! - `averages`: quarterly and yearly averages, ranked.

mod averages;
mod fold;
mod monthly;
mod rules;
mod store;

pub use averages::{average_scores, StairwellAverage};
pub use fold::ServedAt;
pub use monthly::{
    current_red_flag, inspected_in, monthly_scores, open_issue_counts, red_flags,
    scores_for_months, StairwellScore,
};
pub use rules::{deducted_in, household_key, hundredths, inspected_items, participation, total};

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use fold::SwState;
use futures::future::BoxFuture;

pub const NAME: &str = "stairwells";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_sw_stairwells",
        columns: "stairwell_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, grid_id TEXT NOT NULL,
            building TEXT NOT NULL, unit TEXT NOT NULL, households BIGINT NOT NULL",
        indexes: &["(community_id)"],
    },
    TableDef {
        name: "pj_sw_rubrics",
        columns: "community_id TEXT NOT NULL, version BIGINT NOT NULL, participation_max BIGINT NOT NULL,
            PRIMARY KEY (community_id, version)",
        indexes: &[],
    },
    TableDef {
        name: "pj_sw_inspections",
        columns: "stairwell_id TEXT NOT NULL, month TEXT NOT NULL, items BIGINT NOT NULL, rubric_version BIGINT NOT NULL,
            position BIGINT NOT NULL, PRIMARY KEY (stairwell_id, month)",
        indexes: &["(month)"],
    },
    TableDef {
        name: "pj_sw_issues",
        columns: "issue_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, reported_month TEXT NOT NULL,
            resolved_month TEXT, deduction BIGINT NOT NULL",
        indexes: &["(stairwell_id)"],
    },
    // `household` is the household label, or "" when none was given.
    TableDef {
        name: "pj_sw_served",
        columns: "stairwell_id TEXT NOT NULL, month TEXT NOT NULL, volunteer_id TEXT NOT NULL, household TEXT NOT NULL,
            services BIGINT NOT NULL, PRIMARY KEY (stairwell_id, month, volunteer_id, household)",
        indexes: &["(month)"],
    },
    TableDef {
        name: "pj_sw_volunteers",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, household TEXT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_sw_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, month TEXT NOT NULL,
            volunteer_id TEXT NOT NULL, household TEXT NOT NULL",
        indexes: &[],
    },
];

/// The 文明楼道 projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stairwells;

impl Projection for Stairwells {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: participation counts households.
        3
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply_with_state(
            Box::new(SwState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(SwState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_sw_kv_volunteers",
            "pj_sw_kv_services",
            "pj_sw_kv_entries",
            "pj_sw_entries",
        ]
    }
}
