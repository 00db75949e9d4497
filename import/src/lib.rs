//! # import: a community's sheets into timebank
//!
//! A community that starts with timebank arrives with an Excel sheet (or a CSV saved
//! from one) of hundreds of volunteers. This crate reads it with maintained libraries
//! (calamine for XLSX, csv for CSV), checks every row before anything is written, and
//! registers the valid rows through the command layer, one command per row (so each
//! row is atomic, checked by the same rules as a registration at the desk, and
//! idempotent: its key is derived from the community and the row's content, so running
//! the same file again, or again after a run was killed, adds nothing).
//!
//! ## Crate map
//! - [`sheet`]: a sheet as read (headers and rows with their row numbers in the file),
//!   and the rejected rows written back in the same format with a 错误原因 column.
//! - [`roster`]: the roster's columns, found by their Chinese headers (order free, extra
//!   columns ignored, other headers mapped by the caller), and each row's check: pure,
//!   against the community's state.
//! - [`run`]: a dry run or a real run against a [`ledger::command::CommandHandler`],
//!   with the answer per row and progress.
//! - [`history`]: the history sheet (历史服务记录): its columns and each row's own check
//!   (day, kind, hours); [`history_run`]: whose each row is, the community's rules, and
//!   the run, one batch per file, each row its own idempotent command.
//!
//! ## To add an import
//! A module like [`roster`] or [`history`] (its columns and its pure row check into a
//! command), and a run like [`run`] or [`history_run`] that checks the whole sheet
//! first and then runs the commands.

pub mod history;
pub mod history_run;
pub mod roster;
pub mod run;
pub mod sheet;

pub use history_run::{batch_of, import_history};
pub use roster::{Columns, RowCheck};
pub use run::{import_roster, Outcome, RowResult, RowStatus};
pub use sheet::{Format, Sheet};

/// Why a sheet could not be imported at all (as opposed to a row being rejected).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{0}")]
    Columns(String),
    #[error(transparent)]
    Command(#[from] ledger::command::CommandError),
}
