//! # ledger: timebank's source of truth
//!
//! Every volunteer action is an append-only event; nothing is updated or deleted.
//!
//! Module map:
//! - [`store`]: the event store (append with expected version, group commit, reads,
//!   live head), on SQLite and PostgreSQL, plus personal data and command records kept
//!   beside the log.
//! - [`testing`]: fresh stores for tests on each backend.

pub mod store;
#[doc(hidden)]
pub mod testing;

pub use store::Store;
