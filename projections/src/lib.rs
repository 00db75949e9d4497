//! # projections: timebank's read models, built from the event log
//!
//! Module map:
//! - [`projection`]: the [`Projection`] trait and a projection's in-memory [`State`],
//!   decoded [`Envelope`]s (read in pages straight from the log's table), table
//!   definitions (live and shadow names) and checkpoints (`projection_checkpoints`).
//! - [`runner`]: the runner (catch-up in batches, then follow the head; leadership per
//!   projection on PostgreSQL; fault injection) and the [`Projections`] handle with
//!   read-your-writes ([`Projections::wait_for`]).
//! - [`rebuild`]: replay from 0 into shadow tables and swap them in atomically. The
//!   projections fold the whole log in memory (bounded: changes are written in bulk
//!   when they grow, and states forgotten and read back when they grow too large),
//!   while a reader task decodes the next page; secondary indexes come after the load.
//! - [`alloc`]: the allocator setting a rebuild runs with (freed memory returned
//!   promptly, so that resident memory follows what the rebuild holds).
//! - [`db`]: portable SQL on SQLite and PostgreSQL (values, rows, bulk upserts and
//!   reads by key).
//! - [`common`]: periods (UTC+8), amounts at the query edge, rows held by a fold
//!   ([`common::Cached`]), a volunteer's attribution at the time of an event.
//! - Read models, one module each, each with pure folds, its state (load, fold, flush)
//!   and its queries: [`balances`], [`statement`], [`rankings`], [`stairwells`]
//!   (文明楼道), [`wishes`] (小心愿), [`dashboard`]. A batch applied incrementally is the
//!   same state loaded for the batch's keys, folded and flushed in one transaction.

pub mod alloc;
pub mod balances;
pub mod common;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod projection;
pub mod rankings;
pub mod rebuild;
pub mod runner;
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
