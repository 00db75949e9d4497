//! Pinning and the scan of the log.
//!
//! A document is computed at a position `P`: the `at` the caller asked for, or the head
//! of the log when it asked for none. [`scan`] then visits every event with position
//! `1..=P` in order, in batches of [`BATCH_SIZE`] ([`Store::read_all`]), reading the next
//! batch from the database while the caller folds the current one.
//!
//! [`scan_community`] does the same for the events of one community and of the types a
//! fold needs only, already decoded (and upcast). It reads the event table through the
//! store's pool with the `(community_id, position)` index and only the columns a fold
//! needs (not the metadata), in windows of positions read and decoded concurrently ahead
//! of the fold. That is several times faster than `read_all` and skips other communities
//! entirely (a street or district database holds many).
//!
//! Files:
//! - `community`: [`scan_community`], the windows of one community's events read ahead;
//! - `decode`: from a stored row's text to an event (straight decoders for the most
//!   frequent types, upcasting for the others).

mod community;
mod decode;

pub use community::{scan_community, CommunityEvent, READ_AHEAD, WINDOW};

use crate::error::ReportError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::store::{RecordedEvent, Store};

/// Events per read of the log.
pub const BATCH_SIZE: u32 = 10_000;

/// The position a document is pinned to: `at`, or the head when `None`. A position
/// beyond the head is refused (it would not be reproducible).
pub async fn pin(store: &Store, at: Option<u64>) -> Result<u64, ReportError> {
    let head = store.head().await?;
    match at {
        Some(at) if at > head => Err(ReportError::PositionBeyondHead { at, head }),
        Some(at) => Ok(at),
        None => Ok(head),
    }
}

/// When the event at `position` was recorded (`None` for position 0).
pub async fn recorded_at(
    store: &Store,
    position: u64,
) -> Result<Option<DateTime<Utc>>, ReportError> {
    if position == 0 {
        return Ok(None);
    }
    let events = store.read_all(position - 1, 1).await?;
    Ok(events
        .into_iter()
        .find(|e| e.position == position)
        .map(|e| e.recorded_at))
}

/// The next events after `after`, up to `upto` and at most [`BATCH_SIZE`] of them.
async fn read_batch(
    store: Store,
    after: u64,
    upto: u64,
) -> Result<Vec<RecordedEvent>, ReportError> {
    if after >= upto {
        return Ok(Vec::new());
    }
    let limit = u32::try_from(upto - after)
        .unwrap_or(u32::MAX)
        .min(BATCH_SIZE);
    let mut events = store.read_all(after, limit).await?;
    events.retain(|e| e.position <= upto);
    Ok(events)
}

/// The read-ahead loop shared by the scans.
async fn run_scan<R, F>(
    store: &Store,
    upto: u64,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
    reader: R,
    mut visit: F,
) -> Result<Option<DateTime<Utc>>, ReportError>
where
    R: Fn(Store, u64) -> BoxFuture<'static, Result<Vec<RecordedEvent>, ReportError>>,
    F: FnMut(&RecordedEvent) -> Result<(), ReportError>,
{
    let mut as_of = None;
    let mut pending = Some(tokio::spawn(reader(store.clone(), 0)));
    while let Some(task) = pending.take() {
        let batch = task.await.map_err(|e| ReportError::Task(e.to_string()))??;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        if last < upto {
            // Read ahead while this batch is folded.
            pending = Some(tokio::spawn(reader(store.clone(), last)));
        }
        for event in &batch {
            visit(event)?;
        }
        if last == upto {
            as_of = batch.last().map(|e| e.recorded_at);
        }
        progress(last, upto);
    }
    progress(upto, upto);
    Ok(as_of)
}

/// Visits every event with position `1..=upto`, in order. `progress(done, total)` is
/// called after each batch with the last position visited and `upto`. Returns when the
/// event at `upto` was recorded (`None` when `upto` is 0).
pub async fn scan<F>(
    store: &Store,
    upto: u64,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
    visit: F,
) -> Result<Option<DateTime<Utc>>, ReportError>
where
    F: FnMut(&RecordedEvent) -> Result<(), ReportError>,
{
    let reader = move |store: Store,
                       after: u64|
          -> BoxFuture<'static, Result<Vec<RecordedEvent>, ReportError>> {
        Box::pin(read_batch(store, after, upto))
    };
    run_scan(store, upto, progress, reader, visit).await
}
