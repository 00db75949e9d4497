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

use crate::error::ReportError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::event::{current_schema_version, Event};
use ledger::store::{RecordedEvent, Store};
use sqlx::Row;
use std::collections::VecDeque;
use std::sync::Arc;
use uuid::Uuid;

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

/// Positions per window of [`scan_community`].
pub const WINDOW: u64 = 20_000;
/// Windows read and decoded concurrently, ahead of the fold.
pub const READ_AHEAD: usize = 3;

/// An event of a community, as [`scan_community`] yields it (decoded, upcast).
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityEvent {
    pub position: u64,
    pub stream_id: String,
    pub recorded_at: DateTime<Utc>,
    pub event: Event,
}

/// Decodes a stored payload: straight from the text when it is of the current schema
/// version (payloads carry their `type`), otherwise through [`Event::decode_parts`]
/// (upcasting).
fn decode_text(
    position: i64,
    event_type: &str,
    schema_version: u32,
    payload: &str,
) -> Result<Event, ReportError> {
    let fail = |reason: String| {
        ReportError::Decode(ledger::event::DecodeError {
            position: u64::try_from(position).unwrap_or(0),
            event_type: event_type.to_string(),
            schema_version,
            reason,
        })
    };
    if schema_version == current_schema_version(event_type) {
        if let Ok(event) = serde_json::from_str::<Event>(payload) {
            if event.event_type() == event_type {
                return Ok(event);
            }
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| fail(e.to_string()))?;
    Event::decode_parts(event_type, schema_version, value).map_err(fail)
}

/// Events of one community with position in `from+1..=to` and one of `types`.
async fn read_window(
    store: Store,
    community: Uuid,
    types: Arc<[&'static str]>,
    from: u64,
    to: u64,
) -> Result<Vec<CommunityEvent>, ReportError> {
    let (from_i, to_i) = (to_i64(from)?, to_i64(to)?);
    let type_list = types
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",");
    let decode_row = |position: i64,
                      stream_id: String,
                      event_type: String,
                      schema_version: i64,
                      payload: &str,
                      recorded_at: DateTime<Utc>|
     -> Result<CommunityEvent, ReportError> {
        let schema_version = u32::try_from(schema_version).unwrap_or(u32::MAX);
        Ok(CommunityEvent {
            position: u64::try_from(position).unwrap_or(0),
            stream_id,
            recorded_at,
            event: decode_text(position, &event_type, schema_version, payload)?,
        })
    };
    if let Some(pool) = store.sqlite_pool() {
        let sql = format!(
            "SELECT position, stream_id, event_type, schema_version, payload, recorded_at
             FROM events WHERE community_id = ?1 AND position > ?2 AND position <= ?3
             AND event_type IN ({type_list}) ORDER BY position"
        );
        let rows = sqlx::query(&sql)
            .bind(community.to_string())
            .bind(from_i)
            .bind(to_i)
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| {
                decode_row(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get::<&str, _>(4)?,
                    r.try_get(5)?,
                )
            })
            .collect()
    } else if let Some(pool) = store.postgres_pool() {
        let sql = format!(
            "SELECT position, stream_id, event_type, schema_version, payload::text, recorded_at
             FROM events WHERE community_id = $1 AND position > $2 AND position <= $3
             AND event_type IN ({type_list}) ORDER BY position"
        );
        let rows = sqlx::query(&sql)
            .bind(community)
            .bind(from_i)
            .bind(to_i)
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| {
                decode_row(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    i64::from(r.try_get::<i32, _>(3)?),
                    r.try_get::<&str, _>(4)?,
                    r.try_get(5)?,
                )
            })
            .collect()
    } else {
        // Not reachable today (every store has one of the pools): read the whole log.
        let mut out = Vec::new();
        let mut after = from;
        while after < to {
            let batch = read_batch(store.clone(), after, to).await?;
            let Some(last) = batch.last().map(|e| e.position) else {
                break;
            };
            after = last;
            for e in batch {
                if e.community_id == Some(community) && types.contains(&e.event_type.as_str()) {
                    out.push(CommunityEvent {
                        position: e.position,
                        event: Event::decode(&e)?,
                        stream_id: e.stream_id,
                        recorded_at: e.recorded_at,
                    });
                }
            }
        }
        Ok(out)
    }
}

fn to_i64(p: u64) -> Result<i64, ReportError> {
    i64::try_from(p).map_err(|_| ReportError::InvalidInput(format!("position {p} is out of range")))
}

/// Visits the events of `community` whose type is one of `types` with position
/// `1..=upto`, decoded and in order. The log is read in windows of [`WINDOW`]
/// positions, [`READ_AHEAD`] windows at a time (read and decoded on other tasks while
/// the caller folds). `progress(done, total)` is called after each window.
pub async fn scan_community<F>(
    store: &Store,
    community: Uuid,
    types: &[&'static str],
    upto: u64,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
    mut visit: F,
) -> Result<(), ReportError>
where
    F: FnMut(CommunityEvent) -> Result<(), ReportError>,
{
    let types: Arc<[&'static str]> = types.into();
    let mut windows =
        (0..upto.div_ceil(WINDOW)).map(|i| (i * WINDOW, ((i + 1) * WINDOW).min(upto)));
    let mut pending = VecDeque::new();
    let spawn = |(from, to): (u64, u64)| {
        (
            to,
            tokio::spawn(read_window(
                store.clone(),
                community,
                types.clone(),
                from,
                to,
            )),
        )
    };
    pending.extend(windows.by_ref().take(READ_AHEAD).map(spawn));
    while let Some((to, task)) = pending.pop_front() {
        let events = task.await.map_err(|e| ReportError::Task(e.to_string()))??;
        pending.extend(windows.next().map(spawn));
        for event in events {
            visit(event)?;
        }
        progress(to, upto);
    }
    progress(upto, upto);
    Ok(())
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
