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
        if let Some(Ok(event)) = fast::decode(event_type, payload) {
            return Ok(event);
        }
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

/// A stored `recorded_at` (RFC 3339 as the store writes it; the other forms SQLite
/// stores dates in are accepted too, as UTC).
fn parse_time(position: u64, text: &str) -> Result<DateTime<Utc>, ReportError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = text.parse::<DateTime<Utc>>() {
        return Ok(t);
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    Err(ReportError::Decode(ledger::event::DecodeError {
        position,
        event_type: String::new(),
        schema_version: 0,
        reason: format!("recorded_at {text:?} is not a time"),
    }))
}

/// Straight decoders for the most frequent event types of the current schema version.
/// `Event` is internally tagged, so serde buffers every payload into a tree before it
/// reads the variant; these read the variant's fields directly (the stored `type` is
/// ignored: the event type column decides, as in [`Event::decode_parts`]). Each builds
/// its variant with every field, so a change to a variant fails to compile here.
mod fast {
    use chrono::{DateTime, Utc};
    use ledger::amount::{Hours, Points};
    use ledger::event::{Event, ServiceKind};
    use ledger::ids::CommunityId;
    use ledger::ids::{EntryId, ServiceId, StairwellId, VolunteerId, WishId};
    use serde::Deserialize;
    use uuid::Uuid;

    #[derive(Deserialize)]
    struct ServiceLogged {
        service_id: ServiceId,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: Hours,
        place: String,
        note: String,
        logged_by: Uuid,
    }

    #[derive(Deserialize)]
    struct ServiceVerified {
        service_id: ServiceId,
        entry_id: EntryId,
        hours: Hours,
        points: Points,
        rule_version: u32,
        verified_by: Uuid,
    }

    #[derive(Deserialize)]
    struct PointsAwarded {
        entry_id: EntryId,
        points: Points,
        reason: String,
        awarded_by: Uuid,
    }

    #[derive(Deserialize)]
    struct PointsRedeemed {
        entry_id: EntryId,
        points: Points,
        item: String,
        redeemed_by: Uuid,
    }

    #[derive(Deserialize)]
    struct WishPosted {
        wish_id: WishId,
        community_id: CommunityId,
        stairwell_id: StairwellId,
        category: String,
        description: String,
        resident_label: String,
        posted_by: Uuid,
    }

    #[derive(Deserialize)]
    struct WishFulfilled {
        volunteer_id: VolunteerId,
        hours: Hours,
        note: String,
        fulfilled_at: DateTime<Utc>,
    }

    #[derive(Deserialize)]
    struct WishConfirmed {
        confirmed_by: Uuid,
        service_id: ServiceId,
    }

    /// `None` when the type has no straight decoder.
    pub(super) fn decode(event_type: &str, payload: &str) -> Option<serde_json::Result<Event>> {
        let event = match event_type {
            "ServiceLogged" => {
                serde_json::from_str(payload).map(|e: ServiceLogged| Event::ServiceLogged {
                    service_id: e.service_id,
                    kind: e.kind,
                    started_at: e.started_at,
                    hours: e.hours,
                    place: e.place,
                    note: e.note,
                    logged_by: e.logged_by,
                })
            }
            "ServiceVerified" => {
                serde_json::from_str(payload).map(|e: ServiceVerified| Event::ServiceVerified {
                    service_id: e.service_id,
                    entry_id: e.entry_id,
                    hours: e.hours,
                    points: e.points,
                    rule_version: e.rule_version,
                    verified_by: e.verified_by,
                })
            }
            "PointsAwarded" => {
                serde_json::from_str(payload).map(|e: PointsAwarded| Event::PointsAwarded {
                    entry_id: e.entry_id,
                    points: e.points,
                    reason: e.reason,
                    awarded_by: e.awarded_by,
                })
            }
            "PointsRedeemed" => {
                serde_json::from_str(payload).map(|e: PointsRedeemed| Event::PointsRedeemed {
                    entry_id: e.entry_id,
                    points: e.points,
                    item: e.item,
                    redeemed_by: e.redeemed_by,
                })
            }
            "WishPosted" => serde_json::from_str(payload).map(|e: WishPosted| Event::WishPosted {
                wish_id: e.wish_id,
                community_id: e.community_id,
                stairwell_id: e.stairwell_id,
                category: e.category,
                description: e.description,
                resident_label: e.resident_label,
                posted_by: e.posted_by,
            }),
            "WishFulfilled" => {
                serde_json::from_str(payload).map(|e: WishFulfilled| Event::WishFulfilled {
                    volunteer_id: e.volunteer_id,
                    hours: e.hours,
                    note: e.note,
                    fulfilled_at: e.fulfilled_at,
                })
            }
            "WishConfirmed" => {
                serde_json::from_str(payload).map(|e: WishConfirmed| Event::WishConfirmed {
                    confirmed_by: e.confirmed_by,
                    service_id: e.service_id,
                })
            }
            _ => return None,
        };
        Some(event)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::amount::{Hours, Points};
    use ledger::event::ServiceKind;
    use ledger::ids::*;

    fn id() -> Uuid {
        Uuid::new_v4()
    }

    /// The straight decoders read what serde reads, and say when they have none.
    #[test]
    fn fast_decoders_agree_with_serde() {
        let at = "2024-03-01T08:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let events = [
            Event::ServiceLogged {
                service_id: ServiceId(id()),
                kind: ServiceKind::ElderlyVisit,
                started_at: at,
                hours: Hours::from_minutes(90),
                place: "老年食堂 \"东\"".into(),
                note: "a\nb".into(),
                logged_by: id(),
            },
            Event::ServiceVerified {
                service_id: ServiceId(id()),
                entry_id: EntryId(id()),
                hours: Hours::from_minutes(45),
                points: Points::from_hundredths(975),
                rule_version: 2,
                verified_by: id(),
            },
            Event::PointsAwarded {
                entry_id: EntryId(id()),
                points: Points::from_hundredths(500),
                reason: "表彰".into(),
                awarded_by: id(),
            },
            Event::PointsRedeemed {
                entry_id: EntryId(id()),
                points: Points::from_hundredths(-200),
                item: "米".into(),
                redeemed_by: id(),
            },
            Event::WishPosted {
                wish_id: WishId(id()),
                community_id: CommunityId(id()),
                stairwell_id: StairwellId(id()),
                category: "c".into(),
                description: "d".into(),
                resident_label: "r".into(),
                posted_by: id(),
            },
            Event::WishFulfilled {
                volunteer_id: VolunteerId(id()),
                hours: Hours::from_minutes(60),
                note: String::new(),
                fulfilled_at: at,
            },
            Event::WishConfirmed {
                confirmed_by: id(),
                service_id: ServiceId(id()),
            },
        ];
        for event in events {
            let text = serde_json::to_string(&event).unwrap();
            let fast = fast::decode(event.event_type(), &text).unwrap().unwrap();
            assert_eq!(fast, event);
            let decoded = decode_text(1, event.event_type(), event.schema_version(), &text);
            assert_eq!(decoded.unwrap(), event);
        }
        let other = Event::TeamJoined {
            team_id: TeamId(id()),
        };
        assert!(fast::decode("TeamJoined", &serde_json::to_string(&other).unwrap()).is_none());
        // A payload the straight decoder refuses still goes the general way.
        assert!(fast::decode("ServiceVerified", "{}").unwrap().is_err());
    }

    #[test]
    fn recorded_at_forms() {
        let want = "2026-11-22T07:48:20.095984127Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        for text in [
            "2026-11-22T07:48:20.095984127+00:00",
            "2026-11-22 07:48:20.095984127+00:00",
            "2026-11-22 07:48:20.095984127",
            "2026-11-22T15:48:20.095984127+08:00",
        ] {
            assert_eq!(parse_time(1, text).unwrap(), want, "{text}");
        }
        assert!(parse_time(1, "yesterday").is_err());
    }
}
