//! The wish board (小心愿): every wish with its status, claimer, the times it was
//! posted, claimed, fulfilled, confirmed or cancelled, and the time it took to be
//! claimed (posted → last claim) and fulfilled (posted → fulfilled).
//!
//! Status: `open` (posted or released), `claimed`, `fulfilled` (reported by the claimer,
//! awaiting staff), `confirmed`, `cancelled`.

use crate::common::{from_millis, hours_dec, key_strings, millis, Cached};
use crate::db::{Db, Kind, OnConflict, Row, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::domain::wish::WishStage;
use ledger::event::Event;
use ledger::ids::{CommunityId, StairwellId, StreamKind, VolunteerId, WishId};
use rust_decimal::Decimal;
use std::collections::HashSet;
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
            status: WishStage::Open.as_str().into(),
            posted_at: at,
            position: ev.position,
            ..WishRow::default()
        });
        return;
    }
    let Some(w) = w else { return };
    match &ev.event {
        Event::WishClaimed { volunteer_id } => {
            w.status = WishStage::Claimed.as_str().into();
            w.claimer = Some(volunteer_id.0);
            w.claimed_at = Some(at);
        }
        Event::WishReleased { .. } => {
            w.status = WishStage::Open.as_str().into();
            w.claimer = None;
            w.claimed_at = None;
        }
        Event::WishFulfilled {
            hours,
            fulfilled_at,
            ..
        } => {
            w.status = WishStage::Fulfilled.as_str().into();
            w.fulfilled_at = Some(millis(*fulfilled_at));
            w.minutes = Some(hours.minutes());
        }
        Event::WishConfirmed { .. } => {
            w.status = WishStage::Confirmed.as_str().into();
            w.confirmed_at = Some(at);
        }
        Event::WishCancelled { .. } => {
            w.status = WishStage::Cancelled.as_str().into();
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
        2
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
        Box::pin(apply_with_state(
            Box::new(WishState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(WishState::new(fresh)))
    }
}

/// The wishes in memory.
struct WishState {
    fresh: bool,
    wishes: Cached<Uuid, WishRow>,
}

impl WishState {
    fn new(fresh: bool) -> WishState {
        WishState {
            fresh,
            wishes: Cached::default(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let ids: HashSet<Uuid> = events
            .iter()
            .filter_map(|e| e.stream_of(StreamKind::Wish))
            .filter(|w| !self.wishes.contains(w))
            .collect();
        for r in tx
            .select_in(&names.t("pj_wishes"), SELECT, "wish_id", &key_strings(&ids))
            .await?
        {
            let (id, w) = from_row(&r)?;
            self.wishes.loaded(id, w);
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            let Some(id) = ev.stream_of(StreamKind::Wish) else {
                continue;
            };
            match self.wishes.get_mut(&id) {
                Some(w) => {
                    let mut o = Some(std::mem::take(w));
                    evolve(&mut o, ev);
                    if let Some(o) = o {
                        *w = o;
                    }
                }
                None => {
                    let mut o = None;
                    evolve(&mut o, ev);
                    if let Some(o) = o {
                        self.wishes.insert(id, o);
                    }
                }
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let opt = |v: Option<i64>| Val::Int(v);
        let mut kinds = vec![Kind::Text; 8];
        kinds.extend([Kind::Int; 7]);
        let t = names.t("pj_wishes");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: COLS,
                key: &["wish_id"],
                on_conflict: OnConflict::Replace,
            },
            &kinds,
        );
        for (id, wish) in self.wishes.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(wish.community_id.to_string()),
                Val::from(wish.stairwell_id.to_string()),
                Val::from(wish.category.clone()),
                Val::from(wish.description.clone()),
                Val::from(wish.resident_label.clone()),
                Val::from(wish.status.clone()),
                Val::from(wish.claimer.map(|c| c.to_string())),
                wish.posted_at.into(),
                opt(wish.claimed_at),
                opt(wish.fulfilled_at),
                opt(wish.confirmed_at),
                opt(wish.cancelled_at),
                opt(wish.minutes),
                (wish.position as i64).into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

impl State for WishState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        self.fold_events(events);
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        0
    }
    fn held(&self) -> usize {
        // Category, description, label and status.
        self.wishes.bytes(160)
    }
    fn evict(&mut self) {
        self.wishes.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
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
