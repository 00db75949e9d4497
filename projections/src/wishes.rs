//! The wish board (小心愿): every wish with its status, claimer, the times it was
//! posted, claimed, fulfilled, confirmed or cancelled, and the time it took to be
//! claimed (posted → last claim) and fulfilled (posted → fulfilled).
//!
//! Status: `open` (posted or released), `claimed`, `fulfilled` (reported by the claimer,
//! awaiting staff), `confirmed`, `cancelled`.

use crate::common::{from_millis, hours_dec, millis};
use crate::db::{Db, OnConflict, Row, Tx, Upsert, Val};
use crate::error::{ProjectionError, Result};
use crate::projection::{Envelope, Names, Projection, TableDef};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{CommunityId, StairwellId, StreamKind, VolunteerId, WishId};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub const NAME: &str = "wishes";

const TABLES: &[TableDef] = &[TableDef {
    name: "pj_wishes",
    columns: "wish_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, stairwell_id TEXT NOT NULL,
        category TEXT NOT NULL, description TEXT NOT NULL, resident_label TEXT NOT NULL, status TEXT NOT NULL,
        claimer TEXT, posted_at BIGINT NOT NULL, claimed_at BIGINT, fulfilled_at BIGINT, confirmed_at BIGINT,
        cancelled_at BIGINT, minutes BIGINT, position BIGINT NOT NULL",
    indexes: &["(community_id, status, posted_at)"],
}];

const COLS: &[&str] = &[
    "wish_id",
    "community_id",
    "stairwell_id",
    "category",
    "description",
    "resident_label",
    "status",
    "claimer",
    "posted_at",
    "claimed_at",
    "fulfilled_at",
    "confirmed_at",
    "cancelled_at",
    "minutes",
    "position",
];

/// A wish as folded, times in epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WishRow {
    pub community_id: Uuid,
    pub stairwell_id: Uuid,
    pub category: String,
    pub description: String,
    pub resident_label: String,
    pub status: String,
    pub claimer: Option<Uuid>,
    pub posted_at: i64,
    pub claimed_at: Option<i64>,
    pub fulfilled_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub minutes: Option<i64>,
    pub position: u64,
}

/// Folds one wish-stream event.
pub fn evolve(w: &mut Option<WishRow>, ev: &Envelope) {
    let at = millis(ev.recorded_at);
    if let Event::WishPosted {
        community_id,
        stairwell_id,
        category,
        description,
        resident_label,
        ..
    } = &ev.event
    {
        *w = Some(WishRow {
            community_id: community_id.0,
            stairwell_id: stairwell_id.0,
            category: category.clone(),
            description: description.clone(),
            resident_label: resident_label.clone(),
            status: "open".into(),
            posted_at: at,
            position: ev.position,
            ..WishRow::default()
        });
        return;
    }
    let Some(w) = w else { return };
    match &ev.event {
        Event::WishClaimed { volunteer_id } => {
            w.status = "claimed".into();
            w.claimer = Some(volunteer_id.0);
            w.claimed_at = Some(at);
        }
        Event::WishReleased { .. } => {
            w.status = "open".into();
            w.claimer = None;
            w.claimed_at = None;
        }
        Event::WishFulfilled {
            hours,
            fulfilled_at,
            ..
        } => {
            w.status = "fulfilled".into();
            w.fulfilled_at = Some(millis(*fulfilled_at));
            w.minutes = Some(hours.minutes());
        }
        Event::WishConfirmed { .. } => {
            w.status = "confirmed".into();
            w.confirmed_at = Some(at);
        }
        Event::WishCancelled { .. } => {
            w.status = "cancelled".into();
            w.cancelled_at = Some(at);
        }
        _ => return,
    }
    w.position = ev.position;
}

fn parse(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(NAME, e))
}

const SELECT: &str =
    "wish_id, community_id, stairwell_id, category, description, resident_label, status, claimer,
    posted_at, claimed_at, fulfilled_at, confirmed_at, cancelled_at, minutes, position";

fn from_row(r: &Row) -> Result<(Uuid, WishRow)> {
    Ok((
        parse(&r.text(0)?)?,
        WishRow {
            community_id: parse(&r.text(1)?)?,
            stairwell_id: parse(&r.text(2)?)?,
            category: r.text(3)?,
            description: r.text(4)?,
            resident_label: r.text(5)?,
            status: r.text(6)?,
            claimer: r.opt_text(7)?.map(|s| parse(&s)).transpose()?,
            posted_at: r.int(8)?,
            claimed_at: r.opt_int(9)?,
            fulfilled_at: r.opt_int(10)?,
            confirmed_at: r.opt_int(11)?,
            cancelled_at: r.opt_int(12)?,
            minutes: r.opt_int(13)?,
            position: r.int(14)? as u64,
        },
    ))
}

/// The wish board projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Wishes;

impl Projection for Wishes {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        1
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply(tx, names, events))
    }
}

async fn apply(tx: &mut Tx<'_>, names: &Names, events: &[Envelope]) -> Result<()> {
    let t = names.t("pj_wishes");
    let ids: HashSet<String> = events
        .iter()
        .filter_map(|e| e.stream_of(StreamKind::Wish))
        .map(|w| w.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = ids.into_iter().collect();
    let mut wishes: HashMap<Uuid, Option<WishRow>> = HashMap::new();
    for r in tx.select_in(&t, SELECT, "wish_id", &keys).await? {
        let (id, w) = from_row(&r)?;
        wishes.insert(id, Some(w));
    }
    for ev in events {
        if let Some(id) = ev.stream_of(StreamKind::Wish) {
            evolve(wishes.entry(id).or_default(), ev);
        }
    }
    let opt = |v: Option<i64>| Val::Int(v);
    let rows: Vec<Vec<Val>> = wishes
        .into_iter()
        .filter_map(|(id, w)| w.map(|w| (id, w)))
        .map(|(id, w)| {
            vec![
                Val::from(id.to_string()),
                Val::from(w.community_id.to_string()),
                Val::from(w.stairwell_id.to_string()),
                Val::from(w.category),
                Val::from(w.description),
                Val::from(w.resident_label),
                Val::from(w.status),
                Val::from(w.claimer.map(|c| c.to_string())),
                w.posted_at.into(),
                opt(w.claimed_at),
                opt(w.fulfilled_at),
                opt(w.confirmed_at),
                opt(w.cancelled_at),
                opt(w.minutes),
                (w.position as i64).into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &t,
            cols: COLS,
            key: &["wish_id"],
            on_conflict: OnConflict::Replace,
        },
        rows,
    )
    .await
}

/// A wish on the board.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wish {
    pub wish_id: WishId,
    pub community_id: CommunityId,
    pub stairwell_id: StairwellId,
    pub category: String,
    pub description: String,
    pub resident_label: String,
    /// open, claimed, fulfilled, confirmed, cancelled.
    pub status: String,
    pub claimer: Option<VolunteerId>,
    pub posted_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub hours: Option<Decimal>,
    /// Seconds from posted to (last) claimed.
    pub seconds_to_claim: Option<i64>,
    /// Seconds from posted to fulfilled.
    pub seconds_to_fulfil: Option<i64>,
    pub position: u64,
}

fn to_wish(id: Uuid, w: WishRow) -> Wish {
    Wish {
        wish_id: WishId(id),
        community_id: CommunityId(w.community_id),
        stairwell_id: StairwellId(w.stairwell_id),
        category: w.category,
        description: w.description,
        resident_label: w.resident_label,
        status: w.status,
        claimer: w.claimer.map(VolunteerId),
        posted_at: from_millis(w.posted_at),
        claimed_at: w.claimed_at.map(from_millis),
        fulfilled_at: w.fulfilled_at.map(from_millis),
        confirmed_at: w.confirmed_at.map(from_millis),
        cancelled_at: w.cancelled_at.map(from_millis),
        hours: w.minutes.map(hours_dec),
        seconds_to_claim: w.claimed_at.map(|c| (c - w.posted_at) / 1000),
        seconds_to_fulfil: w.fulfilled_at.map(|f| (f - w.posted_at) / 1000),
        position: w.position,
    }
}

/// One wish.
pub async fn wish(db: &Db, id: WishId) -> Result<Option<Wish>> {
    let row = db
        .fetch_optional(
            &format!("SELECT {SELECT} FROM pj_wishes WHERE wish_id = ?"),
            &[Val::from(id.0.to_string())],
        )
        .await?;
    row.map(|r| from_row(&r).map(|(id, w)| to_wish(id, w)))
        .transpose()
}

/// A community's wishes, optionally of one status, newest first, at most `limit`
/// (capped at 500) posted before `before` (a cursor: the last wish's `posted_at`).
pub async fn wishes(
    db: &Db,
    community: CommunityId,
    status: Option<&str>,
    before: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Vec<Wish>> {
    let mut sql =
        format!("SELECT {SELECT} FROM pj_wishes WHERE community_id = ? AND posted_at < ?");
    let mut vals = vec![
        Val::from(community.0.to_string()),
        Val::from(before.map(millis).unwrap_or(i64::MAX)),
    ];
    if let Some(s) = status {
        sql.push_str(" AND status = ?");
        vals.push(Val::from(s));
    }
    sql.push_str(" ORDER BY posted_at DESC, wish_id DESC LIMIT ?");
    vals.push(Val::from(limit.clamp(1, 500) as i64));
    db.fetch(&sql, &vals)
        .await?
        .iter()
        .map(|r| from_row(r).map(|(id, w)| to_wish(id, w)))
        .collect()
}

/// Number of a community's wishes per status.
pub async fn wish_counts(db: &Db, community: CommunityId) -> Result<Vec<(String, u64)>> {
    db.fetch(
        "SELECT status, COUNT(*) FROM pj_wishes WHERE community_id = ? GROUP BY status ORDER BY status",
        &[Val::from(community.0.to_string())],
    )
    .await?
    .iter()
    .map(|r| Ok((r.text(0)?, r.int(1)? as u64)))
    .collect()
}
