//! Group commit: one writer task per store takes every append waiting in its queue,
//! checks and writes them in one transaction, and answers each on its own.
//!
//! The checks are a pure function, [`plan_batch`], over what the database holds
//! (head, stream versions, stored event ids, stored command keys); the backends only
//! fetch those facts and insert the planned rows. If a batch's transaction fails as a
//! whole, its appends are retried one by one, so one bad append cannot fail the others.
//!
//! A backend that can (PostgreSQL) pipelines: the writer keeps the log's
//! [`Tip`](pipeline::Tip) (its head, the token of the batch that wrote it, and the
//! versions of the streams it has seen, all exactly as of that head), plans the next
//! batch in memory on the tip plus the batches still in flight
//! ([`InFlight::overlay`](pipeline::InFlight::overlay)), and sends it while they commit.
//! Such a plan assumes no event id and no command key of the batch is stored yet; the
//! backend writes it only if the log's head and the token of its last batch are still
//! the ones it was planned on, and a stored id or key (a retry) fails it on a unique
//! index. Either way nothing is written and the batch is planned again, under the append
//! lock, on facts read from the database.
//!
//! Files:
//! - `plan`: the pure check of a batch, [`plan_batch`], on [`Facts`];
//! - `pipeline`: planning ahead on the log's tip and the batches in flight, and moving the
//!   tip on as they commit;
//! - `task`: the writer task itself: the queue, gathering a batch, committing it, retrying
//!   its appends one by one, and the [`Writer`] handle;
//! - this file: what a backend does for the writer ([`BatchSink`]), and what it answers.

mod pipeline;
mod plan;
mod task;

pub(crate) use pipeline::Planned;
pub(crate) use plan::{plan_batch, wanted, Facts, Plan};
pub(crate) use task::Writer;

use super::types::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;
use uuid::Uuid;

/// A batch's transaction, done.
pub(crate) struct Written {
    pub plan: Plan,
    /// Whether it wrote exactly the plan made ahead.
    pub as_planned: bool,
    /// The log's head and the token of its last batch right after this transaction, if
    /// the backend knows them (backends that pipeline).
    pub tip: Option<(u64, Uuid)>,
}

/// What a backend does for the writer: run one batch in one transaction.
pub(crate) trait BatchSink: Send + Sync + 'static {
    /// How many batches may be committing at once (more than one only for a backend
    /// that plans ahead on a [`Tip`](pipeline::Tip) and checks it when it writes).
    fn pipeline_depth(&self) -> usize {
        1
    }

    /// The log's head and the token of the batch that wrote it (called only if
    /// [`BatchSink::pipeline_depth`] is above one).
    fn read_tip(&self) -> impl Future<Output = Result<(u64, Uuid), StoreError>> + Send;

    /// The versions of `streams` as of position `head` (0 for a stream without events
    /// up to there; called only if [`BatchSink::pipeline_depth`] is above one).
    fn stream_versions(
        &self,
        streams: &[String],
        head: u64,
    ) -> impl Future<Output = Result<HashMap<String, u64>, StoreError>> + Send;

    /// Writes a batch in one transaction: the plan made ahead if it still holds,
    /// otherwise reads the facts, plans with [`plan_batch`] and inserts the planned rows.
    /// Returns the plan (with the new head) or an error for the whole batch.
    fn write_batch(
        &self,
        batch: &[AppendRequest],
        ahead: Option<Planned>,
        recorded_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;
}
