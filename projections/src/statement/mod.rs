//! Statement per volunteer (对账单): every ledger entry with the running points and
//! hours balances after it, each linked to its event (log position and event id);
//! reversals name the entry they reverse, and an entry shows the reversal that undid
//! it. Paginated by cursor (the entry's sequence number in the account). A service's
//! line says what the service was: its kind, place and note, and for an activity's
//! record （活动签到） or （补录）.
//!
//! - `fold`: the pure fold (what a line says, the running balances);
//! - `store`: the rows held between flushes and how they are written;
//! - `query`: reading a page.

mod fold;
mod query;
mod store;

pub use fold::{
    entry_of, evolve, logged_text, spent_detail, EntryParts, Line, Running, PROVIDER_MARK,
};
pub use query::{entry_written, statement, Order, StatementEntry, StatementPage};

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use futures::future::BoxFuture;
use store::StatementState;

pub const NAME: &str = "statement";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_statement",
        columns: "volunteer_id TEXT NOT NULL, seq BIGINT NOT NULL, position BIGINT NOT NULL, event_id TEXT NOT NULL,
            entry_id TEXT NOT NULL, kind TEXT NOT NULL, points_delta BIGINT NOT NULL, minutes_delta BIGINT NOT NULL,
            points_balance BIGINT NOT NULL, minutes_balance BIGINT NOT NULL, reverses TEXT, recorded_at BIGINT NOT NULL,
            detail TEXT NOT NULL, PRIMARY KEY (position)",
        // Keyed by the position of the line's event (one line per event), so lines are
        // only ever appended; a volunteer's statement is read through the first index.
        // Only reversals have `reverses`: the second index skips every other line.
        indexes: &[
            "(volunteer_id, seq)",
            "(reverses) WHERE reverses IS NOT NULL",
        ],
    },
    TableDef {
        name: "pj_statement_accounts",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, points_balance BIGINT NOT NULL,
            minutes_balance BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_statement_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, detail TEXT NOT NULL",
        indexes: &[],
    },
];

/// The statement projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Statement;

impl Projection for Statement {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: a service's line says what it was (kind, place, note, 活动签到 or 补录);
        // 4: a wish's service reads 小心愿, not the wish's id.
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
            Box::new(StatementState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(StatementState::new(fresh)))
    }
}
