//! The annual commendation report (年度表彰报告) of one community for one calendar year
//! (China Standard Time), pinned to a log position.
//!
//! [`annual_report`] folds the log from position 0 to `P` once, keeping only the
//! community's events, and returns an [`AnnualReport`]: totals, services by kind, top
//! volunteers by hours and by points with their star level and the stars newly reached
//! in the year, team totals, grid totals, the 文明楼道 standings with the red-flag
//! months, and month-by-month figures. See the crate documentation for the attribution
//! rules (service date, reversals net against what they reverse, organisation as it was).
//!
//! Definitions:
//! - *active volunteer*: net verified service hours dated in the year above zero;
//! - *registered volunteers*: registered by the end of the year and not departed by then;
//! - *points awarded* = points of verified services + 积分奖励 awards, net of
//!   reversals; *points redeemed*: redemptions at the points shop recorded in the year;
//! - *star level*: cumulative net verified hours (all service dates up to the end of the
//!   year) against the star thresholds in force at `P` (on the date `P` was recorded);
//!   *new stars* are the levels above the one held on 1 January;
//! - *wishes posted*: posted in the year; *fulfilled*: confirmed by staff, with a
//!   fulfilment date in the year; *days to fulfil*: from posting to fulfilment.
//!
//! Files:
//! - `model`: the report itself ([`AnnualReport`] and the tables it is made of);
//! - `tally`: what the fold keeps per event (who was where, what each entry counted
//!   for, so that a reversal takes it away again), and [`WANTED`], the event types it reads;
//! - `finish`: from the tally to the report (lists, ranks, medians, sorting).

mod finish;
mod model;
mod tally;

pub use model::{
    AnnualReport, GridTotal, KindTotal, MonthTotal, StarRule, TeamTotal, Totals, UnitTotal,
    VolunteerLine,
};
pub use tally::WANTED;

use crate::error::ReportError;
use crate::fold;
use crate::people;
use ledger::ids::CommunityId;
use ledger::store::Store;
use tally::Annual;

/// The fold touches several maps per event: a fast hasher (seeded per process).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Length of the top-volunteer lists.
pub const TOP_N: usize = 20;

/// Computes the annual report of `community_id` for `year` at position `at` (the head
/// when `None`). `progress(done, total)` is called as the log is read (positions).
pub async fn annual_report(
    store: &Store,
    community_id: CommunityId,
    year: i32,
    at: Option<u64>,
    progress: impl Fn(u64, u64) + Send + Sync,
) -> Result<AnnualReport, ReportError> {
    if !(2000..=9999).contains(&year) {
        return Err(ReportError::InvalidInput(format!(
            "year {year} is outside 2000..=9999"
        )));
    }
    let position = fold::pin(store, at).await?;
    let mut acc = Annual::new(community_id, year);
    fold::scan_community(store, community_id.0, &WANTED, position, &progress, |e| {
        acc.visit(e);
        Ok(())
    })
    .await?;
    let as_of = fold::recorded_at(store, position).await?;
    let mut report = acc.finish(position, as_of)?;
    let names = people::display_names(
        store,
        report
            .top_by_hours
            .iter()
            .chain(&report.top_by_points)
            .chain(&report.new_stars)
            .map(|l| l.volunteer_id),
    )
    .await?;
    for line in report
        .top_by_hours
        .iter_mut()
        .chain(report.top_by_points.iter_mut())
        .chain(report.new_stars.iter_mut())
    {
        if let Some(n) = names.get(&line.volunteer_id) {
            line.name.clone_from(n);
        }
    }
    Ok(report)
}
