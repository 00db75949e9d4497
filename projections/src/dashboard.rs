//! The community dashboard: active volunteers, volunteers who served, hours and points
//! this month and this year, services by kind, open wishes and wishes in progress, and
//! the current 流动红旗 stairwell (read from [`crate::stairwells`]).
//!
//! Hours and services count verified services by the (UTC+8) month they started;
//! points count verified-service points by that month and awards by the month they were
//! recorded; a reversal removes its entry from the month the entry was counted in.
//! Active volunteers: registered and not departed. Open wishes: posted or released and
//! not claimed; in progress: claimed or fulfilled but not yet confirmed.

use crate::common::EntryMemo;
use crate::common::{
    hours_dec, key_strings, local_date, map_bytes, month_key, month_no, month_text, parse_month,
    points_dec, uuid_col, Attribution, Cached, FxMap, FxSet,
};
use crate::db::{Db, Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{
    apply_with_state, read_streams, Envelope, Names, Projection, State, TableDef,
};
use crate::stairwells::{current_red_flag, StairwellScore};
use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use ledger::event::{Event, ServiceKind};
use ledger::ids::{CommunityId, StreamKind};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

pub const NAME: &str = "dashboard";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_dash_communities",
        columns: "community_id TEXT NOT NULL PRIMARY KEY, active_volunteers BIGINT NOT NULL, open_wishes BIGINT NOT NULL,
            wishes_in_progress BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_months",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, points BIGINT NOT NULL, minutes BIGINT NOT NULL,
            services BIGINT NOT NULL, PRIMARY KEY (community_id, month)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_kinds",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, services BIGINT NOT NULL,
            minutes BIGINT NOT NULL, PRIMARY KEY (community_id, month, kind)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_served",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, volunteer_id TEXT NOT NULL, services BIGINT NOT NULL,
            PRIMARY KEY (community_id, month, volunteer_id)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_volunteers",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, departed BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT,
            volunteer_id TEXT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_wishes",
        columns: "wish_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, bucket TEXT NOT NULL",
        indexes: &[],
    },
];

/// Dashboard bucket of a wish status event.
pub fn wish_bucket(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::WishPosted { .. } | Event::WishReleased { .. } => "open",
        Event::WishClaimed { .. } | Event::WishFulfilled { .. } => "in_progress",
        Event::WishConfirmed { .. } | Event::WishCancelled { .. } => "closed",
        _ => return None,
    })
}

/// Where an entry was counted, compactly: community, month number, kind, volunteer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    community: Uuid,
    month: i32,
    kind: Option<ServiceKind>,
    volunteer: Uuid,
}

#[derive(Default)]
struct Deltas {
    communities: FxMap<Uuid, [i64; 3]>,
    months: FxMap<(Uuid, i32), [i64; 3]>,
    kinds: FxMap<(Uuid, i32, ServiceKind), [i64; 2]>,
    served: FxMap<(Uuid, i32, Uuid), i64>,
}

impl Deltas {
    fn entry(&mut self, at: &At, points: i64, minutes: i64, sign: i64) {
        let m = self.months.entry((at.community, at.month)).or_default();
        m[0] += points;
        m[1] += minutes;
        if let Some(kind) = at.kind {
            m[2] += sign;
            let k = self
                .kinds
                .entry((at.community, at.month, kind))
                .or_default();
            k[0] += sign;
            k[1] += minutes;
            *self
                .served
                .entry((at.community, at.month, at.volunteer))
                .or_default() += sign;
        }
    }
}

/// The dashboard projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Dashboard;

impl Projection for Dashboard {
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
            Box::new(DashState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(DashState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_dash_kv_volunteers",
            "pj_dash_kv_services",
            "pj_dash_kv_entries",
            "pj_dash_kv_wishes",
            "pj_dash_entries",
        ]
    }
}

/// A registered volunteer: community and whether departed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DVol {
    community: Uuid,
    departed: bool,
}

/// Dashboard bucket of a wish: 0 open, 1 in progress, 2 closed.
fn bucket_no(b: &str) -> u8 {
    match b {
        "open" => 0,
        "in_progress" => 1,
        _ => 2,
    }
}

fn bucket_text(b: u8) -> &'static str {
    match b {
        0 => "open",
        1 => "in_progress",
        _ => "closed",
    }
}

fn kind_of(s: &str) -> Option<ServiceKind> {
    ServiceKind::ALL.into_iter().find(|k| k.as_str() == s)
}

/// The dashboard's rows in memory. A service's place is kept (and stored) from its
/// logging to its verification or rejection, which happens once; an entry's place is
/// kept in memory only, for a reversal: when it is not in memory it is recomputed from
/// the volunteer's stream, which holds both the entry and its reversal.
struct DashState {
    fresh: bool,
    vols: Cached<Uuid, DVol>,
    services: Cached<Uuid, At>,
    entries: EntryMemo<At>,
    wishes: Cached<Uuid, (Uuid, u8)>,
    d: Deltas,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`DashState::fold_events`]).
fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, At> {
    let mut communities: FxMap<Uuid, Uuid> = FxMap::default();
    let mut services: FxMap<Uuid, At> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            Event::VolunteerRegistered { community_id, .. } => {
                communities.insert(v, community_id.0);
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                if let Some(c) = communities.get(&v) {
                    let at = At {
                        community: *c,
                        month: month_no(local_date(*started_at)),
                        kind: Some(*kind),
                        volunteer: v,
                    };
                    services.insert(service_id.0, at);
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                ..
            } => {
                if let Some(at) = services.remove(&service_id.0) {
                    if wanted.contains(&entry_id.0) {
                        found.insert(entry_id.0, at);
                    }
                }
            }
            Event::ServiceRejected { service_id, .. } => {
                services.remove(&service_id.0);
            }
            Event::PointsAwarded { entry_id, .. } => {
                if let (Some(c), true) = (communities.get(&v), wanted.contains(&entry_id.0)) {
                    let at = At {
                        community: *c,
                        month: month_no(local_date(ev.recorded_at)),
                        kind: None,
                        volunteer: v,
                    };
                    found.insert(entry_id.0, at);
                }
            }
            _ => {}
        }
    }
    found
}

impl DashState {
    fn new(fresh: bool) -> DashState {
        DashState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            wishes: Cached::default(),
            d: Deltas::default(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let (mut vids, mut sids, mut eids, mut wids) = (
            FxSet::default(),
            FxSet::default(),
            FxSet::default(),
            FxSet::default(),
        );
        let mut created = FxSet::default();
        let mut reversal_streams = FxSet::default();
        for ev in events {
            match (ev.stream_kind, &ev.event) {
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceVerified {
                        service_id,
                        entry_id,
                        ..
                    },
                ) => {
                    sids.insert(service_id.0);
                    created.insert(entry_id.0);
                }
                (Some(StreamKind::Volunteer), Event::ServiceRejected { service_id, .. }) => {
                    sids.insert(service_id.0);
                }
                (Some(StreamKind::Volunteer), Event::EntryReversed { reverses, .. })
                    if !created.contains(&reverses.0) && !self.entries.contains(&reverses.0) =>
                {
                    eids.insert(reverses.0);
                    reversal_streams.insert(ev.stream_id);
                }
                (Some(StreamKind::Volunteer), e)
                    if Attribution::is_attribution_event(e)
                        || matches!(
                            e,
                            Event::ServiceLogged { .. } | Event::PointsAwarded { .. }
                        ) =>
                {
                    vids.insert(ev.stream_id);
                    if let Event::PointsAwarded { entry_id, .. } = e {
                        created.insert(entry_id.0);
                    }
                }
                (Some(StreamKind::Wish), e) if wish_bucket(e).is_some() => {
                    wids.insert(ev.stream_id);
                }
                _ => {}
            }
        }
        if !eids.is_empty() && !self.entries.is_whole() {
            let streams: Vec<String> = reversal_streams
                .iter()
                .map(|v| ledger::ids::volunteer_stream(ledger::ids::VolunteerId(*v)))
                .collect();
            let history = read_streams(tx, &streams).await?;
            self.entries.extend(find_entries(&history, &eids));
        }
        if self.fresh {
            // Nothing is stored that is not in memory.
            return Ok(());
        }
        vids.retain(|v| !self.vols.contains(v));
        sids.retain(|v| !self.services.contains(v));
        wids.retain(|v| !self.wishes.contains(v));
        for r in tx
            .select_in(
                &names.t("pj_dash_volunteers"),
                "volunteer_id, community_id, departed",
                "volunteer_id",
                &key_strings(&vids),
            )
            .await?
        {
            self.vols.loaded(
                uuid_col(NAME, &r, 0)?,
                DVol {
                    community: uuid_col(NAME, &r, 1)?,
                    departed: r.int(2)? != 0,
                },
            );
        }
        for r in tx
            .select_in(
                &names.t("pj_dash_services"),
                "service_id, community_id, month, kind, volunteer_id",
                "service_id",
                &key_strings(&sids),
            )
            .await?
        {
            let month = r.text(2)?;
            let at = At {
                community: uuid_col(NAME, &r, 1)?,
                month: parse_month(&month)
                    .ok_or_else(|| ProjectionError::corrupt(NAME, format!("month {month:?}")))?,
                kind: r.opt_text(3)?.and_then(|k| kind_of(&k)),
                volunteer: uuid_col(NAME, &r, 4)?,
            };
            self.services.loaded(uuid_col(NAME, &r, 0)?, at);
        }
        for r in tx
            .select_in(
                &names.t("pj_dash_wishes"),
                "wish_id, community_id, bucket",
                "wish_id",
                &key_strings(&wids),
            )
            .await?
        {
            self.wishes.loaded(
                uuid_col(NAME, &r, 0)?,
                (uuid_col(NAME, &r, 1)?, bucket_no(&r.text(2)?)),
            );
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        let d = &mut self.d;
        for ev in events {
            let key = ev.stream_id;
            match (ev.stream_kind, &ev.event) {
                (Some(StreamKind::Volunteer), e) if Attribution::is_attribution_event(e) => {
                    let was = self.vols.get(&key).copied();
                    let now = match (e, was) {
                        (Event::VolunteerRegistered { community_id, .. }, _) => Some(DVol {
                            community: community_id.0,
                            departed: false,
                        }),
                        (Event::VolunteerDeparted { .. }, Some(w)) => Some(DVol {
                            departed: true,
                            ..w
                        }),
                        (_, w) => w,
                    };
                    if let Some(now) = now {
                        if let Some(w) = was {
                            if !w.departed {
                                d.communities.entry(w.community).or_default()[0] -= 1;
                            }
                        }
                        if !now.departed {
                            d.communities.entry(now.community).or_default()[0] += 1;
                        }
                        self.vols.insert(key, now);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceLogged {
                        service_id,
                        kind,
                        started_at,
                        ..
                    },
                ) => {
                    if let Some(a) = self.vols.get(&key) {
                        let at = At {
                            community: a.community,
                            month: month_no(local_date(*started_at)),
                            kind: Some(*kind),
                            volunteer: key,
                        };
                        self.services.insert(service_id.0, at);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceVerified {
                        service_id,
                        entry_id,
                        hours,
                        points,
                        ..
                    },
                ) => {
                    // A service is verified (or rejected) once.
                    if let Some(at) = self.services.remove(&service_id.0) {
                        d.entry(&at, points.hundredths(), hours.minutes(), 1);
                        self.entries.remember(entry_id.0, at);
                    }
                }
                (Some(StreamKind::Volunteer), Event::ServiceRejected { service_id, .. }) => {
                    self.services.remove(&service_id.0);
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::PointsAwarded {
                        entry_id, points, ..
                    },
                ) => {
                    if let Some(a) = self.vols.get(&key) {
                        let at = At {
                            community: a.community,
                            month: month_no(local_date(ev.recorded_at)),
                            kind: None,
                            volunteer: key,
                        };
                        d.entry(&at, points.hundredths(), 0, 1);
                        self.entries.remember(entry_id.0, at);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::EntryReversed {
                        reverses,
                        points,
                        hours,
                        ..
                    },
                ) => {
                    // An entry is reversed once.
                    if let Some(at) = self.entries.remove(&reverses.0) {
                        d.entry(&at, -points.hundredths(), -hours.minutes(), -1);
                    }
                }
                (Some(StreamKind::Wish), e) => {
                    let Some(bucket) = wish_bucket(e) else {
                        continue;
                    };
                    let before = self.wishes.get(&key).copied();
                    let community = match (e, before) {
                        (Event::WishPosted { community_id, .. }, _) => community_id.0,
                        (_, Some((c, _))) => c,
                        (_, None) => continue,
                    };
                    let c = d.communities.entry(community).or_default();
                    if let Some((_, b)) = before {
                        if b < 2 {
                            c[b as usize + 1] -= 1;
                        }
                    }
                    let b = bucket_no(bucket);
                    if b < 2 {
                        c[b as usize + 1] += 1;
                    }
                    self.wishes.insert(key, (community, b));
                }
                _ => {}
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_dash_volunteers");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["volunteer_id", "community_id", "departed"],
                key: &["volunteer_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Int],
        );
        for (v, a) in self.vols.take_changed() {
            let row = [
                Val::from(v.to_string()),
                Val::from(a.community.to_string()),
                Val::from(i64::from(a.departed)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t_svc = names.t("pj_dash_services");
        let gone: Vec<String> = self
            .services
            .take_gone()
            .iter()
            .map(|k| k.to_string())
            .collect();
        tx.delete_in(&t_svc, "service_id", &gone).await?;
        let mut w = Writer::new(
            Upsert {
                table: &t_svc,
                cols: &[
                    "service_id",
                    "community_id",
                    "month",
                    "kind",
                    "volunteer_id",
                ],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, at) in self.services.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(at.community.to_string()),
                Val::from(month_text(at.month)),
                Val::from(at.kind.map(|k| k.as_str().to_string())),
                Val::from(at.volunteer.to_string()),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_dash_wishes");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["wish_id", "community_id", "bucket"],
                key: &["wish_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, (c, b)) in self.wishes.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(c.to_string()),
                Val::from(bucket_text(*b)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let d = std::mem::take(&mut self.d);
        let mut list: Vec<_> = d.communities.into_iter().collect();
        list.sort_by_key(|(c, _)| *c);
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Int, Kind::Int]);
        for (c, v) in list {
            rows.push([
                Val::from(c.to_string()),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_dash_communities"),
                cols: &[
                    "community_id",
                    "active_volunteers",
                    "open_wishes",
                    "wishes_in_progress",
                ],
                key: &["community_id"],
                on_conflict: OnConflict::Add(&[
                    "active_volunteers",
                    "open_wishes",
                    "wishes_in_progress",
                ]),
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = d.months.into_iter().collect();
        list.sort_by_key(|(k, _)| *k);
        let mut rows = Rows::new(&[Kind::Text, Kind::Text, Kind::Int, Kind::Int, Kind::Int]);
        for ((c, m), v) in list {
            rows.push([
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_dash_months"),
                cols: &["community_id", "month", "points", "minutes", "services"],
                key: &["community_id", "month"],
                on_conflict: OnConflict::Add(&["points", "minutes", "services"]),
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = d.kinds.into_iter().collect();
        list.sort_by_key(|(k, _)| *k);
        let mut rows = Rows::new(&[Kind::Text, Kind::Text, Kind::Text, Kind::Int, Kind::Int]);
        for ((c, m, k), v) in list {
            rows.push([
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                Val::from(k.as_str()),
                v[0].into(),
                v[1].into(),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_dash_kinds"),
                cols: &["community_id", "month", "kind", "services", "minutes"],
                key: &["community_id", "month", "kind"],
                on_conflict: OnConflict::Add(&["services", "minutes"]),
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = d.served.into_iter().filter(|(_, n)| *n != 0).collect();
        list.sort_unstable_by_key(|(k, _)| *k);
        let t = names.t("pj_dash_served");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["community_id", "month", "volunteer_id", "services"],
                key: &["community_id", "month", "volunteer_id"],
                on_conflict: OnConflict::Add(&["services"]),
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Int],
        );
        for ((c, m, v), n) in list {
            let row = [
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                Val::from(v.to_string()),
                n.into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

impl State for DashState {
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
        map_bytes(&self.d.communities, 0)
            + map_bytes(&self.d.months, 0)
            + map_bytes(&self.d.kinds, 0)
            + map_bytes(&self.d.served, 0)
    }
    fn held(&self) -> usize {
        self.vols.bytes(0) + self.services.bytes(0) + self.entries.bytes() + self.wishes.bytes(0)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
        self.wishes.evict();
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

/// Services of one kind in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: String,
    pub services: u64,
    pub hours: Decimal,
}

/// Totals of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PeriodTotals {
    pub hours: Decimal,
    pub points: Decimal,
    pub services: u64,
    /// Volunteers with a verified service in the period.
    pub volunteers_served: u64,
    pub by_kind: Vec<KindCount>,
}

/// A community's dashboard as of `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityDashboard {
    pub community_id: CommunityId,
    pub active_volunteers: u64,
    pub open_wishes: u64,
    pub wishes_in_progress: u64,
    /// "YYYY-MM" of `today`.
    pub month: String,
    pub this_month: PeriodTotals,
    pub this_year: PeriodTotals,
    /// The red-flag holder of the latest inspected month up to this month.
    pub red_flag: Option<StairwellScore>,
}

async fn totals(db: &Db, community: CommunityId, from: &str, to: &str) -> Result<PeriodTotals> {
    let vals = [
        Val::from(community.0.to_string()),
        Val::from(from.to_string()),
        Val::from(to.to_string()),
    ];
    let mut t = PeriodTotals::default();
    let (mut points, mut minutes) = (0i64, 0i64);
    for r in db
        .fetch(
            "SELECT points, minutes, services FROM pj_dash_months WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        points += r.int(0)?;
        minutes += r.int(1)?;
        t.services += r.int(2)?.max(0) as u64;
    }
    t.points = points_dec(points);
    t.hours = hours_dec(minutes);
    let mut kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in db
        .fetch(
            "SELECT kind, services, minutes FROM pj_dash_kinds WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        let e = kinds.entry(r.text(0)?).or_default();
        e.0 += r.int(1)?;
        e.1 += r.int(2)?;
    }
    t.by_kind = kinds
        .into_iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(kind, (n, m))| KindCount {
            kind,
            services: n as u64,
            hours: hours_dec(m),
        })
        .collect();
    t.volunteers_served = db
        .fetch_optional(
            "SELECT COUNT(DISTINCT volunteer_id) FROM pj_dash_served
             WHERE community_id = ? AND month >= ? AND month <= ? AND services > 0",
            &vals,
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0) as u64;
    Ok(t)
}

/// The dashboard of `community` for the month and year of `today` (UTC+8 calendar).
pub async fn dashboard(
    db: &Db,
    community: CommunityId,
    today: NaiveDate,
) -> Result<CommunityDashboard> {
    let month = month_key(today);
    let year_from = format!("{:04}-01", today.year());
    let year_to = format!("{:04}-12", today.year());
    let row = db
        .fetch_optional(
            "SELECT active_volunteers, open_wishes, wishes_in_progress FROM pj_dash_communities WHERE community_id = ?",
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let (active, open, in_progress) = match row {
        Some(r) => (r.int(0)?, r.int(1)?, r.int(2)?),
        None => (0, 0, 0),
    };
    Ok(CommunityDashboard {
        community_id: community,
        active_volunteers: active.max(0) as u64,
        open_wishes: open.max(0) as u64,
        wishes_in_progress: in_progress.max(0) as u64,
        this_month: totals(db, community, &month, &month).await?,
        this_year: totals(db, community, &year_from, &year_to).await?,
        red_flag: current_red_flag(db, community, &month).await?,
        month,
    })
}
