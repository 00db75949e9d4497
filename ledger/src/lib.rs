//! # ledger: timebank's source of truth
//!
//! Every volunteer action is an append-only event; nothing is updated or deleted.
//!
//! Module map:
//! - [`store`]: the event store (append with expected version, group commit, reads,
//!   live head), on SQLite and PostgreSQL, plus personal data and command records kept
//!   beside the log.
//! - [`testing`]: fresh stores for tests on each backend.
//! - [`amount`]: exact amounts, points in hundredths and hours in minutes.
//! - [`ids`]: typed UUID ids and stream names.
//! - [`event`]: the domain events, their schema versions and upcasting.
//! - [`domain`]: pure decide/evolve per aggregate (community, volunteer, wish, stairwell).
//! - [`command`]: commands, actors and authorization, and the idempotent command handler.
//! - [`demo`]: a deterministic, realistic community history generated through commands.

pub mod actor;
pub mod amount;
pub mod command;
pub mod demo;
pub mod domain;
pub mod event;
pub mod ids;
pub mod store;
#[doc(hidden)]
pub mod testing;

pub use store::Store;
