//! Reading a statement: a page of lines by cursor, oldest or newest first.

use super::NAME;
use crate::common::{from_millis, hours_dec, points_dec, uuid_of};
use crate::db::{Db, Val};
use crate::error::Result;
use chrono::{DateTime, Utc};
use ledger::ids::{EntryId, VolunteerId};
use rust_decimal::Decimal;
use uuid::Uuid;

/// One line of a statement, in exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementEntry {
    /// The cursor: 1 for the account's first entry.
    pub seq: u64,
    /// The event that wrote the entry.
    pub position: u64,
    pub event_id: Uuid,
    pub entry_id: EntryId,
    /// service_verified, points_awarded, points_redeemed, points_refunded, entry_reversed, hours_gifted,
    /// hours_received, hours_spent, points_expired, points_left (points that stayed with
    /// a community moved away from).
    pub kind: String,
    pub points_delta: Decimal,
    pub hours_delta: Decimal,
    pub points_balance: Decimal,
    pub hours_balance: Decimal,
    /// For a reversal: the entry it reverses.
    pub reverses: Option<EntryId>,
    /// For a reversed entry: the reversal.
    pub reversed_by: Option<EntryId>,
    pub recorded_at: DateTime<Utc>,
    /// The service (kind, place, note, （活动签到）/（补录）), reason, item,
    /// description or counterparty.
    pub detail: String,
}

/// A page of a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementPage {
    pub entries: Vec<StatementEntry>,
    /// Pass as `after` (or `before` when newest first) for the next page.
    pub next_cursor: Option<u64>,
}

/// Which way a statement is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    OldestFirst,
    NewestFirst,
}

/// A page of a volunteer's statement: entries after the cursor (oldest first) or before
/// it (newest first), at most `limit` (capped at 500).
pub async fn statement(
    db: &Db,
    volunteer: VolunteerId,
    cursor: Option<u64>,
    limit: u32,
    order: Order,
) -> Result<StatementPage> {
    let limit = limit.clamp(1, 500) as i64;
    let (cond, ord, cur) = match order {
        Order::OldestFirst => ("s.seq > ?", "ASC", cursor.unwrap_or(0) as i64),
        Order::NewestFirst => (
            "s.seq < ?",
            "DESC",
            cursor.map(|c| c as i64).unwrap_or(i64::MAX),
        ),
    };
    let rows = db
        .fetch(
            &format!(
                "SELECT s.seq, s.position, s.event_id, s.entry_id, s.kind, s.points_delta, s.minutes_delta,
                        s.points_balance, s.minutes_balance, s.reverses, s.recorded_at, s.detail,
                        (SELECT r.entry_id FROM pj_statement r WHERE r.reverses = s.entry_id LIMIT 1)
                 FROM pj_statement s WHERE s.volunteer_id = ? AND {cond}
                 ORDER BY s.seq {ord} LIMIT ?"
            ),
            &[Val::from(volunteer.0.to_string()), cur.into(), (limit + 1).into()],
        )
        .await?;
    let parse = |s: String| uuid_of(NAME, &s);
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows.iter().take(limit as usize) {
        entries.push(StatementEntry {
            seq: r.int(0)? as u64,
            position: r.int(1)? as u64,
            event_id: parse(r.text(2)?)?,
            entry_id: EntryId(parse(r.text(3)?)?),
            kind: r.text(4)?,
            points_delta: points_dec(r.int(5)?),
            hours_delta: hours_dec(r.int(6)?),
            points_balance: points_dec(r.int(7)?),
            hours_balance: hours_dec(r.int(8)?),
            reverses: r.opt_text(9)?.map(parse).transpose()?.map(EntryId),
            recorded_at: from_millis(r.int(10)?),
            detail: r.text(11)?,
            reversed_by: r.opt_text(12)?.map(parse).transpose()?.map(EntryId),
        });
    }
    let next_cursor = if rows.len() as i64 > limit {
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(StatementPage {
        entries,
        next_cursor,
    })
}

/// Where and when an entry of a volunteer's statement was written: its log position and
/// time, and what the line says; none if the account has no such entry.
pub async fn entry_written(
    db: &Db,
    volunteer: VolunteerId,
    entry: EntryId,
) -> Result<Option<(u64, DateTime<Utc>, String)>> {
    let row = db
        .fetch_optional(
            "SELECT position, recorded_at, detail FROM pj_statement WHERE volunteer_id = ? AND entry_id = ?",
            &[
                Val::from(volunteer.0.to_string()),
                Val::from(entry.0.to_string()),
            ],
        )
        .await?;
    row.map(|r| Ok((r.int(0)? as u64, from_millis(r.int(1)?), r.text(2)?)))
        .transpose()
}
