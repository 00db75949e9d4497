//! Test support: a generator of random but valid histories (appended straight to the
//! store), and an oracle: a plain, independent fold of the log into what every read
//! model must answer, compared with the projections' queries.
//!
//! - `history`: random histories, appended to a store, and the log read back.
//! - `oracle`: the oracle (each read model's rules folded plainly, and the checks of its
//!   queries against them) and the table-for-table dump.
#![allow(dead_code, clippy::type_complexity)]

mod history;
mod inbox;
mod oracle;

pub use history::*;
pub use oracle::*;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

/// The calendar both go by: China Standard Time (UTC+8).
fn cst_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}
