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

use crate::common::{
    day_key, hours_dec, local_date, parse_day, points_dec, Attribution, Kv, Period,
};
use crate::db::{Db, OnConflict, Tx, Upsert, Val};
use crate::error::{ProjectionError, Result};
use crate::projection::{kv_table, Envelope, Names, Projection, TableDef};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{CommunityId, GridId, StreamKind, TeamId, VolunteerId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub const NAME: &str = "rankings";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_rank_activity",
        columns: "period TEXT NOT NULL, scope TEXT NOT NULL, volunteer_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            points BIGINT NOT NULL, minutes BIGINT NOT NULL, PRIMARY KEY (period, scope, volunteer_id)",
        indexes: &[
            "(period, scope, points DESC, volunteer_number)",
            "(period, scope, minutes DESC, volunteer_number)",
        ],
    },
    kv_table("pj_rank_kv_volunteers"),
    kv_table("pj_rank_kv_services"),
    kv_table("pj_rank_kv_entries"),
];

/// Where and when an entry counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub day: NaiveDate,
    pub scopes: Vec<String>,
    pub number: String,
}

/// A counted entry, kept so that a reversal can remove it from the same cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub volunteer: Uuid,
    pub snap: Snapshot,
}

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

/// Cell deltas of one batch: (period, scope, volunteer) → (number, points, minutes).
pub type Deltas = HashMap<(String, String, Uuid), (String, i64, i64)>;

pub fn add_cells(deltas: &mut Deltas, volunteer: Uuid, snap: &Snapshot, points: i64, minutes: i64) {
    for p in Period::of_day(snap.day) {
        let pk = p.key();
        for s in &snap.scopes {
            let e = deltas
                .entry((pk.clone(), s.clone(), volunteer))
                .or_insert_with(|| (snap.number.clone(), 0, 0));
            e.1 += points;
            e.2 += minutes;
        }
    }
}

/// The rankings projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rankings;

impl Projection for Rankings {
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
    let t_act = names.t("pj_rank_activity");
    let t_vol = names.t("pj_rank_kv_volunteers");
    let t_svc = names.t("pj_rank_kv_services");
    let t_ent = names.t("pj_rank_kv_entries");
    let mut vids = HashSet::new();
    let mut sids = HashSet::new();
    let mut eids = HashSet::new();
    for ev in events {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            e if Attribution::is_attribution_event(e) => {
                vids.insert(v.to_string());
            }
            Event::ServiceLogged { .. } | Event::PointsAwarded { .. } => {
                vids.insert(v.to_string());
            }
            Event::ServiceVerified { service_id, .. } => {
                vids.insert(v.to_string());
                sids.insert(service_id.0.to_string());
            }
            Event::EntryReversed { reverses, .. } => {
                eids.insert(reverses.0.to_string());
            }
            _ => {}
        }
    }
    if vids.is_empty() && eids.is_empty() {
        return Ok(());
    }
    let mut vols: Kv<Attribution> = Kv::load(tx, &t_vol, &vids).await?;
    let mut svcs: Kv<Snapshot> = Kv::load(tx, &t_svc, &sids).await?;
    let mut ents: Kv<Counted> = Kv::load(tx, &t_ent, &eids).await?;
    let mut deltas: Deltas = HashMap::new();
    for ev in events {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        let vk = v.to_string();
        match &ev.event {
            e if Attribution::is_attribution_event(e) => {
                let mut a = vols.get(&vk).cloned();
                Attribution::evolve(&mut a, e);
                if let Some(a) = a {
                    vols.insert(vk, a);
                }
            }
            Event::ServiceLogged {
                service_id,
                started_at,
                ..
            } => {
                if let Some(a) = vols.get(&vk) {
                    let snap = Snapshot {
                        day: local_date(*started_at),
                        scopes: scopes_of(a),
                        number: a.number.clone(),
                    };
                    svcs.insert(service_id.0.to_string(), snap);
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                let snap = match svcs.get(&service_id.0.to_string()) {
                    Some(s) => Some(s.clone()),
                    None => vols.get(&vk).map(|a| Snapshot {
                        day: local_date(ev.recorded_at),
                        scopes: scopes_of(a),
                        number: a.number.clone(),
                    }),
                };
                if let Some(snap) = snap {
                    add_cells(&mut deltas, v, &snap, points.hundredths(), hours.minutes());
                    ents.insert(entry_id.0.to_string(), Counted { volunteer: v, snap });
                }
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                if let Some(a) = vols.get(&vk) {
                    let snap = Snapshot {
                        day: local_date(ev.recorded_at),
                        scopes: scopes_of(a),
                        number: a.number.clone(),
                    };
                    add_cells(&mut deltas, v, &snap, points.hundredths(), 0);
                    ents.insert(entry_id.0.to_string(), Counted { volunteer: v, snap });
                }
            }
            Event::EntryReversed {
                reverses,
                points,
                hours,
                ..
            } => {
                if let Some(c) = ents.get(&reverses.0.to_string()) {
                    let c = c.clone();
                    add_cells(
                        &mut deltas,
                        c.volunteer,
                        &c.snap,
                        -points.hundredths(),
                        -hours.minutes(),
                    );
                }
            }
            _ => {}
        }
    }
    vols.flush(tx, &t_vol).await?;
    svcs.flush(tx, &t_svc).await?;
    ents.flush(tx, &t_ent).await?;
    let rows: Vec<Vec<Val>> = deltas
        .into_iter()
        .map(|((period, scope, v), (number, p, m))| {
            vec![
                Val::from(period),
                Val::from(scope),
                Val::from(v.to_string()),
                Val::from(number),
                p.into(),
                m.into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &t_act,
            cols: &[
                "period",
                "scope",
                "volunteer_id",
                "volunteer_number",
                "points",
                "minutes",
            ],
            key: &["period", "scope", "volunteer_id"],
            on_conflict: OnConflict::Add(&["points", "minutes"]),
        },
        rows,
    )
    .await
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
    let rows = db
        .fetch(
            &format!(
                "SELECT volunteer_id, volunteer_number, points, minutes FROM pj_rank_activity
                 WHERE period = ? AND scope = ? AND {col} > 0
                 ORDER BY {col} DESC, volunteer_number ASC, volunteer_id ASC LIMIT ?"
            ),
            &[
                Val::from(period.clone()),
                Val::from(scope.clone()),
                Val::from(top.min(1000) as i64),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
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
    let me = match me {
        None => None,
        Some(vid) => {
            let row = db
                .fetch_optional(
                    &format!(
                        "SELECT volunteer_id, volunteer_number, points, minutes, {col} FROM pj_rank_activity
                         WHERE period = ? AND scope = ? AND volunteer_id = ?"
                    ),
                    &[
                        Val::from(period.clone()),
                        Val::from(scope.clone()),
                        Val::from(vid.0.to_string()),
                    ],
                )
                .await?;
            match row {
                Some(r) if r.int(4)? > 0 => {
                    let value = r.int(4)?;
                    let above = db
                        .fetch_optional(
                            &format!(
                                "SELECT COUNT(DISTINCT {col}) FROM pj_rank_activity
                                 WHERE period = ? AND scope = ? AND {col} > ?"
                            ),
                            &[Val::from(period), Val::from(scope), value.into()],
                        )
                        .await?
                        .map(|r| r.int(0))
                        .transpose()?
                        .unwrap_or(0);
                    Some(entry_of_row(&r, above as u64 + 1)?)
                }
                _ => None,
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
