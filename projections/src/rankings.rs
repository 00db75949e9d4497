//! Rankings (排行榜) by points or by hours, for all time, a year, a quarter or a month,
//! scoped to a community, a grid, a team or a tag: dense ranks (ties share a rank, the
//! next value takes the next rank), ties broken by volunteer number for display.
//!
//! History keeps its shape: each entry is counted in the scopes (community, grid, teams,
//! tags) the volunteer had at the time — for a service, when it was logged; for an
//! award, when it was awarded — and in the periods of its day (a service's day is its
//! start, an award's day when it was recorded, both in UTC+8). A reversal removes the
//! reversed entry from the very cells the entry was counted in. Ranked by points: points
//! earned (verified services and awards, net of reversals; redemptions do not lower a
//! rank). Ranked by hours: verified service hours net of reversals. Only volunteers
//! with a positive value in the cell are ranked.

use crate::common::EntryMemo;
use crate::common::{
    day_key, hours_dec, local_date, map_bytes, parse_day, points_dec, uuid_col, Attribution,
    Cached, FxMap, FxSet, Period,
};
use crate::db::{Db, Kind, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{
    apply_with_state, read_streams, Envelope, Names, Projection, State, TableDef,
};
use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{CommunityId, GridId, StreamKind, TeamId, VolunteerId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

pub const NAME: &str = "rankings";

/// Cells are keyed by small numbers: periods and scopes by their id in
/// `pj_rank_keys`, volunteers by their number in `pj_rank_volunteers` (both given in
/// order of first appearance in the log, so a rebuild gives the same numbers). A
/// ranking reads one (period, scope) range of `pj_rank_cells` (clustered by that key)
/// through an index by value, points or hours: the top N is the first N entries of the
/// index, and one volunteer's rank counts the distinct values above theirs, without
/// sorting the range (a community of 50,000 volunteers would otherwise sort 50,000
/// cells per query).
const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_rank_cells",
        columns: "period BIGINT NOT NULL, scope BIGINT NOT NULL, vol BIGINT NOT NULL,
            points BIGINT NOT NULL, minutes BIGINT NOT NULL, PRIMARY KEY (period, scope, vol)",
        indexes: &["(period, scope, points)", "(period, scope, minutes)"],
    },
    TableDef {
        name: "pj_rank_keys",
        columns: "k TEXT NOT NULL PRIMARY KEY, id BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_rank_volunteers",
        columns: "vol BIGINT NOT NULL PRIMARY KEY, volunteer_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            attribution TEXT NOT NULL, scopes TEXT NOT NULL",
        indexes: &["(volunteer_id)"],
    },
    TableDef {
        name: "pj_rank_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, vol BIGINT NOT NULL, day BIGINT NOT NULL, scopes TEXT NOT NULL",
        indexes: &[],
    },
];

/// The scope keys of an attribution.
pub fn scopes_of(a: &Attribution) -> Vec<String> {
    let mut s = vec![
        Scope::Community(CommunityId(a.community)).key(),
        Scope::Grid(GridId(a.grid)).key(),
    ];
    s.extend(a.teams.iter().map(|t| Scope::Team(TeamId(*t)).key()));
    s.extend(
        a.tags
            .iter()
            .map(|t| Scope::Tag(CommunityId(a.community), t.clone()).key()),
    );
    s.sort();
    s.dedup();
    s
}

/// What a ranking is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Community(CommunityId),
    Grid(GridId),
    Team(TeamId),
    /// A tag (党员, 五老, 青年…) within a community.
    Tag(CommunityId, String),
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Scope::Community(c) => format!("c:{c}"),
            Scope::Grid(g) => format!("g:{g}"),
            Scope::Team(t) => format!("t:{t}"),
            Scope::Tag(c, tag) => format!("tag:{c}:{tag}"),
        }
    }
}

/// What a ranking orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    Points,
    Hours,
}

/// The rankings projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rankings;

impl Projection for Rankings {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        3
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
            Box::new(RankState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(RankState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_rank_activity",
            "pj_rank_kv_volunteers",
            "pj_rank_kv_services",
            "pj_rank_kv_entries",
            "pj_rank_entries",
        ]
    }
}

/// Ids of the scopes of one attribution, shared by the entries counted under it.
type Scopes = Arc<[i64]>;

/// A volunteer as the rankings know them.
#[derive(Debug, Clone)]
struct Vol {
    vol: i64,
    attribution: Attribution,
    scopes: Scopes,
}

/// Where an entry counts: the volunteer, the day (its periods) and the scopes.
#[derive(Debug, Clone)]
struct Snap {
    vol: i64,
    day: NaiveDate,
    scopes: Scopes,
}

/// Cell deltas of one period, keyed by `scope << 32 | volunteer`: kept sorted and
/// unique, with the latest deltas in a buffer merged in when it grows. Compact (16 bytes
/// a cell, no hash table) and already in key order when written. A cell whose value
/// leaves the range of `i32` (21 million points, 35 million hours) moves to `wide`.
#[derive(Debug, Default)]
struct PeriodCells {
    sorted: Vec<(u64, i32, i32)>,
    buffer: Vec<(u64, i64, i64)>,
    wide: FxMap<u64, (i64, i64)>,
}

impl PeriodCells {
    fn add(&mut self, key: u64, points: i64, minutes: i64) {
        self.buffer.push((key, points, minutes));
        if self.buffer.len() >= (self.sorted.len() / 4).max(4096) {
            self.merge();
        }
    }

    fn merge(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        self.buffer.sort_unstable_by_key(|c| c.0);
        let mut merged: Vec<(u64, i32, i32)> =
            Vec::with_capacity(self.sorted.len() + self.buffer.len());
        let mut old = self.sorted.iter().peekable();
        let mut new = self.buffer.iter().peekable();
        while let Some(&&(k, p, m)) = new.peek() {
            // Cells without news first, as they are.
            while let Some(&&c) = old.peek() {
                if c.0 >= k {
                    break;
                }
                merged.push(c);
                old.next();
            }
            // Every delta of this cell, added to its value.
            let (mut points, mut minutes) = (p, m);
            new.next();
            while let Some(&&(k2, p2, m2)) = new.peek() {
                if k2 != k {
                    break;
                }
                points += p2;
                minutes += m2;
                new.next();
            }
            if let Some(&&(k0, p0, m0)) = old.peek() {
                if k0 == k {
                    points += i64::from(p0);
                    minutes += i64::from(m0);
                    old.next();
                }
            }
            if let Some(w) = self.wide.get_mut(&k) {
                w.0 += points;
                w.1 += minutes;
                continue;
            }
            match (i32::try_from(points), i32::try_from(minutes)) {
                (Ok(p), Ok(m)) => merged.push((k, p, m)),
                _ => {
                    self.wide.insert(k, (points, minutes));
                }
            }
        }
        merged.extend(old.copied());
        self.sorted = merged;
        self.buffer.clear();
    }

    fn bytes(&self) -> usize {
        self.sorted.capacity() * std::mem::size_of::<(u64, i32, i32)>()
            + self.buffer.capacity() * std::mem::size_of::<(u64, i64, i64)>()
            + map_bytes(&self.wide, 0)
    }

    /// Every cell, in key order.
    fn take(mut self) -> Vec<(u64, i64, i64)> {
        self.merge();
        let mut out: Vec<(u64, i64, i64)> = self
            .sorted
            .iter()
            .map(|&(k, p, m)| (k, i64::from(p), i64::from(m)))
            .collect();
        if !self.wide.is_empty() {
            out.extend(self.wide.iter().map(|(k, (p, m))| (*k, *p, *m)));
            out.sort_unstable_by_key(|c| c.0);
        }
        out
    }
}

/// The rankings' rows in memory.
///
/// A service's snapshot is kept (and stored) from its logging to its verification or
/// rejection, which happens once. An entry's snapshot is kept in memory only, for a
/// reversal: when it is not in memory (a later batch, or after an eviction), it is
/// recomputed from the volunteer's stream, which holds both the entry and its reversal.
struct RankState {
    /// Nothing is stored that is not in memory (a rebuild before any eviction).
    fresh: bool,
    vols: Cached<Uuid, Vol>,
    services: Cached<Uuid, Snap>,
    entries: EntryMemo<Snap>,
    /// The key dictionary (periods and scopes), never evicted.
    keys: Cached<String, i64>,
    /// Next key id and volunteer number, once known.
    next: Option<(i64, i64)>,
    /// Cell deltas by period id.
    cells: FxMap<u32, PeriodCells>,
    /// Period ids of a day.
    days: FxMap<NaiveDate, [u32; 4]>,
}

fn snap_of(v: &Vol, day: NaiveDate) -> Snap {
    Snap {
        vol: v.vol,
        day,
        scopes: v.scopes.clone(),
    }
}

fn encode_ids(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 6);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s
}

fn decode_ids(s: &str) -> Result<Scopes> {
    if s.is_empty() {
        return Ok(Arc::from(Vec::new()));
    }
    s.split(',')
        .map(|x| {
            x.parse::<i64>()
                .map_err(|e| ProjectionError::corrupt(NAME, format!("scope ids {s:?}: {e}")))
        })
        .collect::<Result<Vec<i64>>>()
        .map(Arc::from)
}

fn day_of(n: i64) -> Result<NaiveDate> {
    i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| ProjectionError::corrupt(NAME, format!("day {n}")))
}

fn small(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| ProjectionError::corrupt(NAME, format!("id {id} out of range")))
}

/// An entry's snapshot as found in its volunteer's history: the day and the scope keys.
struct Found {
    vol: Uuid,
    day: NaiveDate,
    scopes: Vec<String>,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`RankState::fold_events`]).
fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, Found> {
    let mut attributions: FxMap<Uuid, Attribution> = FxMap::default();
    let mut services: FxMap<Uuid, (NaiveDate, Vec<String>)> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            e if Attribution::is_attribution_event(e) => {
                let mut a = attributions.remove(&v);
                Attribution::evolve(&mut a, e);
                if let Some(a) = a {
                    attributions.insert(v, a);
                }
            }
            Event::ServiceLogged {
                service_id,
                started_at,
                ..
            } => {
                if let Some(a) = attributions.get(&v) {
                    services.insert(service_id.0, (local_date(*started_at), scopes_of(a)));
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                ..
            } => {
                let snap = services.remove(&service_id.0).or_else(|| {
                    attributions
                        .get(&v)
                        .map(|a| (local_date(ev.recorded_at), scopes_of(a)))
                });
                if let (Some((day, scopes)), true) = (snap, wanted.contains(&entry_id.0)) {
                    found.insert(
                        entry_id.0,
                        Found {
                            vol: v,
                            day,
                            scopes,
                        },
                    );
                }
            }
            Event::ServiceRejected { service_id, .. } => {
                services.remove(&service_id.0);
            }
            Event::PointsAwarded { entry_id, .. } => {
                if let (Some(a), true) = (attributions.get(&v), wanted.contains(&entry_id.0)) {
                    found.insert(
                        entry_id.0,
                        Found {
                            vol: v,
                            day: local_date(ev.recorded_at),
                            scopes: scopes_of(a),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    found
}

impl RankState {
    fn new(fresh: bool) -> RankState {
        RankState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            keys: Cached::default(),
            next: if fresh { Some((1, 1)) } else { None },
            cells: FxMap::default(),
            days: FxMap::default(),
        }
    }

    /// The id of a period or scope key, given on first use.
    fn key_id(&mut self, k: String) -> Result<i64> {
        if let Some(id) = self.keys.get(&k) {
            return Ok(*id);
        }
        let next = self
            .next
            .as_mut()
            .ok_or_else(|| ProjectionError::corrupt(NAME, "key ids not loaded"))?;
        let id = next.0;
        next.0 += 1;
        self.keys.insert(k, id);
        Ok(id)
    }

    fn scope_ids(&mut self, scopes: Vec<String>) -> Result<Scopes> {
        let ids = scopes
            .into_iter()
            .map(|k| self.key_id(k))
            .collect::<Result<Vec<i64>>>()?;
        Ok(Arc::from(ids))
    }

    fn periods(&mut self, day: NaiveDate) -> Result<[u32; 4]> {
        if let Some(p) = self.days.get(&day) {
            return Ok(*p);
        }
        let mut out = [0u32; 4];
        for (o, p) in out.iter_mut().zip(Period::of_day(day)) {
            *o = small(self.key_id(p.key())?)?;
        }
        self.days.insert(day, out);
        Ok(out)
    }

    fn count(&mut self, snap: &Snap, points: i64, minutes: i64) -> Result<()> {
        let vol = small(snap.vol)? as u64;
        for p in self.periods(snap.day)? {
            let cells = self.cells.entry(p).or_default();
            for s in snap.scopes.iter() {
                cells.add((small(*s)? as u64) << 32 | vol, points, minutes);
            }
        }
        Ok(())
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut vids = FxSet::default();
        let mut sids = FxSet::default();
        let mut eids = FxSet::default();
        let mut created = FxSet::default();
        let mut reversal_streams = FxSet::default();
        let mut days = BTreeSet::new();
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            match &ev.event {
                e if Attribution::is_attribution_event(e) => {
                    vids.insert(v);
                }
                Event::ServiceLogged { started_at, .. } => {
                    vids.insert(v);
                    days.insert(local_date(*started_at));
                }
                Event::PointsAwarded { entry_id, .. } => {
                    vids.insert(v);
                    created.insert(entry_id.0);
                    days.insert(local_date(ev.recorded_at));
                }
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    ..
                } => {
                    vids.insert(v);
                    sids.insert(service_id.0);
                    created.insert(entry_id.0);
                    days.insert(local_date(ev.recorded_at));
                }
                Event::ServiceRejected { service_id, .. } => {
                    sids.insert(service_id.0);
                }
                Event::EntryReversed { reverses, .. }
                    if !created.contains(&reverses.0) && !self.entries.contains(&reverses.0) =>
                {
                    eids.insert(reverses.0);
                    reversal_streams.insert(v);
                }
                _ => {}
            }
        }
        // Entries counted in an earlier batch: from their volunteers' history.
        if self.entries.is_whole() {
            eids.clear();
        }
        let found = if eids.is_empty() {
            FxMap::default()
        } else {
            let streams: Vec<String> = reversal_streams
                .iter()
                .map(|v| ledger::ids::volunteer_stream(VolunteerId(*v)))
                .collect();
            let history = read_streams(tx, &streams).await?;
            find_entries(&history, &eids)
        };
        vids.extend(found.values().map(|f| f.vol));
        vids.retain(|v| !self.vols.contains(v));
        sids.retain(|s| !self.services.contains(s));
        if self.fresh {
            // Nothing is stored that is not in memory.
            vids.clear();
            sids.clear();
        }
        if !vids.is_empty() {
            let keys = crate::common::key_strings(&vids);
            let rows = tx
                .select_in(
                    &names.t("pj_rank_volunteers"),
                    "volunteer_id, vol, attribution, scopes",
                    "volunteer_id",
                    &keys,
                )
                .await?;
            for r in rows {
                let attribution: Attribution = serde_json::from_str(&r.text(2)?)
                    .map_err(|e| ProjectionError::corrupt(NAME, e))?;
                let vol = Vol {
                    vol: r.int(1)?,
                    attribution,
                    scopes: decode_ids(&r.text(3)?)?,
                };
                self.vols.loaded(uuid_col(NAME, &r, 0)?, vol);
            }
        }
        if !sids.is_empty() {
            let keys = crate::common::key_strings(&sids);
            let rows = tx
                .select_in(
                    &names.t("pj_rank_services"),
                    "service_id, vol, day, scopes",
                    "service_id",
                    &keys,
                )
                .await?;
            for r in rows {
                let snap = Snap {
                    vol: r.int(1)?,
                    day: day_of(r.int(2)?)?,
                    scopes: decode_ids(&r.text(3)?)?,
                };
                self.services.loaded(uuid_col(NAME, &r, 0)?, snap);
            }
        }
        // Period keys of every day this batch may count in, and every scope key its
        // attributions may have.
        for ev in events {
            if let Event::ServiceVerified { service_id, .. } = &ev.event {
                if let Some(s) = self.services.get(&service_id.0) {
                    days.insert(s.day);
                }
            }
        }
        days.extend(found.values().map(|f| f.day));
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for d in days {
            if !self.days.contains_key(&d) {
                wanted.extend(Period::of_day(d).iter().map(|p| p.key()));
            }
        }
        for f in found.values() {
            wanted.extend(f.scopes.iter().cloned());
        }
        let mut attributions: FxMap<Uuid, Option<Attribution>> = FxMap::default();
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if Attribution::is_attribution_event(&ev.event) {
                let a = attributions
                    .entry(v)
                    .or_insert_with(|| self.vols.get(&v).map(|x| x.attribution.clone()));
                Attribution::evolve(a, &ev.event);
                if let Some(a) = a {
                    wanted.extend(scopes_of(a));
                }
            }
        }
        wanted.retain(|k| !self.keys.contains(k));
        if !wanted.is_empty() && !self.fresh {
            let keys: Vec<String> = wanted.into_iter().collect();
            for r in tx
                .select_in(&names.t("pj_rank_keys"), "k, id", "k", &keys)
                .await?
            {
                self.keys.loaded(r.text(0)?, r.int(1)?);
            }
        }
        if self.next.is_none() {
            let rows = tx
                .fetch(
                    &format!(
                        "SELECT (SELECT COALESCE(MAX(id), 0) FROM {}), (SELECT COALESCE(MAX(vol), 0) FROM {})",
                        names.t("pj_rank_keys"),
                        names.t("pj_rank_volunteers")
                    ),
                    &[],
                )
                .await?;
            let r = rows
                .first()
                .ok_or_else(|| ProjectionError::corrupt(NAME, "no maxima"))?;
            self.next = Some((r.int(0)? + 1, r.int(1)? + 1));
        }
        for (entry, f) in found {
            let Some(vol) = self.vols.get(&f.vol).map(|x| x.vol) else {
                continue;
            };
            let scopes = self.scope_ids(f.scopes)?;
            self.entries.insert(
                entry,
                Snap {
                    vol,
                    day: f.day,
                    scopes,
                },
            );
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) -> Result<()> {
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            match &ev.event {
                e if Attribution::is_attribution_event(e) => {
                    let mut a = self.vols.get(&v).map(|x| x.attribution.clone());
                    Attribution::evolve(&mut a, e);
                    let Some(a) = a else { continue };
                    let scopes = self.scope_ids(scopes_of(&a))?;
                    match self.vols.get_mut(&v) {
                        Some(x) => {
                            x.attribution = a;
                            if *x.scopes != *scopes {
                                x.scopes = scopes;
                            }
                        }
                        None => {
                            let next = self
                                .next
                                .as_mut()
                                .ok_or_else(|| ProjectionError::corrupt(NAME, "ids not loaded"))?;
                            let vol = next.1;
                            next.1 += 1;
                            self.vols.insert(
                                v,
                                Vol {
                                    vol,
                                    attribution: a,
                                    scopes,
                                },
                            );
                        }
                    }
                }
                Event::ServiceLogged {
                    service_id,
                    started_at,
                    ..
                } => {
                    if let Some(x) = self.vols.get(&v) {
                        let snap = snap_of(x, local_date(*started_at));
                        self.services.insert(service_id.0, snap);
                    }
                }
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    hours,
                    points,
                    ..
                } => {
                    // A service is verified (or rejected) once: its snapshot is done with.
                    let snap = match self.services.remove(&service_id.0) {
                        Some(s) => Some(s),
                        None => self
                            .vols
                            .get(&v)
                            .map(|x| snap_of(x, local_date(ev.recorded_at))),
                    };
                    if let Some(snap) = snap {
                        self.count(&snap, points.hundredths(), hours.minutes())?;
                        self.entries.remember(entry_id.0, snap);
                    }
                }
                Event::ServiceRejected { service_id, .. } => {
                    self.services.remove(&service_id.0);
                }
                Event::PointsAwarded {
                    entry_id, points, ..
                } => {
                    if let Some(x) = self.vols.get(&v) {
                        let snap = snap_of(x, local_date(ev.recorded_at));
                        self.count(&snap, points.hundredths(), 0)?;
                        self.entries.remember(entry_id.0, snap);
                    }
                }
                Event::EntryReversed {
                    reverses,
                    points,
                    hours,
                    ..
                } => {
                    // An entry is reversed once.
                    if let Some(c) = self.entries.remove(&reverses.0) {
                        self.count(&c, -points.hundredths(), -hours.minutes())?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        tx.upsert_each(
            &Upsert {
                table: &names.t("pj_rank_keys"),
                cols: &["k", "id"],
                key: &["k"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Int],
            self.keys
                .take_changed()
                .into_iter()
                .map(|(k, id)| [Val::from(k.as_str()), Val::from(*id)])
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut changed: Vec<(&Uuid, &Vol)> = self.vols.take_changed();
        changed.sort_by_key(|(_, v)| v.vol);
        let t_vols = names.t("pj_rank_volunteers");
        let mut w = Writer::new(
            Upsert {
                table: &t_vols,
                cols: &[
                    "vol",
                    "volunteer_id",
                    "volunteer_number",
                    "attribution",
                    "scopes",
                ],
                key: &["vol"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Int, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, v) in changed {
            let json = serde_json::to_string(&v.attribution)
                .map_err(|e| ProjectionError::corrupt(NAME, e))?;
            let row = [
                Val::from(v.vol),
                Val::from(id.to_string()),
                Val::from(v.attribution.number.clone()),
                Val::from(json),
                Val::from(encode_ids(&v.scopes)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t_svc = names.t("pj_rank_services");
        let gone: Vec<String> = self
            .services
            .take_gone()
            .iter()
            .map(|k| k.to_string())
            .collect();
        tx.delete_in(&t_svc, "service_id", &gone).await?;
        tx.upsert_each(
            &Upsert {
                table: &t_svc,
                cols: &["service_id", "vol", "day", "scopes"],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Int, Kind::Int, Kind::Text],
            self.services
                .take_changed()
                .into_iter()
                .map(|(k, s)| {
                    [
                        Val::from(k.to_string()),
                        Val::from(s.vol),
                        Val::from(s.day.num_days_from_ce() as i64),
                        Val::from(encode_ids(&s.scopes)),
                    ]
                })
                .collect::<Vec<_>>(),
        )
        .await?;
        // Cells, one period at a time, in key order.
        let mut periods: Vec<u32> = self.cells.keys().copied().collect();
        periods.sort_unstable();
        let t_cells = names.t("pj_rank_cells");
        let spec = Upsert {
            table: &t_cells,
            cols: &["period", "scope", "vol", "points", "minutes"],
            key: &["period", "scope", "vol"],
            on_conflict: OnConflict::Add(&["points", "minutes"]),
        };
        for p in periods {
            let Some(cells) = self.cells.remove(&p) else {
                continue;
            };
            tx.upsert_each(
                &spec,
                &[Kind::Int; 5],
                cells.take().into_iter().map(|(k, points, minutes)| {
                    [
                        Val::from(p as i64),
                        Val::from((k >> 32) as i64),
                        Val::from((k & 0xffff_ffff) as i64),
                        Val::from(points),
                        Val::from(minutes),
                    ]
                }),
            )
            .await?;
        }
        self.cells = FxMap::default();
        Ok(())
    }
}

impl State for RankState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        self.fold_events(events)
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        self.cells.values().map(PeriodCells::bytes).sum()
    }
    fn flush_at(&self) -> usize {
        // Cells written more than once cost an upsert each time: keep them long.
        64 << 20
    }
    fn held(&self) -> usize {
        // A volunteer's attribution owns a number, tags, a set of teams and scope ids.
        self.vols.bytes(300) + self.services.bytes(48) + self.entries.bytes() + self.keys.bytes(48)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
        self.shed();
        self.fresh = false;
    }
    fn keep_entries(&mut self, reversed: Arc<FxSet<Uuid>>) {
        self.entries.keep_only(reversed);
    }
    fn shed(&mut self) {
        self.entries.forget();
    }
    fn needs_load(&self) -> bool {
        !self.fresh || !self.entries.is_whole()
    }
}

/// One ranked volunteer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RankEntry {
    /// Dense rank: 1, 1, 2, …
    pub rank: u64,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub points: Decimal,
    pub hours: Decimal,
}

/// The top of a ranking, and one volunteer's own place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ranking {
    pub top: Vec<RankEntry>,
    /// The asked-for volunteer, if ranked in this scope and period.
    pub me: Option<RankEntry>,
}

fn metric_col(m: Metric) -> &'static str {
    match m {
        Metric::Points => "points",
        Metric::Hours => "minutes",
    }
}

fn entry_of_row(r: &crate::db::Row, rank: u64) -> Result<RankEntry> {
    Ok(RankEntry {
        rank,
        volunteer_id: VolunteerId(
            Uuid::parse_str(&r.text(0)?).map_err(|e| ProjectionError::corrupt(NAME, e))?,
        ),
        volunteer_number: r.text(1)?,
        points: points_dec(r.int(2)?),
        hours: hours_dec(r.int(3)?),
    })
}

/// The top `top` (capped at 1,000) of a ranking, and `me`'s own rank.
pub async fn ranking(
    db: &Db,
    scope: &Scope,
    period: Period,
    metric: Metric,
    top: u32,
    me: Option<VolunteerId>,
) -> Result<Ranking> {
    let period = period.validate()?.key();
    let scope = scope.key();
    let col = metric_col(metric);
    let mut ids = (None, None);
    for r in db
        .fetch(
            "SELECT k, id FROM pj_rank_keys WHERE k IN (?, ?)",
            &[Val::from(period.clone()), Val::from(scope.clone())],
        )
        .await?
    {
        let k = r.text(0)?;
        if k == period {
            ids.0 = Some(r.int(1)?);
        }
        if k == scope {
            ids.1 = Some(r.int(1)?);
        }
    }
    let (Some(p), Some(s)) = ids else {
        return Ok(Ranking {
            top: Vec::new(),
            me: None,
        });
    };
    let top = top.min(1000) as i64;
    let mut out = Vec::new();
    if top > 0 {
        // The places shown and everyone tied with the last of them (one scan of the
        // (period, scope) range), then in order with the tie-break.
        let sql = if db.is_postgres() {
            format!(
                "WITH t AS (SELECT vol, points, minutes FROM pj_rank_cells
                     WHERE period = ? AND scope = ? AND {col} > 0
                     ORDER BY {col} DESC FETCH FIRST ? ROWS WITH TIES)
                 SELECT v.volunteer_id, v.volunteer_number, t.points, t.minutes
                 FROM t JOIN pj_rank_volunteers v ON v.vol = t.vol
                 ORDER BY t.{col} DESC, v.volunteer_number ASC, v.volunteer_id ASC LIMIT ?"
            )
        } else {
            format!(
                "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes
                 FROM pj_rank_cells c JOIN pj_rank_volunteers v ON v.vol = c.vol
                 WHERE c.period = ?1 AND c.scope = ?2 AND c.{col} >= (
                     SELECT MIN(x) FROM (SELECT {col} AS x FROM pj_rank_cells
                         WHERE period = ?1 AND scope = ?2 AND {col} > 0 ORDER BY {col} DESC LIMIT ?3) t)
                 ORDER BY c.{col} DESC, v.volunteer_number ASC, v.volunteer_id ASC LIMIT ?3"
            )
        };
        let vals = if db.is_postgres() {
            vec![Val::from(p), Val::from(s), Val::from(top), Val::from(top)]
        } else {
            vec![Val::from(p), Val::from(s), Val::from(top)]
        };
        let rows = db.fetch(&sql, &vals).await?;
        let mut rank = 0u64;
        let mut last: Option<i64> = None;
        let idx = if metric == Metric::Points { 2 } else { 3 };
        for r in &rows {
            let v = r.int(idx)?;
            if last != Some(v) {
                rank += 1;
                last = Some(v);
            }
            out.push(entry_of_row(r, rank)?);
        }
    }
    let me = match me {
        None => None,
        Some(vid) => {
            // The volunteer's cell and how many distinct values are above it. CROSS JOIN
            // keeps SQLite from driving the join by the value index (a scan of the
            // whole range): the volunteer first, then the cell by its key.
            let row = db
                .fetch_optional(
                    &format!(
                        "SELECT v.volunteer_id, v.volunteer_number, c.points, c.minutes,
                            (SELECT COUNT(DISTINCT x.{col}) FROM pj_rank_cells x
                             WHERE x.period = c.period AND x.scope = c.scope AND x.{col} > c.{col})
                         FROM pj_rank_volunteers v CROSS JOIN pj_rank_cells c
                         WHERE c.vol = v.vol AND v.volunteer_id = ? AND c.period = ? AND c.scope = ? AND c.{col} > 0"
                    ),
                    &[Val::from(vid.0.to_string()), Val::from(p), Val::from(s)],
                )
                .await?;
            match row {
                Some(r) => {
                    let above = r.int(4)?;
                    Some(entry_of_row(&r, above as u64 + 1)?)
                }
                None => None,
            }
        }
    };
    Ok(Ranking { top: out, me })
}

/// Parses a stored day (for tests and tools).
pub fn day(s: &str) -> Option<NaiveDate> {
    parse_day(s)
}

/// The day key of a date.
pub fn key_of_day(d: NaiveDate) -> String {
    day_key(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_cells_add_up_in_key_order() {
        let mut c = PeriodCells::default();
        let mut expected: std::collections::BTreeMap<u64, (i64, i64)> = Default::default();
        let mut x = 7u64;
        for i in 0..20_000i64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = (x >> 33) % 3000;
            let (p, m) = (i % 97 - 40, i % 13);
            c.add(key, p, m);
            let e = expected.entry(key).or_default();
            e.0 += p;
            e.1 += m;
        }
        // Values beyond i32 go wide, and come back exact.
        c.add(5, i64::from(i32::MAX), 0);
        c.add(5, 10, 0);
        c.add(u64::MAX, -3_000_000_000, 1);
        let e = expected.entry(5).or_default();
        e.0 += i64::from(i32::MAX) + 10;
        expected.insert(u64::MAX, (-3_000_000_000, 1));
        let got: Vec<(u64, i64, i64)> = c.take();
        let want: Vec<(u64, i64, i64)> =
            expected.into_iter().map(|(k, (p, m))| (k, p, m)).collect();
        assert_eq!(got, want);
    }
}
