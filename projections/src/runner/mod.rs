//! The runner: catches every projection up from its checkpoint in batches, then follows
//! the log's head; leadership on PostgreSQL; the [`Projections`] handle with
//! read-your-writes.
//!
//! - Each batch is read once, decoded once and offered to every projection this process
//!   leads, all in one transaction (one commit, one fsync on SQLite, per batch): each
//!   projection applies its part and locks, checks and advances its own checkpoint in
//!   it. A crash anywhere before the commit leaves the rows and the checkpoints as they
//!   were.
//! - On PostgreSQL each projection is led by the one process holding a session-level
//!   advisory lock (`pg_try_advisory_lock`) on a dedicated connection; the leader writes
//!   through that very connection, so if the connection dies the lock and the writes go
//!   together. Other processes retry the lock periodically (taking over when the leader
//!   dies) and follow the checkpoints to serve read-your-writes.
//! - A projection without a checkpoint, or whose checkpoint has another version, is
//!   rebuilt (shadow tables, atomic swap) when its leader takes it.
//!
//! - `task`: the runner task: a slot per projection, the write connection, the loop.
//! - `handle`: the [`Projections`] handle (positions, read-your-writes, rebuilds, shutdown)
//!   and rebuilds without a runner.

mod handle;
mod replica;
mod task;

pub use handle::{rebuild_with, Projections};

use crate::rebuild::{Limits, REBUILD_BATCH};
use std::sync::Arc;
use std::time::Duration;

/// Called after a batch has been applied and before its checkpoint is written and
/// committed, with the projection's name and the batch's last position; returning
/// `true` makes the runner stop right there, as if the process had crashed.
pub type FaultHook = Arc<dyn Fn(&str, u64) -> bool + Send + Sync>;

/// How the runner works.
#[derive(Clone)]
pub struct Options {
    /// Events per transaction when catching up.
    pub batch_size: u32,
    /// Events per transaction when rebuilding.
    pub rebuild_batch_size: u32,
    /// Memory bounds when rebuilding.
    pub rebuild_limits: Limits,
    /// How often to retry leadership and, when idle, re-read followed checkpoints.
    pub poll_interval: Duration,
    /// Fault injection for crash tests.
    pub fault: Option<FaultHook>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 5_000,
            rebuild_batch_size: REBUILD_BATCH,
            rebuild_limits: Limits::default(),
            poll_interval: Duration::from_millis(250),
            fault: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("batch_size", &self.batch_size)
            .field("rebuild_batch_size", &self.rebuild_batch_size)
            .field("rebuild_limits", &self.rebuild_limits)
            .field("poll_interval", &self.poll_interval)
            .field("fault", &self.fault.is_some())
            .finish()
    }
}

/// A stable 64-bit key for a projection's advisory lock (FNV-1a).
pub fn leadership_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "timebank.projection.".bytes().chain(name.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}
