//! # projections: timebank's read models, built from the event log
//!
//! ## Crate map
//! - [`projection`]: the [`Projection`] trait, a projection's in-memory [`State`], decoded
//!   [`Envelope`]s (read in pages from the log's table), table definitions (live and
//!   shadow names) and checkpoints (`projection_checkpoints`).
//! - [`runner`]: catch-up in batches, then follow the head; leadership per projection on
//!   PostgreSQL; fault injection; the [`Projections`] handle with read-your-writes
//!   ([`Projections::wait_for`]).
//! - [`rebuild`](mod@rebuild): replay from 0 into shadow tables and swap them in atomically, folding in
//!   memory within bounds (changes written in bulk as they grow, states evicted when too
//!   large), secondary indexes after the load.
//! - [`alloc`]: the allocator setting a rebuild runs with (freed memory returned promptly).
//! - [`db`]: portable SQL on SQLite and PostgreSQL (values, rows, transactions, bulk
//!   upserts, reads and deletes by key).
//! - [`error`]: the errors of the engine and the queries.
//! - [`common`]: periods (UTC+8), amounts at the query edge, rows held by a fold
//!   ([`common::Cached`]), a volunteer's attribution at the time of an event.
//! - [`balances`]: points and hours balances, stars (星级), the negative-balance flag.
//! - [`statement`]: each volunteer's statement (对账单) with running balances.
//! - [`rankings`]: rankings (排行榜) by points or hours, per period and scope.
//! - [`stairwells`]: 文明楼道 monthly scores, ranking, red flag (流动红旗) and averages.
//! - [`wishes`]: the wish board (小心愿).
//! - [`dashboard`]: a community's dashboard.
//! - [`activities`]: activities (志愿活动) with their rosters, attendance, records through
//!   the 公示 notice, and objections; a volunteer's hours and points pending.
//! - [`inbox`]: each volunteer's messages (消息) of what concerns them, and a community's
//!   recent awards.
//! - [`shop`]: the points shop (积分超市): catalogue, redemptions and their codes, and
//!   each month's stock movements.
//! - [`org`]: the organisation above communities: streets (街道) and districts (区), and
//!   which community was in which street on a day (what STREET and DISTRICT roll up).
//!
//! Each read model is one module: its rules in the module's documentation, `NAME`,
//! `TABLES`, the [`Projection`], its [`State`] (load, fold, flush) and its queries; a
//! large one is a directory (`stairwells/`: `mod.rs` with the projection, then rules,
//! fold, store and one file per query). A batch applied incrementally is the same state
//! loaded for the batch's keys, folded and flushed in one transaction.
//!
//! ## To add a read model
//! 1. `src/<name>.rs` (`wishes.rs` is the smallest to copy): `NAME`; `TABLES`, the
//!    [`TableDef`]s of its tables (BIGINT and TEXT columns only); a [`Projection`]
//!    with `version()`; its [`State`]; its queries. There are no migrations for
//!    projection tables: a projection without a checkpoint, or whose checkpoint has
//!    another version, is rebuilt into fresh tables from `TABLES` when the runner leading
//!    it starts. So bump `version()` whenever its tables or its fold change, and name the
//!    tables it no longer has in `retired_tables()` (dropped at the swap).
//! 2. `src/lib.rs`: `pub mod <name>;`, its line in the crate map above, and an entry in
//!    [`all()`] (the order the runner applies them in).
//! 3. `tests/support/oracle.rs`: the model's rules folded plainly in `Oracle::fold`, a
//!    `check_<name>` of its queries called from `check_all` (random histories, both
//!    backends, rebuild against catch-up), and any table of additive cells in `dump`'s
//!    list.
//! 4. `tests/examples.rs`: a worked example of its rules, on both backends (`both!`).
//!
//! Serving it over GraphQL or in a report is the api's or the reports' recipe.

pub mod activities;
pub mod alloc;
pub mod balances;
pub mod common;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod inbox;
pub mod org;
pub mod projection;
pub mod rankings;
pub mod rebuild;
pub mod runner;
pub mod shop;
pub mod stairwells;
pub mod statement;
pub mod wishes;

pub use db::Db;
pub use error::{ProjectionError, Result, Stale};
pub use projection::{Checkpoint, Envelope, Names, Projection, State, TableDef};
pub use rebuild::{Progress, ProgressFn};
pub use runner::{FaultHook, Options, Projections};

use ledger::Store;
use std::sync::Arc;

/// Every read model, in the order the runner applies them.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(balances::Balances),
        Arc::new(statement::Statement),
        Arc::new(rankings::Rankings),
        Arc::new(stairwells::Stairwells),
        Arc::new(wishes::Wishes),
        Arc::new(dashboard::Dashboard),
        Arc::new(activities::Activities),
        Arc::new(inbox::Inbox),
        Arc::new(shop::Shop),
        Arc::new(org::Organisation),
    ]
}

/// Starts every projection on `store` (inside `timebank serve`): catches up, then follows.
pub async fn start(store: Store) -> Projections {
    start_with(store, Options::default()).await
}

/// [`start`] with options.
pub async fn start_with(store: Store, options: Options) -> Projections {
    Projections::start_with(store, all(), options).await
}

/// Rebuilds one projection by name, or all of them, from position 0 (`timebank rebuild`);
/// returns the position the swapped-in tables are at.
pub async fn rebuild(
    store: &Store,
    name: Option<&str>,
    progress: Option<ProgressFn<'_>>,
) -> Result<u64> {
    runner::rebuild_with(store, &all(), name, rebuild::REBUILD_BATCH, progress).await
}
