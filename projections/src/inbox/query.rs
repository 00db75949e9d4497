//! What the API reads of the inbox: a volunteer's messages newest first (paged by
//! position), how many came after the position they last read, and a community's
//! latest messages of some kinds (the hall's recent awards).

use super::{Kind, Message, NAME};
use crate::db::{Db, Row, Val};
use crate::error::{ProjectionError, Result};
use ledger::ids::{CommunityId, VolunteerId};
use uuid::Uuid;

const SELECT: &str = "volunteer_id, position, community_id, kind, subject, minutes, hundredths, \
                      detail, other, until_at, at";

fn parse(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(NAME, e))
}

fn from_row(r: &Row) -> Result<Message> {
    let kind = r.text(3)?;
    Ok(Message {
        volunteer: parse(&r.text(0)?)?,
        position: r.int(1)? as u64,
        community: parse(&r.text(2)?)?,
        kind: Kind::parse(&kind).ok_or_else(|| ProjectionError::corrupt(NAME, kind))?,
        subject: r.text(4)?,
        minutes: r.opt_int(5)?,
        hundredths: r.opt_int(6)?,
        detail: r.text(7)?,
        other: r.opt_text(8)?.map(|o| parse(&o)).transpose()?,
        until: r.opt_int(9)?,
        at: r.int(10)?,
    })
}

/// A volunteer's messages before position `before` (all when `None`), newest first, at
/// most `limit` (capped at 200).
pub async fn messages(
    db: &Db,
    volunteer: VolunteerId,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<Message>> {
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_inbox WHERE volunteer_id = ? AND position < ? \
                 ORDER BY position DESC LIMIT ?"
            ),
            &[
                Val::from(volunteer.0.to_string()),
                Val::from(before.map_or(i64::MAX, |b| b as i64)),
                Val::from(limit.clamp(1, 200) as i64),
            ],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many of a volunteer's messages are after position `seen`.
pub async fn unread(db: &Db, volunteer: VolunteerId, seen: u64) -> Result<u64> {
    let r = db
        .fetch_optional(
            "SELECT COUNT(*) FROM pj_inbox WHERE volunteer_id = ? AND position > ?",
            &[Val::from(volunteer.0.to_string()), Val::from(seen as i64)],
        )
        .await?;
    Ok(match r {
        Some(r) => r.int(0)? as u64,
        None => 0,
    })
}

/// The position of a volunteer's newest message (0 for none).
pub async fn newest(db: &Db, volunteer: VolunteerId) -> Result<u64> {
    let r = db
        .fetch_optional(
            "SELECT MAX(position) FROM pj_inbox WHERE volunteer_id = ?",
            &[Val::from(volunteer.0.to_string())],
        )
        .await?;
    Ok(match r {
        Some(r) => r.opt_int(0)?.unwrap_or(0) as u64,
        None => 0,
    })
}

/// A community's newest messages of `kinds`, newest first, at most `limit` (capped at
/// 50).
pub async fn recent(
    db: &Db,
    community: CommunityId,
    kinds: &[Kind],
    limit: u32,
) -> Result<Vec<Message>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; kinds.len()].join(", ");
    let mut vals = vec![Val::from(community.0.to_string())];
    vals.extend(kinds.iter().map(|k| Val::from(k.as_str())));
    vals.push(Val::from(limit.clamp(1, 50) as i64));
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_inbox WHERE community_id = ? AND kind IN ({marks}) \
                 ORDER BY position DESC LIMIT ?"
            ),
            &vals,
        )
        .await?;
    rows.iter().map(from_row).collect()
}
