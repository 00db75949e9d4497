//! Rankings (排行榜) by points or by hours, for all time, a year, a quarter or a month,
//! scoped to a community, a grid, a team or a tag: dense ranks (ties share a rank, the
//! next value takes the next rank), ties broken by volunteer number for display.
//!
//! History keeps its shape: each entry is counted in the scopes (community, grid, teams,
//! tags) the volunteer had at the time — for a service, when it was logged; for an
//! award, when it was awarded — and in the periods of its day (a service's day is its
//! start, an award's day when it was recorded, both in UTC+8). A reversal removes the
//! reversed entry from the very cells the entry was counted in. Ranked by points: points
//! earned (verified services and awards, net of reversals; redemptions do not lower a
//! rank). Ranked by hours: verified service hours net of reversals. Only volunteers
//! with a positive value in the cell are ranked.
//!
//! - `scope`: what a ranking is scoped to, and the scopes an entry counts in.
//! - `keys`: periods and scopes numbered on first use, and their encodings in rows.
//! - `cells`: the cell deltas of a period held in memory until written.
//! - `fold`: the rows in memory and how events change them.
//! - `store`: the rows a batch reads back, and the changed rows written.
//! - `query`: a ranking read: the top with its ties, and one volunteer's own rank;
//! - `across`: a ranking of several scopes together (a street's communities);
//! - `impact`: a volunteer's move if a correction lowered their value (read only);
//!   `batch`: the moves of many volunteers corrected at once.

mod across;
mod batch;
mod cells;
mod fold;
mod impact;
mod keys;
mod query;
mod scope;
mod store;

pub use across::{ranking_across, scope_totals, ScopeTotal};
pub use batch::batch_moves;
pub use impact::{rank_move, rank_shift, RankMove};
pub use query::{ranking, Metric, RankEntry, Ranking};
pub use scope::{scopes_of, Scope};

use crate::common::{day_key, parse_day};
use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use chrono::NaiveDate;
use fold::RankState;
use futures::future::BoxFuture;

pub const NAME: &str = "rankings";

/// Cells are keyed by small numbers: periods and scopes by their id in
/// `pj_rank_keys`, volunteers by their number in `pj_rank_volunteers` (both given in
/// order of first appearance in the log, so a rebuild gives the same numbers). A
/// ranking reads one (period, scope) range of `pj_rank_cells` (clustered by that key)
/// through an index by value, points or hours: the top N is the first N entries of the
/// index, and one volunteer's rank counts the distinct values above theirs, without
/// sorting the range (a community of 50,000 volunteers would otherwise sort 50,000
/// cells per query).
const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_rank_cells",
        columns: "period BIGINT NOT NULL, scope BIGINT NOT NULL, vol BIGINT NOT NULL,
            points BIGINT NOT NULL, minutes BIGINT NOT NULL, PRIMARY KEY (period, scope, vol)",
        indexes: &["(period, scope, points)", "(period, scope, minutes)"],
    },
    TableDef {
        name: "pj_rank_keys",
        columns: "k TEXT NOT NULL PRIMARY KEY, id BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_rank_volunteers",
        columns: "vol BIGINT NOT NULL PRIMARY KEY, volunteer_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            attribution TEXT NOT NULL, scopes TEXT NOT NULL",
        indexes: &["(volunteer_id)"],
    },
    TableDef {
        name: "pj_rank_movers",
        columns: "vol BIGINT NOT NULL PRIMARY KEY",
        indexes: &[],
    },
    TableDef {
        name: "pj_rank_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, vol BIGINT NOT NULL, day BIGINT NOT NULL, scopes TEXT NOT NULL",
        indexes: &[],
    },
];

/// The rankings projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rankings;

impl Projection for Rankings {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 4: the volunteers who moved to another community (pj_rank_movers).
        4
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
            Box::new(RankState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(RankState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_rank_activity",
            "pj_rank_kv_volunteers",
            "pj_rank_kv_services",
            "pj_rank_kv_entries",
            "pj_rank_entries",
        ]
    }
}

/// Parses a stored day (for tests and tools).
pub fn day(s: &str) -> Option<NaiveDate> {
    parse_day(s)
}

/// The day key of a date.
pub fn key_of_day(d: NaiveDate) -> String {
    day_key(d)
}
