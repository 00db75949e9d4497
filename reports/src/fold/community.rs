//! The scan of one community's events: the `(community_id, position)` index, only the
//! types a fold reads and the columns it needs, in windows of positions read and decoded
//! on other tasks ahead of the fold (packed into one row per window on SQLite).

use super::decode::{decode_text, parse_time};
use super::read_batch;
use crate::error::ReportError;
use chrono::{DateTime, Utc};
use ledger::event::Event;
use ledger::store::Store;
use sqlx::Row;
use std::collections::VecDeque;
use std::sync::Arc;
use uuid::Uuid;

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

/// Separates the fields of a packed column (ASCII RS: never in a stored id, time or type,
/// and escaped inside JSON strings, so never in a payload's text).
const RS: char = '\u{1e}';

fn packed_mismatch(from: u64, to: u64) -> ReportError {
    ReportError::Decode(ledger::event::DecodeError {
        position: from + 1,
        event_type: String::new(),
        schema_version: 0,
        reason: format!(
            "the packed columns of positions {}..={to} disagree",
            from + 1
        ),
    })
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
        // The window travels as one row of columns packed by `group_concat` (one value
        // per column for the whole window, fields separated by RS): sqlx copies every
        // value of every row and hands each row across threads, which costs more than
        // reading and decoding the events. The positions are checked on the way.
        let sql = format!(
            "SELECT count(*), group_concat(position), group_concat(schema_version),
                    group_concat(event_type, char(30)), group_concat(stream_id, char(30)),
                    group_concat(recorded_at, char(30)), group_concat(payload, char(30))
             FROM (SELECT position, schema_version, event_type, stream_id, recorded_at, payload
                   FROM events WHERE community_id = ?1 AND position > ?2 AND position <= ?3
                   AND event_type IN ({type_list}) ORDER BY position)"
        );
        let row = sqlx::query(&sql)
            .bind(community.to_string())
            .bind(from_i)
            .bind(to_i)
            .fetch_one(pool)
            .await?;
        let count = usize::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0);
        if count == 0 {
            return Ok(Vec::new());
        }
        let column = |i: usize| -> Result<&str, ReportError> {
            Ok(row.try_get::<Option<&str>, _>(i)?.unwrap_or_default())
        };
        let mut positions = column(1)?.split(',');
        let mut versions = column(2)?.split(',');
        let mut types = column(3)?.split(RS);
        let mut streams = column(4)?.split(RS);
        let mut times = column(5)?.split(RS);
        let mut payloads = column(6)?.split(RS);
        let mut out = Vec::with_capacity(count);
        let mut last = from;
        for _ in 0..count {
            let (
                Some(position),
                Some(version),
                Some(event_type),
                Some(stream_id),
                Some(time),
                Some(payload),
            ) = (
                positions.next(),
                versions.next(),
                types.next(),
                streams.next(),
                times.next(),
                payloads.next(),
            )
            else {
                return Err(packed_mismatch(from, to));
            };
            let position: u64 = position.parse().map_err(|_| packed_mismatch(from, to))?;
            if position <= last || position > to {
                return Err(packed_mismatch(from, to));
            }
            last = position;
            let schema_version: u32 = version.parse().map_err(|_| packed_mismatch(from, to))?;
            out.push(CommunityEvent {
                position,
                stream_id: stream_id.to_string(),
                recorded_at: parse_time(position, time)?,
                event: decode_text(to_i64(position)?, event_type, schema_version, payload)?,
            });
        }
        if positions.next().is_some()
            || versions.next().is_some()
            || types.next().is_some()
            || streams.next().is_some()
            || times.next().is_some()
            || payloads.next().is_some()
        {
            return Err(packed_mismatch(from, to));
        }
        Ok(out)
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
